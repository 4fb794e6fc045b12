// IMSAGW (pure MG side of Iq) against the exact Iq requests pcscf-alg sends (specs.md §10.5,
// Sources/ALGServer/IqGatewayMapping.swift), with an in-process fake media plane.

import Foundation
import H248Codec
import IMSAGW
import Testing

/// In-process fake media plane: ports from 40000 upwards, one fixed fingerprint.
struct FakeMedia {
    var nextPort: UInt16 = 40_000
    var failAll = false
    static let fingerprint = "sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"
    mutating func perform(_ e: AGWExecution) -> [AGWMediaKey: Result<AGWLocalResource, AGWMediaFailure>] {
        var out: [AGWMediaKey: Result<AGWLocalResource, AGWMediaFailure>] = [:]
        for a in e.allocations {
            if failAll { out[a.key] = .failure(AGWMediaFailure(AGWError(.insufficientResources, "no ports"))); continue }
            out[a.key] = .success(AGWLocalResource(address: a.requestedAddress ?? "192.0.2.1", port: a.requestedPort ?? nextPort,
                                                   fingerprint: a.wantsFingerprint ? Self.fingerprint : nil))
            nextPort += 2
        }
        return out
    }
}

func parseRequest(_ body: String) throws -> TransactionRequest {
    let m = try H248TextParser().parse("MEGACO/3 [192.0.2.100]:2944\n" + body)
    guard case .request(let r)? = m.transactions.first else { throw AGWError(.syntaxErrorInMessage, "no request") }
    return r
}

/// Runs one transaction through both steps.
func run(_ gw: inout AGWGateway, _ media: inout FakeMedia, _ body: String, now: Duration = .zero) throws -> AGWOutcome {
    let e = gw.execute(try parseRequest(body), now: now)
    return gw.complete(e, results: media.perform(e))
}

func actions(_ o: AGWOutcome) -> [ActionReply] {
    if case .actions(let a) = o.reply.result { return a }
    return []
}

func firstError(_ o: AGWOutcome) -> ErrorDescriptor? {
    for a in actions(o) {
        if let e = a.error { return e }
        for r in a.replies { for case .error(let e) in r.descriptors { return e } }
    }
    return nil
}

func local(_ o: AGWOutcome, action: Int = 0, reply: Int = 0) -> SDPBlock? {
    let a = actions(o)
    guard a.indices.contains(action), a[action].replies.indices.contains(reply) else { return nil }
    for case .media(let m) in a[action].replies[reply].descriptors { return m.streams.first?.local }
    return nil
}

let reserveCore = """
Transaction = 5001 { Context = $ { Add = $ { Media { Stream = 1 { LocalControl { Mode = Inactive, ipdc/realm = "core" },
Local {
v=0
c=IN IP4 $
m=message $ TCP/MSRP *
a=setup:actpass
} } }, Events = 1 { hangterm/thb { timerx = 60 }, tcpbcc/estfail } } } }
"""

func reserveAccess(context: UInt32, tid: UInt32 = 5002, extraLocal: String = "a=fingerprint:$", latch: String = "ON") -> String {
    """
    Transaction = \(tid) { Context = \(context) { Add = $ { Media { Stream = 1 { LocalControl { Mode = Inactive, ipdc/realm = "access", ipnapt/latch = \(latch) },
    Local {
    v=0
    c=IN IP4 $
    m=message $ TCP/TLS/MSRP *
    a=setup:actpass
    \(extraLocal)
    },
    Remote {
    v=0
    c=IN IP4 10.1.1.10
    m=message 50000 TCP/TLS/MSRP *
    a=setup:active
    a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF
    } } }, Events = 2 { hangterm/thb { timerx = 30 }, tcpbcc/estfail, tlsbsc/estfail } } } }
    """
}

@Suite("IMSAGW: MG-side command execution (H.248.1 §7.2, TS 23.334 §8)")
struct AGWGatewayTests {
    @Test("Add with $ context/termination: Local c=/m= $ resolved from the media plane (H.248.1 §7.1.8)")
    func addResolvesDollar() throws {
        var gw = AGWGateway()
        var media = FakeMedia()
        let o = try run(&gw, &media, reserveCore)
        #expect(firstError(o) == nil)
        let a = actions(o)
        #expect(a.first?.contextID == .id(1))
        #expect(a.first?.replies.first?.terminationID.text == "ip/1")
        let l = try #require(local(o))
        #expect(l.lines.contains("c=IN IP4 192.0.2.1"))
        #expect(l.lines.contains("m=message 40000 TCP/MSRP *"))
        #expect(l.lines.contains("a=setup:actpass"))
        #expect(!l.text.contains("$"))
        #expect(gw.contexts[1]?.terminations.count == 1)
    }

