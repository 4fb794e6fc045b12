// Typed attributes used by the IMS-ALG, readable at session or media level (SDPSection).
// Clauses: RFC 4145 §4/§5 (setup, connection), RFC 8122 §5 (fingerprint), TS 24.229 §7.5.2 (3ge2ae),
// RFC 4975 §8.1 (path, accept-types), RFC 6714 §4 (msrp-cema), RFC 8856 §5 (floorctrl, confid,
// userid, floorid), RFC 4574 §4 (label), RFC 3605 §2.1 (rtcp), RFC 8866 §6.7 (direction),
// RFC 4568 §9.1 (crypto).

/// a=setup role (RFC 4145 §4).
public enum SetupRole: String, Sendable, Equatable, Codable, CaseIterable {
    case active, passive, actpass, holdconn

    /// The role an answerer must take for an offered role, choosing `active` for `actpass`
    /// (RFC 4145 §4: the answerer picks; active is the recommended choice).
    public var answerCounterpart: SetupRole {
        switch self {
        case .active: return .passive
        case .passive, .actpass: return .active
        case .holdconn: return .holdconn
        }
    }
}

/// a=connection value (RFC 4145 §5).
public enum ConnectionAttribute: String, Sendable, Equatable, Codable {
    case new, existing
}

/// a=3ge2ae indicator (TS 24.229 §7.5.2); unknown values must be ignored.
public enum E2AEIndicator: Sendable, Equatable {
    case requested, applied
    case other(String)
}

/// Media direction attributes (RFC 8866 §6.7.1-§6.7.4; RFC 3264 §5.1 default sendrecv).
public enum MediaDirection: String, Sendable, Equatable, Codable, CaseIterable {
    case sendrecv, sendonly, recvonly, inactive

    /// The direction seen from the other end (RFC 3264 §6.1).
    public var reversed: MediaDirection {
        switch self {
        case .sendonly: return .recvonly
        case .recvonly: return .sendonly
        default: return self
        }
    }
}

/// a=floorctrl role (RFC 8856 §5.1 / RFC 4583 §4).
public enum FloorControlRole: String, Sendable, Equatable, Codable {
    case clientOnly = "c-only", serverOnly = "s-only", clientServer = "c-s"
}

/// a=floorid:<id> mstrm:<label>... (RFC 8856 §5.4; RFC 4583 examples use "m-stream:", accepted too).
public struct FloorID: Sendable, Equatable {
    public var id: String
    public var mediaStreamLabels: [String]
}

/// a=rtcp:<port> [<nettype> <addrtype> <address>] (RFC 3605 §2.1).
public struct RTCPAttribute: Sendable, Equatable {
    public var port: UInt16
    public var connection: ConnectionData?
    /// Zero-size: keeps the synthesised memberwise initialiser private and apart from the public
    /// initialisers (in the extension below), which delegate to it. An initialiser that assigned the
    /// fields itself built the value aside and copied it out (an outlined copy and destruction of the
    /// optional address on every call). All values are equal.
    private var memberwise = MemberwiseTag()
}

extension RTCPAttribute {
    public init(port: UInt16, connection: ConnectionData? = nil) {
        self.init(port: port, connection: connection, memberwise: MemberwiseTag())
    }

    public init(parsing value: Substring, line: Int = 0) throws(SDPError) {
        // Common case `a=rtcp:<port>` (one field): read the digits in place.
        if let p = SDPText.withBytes(value, { buf -> UInt64? in
            for k in 0..<buf.count where buf[k] == ASCII.space { return nil }
            return SDPText.number(buf, 0, buf.count)
        }), p <= 65_535 {
            port = UInt16(p)
            connection = nil
            return
        }
        let f = SDPText.fields(value)
        guard f.count == 1 || f.count == 4, let p = SDPText.number(f[0]), p <= 65_535 else {
            throw SDPError(.malformedRTCP, line: line, detail: "a=rtcp")
        }
        port = UInt16(p)
        if f.count == 4 {
            connection = ConnectionData(networkType: String(f[1]), addressType: String(f[2]), address: SDPAddress(f[3]))
        } else {
            connection = nil
        }
    }

