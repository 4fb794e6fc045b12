import ALGTestSupport
import Foundation
@testable import ProxyRuntime
import SIPCore
import SIPTransaction
import SIPTransport
import Testing

/// Driver behaviour that depends on timers and failures, with an injected manual clock (no waiting).
@Suite("Proxy runtime timers and failures (RFC 3261 §16.7, §16.8, §17)")
struct ProxyTimerTests {
    static func invite(_ uac: LoopbackSocket, gm: Int, branch: String, ruri: String = "sip:bob@example.test", maxForwards: Int = 70) -> [UInt8] {
        Array(("INVITE \(ruri) SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:\(uac.localPort);branch=\(branch)\r\n"
            + "Max-Forwards: \(maxForwards)\r\nFrom: <sip:alice@example.test>;tag=a-\(branch)\r\nTo: <sip:bob@example.test>\r\n"
            + "Call-ID: \(branch)@timer\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:\(uac.localPort)>\r\nContent-Length: 0\r\n\r\n").utf8)
    }

    @Test("Non-INVITE over UDP: once the final response went upstream the driver drops its entry; the server transaction (RFC 3261 §17.2.2 Completed, timer J) still answers a retransmission without forwarding it")
    func nonInviteEntryReleasedAtFinal() async throws {
        let clock = ManualProxyClock()
        let uas = LoopbackSocket.udp(), uac = LoopbackSocket.udp()
        let server = try await startProxy(gm: [.udp], mw: [.udp], nextHopURI: "sip:127.0.0.1:\(uas.localPort)", clock: clock)
        defer { Task { await server.shutdown() } }
        let gm = server.port(.gm, .udp), mw = server.port(.mw, .udp)
        let options = String(decoding: Self.invite(uac, gm: gm, branch: "z9hG4bKrel"), as: UTF8.self)
            .replacingOccurrences(of: "INVITE", with: "OPTIONS")
        uac.sendTo(port: gm, Array(options.utf8))
        let forwarded = try #require(await receive(uas) { $0.hasPrefix("OPTIONS") })
        #expect(await server.serverEntryCount == 1)
        uas.sendTo(port: mw, try respond(to: Array(forwarded.utf8), status: 200, reason: "OK"))
        #expect(await receive(uac) { $0.hasPrefix("SIP/2.0 200") } != nil)
        #expect(await server.serverEntryCount == 0, "no driver state once the final response went upstream")
        #expect(await server.transactionCount >= 1, "the server transaction absorbs retransmissions for timer J")
        uac.sendTo(port: gm, Array(options.utf8))
        #expect(await receive(uac) { $0.hasPrefix("SIP/2.0 200") } != nil, "§17.2.2: the final response is sent again")
        #expect(await receive(uas, timeout: 0.3) { $0.hasPrefix("OPTIONS") } == nil, "the retransmission is not forwarded")
        clock.advance(by: .seconds(33))
        await server.fireTimers()
        #expect(await server.transactionCount == 0)
    }

    @Test("No answer downstream: the client transaction times out (Timer B) and the UAC gets 408 (RFC 3261 §16.7 step 1, §17.1.1.2)")
    func timerBGives408() async throws {
        let clock = ManualProxyClock()
        let uas = LoopbackSocket.udp(), uac = LoopbackSocket.udp()
        let server = try await startProxy(gm: [.udp], mw: [.udp], nextHopURI: "sip:127.0.0.1:\(uas.localPort)", clock: clock)
        defer { Task { await server.shutdown() } }
        let gm = server.port(.gm, .udp)
        uac.sendTo(port: gm, Self.invite(uac, gm: gm, branch: "z9hG4bKtb"))
        #expect(await receive(uac) { $0.hasPrefix("SIP/2.0 100 Trying") } != nil)   // §16.2
        #expect(await receive(uas) { $0.hasPrefix("INVITE") } != nil)
        clock.advance(by: .seconds(1))
        await server.fireTimers()
        #expect(await receive(uas) { $0.hasPrefix("INVITE") } != nil, "Timer A retransmission over UDP (§17.1.1.2)")
        clock.advance(by: .seconds(32))
        await server.fireTimers()
        let final = await receive(uac) { $0.hasPrefix("SIP/2.0 4") }
        #expect(final?.hasPrefix("SIP/2.0 408") == true, "\(final ?? "nothing")")
        #expect(final?.contains("To: <sip:bob@example.test>;tag=") == true)
    }

