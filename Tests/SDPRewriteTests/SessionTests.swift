import Testing
import SDPCore
import SIPCore
@testable import SDPRewrite

@Suite("Rewrite session state machine: re-offers (specs.md §4.5), rejections, sequencing")
struct SessionTests {
    static func mixedOffer(msrpPort: Int = 50000, connection: String = "new", direction: String = "sendrecv", video: Bool = false) -> SessionDescription {
        var l = T.head("10.1.1.10") + ["m=audio 49170 RTP/AVP 0", "a=\(direction)",
                                        "m=message \(msrpPort) TCP/TLS/MSRP *", "a=path:msrps://10.1.1.10:50000/q;tcp", "a=setup:actpass",
                                        "a=connection:\(connection)", "a=fingerprint:\(T.ueFP)", "a=msrp-cema", "a=3ge2ae:requested"]
        if video { l += ["m=video 49180 RTP/AVP 96"] }
        return T.sdp(l)
    }

    static let coreAnswer = T.sdp(T.head("203.0.113.5") + ["m=audio 6000 RTP/AVP 0", "m=message 7654 TCP/MSRP *",
                                                           "a=path:msrp://203.0.113.5:7654/r;tcp", "a=setup:active", "a=msrp-cema"])

    func established() throws -> RewriteSession {
        var s = RewriteSession(flags: .all)
        _ = try T.exchange(&s, offer: Self.mixedOffer(), answer: Self.coreAnswer, direction: .originating)
        return s
    }

    @Test("specs.md §4.5: re-offer with a=connection:existing keeps the TCP/TLS connection (configure, reuse)")
    func existing() throws {
        var s = try established()
        let r = try s.receive(Self.mixedOffer(connection: "existing"), kind: .offer, direction: .originating)
        #expect(r.streams[1].action == .configure)
        #expect(r.streams[1].access?.tcp?.reuseConnection == true && r.streams[1].access?.requestLocalFingerprint == false)
        let out = try s.applyGatewayAnswer(GatewayAnswer())     // endpoints remembered from the first exchange
        #expect(out.media[1].port == .number(40012))
    }

    @Test("specs.md §4.5 / RFC 4145 §5: re-offer with a=connection:new asks for a new connection and fingerprint")
    func newConnection() throws {
        var s = try established()
        let r = try s.receive(Self.mixedOffer(connection: "new"), kind: .offer, direction: .originating)
        #expect(r.streams[1].action == .replace)
        #expect(r.streams[1].access?.requestLocalFingerprint == true)
        #expect(r.streams[0].action == .configure)
    }

    @Test("RFC 3264 §8.2: port 0 in a re-offer releases the stream")
    func portZero() throws {
        var s = try established()
        let r = try s.receive(Self.mixedOffer(msrpPort: 0), kind: .offer, direction: .originating)
        #expect(r.streams.contains { $0.index == 1 && $0.action == .release })
        let out = try s.applyGatewayAnswer(GatewayAnswer())
        #expect(out.media[1].port == .number(0) && out.media[1].proto == "TCP/MSRP")
        #expect(s.streams[1].treatment == .released)
    }

    @Test("RFC 3264 §8.1: a stream added by a re-offer is reserved")
    func added() throws {
        var s = try established()
        let r = try s.receive(Self.mixedOffer(connection: "existing", video: true), kind: .offer, direction: .originating)
        #expect(r.streams.first { $0.index == 2 }?.action == .reserve)
        #expect(throws: RewriteError.self) { try s.applyGatewayAnswer(GatewayAnswer()) }   // no AGW address for the new stream
    }

    @Test("RFC 3264 §8.4: hold (sendonly) passes through and reaches the AGW as the stream direction")
    func hold() throws {
        var s = try established()
        let r = try s.receive(Self.mixedOffer(connection: "existing", direction: "sendonly"), kind: .offer, direction: .originating)
        #expect(r.streams[0].direction == .sendonly)
        let out = try s.applyGatewayAnswer(GatewayAnswer())
        #expect(out.media[0].direction == .sendonly)
    }

    @Test("specs.md §4.5: a UE flipping a line from e2ae to plain TCP/MSRP drops e2ae for that stream")
    func flipToPlain() throws {
        var s = try established()
        let plain = T.sdp(T.head("10.1.1.10") + ["m=audio 49170 RTP/AVP 0", "m=message 50000 TCP/MSRP *", "a=path:msrp://10.1.1.10:50000/q;tcp",
                                                  "a=setup:actpass", "a=connection:existing", "a=msrp-cema"])
        let r = try s.receive(plain, kind: .offer, direction: .originating)
        #expect(r.streams[1].treatment == .plain && r.streams[1].action == .replace)
    }

    @Test("RFC 3264 §6: an answer rejecting a stream with port 0 releases it")
    func answerRejects() throws {
        var s = RewriteSession(flags: .all)
        _ = try T.exchange(&s, offer: Self.mixedOffer(), direction: .originating)
        let ans = T.sdp(T.head("203.0.113.5") + ["m=audio 6000 RTP/AVP 0", "m=message 0 TCP/MSRP *"])
        let r = try s.receive(ans, kind: .answer, direction: .originating)
        #expect(r.streams.contains { $0.index == 1 && $0.action == .release })
        let out = try s.applyGatewayAnswer(GatewayAnswer())
        #expect(out.media[1].proto == "TCP/TLS/MSRP" && out.media[1].isDisabled)
    }

