// c=/m=/o= and a=rtcp rewriting for anchored streams (TS 23.334 §5.1 IMS-ALG NA(P)T; RFC 8866
// §5.7 c= at session or media level; RFC 3605 §2.1 a=rtcp; RFC 3264 §8.4 hold with 0.0.0.0).
import SDPCore

public enum AddressRule {
    /// Puts the AGW endpoints into the SDP: the m= port of each anchored stream, its a=rtcp, and its
    /// connection address. The session-level c= is rewritten when every stream that relies on it
    /// is anchored to one address; otherwise anchored streams get their own media-level c=.
    /// Streams on hold with c=0.0.0.0 (RFC 3264 §8.4) keep that address.
    public static func apply(_ endpoints: [LocalEndpoint?], to sdp: inout SessionDescription, rewriteOrigin: Bool) {
        guard endpoints.contains(where: { $0 != nil }) else { return }
        let sessionAddress = sdp.connectionAddress
        let sessionIsHold = sessionAddress == "0.0.0.0"
        var sessionTarget: String? = nil
        var sessionUsable = sessionAddress != nil && !sessionIsHold
        // Per media: own c= address (nil when none) and disabled flag, read once.
        var own: [Substring?] = []
        var disabled: [Bool] = []
        own.reserveCapacity(sdp.media.count)
        disabled.reserveCapacity(sdp.media.count)
        for k in sdp.media.indices {
            let m = sdp.media[k]
            let o = m.connectionAddress
            let d = m.isDisabled
            own.append(o)
            disabled.append(d)
            guard o == nil, !d else { continue }
            guard k < endpoints.count, let ep = endpoints[k] else { sessionUsable = false; continue }
            if let t = sessionTarget, t != ep.address { sessionUsable = false }
            sessionTarget = ep.address
        }
        if sessionUsable, let target = sessionTarget {
            sdp.connection = ConnectionData(address: target)
        }
        for k in sdp.media.indices where k < endpoints.count {
            guard let ep = endpoints[k], !disabled[k] else { continue }
            // Mutated in place (a copy-and-write-back would copy the line array).
            sdp.media[k].setPort(.number(ep.port))
            if let o = own[k] {
                if o != "0.0.0.0" { sdp.media[k].connection = ConnectionData(address: ep.address) }
            } else if !sessionUsable, !sessionIsHold {
                sdp.media[k].connection = ConnectionData(address: ep.address)
            }
            if sdp.media[k].hasAttribute(.rtcp), let rtcp = try? sdp.media[k].rtcp() {
                let rtcpPort = ep.rtcpPort ?? (ep.port == UInt16.max ? ep.port : ep.port + 1)
                sdp.media[k].setRTCP(RTCPAttribute(port: rtcpPort, connection: rtcp.connection == nil ? nil : ConnectionData(address: ep.address)))
            }
        }
        if rewriteOrigin, let first = endpoints.first(where: { $0 != nil }) ?? nil {
            sdp.setOriginAddress(first.address)
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
