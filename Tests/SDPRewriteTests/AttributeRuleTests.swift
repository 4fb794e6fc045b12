import Testing
import SDPCore
import SIPCore
@testable import SDPRewrite

@Suite("Fingerprint, 3ge2ae, bandwidth, CEMA and RTP rules")
struct AttributeRuleTests {
    @Test("Seed 000/003: UE fingerprint sent to the AGW, removed towards the core; AGW fingerprint inserted towards the UE")
    func fingerprintSwap() throws {
        var s = RewriteSession(flags: .all)
        let (req, toCore) = try T.exchange(&s, offer: T.ueMSRP(), direction: .originating)
        #expect(req.streams[0].access?.remoteFingerprints == [try Fingerprint(parsing: T.ueFP)])
        #expect(!toCore.serialized().contains("fingerprint"))
        _ = try s.receive(T.coreMSRP(setup: "active", extra: ["a=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33"]),
                          kind: .answer, direction: .originating)
        let toUE = try s.applyGatewayAnswer(GatewayAnswer())
        #expect(try toUE.media[0].fingerprints() == [T.agwFP])   // core fingerprint deleted (specs §4.1 step 7)
    }

    @Test("RFC 8122 §5 / specs.md pitfall 7: a session-level fingerprint of the replaced side is removed")
    func sessionLevelFingerprint() throws {
        let offer = T.sdp(T.head("10.1.1.10") + ["a=fingerprint:\(T.ueFP)", "m=message 5000 TCP/TLS/MSRP *", "a=path:msrps://10.1.1.10:5000/z;tcp",
                                                  "a=msrp-cema", "a=3ge2ae:requested"])
        var s = RewriteSession(flags: .all)
        let (req, out) = try T.exchange(&s, offer: offer, direction: .originating)
        #expect(req.streams[0].access?.remoteFingerprints?.count == 1)
        #expect(!out.serialized().contains("fingerprint"))
    }

    @Test("Seed 003: the AGW fingerprint request is absent when nothing is e2ae")
    func noFingerprintRequestForE2E() throws {
        var s = RewriteSession(flags: .all)
        let (req, out) = try T.exchange(&s, offer: T.ueMSRP(requested: false), direction: .originating)
        #expect(req.streams[0].treatment == .e2e)
        #expect(req.streams[0].access?.requestLocalFingerprint == false && req.streams[0].access?.remoteFingerprints == nil)
        #expect(try out.media[0].fingerprints().count == 1)     // e2e: fingerprint passed unchanged (TI-23334-v)
    }

    @Test("TS 24.229 §7.5.2: a=3ge2ae:requested stripped towards the core; a=3ge2ae:applied only in offers to the UE by default")
    func indicator() throws {
        var s = RewriteSession(flags: .all)
        let (_, toCore) = try T.exchange(&s, offer: T.ueMSRP(), direction: .originating)
        #expect(toCore.media[0].e2aeIndicator == nil)
        _ = try s.receive(T.coreMSRP(setup: "active"), kind: .answer, direction: .originating)
        #expect(try s.applyGatewayAnswer(GatewayAnswer()).media[0].e2aeIndicator == nil)
        var t = RewriteSession(flags: .all)
        let (_, toUE) = try T.exchange(&t, offer: T.coreMSRP(), direction: .terminating)
        #expect(toUE.media[0].e2aeIndicator == .applied)
        var p = RewritePolicy()
        p.indicateAppliedInAnswer = true
        var u = RewriteSession(policy: p, flags: .all)
        let (_, answerToUE) = try T.exchange(&u, offer: T.ueMSRP(), answer: T.coreMSRP(setup: "active"), direction: .originating)
        #expect(answerToUE.media[0].e2aeIndicator == .applied)
    }

