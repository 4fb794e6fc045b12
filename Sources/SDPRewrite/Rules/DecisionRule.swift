// Per m-line decision table of specs.md §4 (TS 33.328 §7.2.1, §7.3.1; TS 23.334 §5.11.2.2, §6.2.10;
// seed 004 originating step 1 and terminating step 1; TS 24.229 §7.5.2 a=3ge2ae).
import SDPCore

public enum DecisionRule {
    /// Protocol family and whether the proto carries TLS (RFC 4975 §8.1 TCP/TLS/MSRP; RFC 8856 §4
    /// TCP/TLS/BFCP; RFC 3550/3711 RTP profiles).
    public static func classify(proto: Substring) -> (StreamProtocol, tls: Bool) {
        SDPText.withBytes(proto) { classify(protoBytes: $0) }
    }

    /// `classify(proto:)` over the proto's bytes.
    public static func classify(protoBytes b: UnsafeBufferPointer<UInt8>) -> (StreamProtocol, tls: Bool) {
        do {
            // By length first: only the candidates of the right length are compared.
            switch b.count {
            case 8:
                if SDPText.equalsIgnoringCase(b, "TCP/MSRP") { return (.msrp, false) }
                if SDPText.equalsIgnoringCase(b, "TCP/BFCP") { return (.bfcp, false) }
            case 12:
                if SDPText.equalsIgnoringCase(b, "TCP/TLS/MSRP") { return (.msrp, true) }
                if SDPText.equalsIgnoringCase(b, "TCP/TLS/BFCP") { return (.bfcp, true) }
            default:
                break
            }
            if hasPrefix(b, "RTP/") || hasPrefix(b, "UDP/TLS/RTP/") {
                var savp = false
                var i = 0
                while i + 4 <= b.count {
                    if SDPText.equalsIgnoringCase(UnsafeBufferPointer(rebasing: b[i..<(i + 4)]), "SAVP") { savp = true; break }
                    i += 1
                }
                return (.rtp, savp)
            }
            return (.other, false)
        }
    }

    private static func hasPrefix(_ b: UnsafeBufferPointer<UInt8>, _ prefix: StaticString) -> Bool {
        let n = prefix.utf8CodeUnitCount
        guard b.count >= n else { return false }
        return SDPText.equalsIgnoringCase(UnsafeBufferPointer(rebasing: b[0..<n]), prefix)
    }

    /// The proto token for a protocol with or without TLS (the e2ae proto swap, TS 33.328 §7.2.1
    /// step 3/8, seed 004 steps 8 and 17).
    public static func proto(_ p: StreamProtocol, tls: Bool) -> String? {
        switch p {
        case .msrp: return tls ? "TCP/TLS/MSRP" : "TCP/MSRP"
        case .bfcp: return tls ? "TCP/TLS/BFCP" : "TCP/BFCP"
        default: return nil
        }
    }

    /// Whether the registration allows e2ae for `mechanism` (TS 33.328 §7.1: both UE and P-CSCF
    /// indicated support; specs.md pitfall 16: per protocol).
    public static func registrationAllows(_ mechanism: MediaSecurityMechanism, flags: MediaSecurityFlags, policy: RewritePolicy) -> Bool {
        has(flags.network, mechanism) && (!policy.requireUERegistrationIndication || has(flags.ue, mechanism))
    }

    /// `set.contains(m)` by a scan of the (at most three) members: `MediaSecurityMechanism` hashes its
    /// String raw value, so `contains` cost a String hash (≈ 300 instructions) per call.
    @inline(__always)
    static func has(_ set: Set<MediaSecurityMechanism>, _ m: MediaSecurityMechanism) -> Bool {
        for x in set where x == m { return true }
        return false
    }