    @Test("Timer C after a 180: the proxy CANCELs the branch, the 487 goes upstream and the proxy ACKs it (RFC 3261 §16.8, §9.1, §17.1.1.3)")
    func timerCCancels() async throws {
        let clock = ManualProxyClock()
        let uas = LoopbackSocket.udp(), uac = LoopbackSocket.udp()
        let server = try await startProxy(gm: [.udp], mw: [.udp], nextHopURI: "sip:127.0.0.1:\(uas.localPort)", clock: clock)
        defer { Task { await server.shutdown() } }
        let gm = server.port(.gm, .udp), mw = server.port(.mw, .udp)
        uac.sendTo(port: gm, Self.invite(uac, gm: gm, branch: "z9hG4bKtc"))
        let inv = try #require(await receive(uas) { $0.hasPrefix("INVITE") })
        uas.sendTo(port: mw, try respond(to: Array(inv.utf8), status: 180, reason: "Ringing"))
        #expect(await receive(uac) { $0.hasPrefix("SIP/2.0 180") } != nil)
        clock.advance(by: TransactionTimers.defaultTimerC + .seconds(1))
        await server.fireTimers()
        let cancel = try #require(await receive(uas) { $0.hasPrefix("CANCEL") })
        uas.sendTo(port: mw, try respond(to: Array(cancel.utf8), status: 200, reason: "OK"))
        uas.sendTo(port: mw, try respond(to: Array(inv.utf8), status: 487, reason: "Request Terminated"))
        #expect(await receive(uac) { $0.hasPrefix("SIP/2.0 487") } != nil)
        #expect(await receive(uas) { $0.hasPrefix("ACK") } != nil)
    }

    @Test("Transport failure towards the next hop counts as 503, sent upstream as 500 (RFC 3261 §16.7 steps 1 and 6, §17.1.4)")
    func transportErrorGives500() async throws {
        let closed = LoopbackSocket.tcpListener().localPort   // released at once: nothing listens there
        let uac = LoopbackSocket.udp()
        let server = try await startProxy(gm: [.udp], mw: [.udp, .tcp], nextHopURI: "sip:127.0.0.1:\(closed);transport=tcp", clock: ManualProxyClock())
        defer { Task { await server.shutdown() } }
        let gm = server.port(.gm, .udp)
        uac.sendTo(port: gm, Self.invite(uac, gm: gm, branch: "z9hG4bKte"))
        let final = await receive(uac) { $0.hasPrefix("SIP/2.0 5") }
        #expect(final?.hasPrefix("SIP/2.0 500") == true, "\(final ?? "nothing")")
    }

    @Test("A UDP datagram write that fails after it was queued counts as 503 on the branch, sent upstream as 500 (RFC 3261 §16.7 steps 1 and 6, §17.1.4)")
    func datagramWriteFailureGives500() async throws {
        // Next hop over IPv6 while Mw has only an IPv4 UDP listener: the transport falls back to that
        // listener and the kernel refuses the sendto after `sendImmediately` returned; the failure comes
        // back through the proxy's `SIPSendFailureHandler` with the client transaction's tag.
        let uac = LoopbackSocket.udp()
        let server = try await startProxy(gm: [.udp], mw: [.udp], nextHopURI: "sip:[::1]:9;transport=udp", clock: ManualProxyClock())
        defer { Task { await server.shutdown() } }
        let gm = server.port(.gm, .udp)
        uac.sendTo(port: gm, Self.invite(uac, gm: gm, branch: "z9hG4bKdte"))
        let final = await receive(uac) { $0.hasPrefix("SIP/2.0 5") }
        #expect(final?.hasPrefix("SIP/2.0 500") == true, "\(final ?? "nothing")")
        #expect(await server.counters.sendFailures >= 1)
    }