    public var value: String {
        if let connection { return "\(port) \(connection.value)" }
        return String(port)
    }
}

/// a=crypto:<tag> <crypto-suite> <key-params> [<session-params>] (RFC 4568 §9.1).
public struct CryptoAttribute: Sendable, Equatable {
    public var tag: UInt32
    public var suite: String
    public var keyParams: String
    public var sessionParams: [String]

    public init(parsing value: Substring, line: Int = 0) throws(SDPError) {
        let f = SDPText.fields(value)
        guard f.count >= 3, let tag = SDPText.number(f[0]), tag <= 999_999_999, SDPText.isToken(f[1]) else {
            throw SDPError(.malformedCrypto, line: line, detail: "a=crypto")
        }
        self.tag = UInt32(tag)
        suite = String(f[1])
        keyParams = String(f[2])
        sessionParams = f.dropFirst(3).map(String.init)
    }
}

extension SDPSection {
    /// a=setup (RFC 4145 §4); nil when absent; throws 488 for an unknown role.
    @inlinable
    public func setupRole() throws(SDPError) -> SetupRole? { try table.setupRole() }

    public mutating func setSetupRole(_ role: SetupRole?) {
        if let role { setAttribute("setup", role.rawValue) } else { removeAttributes(.setup) }
    }

    /// a=connection (RFC 4145 §5); nil when absent (the default is `new`).
    @inlinable
    public func connectionAttribute() throws(SDPError) -> ConnectionAttribute? { try table.connectionAttribute() }

    /// Every a=fingerprint of this section, validated (RFC 8122 §5).
    @inlinable
    public func fingerprints() throws(SDPError) -> [Fingerprint] { try table.fingerprints() }

    /// Removes every a=fingerprint; returns how many.
    @discardableResult
    public mutating func removeFingerprints() -> Int { removeAttributes(.fingerprint) }

    public mutating func appendFingerprint(_ fp: Fingerprint) { appendAttribute("fingerprint", fp.value) }

    /// a=3ge2ae (TS 24.229 §7.5.2).
    @inlinable
    public var e2aeIndicator: E2AEIndicator? { table.e2aeIndicator }

    /// a=path URIs (RFC 4975 §8.1): space-separated MSRP URIs, the last one identifies this endpoint.
    public var msrpPath: [Substring]? {
        attributeValue(.path).map { SDPText.fields($0) }
    }

    /// a=msrp-cema (RFC 6714 §4) present.
    @inlinable
    public var hasMSRPCEMA: Bool { table.contains(.msrpCEMA) }

    /// a=accept-types (RFC 4975 §8.6).
    public var acceptTypes: [Substring]? { attributeValue(.acceptTypes).map { SDPText.fields($0) } }

    /// a=floorctrl roles (RFC 8856 §5.1).
    public func floorControlRoles() throws(SDPError) -> [FloorControlRole]? {
        guard let v = attributeValue(.floorctrl) else { return nil }
        var roles: [FloorControlRole] = []
        for f in SDPText.fields(v) {
            guard let r = FloorControlRole(rawValue: String(f).lowercased()) else {
                throw SDPError(.malformedFloorControl, detail: "a=floorctrl:\(f)")
            }
            roles.append(r)
        }
        return roles
    }

    /// a=confid (RFC 8856 §5.2).
    public var conferenceID: Substring? { attributeValue(.confid) }
    /// a=userid (RFC 8856 §5.3).
    public var userID: Substring? { attributeValue(.userid) }
    /// a=label (RFC 4574 §4).
    public var label: Substring? { attributeValue(.label) }

    /// a=floorid values (RFC 8856 §5.4; "m-stream:" of RFC 4583 accepted).
    public func floorIDs() throws(SDPError) -> [FloorID] {
        var out: [FloorID] = []
        for v in attributeValues(.floorid) {
            let f = SDPText.fields(v)
            guard let id = f.first else { throw SDPError(.malformedFloorControl, detail: "a=floorid") }
            var labels: [String] = []
            for item in f.dropFirst() {
                if item.hasPrefix("mstrm:") { labels.append(String(item.dropFirst(6))) }
                else if item.hasPrefix("m-stream:") { labels.append(String(item.dropFirst(9))) }
                else { labels.append(String(item)) }
            }
            out.append(FloorID(id: String(id), mediaStreamLabels: labels))
        }
        return out
    }

