/// Errors of the SIPTransaction module. Each knows the SIP status it maps to when a request
/// cannot be handled (house style §7.5).
public struct TransactionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable error code (extensible struct, nio-ssh style).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        public var description: String { raw }

        /// The configured maximum number of transactions is reached.
        public static let tooManyTransactions = Code(raw: "tooManyTransactions")
        /// A configuration value violates an RFC constraint.
        public static let invalidConfiguration = Code(raw: "invalidConfiguration")
        /// ACK is never a client transaction of its own (RFC 3261 §17.1: the ACK for a 2xx is
        /// sent by the TU directly; the ACK for a non-2xx belongs to the INVITE transaction).
        public static let ackIsNotATransaction = Code(raw: "ackIsNotATransaction")
        /// The message given is of the wrong kind (a response where a request was expected...).
        public static let wrongMessageKind = Code(raw: "wrongMessageKind")
        /// A client transaction with the same branch and method already exists (RFC 3261 §17.1.3
        /// would be unable to tell their responses apart).
        public static let duplicateClientTransaction = Code(raw: "duplicateClientTransaction")
        /// The transaction id is unknown (already terminated).
        public static let unknownTransaction = Code(raw: "unknownTransaction")
    }

    public var code: Code
    public var diagnostics: String

    public init(_ code: Code, _ diagnostics: String) {
        self.code = code
        self.diagnostics = diagnostics
    }

    /// The SIP status a server would answer with for this failure.
    public var sipStatus: Int {
        switch code {
        case .tooManyTransactions: return 503  // RFC 3261 §21.5.4 Service Unavailable
        case .unknownTransaction: return 481  // RFC 3261 §21.4.19
        default: return 500
        }
    }

    public var description: String { "\(code): \(diagnostics)" }
}
