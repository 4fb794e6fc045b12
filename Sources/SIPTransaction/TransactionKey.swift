// Transaction matching keys: RFC 3261 §17.1.3 (client), §17.2.3 (server, with the RFC 2543
// fallback) and §9.2 (the INVITE a CANCEL refers to).

/// RFC 3261 §17.1.3: a response matches a client transaction when the branch of its top Via and
/// its CSeq method equal those of the request that created the transaction.
public struct ClientTransactionKey: Hashable, Sendable {
    public var branch: String
    public var method: TransactionMethod

    public init(branch: String, method: TransactionMethod) {
        self.branch = branch
        self.method = method
    }

    /// The key a response is looked up by, or nil when it has no branch (then it cannot match).
    public init?<Payload>(response: TransactionMessage<Payload>) {
        guard let branch = response.headers.topVia.branch else { return nil }
        self.init(branch: branch, method: response.headers.cseq.method)
    }

    /// Hashes the branch only: it is unique per transaction (RFC 3261 §8.1.1.7), so the method
    /// adds no spread but would double the hashing of every table operation. Equality still
    /// compares both fields.
    public func hash(into hasher: inout Hasher) { hasher.combine(branch) }
}

/// RFC 3261 §17.2.3: the key of a server transaction created by a request whose top Via branch
/// carries the magic cookie: branch, sent-by and method, where ACK maps to INVITE.
public struct ServerTransactionKey: Hashable, Sendable {
    public var branch: String
    public var sentBy: ViaSentBy
    public var method: TransactionMethod

    public init(branch: String, sentBy: ViaSentBy, method: TransactionMethod) {
        self.branch = branch
        self.sentBy = sentBy
        // §17.2.3: "the method of the request matches the one that created the transaction,
        // except for ACK, where the method of the request that created the transaction is INVITE."
        self.method = method == .ack ? .invite : method
    }

    /// The key of a request carrying the magic cookie; nil for an RFC 2543 request.
    public init?<Payload>(request: TransactionMessage<Payload>) {
        let via = request.headers.topVia
        guard via.hasMagicCookie, let branch = via.branch, let method = request.requestMethod else { return nil }
        self.init(branch: branch, sentBy: via.sentBy, method: method)
    }

    // Hashes all three fields (the synthesised `hash(into:)`): the branch, sent-by and method of a
    // request are all chosen by the peer, so a key hashed by its branch alone would let one peer
    // fill the server table with keys that differ only in sent-by or method and all collide.
}

/// RFC 3261 §17.2.3 fallback for requests without the magic cookie (RFC 2543 peers): the fields
/// that must be equal, except the To tag, whose rule depends on the method (see `matches`).
public struct RFC2543TransactionKey: Hashable, Sendable {
    public var requestURI: String
    public var fromTag: String?
    public var callID: String
    public var cseqNumber: UInt32
    /// CSeq method, with ACK mapped to INVITE (the ACK's CSeq method is ACK, the number equal).
    public var method: TransactionMethod
    public var topVia: TopVia

    public init?<Payload>(request: TransactionMessage<Payload>) {
        guard let uri = request.requestURI, let method = request.requestMethod else { return nil }
        self.requestURI = uri
        self.fromTag = request.headers.fromTag
        self.callID = request.headers.callID
        self.cseqNumber = request.headers.cseq.number
        self.method = method == .ack ? .invite : method
        self.topVia = request.headers.topVia
    }

    /// The key of the INVITE that a CANCEL without magic cookie refers to (RFC 3261 §9.2: same
    /// Request-URI, Call-ID, From tag, CSeq number and top Via as the INVITE; method INVITE).
    public func asInvite() -> RFC2543TransactionKey {
        var copy = self
        copy.method = .invite
        return copy
    }
}

/// A handle to a transaction owned by `TransactionLayer`; unique for the layer's lifetime.
public struct TransactionID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (lhs: TransactionID, rhs: TransactionID) -> Bool { lhs.rawValue < rhs.rawValue }

    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    /// The layer's transaction table hashes ids with a multiplicative mix (a bijection of the
    /// seeded value) instead of a full SipHash round: ids are a counter the layer hands out, never
    /// chosen by a peer, so they need no protection against collision flooding, and the table is
    /// looked up several times per transaction event. Equal ids hash equally, as `Hashable` requires.
    public func _rawHashValue(seed: Int) -> Int {
        var x = rawValue ^ UInt64(truncatingIfNeeded: seed)
        x = (x ^ (x >> 32)) &* 0xD6E8_FEB8_6659_FD93
        x = (x ^ (x >> 32)) &* 0xD6E8_FEB8_6659_FD93
        return Int(truncatingIfNeeded: x ^ (x >> 32))
    }
    public var description: String { "txn-\(rawValue)" }
}