    /// a=rtcp (RFC 3605 §2.1).
    @inlinable
    public func rtcp() throws(SDPError) -> RTCPAttribute? { try table.rtcp() }

    public mutating func setRTCP(_ rtcp: RTCPAttribute?) {
        if let rtcp { setAttribute("rtcp", rtcp.value) } else { removeAttributes(.rtcp) }
    }

    /// a=crypto lines (RFC 4568 §9.1).
    public func cryptoAttributes() throws(SDPError) -> [CryptoAttribute] {
        var out: [CryptoAttribute] = []
        for v in attributeValues(.crypto) { out.append(try CryptoAttribute(parsing: v)) }
        return out
    }

    /// The explicit direction attribute of this section, if any (RFC 8866 §6.7).
    @inlinable
    public var direction: MediaDirection? { table.direction }

    /// Replaces any direction attribute by `direction` (nil removes them).
    public mutating func setDirection(_ direction: MediaDirection?) {
        func isDirection(_ k: SDPAttributeKey) -> Bool {
            k == .sendrecv || k == .sendonly || k == .recvonly || k == .inactive
        }
        var existing: Int? = nil
        for i in 0..<table.count where isDirection(table.key(i)) { existing = i; break }
        table.removeAll { isDirection($0.key) }
        guard let direction else { return }
        if let existing, existing <= table.count {
            table.insert(type: ASCII.a, value: direction.rawValue, ending: table.preferredEnding, at: existing)
        } else {
            insertLine(type: ASCII.a, value: direction.rawValue)
        }
    }
}

extension SDPLineTable {
    @inlinable
    public func setupRole() throws(SDPError) -> SetupRole? {
        guard let i = firstIndex(of: .setup) else { return nil }
        return try setupRole(at: i)
    }

    /// a=setup of line `i` (an a=setup line).
    @inlinable
    public func setupRole(at i: Int) throws(SDPError) -> SetupRole {
        let role = withAttributeValue(i) { buf -> SetupRole? in
            if SDPText.equalsIgnoringCase(buf, "actpass") { return .actpass }
            if SDPText.equalsIgnoringCase(buf, "active") { return .active }
            if SDPText.equalsIgnoringCase(buf, "passive") { return .passive }
            if SDPText.equalsIgnoringCase(buf, "holdconn") { return .holdconn }
            return nil
        }
        guard let role, let role else { throw SDPError(.malformedSetup, detail: "a=\(value(i))") }
        return role
    }

    @inlinable
    public func connectionAttribute() throws(SDPError) -> ConnectionAttribute? {
        guard let i = firstIndex(of: .connection) else { return nil }
        return try connectionAttribute(at: i)
    }

    /// a=connection of line `i` (an a=connection line).
    @inlinable
    public func connectionAttribute(at i: Int) throws(SDPError) -> ConnectionAttribute {
        let v = withAttributeValue(i) { buf -> ConnectionAttribute? in
            if SDPText.equalsIgnoringCase(buf, "new") { return .new }
            if SDPText.equalsIgnoringCase(buf, "existing") { return .existing }
            return nil
        }
        guard let v, let v else { throw SDPError(.malformedConnectionAttribute, detail: "a=\(value(i))") }
        return v
    }

    @inlinable
    public func fingerprints() throws(SDPError) -> [Fingerprint] {
        var out: [Fingerprint] = []
        for i in 0..<count where rec(i).key == .fingerprint {
            // The error, if any, is kept aside (a `Result` per line was built, copied and destroyed).
            var failure: SDPError? = nil
            let parsed = withAttributeValue(i) { buf -> Fingerprint? in
                do throws(SDPError) { return try Fingerprint(bytes: buf) } catch { failure = error; return nil }
            }
            if let failure { throw failure }
            guard let fp = parsed ?? nil else { throw SDPError(.malformedFingerprint, detail: "a=fingerprint without value") }
            out.append(fp)
        }
        return out
    }

