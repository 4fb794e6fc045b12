// Parse errors carry the H.248.8 error code a reply should use (H.248.8 / H.248.1 §14 error codes),
// plus position diagnostics for people.

/// H.248.8 error codes the text parser produces (see specs.md §11.5).
public enum H248ErrorCode: UInt16, Sendable, Equatable, Codable {
    /// 400 Syntax error in message.
    case syntaxErrorInMessage = 400
    /// 401 Protocol error.
    case protocolError = 401
    /// 403 Syntax error in TransactionRequest.
    case syntaxErrorInTransactionRequest = 403
    /// 406 Version not supported.
    case versionNotSupported = 406
    /// 410 Incorrect identifier.
    case incorrectIdentifier = 410
    /// 422 Syntax error in action.
    case syntaxErrorInAction = 422
    /// 442 Syntax error in command.
    case syntaxErrorInCommand = 442
    /// 443 Unsupported or unknown command.
    case unknownCommand = 443
    /// 444 Unsupported or unknown descriptor.
    case unknownDescriptor = 444
    /// 447 Descriptor not legal in this command.
    case descriptorNotLegal = 447
    /// 448 Descriptor appears twice in a command.
    case descriptorTwice = 448
    /// 449 Unsupported or unknown parameter or property value.
    case unknownValue = 449
    /// 501 Not implemented.
    case notImplemented = 501
}

/// A malformed-input error of the text parser: the H.248.8 code plus 1-based line and column.
public struct H248ParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: H248ErrorCode
    public var reason: String
    public var line: Int
    public var column: Int
    public init(_ code: H248ErrorCode, _ reason: String, line: Int, column: Int) {
        self.code = code
        self.reason = reason
        self.line = line
        self.column = column
    }
    /// The error descriptor to put into a reply (H.248.1 §7.1.19).
    public var errorDescriptor: ErrorDescriptor {
        ErrorDescriptor(code: code.rawValue, text: reason)
    }
    public var description: String { "\(code.rawValue) at line \(line), column \(column): \(reason)" }
}

/// Bounds on every size and depth of the text parser. Network input never allocates without them.
public struct H248Limits: Sendable, Equatable {
    /// Whole message: 64 KiB. UDP (H.248.1 Annex D.1) cannot carry more; Iq over SCTP uses the same bound.
    public var maxMessageBytes: Int = H248Limits.defaultMaxMessageBytes
    public static let defaultMaxMessageBytes = 65_535
    /// Brace nesting depth: the deepest Iq construct (Transaction{Context{Cmd{Media{Stream{LocalControl{prop{..}}}}}}})
    /// is 8; RFC 3525 B.2 has no construct deeper than ~12.
    public var maxDepth: Int = 16
    /// Items in any one brace list (transactions, actions, commands, descriptors, parameters).
    public var maxListItems: Int = 256
    /// Total grammar elements in a message (guards against many tiny items).
    public var maxElements: Int = 20_000
    /// One word/token: RFC 3525 B.2 `NAME = ALPHA *63(...)`, pathNAME up to 64 ×2 levels; 256 is generous.
    public var maxTokenBytes: Int = 256
    /// A quoted string (error text, reason, string property values).
    public var maxQuotedBytes: Int = 4_096
    /// The SDP octet string of one Local/Remote descriptor.
    public var maxOctetStringBytes: Int = 16_384
    public init() {}
    public static let `default` = H248Limits()
}
