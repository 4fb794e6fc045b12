// c=/m=/o= and a=rtcp rewriting for anchored streams (TS 23.334 §5.1 IMS-ALG NA(P)T; RFC 8866
// §5.7 c= at session or media level; RFC 3605 §2.1 a=rtcp; RFC 3264 §8.4 hold with 0.0.0.0).
import SDPCore

/// AGW endpoints by m-line index (nil: not anchored or no endpoint).
protocol EndpointList {
    var count: Int { get }
    subscript(k: Int) -> LocalEndpoint? { get }
    /// The own c= kind (`AddressRule.ownAddressKind`) and port-0 flag of m-line `k`, if the list
    /// knows them (nil: read them from the SDP).
    func knownFacts(_ k: Int) -> (own: UInt8, disabled: Bool)?
    /// True when m-line `k` is known to have no a=rtcp (false: look for one).
    func knownWithoutRTCP(_ k: Int) -> Bool
}

extension EndpointList {
    func knownFacts(_ k: Int) -> (own: UInt8, disabled: Bool)? { nil }
    func knownWithoutRTCP(_ k: Int) -> Bool { false }
}

/// An array of endpoints, as given to the public `AddressRule.apply`.
struct EndpointArray: EndpointList {
    let endpoints: [LocalEndpoint?]
    var count: Int { endpoints.count }
    subscript(k: Int) -> LocalEndpoint? { endpoints[k] }
}

public enum AddressRule {
    /// Puts the AGW endpoints into the SDP: the m= port of each anchored stream, its a=rtcp, and its
    /// connection address. The session-level c= is rewritten when every stream that relies on it
    /// is anchored to one address; otherwise anchored streams get their own media-level c=.
    /// Streams on hold with c=0.0.0.0 (RFC 3264 §8.4) keep that address.
    public static func apply(_ endpoints: [LocalEndpoint?], to sdp: inout SessionDescription, rewriteOrigin: Bool) {
        guard endpoints.contains(where: { $0 != nil }) else { return }
        apply(EndpointArray(endpoints: endpoints), to: &sdp, rewriteOrigin: rewriteOrigin)
    }

    /// `apply` over any endpoint list (the session passes its plans; specialised, no array built).
    /// The caller has checked that at least one endpoint is set.
    static func apply<E: EndpointList>(_ endpoints: E, to sdp: inout SessionDescription, rewriteOrigin: Bool) {
        let sessionFacts = ownAddressKind(sdp.table)
        let sessionHasAddress = sessionFacts != 0
        let sessionIsHold = sessionFacts == 2
        var sessionTarget: String? = nil
        var sessionUsable = sessionHasAddress && !sessionIsHold
        let mediaCount = sdp.mediaCount
        // Per media: own c= (0 none, 1 an address, 2 the hold address 0.0.0.0) and disabled flag
        // (RFC 8866 §5.7 c= at either level; RFC 3264 §8.4 hold; §8.2 port 0), read once. Kept as bits
        // of three words for the first 64 sections (no array allocation); later ones are read again.
        @inline(__always) func facts(_ sdp: inout SessionDescription, _ k: Int) -> (own: UInt8, disabled: Bool) {
            if let f = endpoints.knownFacts(k) { return f }
            return sdp.withMedia(k) { m in (ownAddressKind(m.table), m.isDisabled) }
        }
        var ownAddress: UInt64 = 0, ownHold: UInt64 = 0, disabledBits: UInt64 = 0
        for k in 0..<mediaCount {
            let (o, d) = facts(&sdp, k)
            if k < 64 {
                let bit: UInt64 = 1 << UInt64(k)
                if o == 1 { ownAddress |= bit } else if o == 2 { ownHold |= bit }
                if d { disabledBits |= bit }
            }
            guard o == 0, !d else { continue }
            guard k < endpoints.count, let ep = endpoints[k] else { sessionUsable = false; continue }
            if let t = sessionTarget, t != ep.address { sessionUsable = false }
            sessionTarget = ep.address
        }
        if sessionUsable, let target = sessionTarget {
            sdp.setConnectionAddress(target)
        }
        for k in 0..<mediaCount where k < endpoints.count {
            guard let ep = endpoints[k] else { continue }
            let o: UInt8, d: Bool
            if k < 64 {
                let bit: UInt64 = 1 << UInt64(k)
                o = ownAddress & bit != 0 ? 1 : (ownHold & bit != 0 ? 2 : 0)
                d = disabledBits & bit != 0
            } else {
                (o, d) = facts(&sdp, k)
            }
            guard !d else { continue }
            let setC = o == 1 || (o == 0 && !sessionUsable && !sessionIsHold)
            anchor(&sdp.media[k], ep, setConnection: setC, withoutRTCP: endpoints.knownWithoutRTCP(k))
        }
        if rewriteOrigin {
            for k in 0..<endpoints.count {
                guard let first = endpoints[k] else { continue }
                sdp.setOriginAddress(first.address)
                break
            }
        }
    }

    /// The first c= line of a section: 0 none (or no address field), 1 an address, 2 the hold address
    /// 0.0.0.0 (RFC 3264 §8.4); the address is found once.
    @inline(__always)
    static func ownAddressKind(_ t: borrowing SDPLineTable) -> UInt8 {
        guard let (i, a, b) = t.connectionAddressRange else { return 0 }
        let hold: StaticString = "0.0.0.0"
        let n = hold.utf8CodeUnitCount
        guard b - a == n else { return 1 }
        return t.withValue(i) { buf -> UInt8 in
            let p = hold.utf8Start
            for k in 0..<n where buf[a + k] != p[k] { return 1 }
            return 2
        }
    }

    /// The edits of one anchored media section: m= port, c= (when `setConnection`) and a=rtcp.
    static func anchor(_ m: inout MediaDescription, _ ep: LocalEndpoint, setConnection: Bool, withoutRTCP: Bool = false) {
        m.setPort(.number(ep.port))
        if setConnection { m.setConnectionAddress(ep.address) }
        if !withoutRTCP, let i = m.table.firstIndex(of: .rtcp), let rtcp = try? m.table.rtcp(at: i) {
            let rtcpPort = ep.rtcpPort ?? (ep.port == UInt16.max ? ep.port : ep.port + 1)
            if rtcp.connection == nil {
                // The usual `a=rtcp:<port>`: the new port written in place (no intermediate text).
                m.table.setRTCPPort(rtcpPort, at: i)
            } else {
                m.setRTCP(RTCPAttribute(port: rtcpPort, connection: ConnectionData(address: ep.address)))
            }
        }
    }

    /// The remote endpoint of media `index` as signalled in `sdp` (effective c= address, m= port, a=rtcp).
    public static func remote(of sdp: SessionDescription, media index: Int) throws(RewriteError) -> RemoteEndpoint {
        guard let address = sdp.effectiveConnectionAddress(ofMedia: index) else {
            throw RewriteError(.missingConnectionAddress, stream: index, detail: "no c= applies")
        }
        let m = sdp.media[index]
        let port = m.port.number ?? 0
        var ep = RemoteEndpoint(address: String(address), port: port)
        do {
            if let rtcp = try m.rtcp() {
                ep.rtcpPort = rtcp.port
                ep.rtcpAddress = rtcp.connection?.address.literal
            }
        } catch {
            throw RewriteError(error, stream: index)
        }
        return ep
    }
}
