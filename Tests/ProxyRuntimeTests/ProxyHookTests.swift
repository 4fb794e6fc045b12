import ALGTestSupport
import Foundation
@testable import ProxyRuntime
import SIPCore
import SIPProxy
import SIPTransport
import Testing

/// A P-CSCF-like hook: an actor (like the registration store), suspending in every hook.
actor RecordingHooks: ProxyRuntimeHooks {
    var ueFlow: ProxyFlow?
    var responses: [(method: String, requestSide: SIPSide, status: Int)] = []
    var completed: [Int] = []

    func processRequest(_ request: SIPMessage, context: ProxyRequestContext) async -> ProxyRequestDecision {
        if request.method == "REGISTER" {
            ueFlow = context.inbound
            return .respond(ProxyReject(status: 403, reason: "Forbidden", warning: .init(code: 399, agent: "hooks.test", text: "not here")))
        }
        var edits = ProxyRequestEdits(request)
        if context.inbound.side == .gm {
            edits.splice.removeHeader("P-Preferred-Identity")
            edits.splice.addHeader("P-Asserted-Identity", "<sip:alice@hooks.test>")
        } else if let ueFlow {
            edits.flow = ueFlow   // terminating: over the UE's registration flow
        }
        return .forward(edits)
    }

    func processResponse(_ response: SIPMessage, context: ProxyResponseContext) async -> ProxyResponseDecision {
        responses.append((context.request.method ?? "?", context.requestInbound.side, context.status))
        var splice = SIPSplice(response)
        if context.status == 200 { splice.addHeader("Security-Server", "ipsec-3gpp;q=0.1;alg=hmac-sha-1-96") }
        return .forward(splice)
    }

    func rewriteBody(_ body: ArraySlice<UInt8>, contentType: String, message: SIPMessage, context: ProxyBodyContext) async -> BodyRewriteResult {
        try? await Task.sleep(nanoseconds: 10_000_000)   // "waits on a gateway"
        if String(decoding: body, as: UTF8.self).contains("reject") {
            return .failed(ProxyReject(status: 488, reason: "Not Acceptable Here"))
        }
        let tag: String
        switch context.direction {
        case .request(let from, let to): tag = "req-\(from)-\(to)"
        case .response: tag = "resp-\(context.status ?? 0)"
        }
        return .replaced(body: Array("v=0\r\ns=\(tag)\r\n".utf8), contentType: nil)
    }

    func requestCompleted(_ context: ProxyRequestContext, status: Int) async { completed.append(status) }
}