    /// The specs.md §4 decision for one m-line of an offer arriving from `source`.
    /// - access (originating, UE offerer): `TCP/TLS/…` + `a=3ge2ae:requested` + registration → e2ae
    ///   (seed 004 originating step 1); `TCP/TLS/…` without the indicator → e2e (TI-23334-v);
    ///   requested but not registered → policy (e2e or 488); `TCP/…` → plain.
    /// - core (terminating): `TCP/MSRP`/`TCP/BFCP` + registration → e2ae (seed 004 terminating
    ///   step 1; TS 33.328 §7.3.1); `TCP/TLS/…` → e2e; otherwise plain.
    public static func decide(source: Side, proto: Substring, indicator: E2AEIndicator?, flags: MediaSecurityFlags,
                              policy: RewritePolicy, index: Int) throws(RewriteError) -> (StreamProtocol, StreamTreatment) {
        let (family, tls) = classify(proto: proto)
        return try decide(source: source, family: family, tls: tls, proto: GatewayTransport(rawValue: String(proto)), indicator: indicator, flags: flags,
                          policy: policy, index: index)
    }

    /// `decide` with the proto already classified.
    static func decide(source: Side, family: StreamProtocol, tls: Bool, proto: GatewayTransport, indicator: E2AEIndicator?,
                       flags: MediaSecurityFlags, policy: RewritePolicy, index: Int) throws(RewriteError) -> (StreamProtocol, StreamTreatment) {
        switch family {
        case .other:
            if policy.unknownProtocol == .reject {
                throw RewriteError(.unsupportedProtocol, stream: index, detail: "proto \(proto)")
            }
            return (family, .passThrough)
        case .rtp:
            // SDES e2ae (sdes-srtp) is not implemented: RTP/SAVP lines are e2e (a=crypto passed through).
            return (family, policy.anchorRTP ? .rtp : .passThrough)
        case .msrp, .bfcp:
            let allowed = family.mechanism.map { registrationAllows($0, flags: flags, policy: policy) } ?? false
            let anchorE2E: StreamTreatment = policy.anchorE2E ? .e2e : .passThrough
            let plain: StreamTreatment = policy.anchorPlainTCP ? .plain : .passThrough
            switch source {
            case .access:
                guard tls else { return (family, plain) }
                guard indicator == .requested else { return (family, anchorE2E) }
                if allowed { return (family, .e2ae) }
                if policy.requestedWithoutRegistration == .reject {
                    throw RewriteError(.e2aeNotAllowed, stream: index, detail: "3ge2ae:requested without registration")
                }
                return (family, anchorE2E)
            case .core:
                if tls { return (family, anchorE2E) }
                return (family, allowed ? .e2ae : plain)
            }
        }
    }

    /// The AGW transports (access, core) for a treatment (seed 003: access "TCP/TLS/MSRP" or
    /// "TCP/MSRP"... core "TCP/MSRP" or "TCP"; seed 004: "TCP/TLS" and "TCP" for BFCP; TS 23.334 §5.19:
    /// application-agnostic unless path rewriting needs an application-aware AGW).
    public static func transports(_ family: StreamProtocol, _ treatment: StreamTreatment, applicationAware: Bool,
                                  rtpProto: Substring, msrpAgnosticAccess: GatewayTransport = .tcpTLSMSRP)
        -> (access: GatewayTransport, core: GatewayTransport) {
        transports(family, treatment, applicationAware: applicationAware, rtp: GatewayTransport(rawValue: String(rtpProto)),
                   msrpAgnosticAccess: msrpAgnosticAccess)
    }

    /// `transports` with the m= proto already read as a transport name.
    static func transports(_ family: StreamProtocol, _ treatment: StreamTreatment, applicationAware: Bool,
                           rtp: GatewayTransport, msrpAgnosticAccess: GatewayTransport)
        -> (access: GatewayTransport, core: GatewayTransport) {
        switch treatment {
        case .e2ae:
            if applicationAware {
                return family == .bfcp ? (.tcpTLSBFCP, .tcpBFCP) : (.tcpTLSMSRP, .tcpMSRP)
            }
            return family == .msrp ? (msrpAgnosticAccess, .tcp) : (.tcpTLS, .tcp)
        case .e2e:
            return (.tcp, .tcp)
        case .plain:
            if applicationAware { return family == .bfcp ? (.tcpBFCP, .tcpBFCP) : (.tcpMSRP, .tcpMSRP) }
            return (.tcp, .tcp)
        case .rtp:
            return (rtp, rtp)
        case .passThrough, .released:
            return (.tcp, .tcp)
        }
    }
}