    @Test("Seed 000 / specs.md §12: bandwidth model adds towards the UE and subtracts towards the core")
    func bandwidthModel() {
        #expect(BandwidthRule.addOverhead(64, plaintext: 1024, overhead: 29, minimumChange: 1) == 66)
        #expect(BandwidthRule.removeOverhead(64, plaintext: 1024, overhead: 29, minimumChange: 1) == 62)
        #expect(BandwidthRule.addOverhead(1, plaintext: 1024, overhead: 29, minimumChange: 1) == 2)   // +1 kbit/s floor
        #expect(BandwidthRule.removeOverhead(1, plaintext: 1024, overhead: 29, minimumChange: 1) == 1) // never below 1
        #expect(BandwidthRule.addOverhead(64_000, plaintext: 1024, overhead: 22, minimumChange: 0) == 65_375) // TLS 1.3
        #expect(BandwidthRule.addOverhead(UInt64.max, plaintext: 1024, overhead: 29, minimumChange: 1) == UInt64.max)
        #expect(BandwidthRule.removeOverhead(UInt64.max, plaintext: 1024, overhead: 29, minimumChange: 1) < UInt64.max)
    }

    @Test("Seed 000: bandwidth of a non-e2ae stream passes unchanged; record size is configurable")
    func bandwidthScope() throws {
        var s = RewriteSession(flags: .all)
        let (_, e2e) = try T.exchange(&s, offer: T.ueMSRP(requested: false, extra: ["b=AS:64"]), direction: .originating)
        #expect(e2e.media[0].bandwidth(.applicationSpecific) == 64)
        var p = RewritePolicy()
        p.bandwidth.msrpRecordPlaintextBytes = 29    // ratio 2
        var t = RewriteSession(policy: p, flags: .all)
        let (_, e2ae) = try T.exchange(&t, offer: T.ueMSRP(extra: ["b=AS:64"]), direction: .originating)
        #expect(e2ae.media[0].bandwidth(.applicationSpecific) == 32)
    }

    @Test("RFC 6714 §4 / TS 23.334 §5.19 / seed 003 transports: with a=msrp-cema a=path is left alone, core transport TCP")
    func cemaPresent() throws {
        var s = RewriteSession(flags: .all)
        let (req, out) = try T.exchange(&s, offer: T.ueMSRP(), direction: .originating)
        #expect(out.media[0].msrpPath == ["msrps://10.1.1.10:50000/a1;tcp"])
        #expect(req.streams[0].access?.transport == .tcpTLSMSRP && req.streams[0].core?.transport == .tcp)
        var p = RewritePolicy()
        p.msrpAgnosticAccessTransport = .tcpTLS     // specs.md §4.1 alternative [U]
        var t = RewriteSession(policy: p, flags: .all)
        let (req2, _) = try T.exchange(&t, offer: T.ueMSRP(), direction: .originating)
        #expect(req2.streams[0].access?.transport == .tcpTLS)
    }

    @Test("Seed 003 / specs.md §6.2: without CEMA the path is rewritten (application-aware) or left, by policy")
    func cemaAbsent() throws {
        var s = RewriteSession(flags: .all)
        let (req, out) = try T.exchange(&s, offer: T.ueMSRP(cema: false), direction: .originating)
        #expect(out.media[0].msrpPath == ["msrp://198.51.100.1:40002/a1;tcp"])
        #expect(req.streams[0].access?.transport == .tcpTLSMSRP && req.streams[0].core?.transport == .tcpMSRP)
        var p = RewritePolicy()
        p.cemaAbsent = .leavePath
        var t = RewriteSession(policy: p, flags: .all)
        let (req2, out2) = try T.exchange(&t, offer: T.ueMSRP(cema: false), direction: .originating)
        #expect(out2.media[0].msrpPath == ["msrps://10.1.1.10:50000/a1;tcp"])
        #expect(req2.streams[0].access?.transport == .tcpTLSMSRP && req2.streams[0].core?.transport == .tcp)
    }

    @Test("specs.md §6.2 [U]: rewritePathSchemeUnderCEMA swaps only the URI scheme")
    func schemeOnly() throws {
        var p = RewritePolicy()
        p.rewritePathSchemeUnderCEMA = true
        var s = RewriteSession(policy: p, flags: .all)
        let (_, out) = try T.exchange(&s, offer: T.ueMSRP(), direction: .originating)
        #expect(out.media[0].msrpPath == ["msrp://10.1.1.10:50000/a1;tcp"])
    }