    @Test("TS 24.229 §7.5.2: a=3ge2ae:requested in any case asks for e2ae; another value (or none) does not (e2e)",
          arguments: [("requested", StreamTreatment.e2ae), ("REQUESTED", .e2ae), ("Requested", .e2ae),
                      ("applied", .e2e), ("maybe", .e2e), ("requested2", .e2e)])
    func indicatorValue(value: String, treatment: StreamTreatment) throws {
        var s = RewriteSession(flags: .all)
        let offer = T.ueMSRP(requested: false, extra: ["a=3ge2ae:\(value)"])
        let r = try s.receive(offer, kind: .offer, direction: .originating)
        #expect(r.streams.first?.treatment == treatment)
        #expect(s.streams.first?.treatment == treatment)
    }

    @Test("RFC 3605 §2.1: a malformed a=rtcp on an anchored RTP stream rejects the offer (typed error, stream index); the session is unchanged")
    func malformedRTCP() throws {
        var s = RewriteSession(flags: .all)
        let bad = T.sdp(T.head("10.1.1.10") + ["m=audio 49170 RTP/AVP 0", "a=rtcp:notaport"])
        #expect { try s.receive(bad, kind: .offer, direction: .originating) } throws: { e in
            guard let e = e as? RewriteError else { return false }
            return e.code == .malformedSDP && e.stream == 0 && e.sdp?.code == .malformedRTCP
        }
        #expect(s.streams.isEmpty && !s.awaitingAnswer)
    }

    @Test("RFC 4145 §4: a malformed a=setup in an answer rejects it for an anchored stream, but not for a stream the answer rejects (port 0)")
    func answerSetupError() throws {
        var s = RewriteSession(flags: .all)
        _ = try T.exchange(&s, offer: Self.mixedOffer(), direction: .originating)
        let bad = T.sdp(T.head("203.0.113.5") + ["m=audio 6000 RTP/AVP 0", "m=message 7654 TCP/MSRP *",
                                                 "a=path:msrp://203.0.113.5:7654/r;tcp", "a=setup:sideways", "a=msrp-cema"])
        #expect { try s.receive(bad, kind: .answer, direction: .originating) } throws: { e in
            guard let e = e as? RewriteError else { return false }
            return e.code == .malformedSDP && e.stream == 1 && e.sdp?.code == .malformedSetup
        }
        #expect(s.awaitingAnswer)   // unchanged: the offer's answer is still awaited
        let rejected = T.sdp(T.head("203.0.113.5") + ["m=audio 6000 RTP/AVP 0", "m=message 0 TCP/MSRP *", "a=setup:sideways"])
        let r = try s.receive(rejected, kind: .answer, direction: .originating)
        #expect(r.streams.contains { $0.index == 1 && $0.action == .release })
    }

    @Test("RFC 3261 §21.4.26: an unusable SDP is a typed 488 with a Warning; the session state is unchanged")
    func rejection() throws {
        var s = RewriteSession(flags: .all)
        let bad = T.sdp(T.head("10.1.1.10") + ["m=message 5000 TCP/TLS/MSRP *", "a=fingerprint:sha-256 00:11", "a=3ge2ae:requested"])
        #expect { try s.receive(bad, kind: .offer, direction: .originating) } throws: { e in
            guard let e = e as? RewriteError else { return false }
            return e.sipStatus == 488 && e.warningHeaderValue(agent: "p").hasPrefix("306 p \"")
        }
        #expect(s.streams.isEmpty && !s.awaitingAnswer)
        _ = try T.exchange(&s, offer: T.ueMSRP(), direction: .originating)   // still usable
    }

    @Test("State machine: events out of order are a typed 500, not a trap")
    func sequencing() throws {
        var s = RewriteSession(flags: .all)
        #expect { try s.receive(Self.coreAnswer, kind: .answer, direction: .originating) } throws: { ($0 as? RewriteError)?.sipStatus == 500 }
        #expect { try s.applyGatewayAnswer(GatewayAnswer()) } throws: { ($0 as? RewriteError)?.code == .unexpectedEvent }
        _ = try s.receive(Self.mixedOffer(), kind: .offer, direction: .originating)
        #expect { try s.receive(Self.mixedOffer(), kind: .offer, direction: .originating) } throws: { ($0 as? RewriteError)?.code == .unexpectedEvent }
    }

    @Test("An offer that fails (error response) releases what it reserved")
    func offerFailed() throws {
        var s = RewriteSession(flags: .all)
        _ = try T.exchange(&s, offer: Self.mixedOffer(), direction: .originating)
        let rel = s.offerFailed()
        #expect(rel.streams.map(\.action) == [.release, .release])
        #expect(s.streams.isEmpty)
    }

    @Test("House rule (pure): the same inputs give the same outputs")
    func deterministic() throws {
        var a = RewriteSession(flags: .all), b = RewriteSession(flags: .all)
        let x = try T.exchange(&a, offer: Self.mixedOffer(), answer: Self.coreAnswer, direction: .originating)
        let y = try T.exchange(&b, offer: Self.mixedOffer(), answer: Self.coreAnswer, direction: .originating)
        #expect(x.0 == y.0 && x.1 == y.1)
        #expect(LibOSIP2.acceptsSDP(x.1.serialized()))
    }
}
