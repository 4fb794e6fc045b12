/// What the proxy does with a message that failed to parse (its wire mapping).
public enum SIPErrorDisposition: Sendable, Equatable, CustomStringConvertible {
    /// Answer the request with this status (RFC 3261 §8.2, §16.3, §21.5.14).
    case respond(status: Int, reason: String)
    /// Discard silently: malformed responses (RFC 3261 §18.3, §16.7) and input that is not SIP at all.
    case drop

    public static let badRequest = SIPErrorDisposition.respond(status: 400, reason: "Bad Request")
    public static let messageTooLarge = SIPErrorDisposition.respond(status: 513, reason: "Message Too Large")
    public static let versionNotSupported = SIPErrorDisposition.respond(status: 505, reason: "Version Not Supported")

    public var statusCode: Int? { if case .respond(let s, _) = self { return s } else { return nil } }
    public var description: String {
        switch self {
        case .respond(let s, let r): return "\(s) \(r)"
        case .drop: return "drop"
        }
    }
}

/// A typed parse/framing error that knows its wire mapping (house style §7.5).
public struct SIPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Extensible error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        public static let notSIP = Code("notSIP")
        public static let malformedStartLine = Code("malformedStartLine")
        public static let unsupportedVersion = Code("unsupportedVersion")
        public static let malformedHeader = Code("malformedHeader")
        public static let missingHeader = Code("missingHeader")
        public static let badContentLength = Code("badContentLength")
        public static let truncatedBody = Code("truncatedBody")
        public static let badCSeq = Code("badCSeq")
        public static let cseqMethodMismatch = Code("cseqMethodMismatch")
        public static let messageTooLarge = Code("messageTooLarge")
        public static let headerBlockTooLarge = Code("headerBlockTooLarge")
        public static let bodyTooLarge = Code("bodyTooLarge")
        public static let tooManyHeaders = Code("tooManyHeaders")
        public static let rejectedByLibOSIP2 = Code("rejectedByLibOSIP2")
        public static let invalidLimits = Code("invalidLimits")
    }

    public var code: Code
    /// What the proxy answers (or that it drops the message).
    public var disposition: SIPErrorDisposition
    /// Human-readable detail for logs (never contains message bytes beyond a short token).
    public var detail: String
    /// True when the message was a response (responses are never answered).
    public var isResponse: Bool

    public init(_ code: Code, disposition: SIPErrorDisposition, detail: String, isResponse: Bool = false) {
        self.code = code
        self.disposition = isResponse ? .drop : disposition
        self.detail = detail
        self.isResponse = isResponse
    }

    public var description: String { "\(code) (\(disposition)): \(detail)" }
}