    @Test("a=fingerprint:$ answered with the media plane's certificate fingerprint (seed 000; specs.md §10.3)")
    func fingerprintRequest() throws {
        var gw = AGWGateway()
        var media = FakeMedia()
        _ = try run(&gw, &media, reserveCore)
        let o = try run(&gw, &media, reserveAccess(context: 1))
        #expect(firstError(o) == nil)
        let l = try #require(local(o))
        #expect(l.lines.contains("a=fingerprint:\(FakeMedia.fingerprint)"))
        #expect(l.lines.contains("m=message 40002 TCP/TLS/MSRP *"))
        // The two terminations of stream 1 are interconnected in proxy mode (TS 23.334 §5.16.2.2).
        #expect(o.operations.contains(.interconnect(AGWMediaKey(context: 1, termination: "ip/1", stream: 1),
                                                    AGWMediaKey(context: 1, termination: "ip/2", stream: 1), mode: .proxy)))
        // Remote applied: address, port, a=setup and fingerprint (seed 004 step 12).
        let configured = o.operations.contains { op in
            if case .configure(let k, let r?, .actpass, false, false, .inactive) = op {
                return k.termination == "ip/2" && r.address == "10.1.1.10" && r.port == 50000 && r.setup == .active
                    && r.fingerprints.first?.hasPrefix("sha-256 4A:AD") == true
            }
            return false
        }
        #expect(configured)
    }

    @Test("a=fingerprint:<hash> $ accepted for the configured hash, refused with 449 naming it otherwise (TS 29.334 §5.17.1)")
    func fingerprintHashForms() throws {
        var gw = AGWGateway()
        var media = FakeMedia()
        _ = try run(&gw, &media, reserveCore)
        #expect(firstError(try run(&gw, &media, reserveAccess(context: 1, extraLocal: "a=fingerprint:sha-256 $"))) == nil)
        let bad = try run(&gw, &media, reserveAccess(context: 1, tid: 5003, extraLocal: "a=fingerprint:sha-1 $"))
        #expect(firstError(bad)?.code == 449)
        #expect(firstError(bad)?.text?.contains("sha-1") == true)
    }

    @Test("Modify with Remote and the Establish-TLS signal: configure with TLS client role (specs.md §5.2)")
    func modifyRemoteAndTLS() throws {
        var gw = AGWGateway()
        var media = FakeMedia()
        _ = try run(&gw, &media, reserveCore)
        _ = try run(&gw, &media, reserveAccess(context: 1))
        let o = try run(&gw, &media, """
        Transaction = 5003 { Context = 1 { Modify = ip/1 { Media { Stream = 1 { LocalControl { Mode = SendReceive }, Remote {
        v=0
        c=IN IP4 203.0.113.5
        m=message 7654 TCP/MSRP *
        a=setup:active
        } } } }, Modify = ip/2 { Media { Stream = 1 { LocalControl { Mode = SendReceive } } }, Signals { tlsbsc/establish } } } }
        """)
        #expect(firstError(o) == nil)
        #expect(actions(o).first?.replies.map(\.terminationID.text) == ["ip/1", "ip/2"])
        #expect(o.operations.contains(.configure(AGWMediaKey(context: 1, termination: "ip/1", stream: 1),
                                                 remote: AGWRemote(address: "203.0.113.5", port: 7654, setup: .active),
                                                 localSetup: .actpass, establishTLSAsClient: false, connect: false, mode: .sendReceive)))
        let tls = o.operations.contains { if case .configure(let k, _, _, true, _, .sendReceive) = $0 { return k.termination == "ip/2" }; return false }
        #expect(tls)
    }

    @Test("Subtract = * releases every stream and the context ceases to exist (H.248.1 §6.1, §7.2.3)")
    func subtractAll() throws {
        var gw = AGWGateway()
        var media = FakeMedia()
        _ = try run(&gw, &media, reserveCore)
        _ = try run(&gw, &media, reserveAccess(context: 1))
        let o = try run(&gw, &media, "Transaction = 5010 { Context = 1 { Subtract = * } }")
        #expect(firstError(o) == nil)
        #expect(actions(o).first?.replies.map(\.terminationID.text) == ["ip/1", "ip/2"])
        #expect(o.operations.filter { if case .release = $0 { return true }; return false }.count == 2)
        #expect(gw.contexts.isEmpty)
        let again = try run(&gw, &media, "Transaction = 5011 { Context = 1 { Subtract = ip/1 } }")
        #expect(firstError(again)?.code == 411)
    }

    @Test("Unknown context 411, unknown termination 430, termination in another context 435, wildcard with no match 431 (H.248.8)",
          arguments: [
            ("Transaction = 7 { Context = 99 { Modify = ip/1 { } } }", UInt16(411)),
            ("Transaction = 7 { Context = 1 { Modify = ip/77 { } } }", UInt16(430)),
            ("Transaction = 7 { Context = 2 { Modify = ip/1 { } } }", UInt16(435)),
            ("Transaction = 7 { Context = 1 { Subtract = gw/* } }", UInt16(431)),
            ("Transaction = 7 { Context = 1 { Add = ip/1 } }", UInt16(433)),
            ("Transaction = 7 { Context = - { Add = $ } }", UInt16(421)),
            ("Transaction = 7 { Context = 1 { Subtract = ROOT } }", UInt16(542)),
            ("Transaction = 7 { Context = 1 { Move = ip/1 } }", UInt16(501)),
          ])
    func idErrors(_ body: String, _ code: UInt16) throws {
        var gw = AGWGateway()
        var media = FakeMedia()
        _ = try run(&gw, &media, reserveCore)
        _ = try run(&gw, &media, reserveCore.replacingOccurrences(of: "5001", with: "5002"))
        #expect(gw.contexts.count == 2)
        let o = try run(&gw, &media, body)
        #expect(firstError(o)?.code == code)
    }

    @Test("Unsupported values: 449 with the offending value (TS 29.334 §5.17.1); unknown package 440, item 450/451/452 (H.248.8)",
          arguments: [
            ("LocalControl { Mode = Loopback }", UInt16(449), "Loopback"),
            ("LocalControl { ipnapt/latch = MAYBE }", UInt16(449), "MAYBE"),
            ("LocalControl { foo/bar = 1 }", UInt16(440), "foo/bar"),
            ("LocalControl { ipnapt/nosuch = 1 }", UInt16(450), "ipnapt/nosuch"),
            ("Local {\nv=0\nc=IN IP4 $\nm=audio $ RTP/SAVP 0\n}", UInt16(449), "RTP/SAVP"),
            ("Local {\nv=0\nc=IN IP4 $\nm=message $ TCP/MSRP *\na=setup:sideways\n}", UInt16(449), "sideways"),
            ("Local {\nv=0\nc=IN IP4 $\nm=message $ TCP/MSRP *\na=fingerprint:$\n}", UInt16(449), "TCP/MSRP"),
            ("Remote {\nv=0\nc=IN IP4 $\nm=message 5 TCP *\n}", UInt16(449), "Remote"),
          ])
    func valueErrors(_ streamParm: String, _ code: UInt16, _ named: String) throws {
        var gw = AGWGateway()
        var media = FakeMedia()
        let o = try run(&gw, &media, "Transaction = 9 { Context = $ { Add = $ { Media { Stream = 1 { \(streamParm) } } } } }")
        #expect(firstError(o)?.code == code)
        #expect(firstError(o)?.text?.contains(named) == true)
        #expect(gw.contexts.isEmpty, "a failed Add leaves nothing behind")
    }

    @Test("Unknown event 451 / signal 452 / package 440 (H.248.8)", arguments: [
        ("Events = 1 { hangterm/nosuch }", UInt16(451)),
        ("Events = 1 { zz/top }", UInt16(440)),
        ("Signals { tlsbsc/nosuch }", UInt16(452)),
        ("Events = 1 { hangterm/thb { timerx = soon } }", UInt16(449)),
    ])
    func eventSignalErrors(_ descriptor: String, _ code: UInt16) throws {
        var gw = AGWGateway()
        var media = FakeMedia()
        let o = try run(&gw, &media, "Transaction = 9 { Context = $ { Add = $ { \(descriptor) } } }")
        #expect(firstError(o)?.code == code)
    }

    @Test("Commands stop at the first failure: later commands are not executed (H.248.1 §8.2.2)")
    func stopsAtFirstFailure() throws {
        var gw = AGWGateway()
        var media = FakeMedia()
        let o = try run(&gw, &media, """
        Transaction = 9 { Context = $ { Add = $ { Media { Stream = 1 { LocalControl { Mode = Loopback } } } }, Add = $ } }
        """)
        #expect(actions(o).first?.replies.count == 1)
        #expect(gw.contexts.isEmpty)
    }

    @Test("Optional command (O-) failure does not stop the transaction (H.248.1 §8.2.1)")
    func optionalCommand() throws {
        var gw = AGWGateway()
        var media = FakeMedia()
        let o = try run(&gw, &media, "Transaction = 9 { Context = $ { O-Add = ROOT, Add = $ } }")
        #expect(actions(o).first?.replies.count == 2)
        #expect(gw.terminationCount == 1)
    }

    @Test("Media plane out of resources: 510 and the Add leaves nothing (H.248.8 510)")
    func allocationFailure() throws {
        var gw = AGWGateway()
        var media = FakeMedia()
        media.failAll = true
        let o = try run(&gw, &media, reserveCore)
        #expect(firstError(o)?.code == 510)
        #expect(gw.contexts.isEmpty)
    }

    @Test("Modify with Local $ again releases the old resources and allocates new ones (specs.md §4.5 replace)")
    func modifyReallocates() throws {
        var gw = AGWGateway()
        var media = FakeMedia()
        _ = try run(&gw, &media, reserveCore)
        let e = gw.execute(try parseRequest("""
        Transaction = 8 { Context = 1 { Modify = ip/1 { Media { Stream = 1 { Local {
        v=0
        c=IN IP4 $
        m=message $ TCP/MSRP *
        } } } } } }
        """), now: .zero)
        #expect(e.releases == [AGWMediaKey(context: 1, termination: "ip/1", stream: 1)])
        #expect(e.allocations.count == 1)
        let o = gw.complete(e, results: media.perform(e))
        #expect(local(o)?.lines.contains("m=message 40002 TCP/MSRP *") == true)
    }

    @Test("AuditValue: empty on ROOT, Media of a termination, Context * lists contexts, 431 when none (H.248.1 §7.2.5)")
    func auditValue() throws {
        var gw = AGWGateway()
        var media = FakeMedia()
        let none = try run(&gw, &media, "Transaction = 1 { Context = * { AuditValue = * { Audit { } } } }")
        #expect(firstError(none)?.code == 431)
        let root = try run(&gw, &media, "Transaction = 2 { Context = - { AuditValue = ROOT { Audit { } } } }")
        #expect(firstError(root) == nil)
        #expect(actions(root).first?.replies.first?.terminationID == .root)
        _ = try run(&gw, &media, reserveCore)
        let all = try run(&gw, &media, "Transaction = 3 { Context = * { AuditValue = * { Audit { } } } }")
        #expect(actions(all).map(\.contextID) == [.id(1)])
        let m = try run(&gw, &media, "Transaction = 4 { Context = 1 { AuditValue = ip/1 { Audit { Media, Events } } } }")
        #expect(local(m)?.lines.contains("m=message 40000 TCP/MSRP *") == true)
        let bad = try run(&gw, &media, "Transaction = 5 { Context = - { AuditValue = ROOT { Audit { zz/top } } } }")
        #expect(firstError(bad)?.code == 440)
        let cap = try run(&gw, &media, "Transaction = 6 { Context = - { AuditCapability = ROOT { Audit { } } } }")
        let pkgs = actions(cap).first?.replies.first?.descriptors.contains { if case .packages(let p) = $0 { return p.contains { $0.name == "tlsbsc" } }; return false }
        #expect(pkgs == true)
    }

    @Test("Notify only for events the MGC asked for, with its RequestID (H.248.1 §7.1.9, §7.2.7)")
    func notifyRequested() throws {
        var gw = AGWGateway()
        var media = FakeMedia()
        _ = try run(&gw, &media, reserveCore)
        _ = try run(&gw, &media, reserveAccess(context: 1))
        let ts = TimeStamp("20261123T15000000")
        let maybe = gw.mediaEvent(AGWMediaEvent(key: AGWMediaKey(context: 1, termination: "ip/2", stream: 1), kind: .tlsFailed("fingerprint")), timestamp: ts)
        let tls = try #require(maybe)
        #expect(tls.contextID == .id(1))
        guard case .observedEvents(let oe)? = tls.commands.first?.descriptors.first else { Issue.record("no ObservedEvents"); return }
        #expect(oe.requestID == 2)
        #expect(oe.events.first?.name == "tlsbsc/estfail")
        // Core termination did not ask for the TLS failure event; nobody asked for bearer release.
        #expect(gw.mediaEvent(AGWMediaEvent(key: AGWMediaKey(context: 1, termination: "ip/1", stream: 1), kind: .tlsFailed(nil)), timestamp: ts) == nil)
        #expect(gw.mediaEvent(AGWMediaEvent(key: AGWMediaKey(context: 1, termination: "ip/1", stream: 1), kind: .bearerReleased(nil)), timestamp: ts) == nil)
        #expect(gw.mediaEvent(AGWMediaEvent(key: AGWMediaKey(context: 1, termination: "ip/1", stream: 1), kind: .tcpFailed(nil)), timestamp: ts) != nil)
    }

    @Test("Termination heartbeat every timerx seconds (H.248.36 thb; TS 23.334 termination heartbeat indication)")
    func heartbeat() throws {
        var gw = AGWGateway()
        var media = FakeMedia()
        _ = try run(&gw, &media, reserveCore, now: .seconds(0))
        _ = try run(&gw, &media, reserveAccess(context: 1), now: .seconds(0))
        #expect(gw.nextDeadline == .seconds(30))
        #expect(gw.timerFired(now: .seconds(29), timestamp: nil).isEmpty)
        let at30 = gw.timerFired(now: .seconds(30), timestamp: nil)
        #expect(at30.map { $0.commands.first?.terminationID.text } == ["ip/2"])
        let at60 = gw.timerFired(now: .seconds(60), timestamp: nil)
        #expect(Set(at60.compactMap { $0.commands.first?.terminationID.text }) == ["ip/1", "ip/2"])
        #expect(gw.nextDeadline == .seconds(90))
    }

    @Test("Inactivity timer on ROOT: Notify it/ito after mit×10 ms without an MGC message (H.248.14)")
    func inactivity() throws {
        var gw = AGWGateway()
        var media = FakeMedia()
        let o = try run(&gw, &media, "Transaction = 1 { Context = - { Modify = ROOT { Events = 7 { it/ito { mit = 500 } } } } }", now: .zero)
        #expect(firstError(o) == nil)
        #expect(gw.nextDeadline == .seconds(5))
        gw.messageFromMGC(now: .seconds(4))
        #expect(gw.timerFired(now: .seconds(5), timestamp: nil).isEmpty)
        let n = gw.timerFired(now: .seconds(9), timestamp: nil)
        #expect(n.first?.commands.first?.terminationID == .root)
    }

    @Test("Merge mode when both Local a=setup are passive (TS 23.334 §5.16.2.3)")
    func mergeMode() throws {
        var gw = AGWGateway()
        var media = FakeMedia()
        let passive = reserveCore.replacingOccurrences(of: "actpass", with: "passive")
        _ = try run(&gw, &media, passive)
        let o = try run(&gw, &media, passive.replacingOccurrences(of: "Context = $", with: "Context = 1").replacingOccurrences(of: "5001", with: "5002"))
        #expect(o.operations.first == .interconnect(AGWMediaKey(context: 1, termination: "ip/1", stream: 1),
                                                    AGWMediaKey(context: 1, termination: "ip/2", stream: 1), mode: .merge))
    }

    @Test("ServiceChange HandOff from the MGC: replied and re-registration asked (H.248.1 §7.2.8)")
    func mgcServiceChange() throws {
        var gw = AGWGateway()
        var media = FakeMedia()
        let e = gw.execute(try parseRequest("Transaction = 1 { Context = - { ServiceChange = ROOT { Services { Method = HandOff, Reason = 903 } } } }"), now: .zero)
        #expect(e.effects == [.reRegister(mgcIdToTry: nil)])
        #expect(firstError(gw.complete(e, results: media.perform(e))) == nil)
    }
}