@Suite("Proxy runtime hooks (P-CSCF / ALG plug-in points)")
struct ProxyHookTests {
    static func request(_ method: String, from s: LoopbackSocket, branch: String, ruri: String = "sip:bob@example.test",
                        extra: String = "", body: String = "") -> [UInt8] {
        Array(("\(method) \(ruri) SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:\(s.localPort);branch=\(branch)\r\n"
            + "Max-Forwards: 70\r\nFrom: <sip:alice@example.test>;tag=a-\(branch)\r\nTo: <sip:bob@example.test>\r\n"
            + "Call-ID: \(branch)@hooks\r\nCSeq: 1 \(method)\r\nContact: <sip:alice@127.0.0.1:\(s.localPort)>\r\n\(extra)"
            + (body.isEmpty ? "" : "Content-Type: application/sdp\r\n") + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)").utf8)
    }

    @Test("Hooks answer (403 + Warning), edit headers (PPI -> PAI), rewrite bodies both ways, reject with 488, edit responses (Security-Server), target a registered flow")
    func hooks() async throws {
        let hooks = RecordingHooks()
        let ue = LoopbackSocket.udp(), uas = LoopbackSocket.udp(), core = LoopbackSocket.udp()
        let server = try await startProxy(gm: [.udp], mw: [.udp], nextHopURI: "sip:127.0.0.1:\(uas.localPort)", hooks: hooks)
        defer { Task { await server.shutdown() } }
        let gm = server.port(.gm, .udp), mw = server.port(.mw, .udp)

        // (a) local answer with Warning.
        ue.sendTo(port: gm, Self.request("REGISTER", from: ue, branch: "z9hG4bKreg", ruri: "sip:example.test"))
        let reg = try #require(await receive(ue) { $0.hasPrefix("SIP/2.0") })
        #expect(reg.hasPrefix("SIP/2.0 403 Forbidden") && reg.contains("Warning: 399 hooks.test \"not here\""), "\(reg)")

        // (b) header edits, (e) body rewrite on the request; (d) response edits and response body rewrite.
        ue.sendTo(port: gm, Self.request("INVITE", from: ue, branch: "z9hG4bKinv", extra: "P-Preferred-Identity: <sip:evil@x>\r\n", body: "v=0\r\ns=ue\r\n"))
        let inv = try #require(await receive(uas) { $0.hasPrefix("INVITE") })
        #expect(inv.contains("P-Asserted-Identity: <sip:alice@hooks.test>") && !inv.contains("P-Preferred-Identity"), "\(inv)")
        #expect(inv.hasSuffix("\r\n\r\nv=0\r\ns=req-access-core\r\n") && inv.contains("Content-Length: \("v=0\r\ns=req-access-core\r\n".utf8.count)"), "\(inv)")
        var ok = try respond(to: Array(inv.utf8), status: 200, reason: "OK", extra: [("Content-Type", "application/sdp")])
        ok = Array(String(decoding: ok, as: UTF8.self).replacingOccurrences(of: "Content-Length: 0\r\n\r\n", with: "Content-Length: 9\r\n\r\nv=0\r\ns=b\r\n").utf8)
        uas.sendTo(port: mw, ok)
        let answer = try #require(await receive(ue) { $0.hasPrefix("SIP/2.0 200") })
        #expect(answer.contains("Security-Server: ipsec-3gpp;q=0.1;alg=hmac-sha-1-96"), "\(answer)")
        #expect(answer.hasSuffix("v=0\r\ns=resp-200\r\n"), "\(answer)")

        // (e) rejection by the body hook.
        ue.sendTo(port: gm, Self.request("INVITE", from: ue, branch: "z9hG4bKrej", body: "v=0\r\ns=reject\r\n"))
        #expect(await receive(ue) { $0.hasPrefix("SIP/2.0 488") } != nil)

        // (c) a request from the core goes to the UE over the flow it registered on, whatever the R-URI.
        core.sendTo(port: mw, Self.request("MESSAGE", from: core, branch: "z9hG4bKmsg", ruri: "sip:ue@nowhere.invalid"))
        let msg = try #require(await receive(ue) { $0.hasPrefix("MESSAGE") })
        #expect(msg.contains("Via: SIP/2.0/UDP 127.0.0.1:\(gm);branch="), "\(msg)")

        let responses = await hooks.responses
        #expect(responses.contains { $0.method == "INVITE" && $0.requestSide == .gm && $0.status == 200 })
        let done = await eventually { let c = await hooks.completed; return c.contains(403) && c.contains(200) && c.contains(488) }
        let completed = await hooks.completed
        #expect(done, "\(completed)")
    }
}

/// A hook that takes its time (a slow registration store or gateway).
struct SlowHooks: ProxyRuntimeHooks {
    func processRequest(_ request: SIPMessage, context: ProxyRequestContext) async -> ProxyRequestDecision {
        try? await Task.sleep(nanoseconds: 300_000_000)
        return .forward(ProxyRequestEdits(request))
    }
}

@Suite("Proxy runtime: CANCEL while a hook is pending")
struct ProxyHookCancelTests {
    @Test("CANCEL before the hook decided: 200 to the CANCEL, 487 to the INVITE, nothing forwarded (RFC 3261 §16.10, §9.2)")
    func cancelDuringHook() async throws {
        let ue = LoopbackSocket.udp(), uas = LoopbackSocket.udp()
        let server = try await startProxy(gm: [.udp], mw: [.udp], nextHopURI: "sip:127.0.0.1:\(uas.localPort)", hooks: SlowHooks())
        defer { Task { await server.shutdown() } }
        let gm = server.port(.gm, .udp)
        ue.sendTo(port: gm, ProxyHookTests.request("INVITE", from: ue, branch: "z9hG4bKslow"))
        #expect(await receive(ue) { $0.hasPrefix("SIP/2.0 100") } != nil)
        let cancel = String(decoding: ProxyHookTests.request("CANCEL", from: ue, branch: "z9hG4bKslow"), as: UTF8.self)
        ue.sendTo(port: gm, Array(cancel.utf8))
        let replies = [await receive(ue) { $0.hasPrefix("SIP/2.0 2") || $0.hasPrefix("SIP/2.0 4") },
                       await receive(ue) { $0.hasPrefix("SIP/2.0 2") || $0.hasPrefix("SIP/2.0 4") }].compactMap { $0 }
        #expect(replies.contains { $0.hasPrefix("SIP/2.0 200") && $0.contains("CSeq: 1 CANCEL") }, "\(replies)")
        #expect(replies.contains { $0.hasPrefix("SIP/2.0 487") && $0.contains("CSeq: 1 INVITE") }, "\(replies)")
        #expect(await uas.receive(timeout: 0.6) == nil, "the INVITE must not be forwarded after the CANCEL")
    }
}
