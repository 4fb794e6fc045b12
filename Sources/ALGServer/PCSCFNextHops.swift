// The P-CSCF's core-side next hops for REGISTER (I-CSCF or S-CSCF, TS 24.229 §5.2.2.1): a list in
// failover order, DNS names resolved with getaddrinfo at start-up and on `refresh()` (RFC 3263 §4.2
// A/AAAA lookup only; NAPTR/SRV are not done: give host and port), hops that failed held down for a
// while so the next REGISTER goes to the next one (RFC 3263 §4.3 spirit).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import SIPProxy
import SIPTransaction

/// One configured next hop and what it resolved to.
public struct PCSCFNextHop: Sendable, Equatable, CustomStringConvertible {
    /// The URI as configured (`sip:icscf.ims.example:5060;transport=tcp;lr`).
    public var configured: String
    /// The URI with its host replaced by the first resolved address (what the proxy sends to); equal
    /// to `configured` when the host is an IP literal; nil when the name does not resolve.
    public var resolved: String?
    public var description: String { resolved.map { "\(configured) -> \($0)" } ?? "\(configured) (unresolved)" }
}

/// Bounds and timing of the next-hop list.
public enum PCSCFNextHopLimits {
    /// Configured next hops kept (a failover list is short; extra entries are refused at start-up).
    public static let maxNextHops = 16
    /// A hop that failed (transport error or timeout, RFC 3261 §16.7 step 6 / §17.1.4) is skipped for
    /// this long (RFC 3263 §4.3: try the next element; no standard hold-down time, configurable).
    public static let defaultHoldDown: Duration = .seconds(30)
}

/// The failover list. Thread-safe (a lock; the methods never suspend).
public final class PCSCFNextHops: @unchecked Sendable {
    private let lock = NSLock()
    private var hops: [PCSCFNextHop]
    private var downUntil: [String: TransactionInstant] = [:]
    public let holdDown: Duration
    /// Resolves a host name to an address text (IPv6 without brackets); injected for tests.
    private let resolver: @Sendable (String) -> String?

    /// - Throws: `PCSCFServiceError.configuration` when a URI is not sip/sips or the list is too long.
    public init(_ uris: [String], holdDown: Duration = PCSCFNextHopLimits.defaultHoldDown,
                resolver: @escaping @Sendable (String) -> String? = PCSCFNextHops.getaddrinfoResolver) throws {
        guard uris.count <= PCSCFNextHopLimits.maxNextHops else {
            throw PCSCFServiceError.configuration("more than \(PCSCFNextHopLimits.maxNextHops) core next hops")
        }
        for u in uris where SIPURIParts(parsing: u) == nil {
            throw PCSCFServiceError.configuration("core next hop \(u) is not a sip/sips URI with a host")
        }
        self.hops = uris.map { PCSCFNextHop(configured: $0, resolved: nil) }
        self.holdDown = holdDown
        self.resolver = resolver
        refresh()
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock(); defer { lock.unlock() }
        return try body()
    }

    /// Resolves every configured name again (called at start-up and by the service's refresh timer).
    public func refresh() {
        let configured = locked { hops.map(\.configured) }
        let fresh = configured.map { PCSCFNextHop(configured: $0, resolved: Self.resolve($0, resolver)) }
        locked { hops = fresh }
    }

    /// The hops in order, with their resolution.
    public var all: [PCSCFNextHop] { locked { hops } }

    /// The first resolved hop that is not held down at `now`; when all are down, the first resolved one
    /// (a held-down hop is better than none). Nil when nothing resolves.
    public func current(now: TransactionInstant) -> PCSCFNextHop? {
        locked {
            let usable = hops.filter { $0.resolved != nil }
            return usable.first { (downUntil[$0.configured] ?? .zero) <= now } ?? usable.first
        }
    }

    /// Marks `configured` as failed until `now + holdDown`.
    public func markDown(_ configured: String, now: TransactionInstant) {
        locked { downUntil[configured] = now + holdDown }
    }

    /// Clears the failure mark of `configured` (it answered).
    public func markUp(_ configured: String) {
        locked { _ = downUntil.removeValue(forKey: configured) }
    }

    /// `uri` with its host replaced by the resolved address (IP literals are kept as they are).
    static func resolve(_ uri: String, _ resolver: (String) -> String?) -> String? {
        guard let parts = SIPURIParts(parsing: uri) else { return nil }
        if Self.isIPLiteral(parts.host) { return uri }
        guard let address = resolver(parts.host) else { return nil }
        let literal = address.contains(":") ? "[\(address)]" : address
        // Replace the first occurrence of the host after the scheme (userinfo cannot contain it unescaped
        // in a way that matters here: hosts are compared lower case by SIPURIParts).
        guard let range = uri.range(of: parts.host, options: [.caseInsensitive]) else { return nil }
        return uri.replacingCharacters(in: range, with: literal)
    }

    static func isIPLiteral(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// getaddrinfo (RFC 3263 §4.2 A/AAAA step): the first address, IPv4 preferred as listed first by
    /// the system resolver's order.
    public static let getaddrinfoResolver: @Sendable (String) -> String? = { host in
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        #else
        hints.ai_socktype = SOCK_DGRAM
        #endif
        func text(_ b: [CChar]) -> String {
            String(decoding: b.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return nil }
        defer { freeaddrinfo(first) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let n = node {
            if let sa = n.pointee.ai_addr {
                if n.pointee.ai_family == AF_INET {
                    var a = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                    if inet_ntop(AF_INET, &a, &buffer, socklen_t(buffer.count)) != nil { return text(buffer) }
                } else if n.pointee.ai_family == AF_INET6 {
                    var a = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    if inet_ntop(AF_INET6, &a, &buffer, socklen_t(buffer.count)) != nil { return text(buffer) }
                }
            }
            node = n.pointee.ai_next
        }
        return nil
    }
}

/// A P-CSCF service that cannot start.
public enum PCSCFServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    case configuration(String)
    public var description: String {
        switch self { case .configuration(let s): "P-CSCF configuration: \(s)" }
    }
}