@Suite("IMSAGW: registration (H.248.1 §7.2.8, §11.2; TS 23.334 IMS-AGW Register)")
struct AGWRegistrationTests {
    @Test("Cold start registers with Restart 901, configured Version and Profile")
    func coldStart() {
        var c = AGWRegistration.Configuration()
        c.version = 2
        c.profile = ServiceChangeProfile(name: "lab", version: 4)
        var r = AGWRegistration(configuration: c)
        guard case .sendServiceChange(let p)? = r.start(now: .zero).first else { Issue.record("no ServiceChange"); return }
        #expect(p.method == .restart)
        #expect(p.reasonCode == 901)
        #expect(p.version == 2)
        #expect(p.profile == ServiceChangeProfile(name: "lab", version: 4))
    }

    @Test("Retried until answered, with growing back-off (injected time)")
    func retries() {
        var r = AGWRegistration()
        _ = r.start(now: .zero)
        #expect(r.attemptFailed(now: .seconds(30), reason: "timeout") == [.willRetry(at: .seconds(31), reason: "timeout")])
        #expect(r.timerFired(now: .seconds(30)).isEmpty)
        guard case .sendServiceChange(let p)? = r.timerFired(now: .seconds(31)).first else { Issue.record("no retry"); return }
        #expect(p.reasonCode == 901, "still the first registration")
        #expect(r.attemptFailed(now: .seconds(40), reason: "timeout") == [.willRetry(at: .seconds(42), reason: "timeout")])
        _ = r.timerFired(now: .seconds(42))
        #expect(r.replied(ServiceChangeParameters(version: 2), error: nil, now: .seconds(43)).first == .registered(version: 2, profile: IqPackageTokens().profile))
        #expect(r.negotiatedVersion == 2)
    }

