// The few facts about a SIP message that the transaction layer needs (RFC 3261 §17).
//
// The message itself travels opaquely as `Payload` (bytes, or SIPCore's message model once it
// exists). A thin adapter fills these fields from the parsed message; the transaction layer never
// parses anything itself.

/// A SIP method name. RFC 3261 §7.1: method names are case-sensitive, so no normalisation happens.
public struct TransactionMethod: Hashable, Sendable, RawRepresentable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public var description: String { rawValue }

    public static let invite: TransactionMethod = "INVITE"
    public static let ack: TransactionMethod = "ACK"
    public static let cancel: TransactionMethod = "CANCEL"
    public static let bye: TransactionMethod = "BYE"
    public static let options: TransactionMethod = "OPTIONS"
    public static let register: TransactionMethod = "REGISTER"
}

/// The `sent-by` of a Via header field (RFC 3261 §20.42): host and optional port.
///
/// The host is compared case-insensitively (RFC 3261 §19.1.4 host comparison), so it is stored
/// lower-cased. An absent port is kept absent: it is not defaulted to 5060 here.
public struct ViaSentBy: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: UInt16?

    public init(host: String, port: UInt16? = nil) {
        self.host = host.foldedASCIICase(upper: false)
        self.port = port
    }

    public var description: String { port.map { "\(host):\($0)" } ?? host }
}

/// The topmost Via header field value, as far as matching needs it.
public struct TopVia: Hashable, Sendable {
    /// Transport token (`UDP`, `TCP`, `TLS`, ...), upper-cased.
    public var transport: String
    public var sentBy: ViaSentBy
    /// The `branch` parameter, if present. Compared case-sensitively.
    public var branch: String?

    public init(transport: String = "UDP", sentBy: ViaSentBy, branch: String?) {
        self.transport = transport.foldedASCIICase(upper: true)
        self.sentBy = sentBy
        self.branch = branch
    }

    /// RFC 3261 §8.1.1.7 / §17.2.3: the branch begins with the magic cookie `z9hG4bK`.
    public static let magicCookie = "z9hG4bK"

    /// True when the branch carries the RFC 3261 magic cookie, so that §17.2.3 branch matching
    /// applies; otherwise the RFC 2543 fallback rules are used.
    public var hasMagicCookie: Bool {
        guard let branch else { return false }
        return branch.hasPrefix(TopVia.magicCookie)
    }
}

/// The CSeq header field (RFC 3261 §20.16).
public struct CSeqField: Hashable, Sendable {
    public var number: UInt32
    public var method: TransactionMethod

    public init(number: UInt32, method: TransactionMethod) {
        self.number = number
        self.method = method
    }
}

/// The header fields used by transaction matching (RFC 3261 §17.1.3, §17.2.3).
public struct TransactionHeaderFields: Hashable, Sendable {
    public var topVia: TopVia
    public var callID: String
    public var cseq: CSeqField
    public var fromTag: String?
    public var toTag: String?

    public init(topVia: TopVia, callID: String, cseq: CSeqField, fromTag: String?, toTag: String?) {
        self.topVia = topVia
        self.callID = callID
        self.cseq = cseq
        self.fromTag = fromTag
        self.toTag = toTag
    }
}

/// A SIP message as seen by the transaction layer: start line facts, matching fields and the
/// opaque payload that is handed back to the transport and the TU unchanged.
///
/// A value type with one reference to immutable storage: a message is copied many times per
/// transaction event (into events, actions, outputs and the machine's state), and with its ~15
/// reference-counted fields inline every copy cost ~15 retains and every destroy ~15 releases.
/// Behind one box a copy is one retain; setting a field builds a new box (rare: adapters and tests).
public struct TransactionMessage<Payload: Sendable>: Sendable {
    /// The start line facts (RFC 3261 §7.1, §7.2).
    public enum StartLine: Hashable, Sendable {
        /// A request; the Request-URI is the adapter's normalised text form (used only by the
        /// RFC 2543 fallback matching of §17.2.3).
        case request(method: TransactionMethod, requestURI: String)
        /// A response with its status code.
        case response(statusCode: Int)
    }

    /// The fields of a message, shared by its copies. Immutable (so reading a field needs no
    /// dynamic exclusivity check): setting a field of a message gives it a new box.
    final class Storage: Sendable {
        let startLine: StartLine
        let headers: TransactionHeaderFields
        let payload: Payload
        /// The start line kind and status code (0 for a request), read on every event: kept apart
        /// from the start line so reading them copies no string.
        let isRequest: Bool
        let statusCode: Int
        /// The request method, or for a response the CSeq method (fixed: the storage is immutable).
        let method: TransactionMethod

        init(startLine: StartLine, headers: TransactionHeaderFields, payload: Payload) {
            self.startLine = startLine
            self.headers = headers
            self.payload = payload
            switch startLine {
            case .request(let method, _): (isRequest, statusCode, self.method) = (true, 0, method)
            case .response(let code): (isRequest, statusCode, self.method) = (false, code, headers.cseq.method)
            }
        }
    }

    private var storage: Storage

    public init(startLine: StartLine, headers: TransactionHeaderFields, payload: Payload) {
        storage = Storage(startLine: startLine, headers: headers, payload: payload)
    }

    // The getters yield the stored value in place (`_read`): `message.headers.toTag` then copies the
    // tag, not the whole header struct with its seven strings.

    public var startLine: StartLine {
        _read { yield storage.startLine }
        set { storage = Storage(startLine: newValue, headers: storage.headers, payload: storage.payload) }
    }

    public var headers: TransactionHeaderFields {
        _read { yield storage.headers }
        set { storage = Storage(startLine: storage.startLine, headers: newValue, payload: storage.payload) }
    }

    public var payload: Payload {
        _read { yield storage.payload }
        set { storage = Storage(startLine: storage.startLine, headers: storage.headers, payload: newValue) }
    }

    /// True for requests.
    public var isRequest: Bool { storage.isRequest }

    /// The request method, or for a response the CSeq method (RFC 3261 §17.1.3).
    public var method: TransactionMethod { storage.method }

    /// The method of a request, nil for a response.
    var requestMethod: TransactionMethod? { storage.isRequest ? storage.method : nil }

    /// The status code of a response, nil for a request.
    public var statusCode: Int? { storage.isRequest ? nil : storage.statusCode }

    /// The Request-URI of a request, nil for a response.
    public var requestURI: String? {
        if case .request(_, let uri) = startLine { return uri }
        return nil
    }
}

extension TransactionMessage: Equatable where Payload: Equatable {
    /// Equal start lines, matching fields and payloads (copies of one value are equal at once).
    public static func == (lhs: TransactionMessage, rhs: TransactionMessage) -> Bool {
        if lhs.storage === rhs.storage { return true }
        return lhs.startLine == rhs.startLine && lhs.headers == rhs.headers && lhs.payload == rhs.payload
    }
}

/// Classes of response status codes as the state machines of RFC 3261 §17 distinguish them.
enum ResponseClass {
    case provisional  // 100-199
    case success  // 200-299
    case failure  // 300-699

    init?(statusCode: Int) {
        switch statusCode {
        case 100...199: self = .provisional
        case 200...299: self = .success
        case 300...699: self = .failure
        default: return nil
        }
    }
}
