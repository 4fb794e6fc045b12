extension SIPMessage {
    /// The decoded fields a P-CSCF reads, as ordered `(name, value)` text pairs (for `pcscf-alg
    /// sip-demo` and logs at debug level; never logged at info because it holds identities).
    public var summary: [(String, String)] {
        var out: [(String, String)] = []
        switch startLine {
        case .request(let m, _):
            out.append(("method", m))
            out.append(("request-uri", requestURI ?? ""))
        case .response(let s, _):
            out.append(("status", "\(s) \(reasonPhrase ?? "")"))
        }
        for (i, v) in vias.enumerated() {
            var s = "\(v.transport) \(v.host)\(v.port.map { ":\($0)" } ?? "") branch=\(v.branch ?? "-")"
            if let r = v.received { s += " received=\(r)" }
            switch v.rport { case .absent: break; case .requested: s += " rport"; case .value(let p): s += " rport=\(p)" }
            out.append(("via[\(i)]", s))
        }
        if let f = from { out.append(("from", "\(f.uri) tag=\(f.tag ?? "-")")) }
        if let t = to { out.append(("to", "\(t.uri) tag=\(t.tag ?? "-")")) }
        if let c = callID { out.append(("call-id", c)) }
        if let c = cseq { out.append(("cseq", "\(c.number) \(c.method)")) }
        if let m = maxForwards { out.append(("max-forwards", "\(m)")) }
        for (label, list) in [("route", routes), ("record-route", recordRoutes), ("path", paths),
                              ("service-route", serviceRoutes), ("p-asserted-identity", pAssertedIdentities),
                              ("p-preferred-identity", pPreferredIdentities), ("p-associated-uri", pAssociatedURIs)] {
            for (i, a) in list.enumerated() { out.append(("\(label)[\(i)]", a.uri)) }
        }
        for (i, c) in contacts.enumerated() {
            if let a = c.address {
                let tags = c.featureTags.map { p in p.value.map { v in "\(p.name)=\(v)" } ?? p.name }.joined(separator: " ")
                out.append(("contact[\(i)]", "\(a.uri)\(c.expires.map { " expires=\($0)" } ?? "")\(tags.isEmpty ? "" : " tags: \(tags)")"))
            } else { out.append(("contact[\(i)]", "*")) }
        }
        for (label, list) in [("security-client", securityClient), ("security-server", securityServer), ("security-verify", securityVerify)] {
            for (i, m) in list.enumerated() {
                out.append(("\(label)[\(i)]", "\(m.name)\(m.mediasec ? " mediasec" : "")\(m.preference.map { " q=\($0)" } ?? "")"))
            }
        }
        if let p = pAccessNetworkInfo.first { out.append(("p-access-network-info", p.accessType)) }
        if let v = pChargingVector, let icid = v["icid-value"] { out.append(("p-charging-vector icid", icid)) }
        for (label, list) in [("require", require), ("proxy-require", proxyRequire), ("supported", supported)] where !list.isEmpty {
            out.append((label, list.joined(separator: ", ")))
        }
        if let e = expires { out.append(("expires", "\(e)")) }
        if let c = contentType { out.append(("content-type", c)) }
        out.append(("content-length", contentLength.map { "\($0)" } ?? "absent"))
        out.append(("body bytes", "\(bodyRange.count)"))
        return out
    }
}