    @Test("An MGC error reply (e.g. 461 profile) also leads to a retry")
    func refused() {
        var r = AGWRegistration()
        _ = r.start(now: .zero)
        let a = r.replied(nil, error: ErrorDescriptor(code: 461, text: "profile"), now: .seconds(1))
        guard case .willRetry(let at, _)? = a.first else { Issue.record("no retry"); return }
        #expect(at == .seconds(2))
        #expect(!r.isRegistered)
    }

    @Test("After a registration, re-registration (association lost) is warm: 902")
    func warm() {
        var r = AGWRegistration()
        _ = r.start(now: .zero)
        _ = r.replied(ServiceChangeParameters(version: 3), error: nil, now: .zero)
        guard case .sendServiceChange(let p)? = r.associationLost(now: .seconds(5)).first else { Issue.record("no re-registration"); return }
        #expect(p.reasonCode == 902)
    }

    @Test("Shutdown sends Graceful (905) only when registered")
    func shutdown() {
        var r = AGWRegistration()
        #expect(r.shutdown().isEmpty)
        var s = AGWRegistration()
        _ = s.start(now: .zero)
        _ = s.replied(nil, error: nil, now: .zero)
        guard case .sendServiceChange(let p)? = s.shutdown().first else { Issue.record("no Graceful"); return }
        #expect(p.method == .graceful)
        #expect(p.reasonCode == 905)
    }
}

@Suite("IMSAGW: Local/Remote SDP ($ resolution, H.248.1 §7.1.8)")
struct AGWSDPTests {
    @Test("Of several alternatives the first supported is chosen and returned alone")
    func alternatives() throws {
        let block = SDPBlock(lines: ["v=0", "c=IN IP4 $", "m=message $ TCP/WS *", "v=0", "c=IN IP4 $", "m=message $ TCP/TLS/MSRP *", "a=fingerprint:$"])
        let l = try AGWSDP.local(block, fingerprintHash: "sha-256")
        #expect(l.transport == .tls)
        #expect(l.wantsFingerprint)
        let r = AGWSDP.resolve(l.block, with: AGWLocalResource(address: "::1", port: 9, fingerprint: "sha-256 AA:BB"))
        #expect(r.lines == ["v=0", "c=IN IP6 ::1", "m=message 9 TCP/TLS/MSRP *", "a=fingerprint:sha-256 AA:BB"])
    }
}