    @Test("Transaction table full: new requests get 503 (RFC 3261 §21.5.4; bounded state)")
    func transactionLimit() async throws {
        let uas = LoopbackSocket.udp(), uac = LoopbackSocket.udp()
        let server = try await startProxy(gm: [.udp], mw: [.udp], nextHopURI: "sip:127.0.0.1:\(uas.localPort)",
                                          maxTransactions: 3, clock: ManualProxyClock())
        defer { Task { await server.shutdown() } }
        let gm = server.port(.gm, .udp)
        uac.sendTo(port: gm, Self.invite(uac, gm: gm, branch: "z9hG4bKl1"))
        #expect(await receive(uas) { $0.hasPrefix("INVITE") } != nil)
        uac.sendTo(port: gm, Self.invite(uac, gm: gm, branch: "z9hG4bKl2"))   // server txn fits, client does not
        uac.sendTo(port: gm, Self.invite(uac, gm: gm, branch: "z9hG4bKl3"))   // no room for the server txn
        var got: [String] = []
        while let r = await receive(uac, timeout: 2, where: { $0.hasPrefix("SIP/2.0 503") }) { got.append(r); if got.count == 2 { break } }
        #expect(got.count == 2)
        #expect(got.contains { $0.contains("z9hG4bKl2") } && got.contains { $0.contains("z9hG4bKl3") })
        #expect(await server.transactionCount <= 3)
    }

    @Test("Requests the proxy cannot forward get an error response: Max-Forwards 0 -> 483, tel: Request-URI from Mw -> 416, unmatched CANCEL -> 481, next hop = self -> 482 (RFC 3261 §16.3, §16.6, §16.10)")
    func unforwardable() async throws {
        let uac = LoopbackSocket.udp(), core = LoopbackSocket.udp()
        let server = try await startProxy(gm: [.udp], mw: [.udp], nextHopURI: "sip:127.0.0.1:9", clock: ManualProxyClock())
        defer { Task { await server.shutdown() } }
        let gm = server.port(.gm, .udp), mw = server.port(.mw, .udp)
        uac.sendTo(port: gm, Self.invite(uac, gm: gm, branch: "z9hG4bKmf", maxForwards: 0))
        #expect(await receive(uac) { $0.hasPrefix("SIP/2.0 483") } != nil)
        core.sendTo(port: mw, Self.invite(core, gm: mw, branch: "z9hG4bKtel", ruri: "tel:+15551234"))
        #expect(await receive(core) { $0.hasPrefix("SIP/2.0 416") } != nil)
        // §16.10: a CANCEL that matches no INVITE server transaction gets 481.
        let stray = Array(("CANCEL sip:bob@example.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:\(uac.localPort);branch=z9hG4bKnone\r\n"
            + "Max-Forwards: 70\r\nFrom: <sip:a@example.test>;tag=x\r\nTo: <sip:bob@example.test>\r\nCall-ID: none@t\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n").utf8)
        uac.sendTo(port: gm, stray)
        #expect(await receive(uac) { $0.hasPrefix("SIP/2.0 481") } != nil)
        // The proxy answered and keeps working: a request to itself with no next hop beyond it is a loop.
        core.sendTo(port: mw, Self.invite(core, gm: mw, branch: "z9hG4bKself", ruri: "sip:x@127.0.0.1:\(gm)"))
        #expect(await receive(core) { $0.hasPrefix("SIP/2.0 482") } != nil)
    }
}