    @inlinable
    public var e2aeIndicator: E2AEIndicator? {
        guard let i = firstIndex(of: .e2ae) else { return nil }
        return e2aeIndicator(at: i)
    }

    /// a=3ge2ae of line `i` (an a=3ge2ae line).
    @inlinable
    public func e2aeIndicator(at i: Int) -> E2AEIndicator {
        // 0 = other, 1 = requested, 2 = applied.
        let known = withAttributeValue(i) { buf -> UInt8 in
            if SDPText.equalsIgnoringCase(buf, "requested") { return 1 }
            if SDPText.equalsIgnoringCase(buf, "applied") { return 2 }
            return 0
        }
        if known == 1 { return .requested }
        if known == 2 { return .applied }
        return .other(String(attributeValue(i) ?? ""))
    }

    @inlinable
    public var direction: MediaDirection? {
        for i in lo..<hi {
            switch records[i].key {
            case .sendrecv: return .sendrecv
            case .sendonly: return .sendonly
            case .recvonly: return .recvonly
            case .inactive: return .inactive
            default: continue
            }
        }
        return nil
    }

    public func rtcp() throws(SDPError) -> RTCPAttribute? {
        guard let i = firstIndex(of: .rtcp) else { return nil }
        return try rtcp(at: i)
    }

    /// a=rtcp of line `i` (an a=rtcp line).
    public func rtcp(at i: Int) throws(SDPError) -> RTCPAttribute {
        // Common case `a=rtcp:<port>`: read the digits in place.
        let fast = withAttributeValue(i) { buf -> UInt64? in
            for k in 0..<buf.count where buf[k] == ASCII.space { return nil }
            return SDPText.number(buf, 0, buf.count)
        }
        if let fast, let p = fast, p <= 65_535 { return RTCPAttribute(port: UInt16(p)) }
        return try RTCPAttribute(parsing: attributeValueOrEmpty(i))
    }

    /// Sets a=rtcp line `i` to `a=rtcp:<port>` (RFC 3605 §2.1, no address) and removes any further
    /// a=rtcp lines: the same result as `setAttribute("rtcp", RTCPAttribute(port:).value)` when `i` is
    /// the first a=rtcp line, written straight into the buffer.
    public mutating func setRTCPPort(_ port: UInt16, at i: Int) {
        let name: StaticString = "rtcp:"
        let n = name.utf8CodeUnitCount
        let len = SDPText.decimalLength(UInt64(port))
        let (a, b) = appendValue(count: n + len) { _, d in
            d.initialize(from: name.utf8Start, count: n)
            var v = UInt64(port), k = n + len - 1
            repeat { d[k] = UInt8(truncatingIfNeeded: v % 10) &+ ASCII.zero; v /= 10; k -= 1 } while v > 0
        }
        records[lo &+ i].start = a
        records[lo &+ i].end = b
        records[lo &+ i].key = .rtcp
        var j = count - 1
        while j > i {
            if rec(j).key == .rtcp { remove(at: j) }
            j -= 1
        }
    }
}

extension SessionDescription {
    /// Effective direction of media `index`: media level, else session level, else sendrecv (RFC 3264 §5.1).
    public func effectiveDirection(ofMedia index: Int) -> MediaDirection {
        guard media.indices.contains(index) else { return .sendrecv }
        return media[index].direction ?? direction ?? .sendrecv
    }
}

extension SetupRole {
    var staticName: StaticString {
        switch self {
        case .active: return "active"
        case .passive: return "passive"
        case .actpass: return "actpass"
        case .holdconn: return "holdconn"
        }
    }
}

/// A zero-size stored property that makes a type's synthesised memberwise initialiser private (see
/// `RTCPAttribute.memberwise`, and SDPRewrite's `TerminationRequest`); all values are equal.
package struct MemberwiseTag: Sendable, Equatable, Hashable {
    package init() {}
}
