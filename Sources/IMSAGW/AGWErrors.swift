// H.248.8 error codes the gateway answers with (ITU-T H.248.8; specs.md §11.5). Every refusal of a
// command carries one of these in an Error descriptor, never a crash (house rule).

import H248Codec

/// H.248.8 codes used by the MG side (specs.md §11.5; TS 29.334 §5.17.1 for 449).
public enum AGWErrorCode: UInt16, Sendable, Equatable, CaseIterable {
    case syntaxErrorInMessage = 400
    case versionNotSupported = 406
    case unknownContext = 411
    case noContextIDsAvailable = 412
    case illegalAction = 421
    case syntaxErrorInAction = 422
    case unknownTermination = 430
    case noTerminationMatchedWildcard = 431
    case terminationAlreadyInContext = 433
    case tooManyTerminationsInContext = 434
    case terminationNotInContext = 435
    case unknownPackage = 440
    case unknownCommand = 443
    case unknownDescriptor = 444
    case unknownProperty = 445
    case unknownParameter = 446
    case descriptorNotLegal = 447
    /// TS 29.334 §5.17.1: the offending value goes into the error text.
    case unsupportedValue = 449
    case noSuchProperty = 450
    case noSuchEvent = 451
    case noSuchSignal = 452
    case unknownProfile = 461
    case notImplemented = 501
    case requestBeforeServiceChange = 505
    case insufficientResources = 510
    case commandNotAllowedOnTermination = 542
}

/// A refused command: its H.248.8 code and the text for the Error descriptor.
public struct AGWError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: AGWErrorCode
    public var text: String
    public init(_ code: AGWErrorCode, _ text: String) {
        self.code = code
        self.text = text
    }
    /// 449 with the offending value in the text (TS 29.334 §5.17.1).
    public static func value(_ offending: String) -> AGWError {
        AGWError(.unsupportedValue, offending)
    }
    public var descriptor: ErrorDescriptor { ErrorDescriptor(code: code.rawValue, text: String(text.prefix(AGWLimits.maximumErrorTextBytes))) }
    public var description: String { "\(code.rawValue) \(text)" }
}

/// Bounds of the gateway state (house rule: nothing unbounded on network input).
public enum AGWLimits {
    /// Error text copied from input (H.248.1 quotedString; the codec bounds it at 4 KiB, 200 is plenty to name a value).
    public static let maximumErrorTextBytes = 200
    /// Streams per termination (H.248.1 §7.1.4 sets no bound; an MSRP/BFCP termination has one).
    public static let maximumStreamsPerTermination = 8
    /// Events requested on one termination (H.248.1 §7.1.9; Iq asks for at most four).
    public static let maximumEventsPerTermination = 16
}
