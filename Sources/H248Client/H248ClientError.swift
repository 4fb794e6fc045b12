// H248ClientError: the one error type of the H248Client module (house-style §7.5).
// Every failure that has a wire meaning carries its H.248.8 error code.

/// An error raised by the H248Client framing, transaction or association layers.
///
/// `code` is an extensible, stable identifier; `h248ErrorCode` is the H.248.8 error code a reply
/// should carry when the failure is reported on the wire (nil when it has none, e.g. a broken
/// TCP stream that can only be closed).
public struct H248ClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Stable identifier of the failure kind (nio-ssh style extensible code).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        // Framing (RFC 1006 TPKT, H.248.1 Annex D.1/D.2, H.248.4 SCTP).
        public static let tpktBadVersion = Code("tpkt.badVersion")
        public static let tpktBadLength = Code("tpkt.badLength")
        public static let tpktFrameTooLarge = Code("tpkt.frameTooLarge")
        public static let messageTooLarge = Code("transport.messageTooLarge")
        public static let emptyMessage = Code("transport.emptyMessage")
        public static let datagramPossiblyTruncated = Code("udp.possiblyTruncated")
        public static let sctpUnavailable = Code("sctp.unavailable")
        public static let sctpSocketFailed = Code("sctp.socketFailed")
        public static let sctpWrongPayloadProtocol = Code("sctp.wrongPPID")

        // Transactions (H.248.1 §8.2, Annex D.1).
        public static let transactionTimeout = Code("transaction.timeout")
        public static let pendingLimitExceeded = Code("transaction.pendingLimitExceeded")
        public static let transactionTableFull = Code("transaction.tableFull")
        public static let transactionIDsExhausted = Code("transaction.idsExhausted")
        public static let invalidAckRange = Code("transaction.invalidAckRange")
        public static let transactionCancelled = Code("transaction.cancelled")

        // Association (H.248.1 §7.2.8, §11).
        public static let versionNotSupported = Code("association.versionNotSupported")
        public static let unknownProfile = Code("association.unknownProfile")
        public static let notRegistered = Code("association.notRegistered")
        public static let gatewayLost = Code("association.gatewayLost")

        // Configuration.
        public static let invalidConfiguration = Code("configuration.invalid")
    }

    public var code: Code
    /// H.248.8 error code to put in an Error descriptor, when the failure maps to one.
    public var h248ErrorCode: UInt16?
    /// Human-readable detail (never contains subscriber identities).
    public var diagnostics: String

    public init(_ code: Code, h248ErrorCode: UInt16? = nil, _ diagnostics: String) {
        self.code = code
        self.h248ErrorCode = h248ErrorCode
        self.diagnostics = diagnostics
    }

    public var description: String {
        if let h248ErrorCode {
            return "\(code) (H.248.8 error \(h248ErrorCode)): \(diagnostics)"
        }
        return "\(code): \(diagnostics)"
    }
}

/// H.248.8 error codes used by this module (numbers verified in specs.md §11.5 / iq-tokens.md §3.1).
public enum H248ErrorCodes {
    /// 400 Syntax error in message.
    public static let syntaxErrorInMessage: UInt16 = 400
    /// 403 Syntax error in TransactionRequest (a malformed TransactionResponseAck range).
    public static let syntaxErrorInTransactionRequest: UInt16 = 403
    /// 406 Version Not Supported (H.248.1 §11.3).
    public static let versionNotSupported: UInt16 = 406
    /// 461 Unsupported or Unknown Profile (H.248.18; iq-tokens.md §3.1, not 459).
    public static let unsupportedOrUnknownProfile: UInt16 = 461
    /// 505 Transaction request received before a ServiceChange reply has been received.
    public static let requestBeforeServiceChange: UInt16 = 505
    /// 506 Number of Transaction Pendings Exceeded (H.248.1 Annex E.2 root package).
    public static let pendingsExceeded: UInt16 = 506
    /// 510 Insufficient resources.
    public static let insufficientResources: UInt16 = 510
    /// 533 Response exceeds maximum transport PDU size (TS 29.334 Table 5.12.2: no UDP segmentation).
    public static let responseTooLarge: UInt16 = 533
}