    @Test("RFC 4975 §9: path rewrite keeps earlier URIs, userinfo and session-id; IPv6 in brackets")
    func pathRule() {
        #expect(MSRPPathRule.rewriteLast("msrp://relay:1/x;tcp msrps://u@10.0.0.1:5/s1;tcp", scheme: "msrp", host: "2001:db8::1", port: 7)
                == "msrp://relay:1/x;tcp msrp://u@[2001:db8::1]:7/s1;tcp")
        #expect(MSRPPathRule.rewriteLast("http://x/y", scheme: nil, host: "a", port: 1) == nil)
        #expect(MSRPPathRule.rewriteLast("msrp://x:1/y", scheme: nil, host: "a", port: 1) == nil)   // no ;transport
    }

    @Test("TS 23.334 §5.1 anchoring: RTP c=/m= and a=rtcp rewritten; a=crypto passed through for e2e SRTP")
    func rtpAnchoring() throws {
        let offer = T.sdp(T.head("10.1.1.10") + ["m=audio 49170 RTP/SAVP 0", "a=rtcp:49171 IN IP4 10.1.1.10",
            "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32", "a=3ge2ae:requested"])
        var s = RewriteSession(flags: .all)
        let r = try s.receive(offer, kind: .offer, direction: .originating)
        #expect(r.streams[0].access?.remote == RemoteEndpoint(address: "10.1.1.10", port: 49170, rtcpPort: 49171, rtcpAddress: "10.1.1.10"))
        #expect(r.streams[0].access?.transport.rawValue == "RTP/SAVP")
        let out = try s.applyGatewayAnswer(GatewayAnswer(streams: [StreamAnswer(index: 0, access: LocalEndpoint(address: "192.0.2.1", port: 30000),
                                                                            core: LocalEndpoint(address: "198.51.100.1", port: 30100, rtcpPort: 30111))]))
        #expect(out.media[0].port == .number(30100))
        #expect(try out.media[0].rtcp() == RTCPAttribute(port: 30111, connection: ConnectionData(address: "198.51.100.1")))
        #expect(try out.media[0].cryptoAttributes() == (try offer.media[0].cryptoAttributes()))
        #expect(out.media[0].e2aeIndicator == nil)
        #expect(out.connection?.address == .literal("198.51.100.1"))
        #expect(LibOSIP2.acceptsSDP(out.serialized()))
    }

    @Test("RFC 8866 §5.7: a stream not anchored keeps the session c=; anchored streams get media-level c=")
    func mixedAnchoring() throws {
        let offer = T.sdp(T.head("10.1.1.10") + ["m=audio 49170 RTP/AVP 0", "m=image 6000 udptl t38"])
        var s = RewriteSession(flags: .all)
        _ = try s.receive(offer, kind: .offer, direction: .originating)
        let out = try s.applyGatewayAnswer(T.gw(0))
        #expect(out.connection?.address == .literal("10.1.1.10"))
        #expect(out.media[0].connection?.address == .literal("198.51.100.1"))
        #expect(out.media[1].connection == nil && out.media[1].port == .number(6000))
    }

    @Test("RFC 3264 §8.4: a stream held with c=0.0.0.0 keeps that address; only the port is anchored")
    func holdZeroAddress() throws {
        let offer = T.sdp(["v=0", "o=x 1 2 IN IP4 10.1.1.10", "s=-", "c=IN IP4 0.0.0.0", "t=0 0", "m=audio 49170 RTP/AVP 0", "a=sendonly"])
        var s = RewriteSession(flags: .all)
        let r = try s.receive(offer, kind: .offer, direction: .originating)
        #expect(r.streams[0].access?.remote?.address == "0.0.0.0")
        let out = try s.applyGatewayAnswer(T.gw(0))
        #expect(out.connection?.address == .literal("0.0.0.0") && out.media[0].connection == nil)
        #expect(out.media[0].port == .number(40002) && out.media[0].direction == .sendonly)
    }
}
