// `SIPTransportConfiguration.validatesWithLibOSIP2`: libosip2 is the syntax check of record by default;
// with it off (`pcscf-alg proxy --no-libosip2-check`) SIPCore's scanner alone judges received messages
// and malformed requests are still answered (RFC 3261 §21.4.1 400, §8.1.1.5 CSeq).
import ALGTestSupport
import Foundation
import SIPCore
@testable import SIPTransport
import Testing

@Suite struct SIPTransportValidationTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: TestRepository.root.appendingPathComponent("Fixtures/sip/\(name).sip")))
    }

    static func service(libosip2: Bool) async throws -> SIPTransportService {
        var config = SIPTransportConfiguration(
            listeners: [SIPListenerConfiguration(side: .gm, transport: .udp, host: "127.0.0.1", port: 0)],
            toTagGenerator: { "bad1" })
        config.validatesWithLibOSIP2 = libosip2
        let s = SIPTransportService(configuration: config)
        try await s.start()
        return s
    }

    @Test("RFC 4475 §3.1.2.6 ltgtruri: 400 with the libosip2 check (default), delivered by the scanner alone without it")
    func libosip2OnlyRejection() async throws {
        let bytes = try Self.fixture("torture/ltgtruri")
        #expect(SIPTransportConfiguration(listeners: []).validatesWithLibOSIP2)
        for check in [true, false] {
            let service = try await Self.service(libosip2: check)
            let inbound = InboundCollector(service)
            let peer = TestSocket.udp()
            peer.sendTo(port: try #require(service.listener(side: .gm, transport: .udp)).port, bytes)
            if check {
                let reply = try #require(await peer.receive(timeout: 5), "no 400 for ltgtruri")
                #expect(reply.text.hasPrefix("SIP/2.0 400 "))
                #expect(service.counters.malformedAnswered == 1)
                #expect(inbound.messages.isEmpty)
            } else {
                let m = try await inbound.wait(for: 1)[0]
                #expect(m.message.method == "INVITE")
                #expect(service.counters.malformedAnswered + service.counters.malformedDropped == 0)
            }
            try await service.shutdown()
        }
    }

    @Test("RFC 3261 §8.1.1.5 / §21.4.1: without the libosip2 check a CSeq number over 2**31 still gets 400; a response with no Via is still dropped (§18.1.2)")
    func malformedStillAnswered() async throws {
        let service = try await Self.service(libosip2: false)
        let inbound = InboundCollector(service)
        let peer = TestSocket.udp()
        let port = try #require(service.listener(side: .gm, transport: .udp)).port
        peer.sendTo(port: port, try Self.fixture("invalid/cseq-overflow"))
        let reply = try #require(await peer.receive(timeout: 5), "no 400 for a bad CSeq: \(service.counters), \(inbound.messages.count) delivered")
        #expect(reply.text.hasPrefix("SIP/2.0 400 "))
        #expect(service.counters.malformedAnswered == 1)
        peer.sendTo(port: port, try Self.fixture("invalid/response-missing-via"))
        let deadline = Date().addingTimeInterval(5)
        while service.counters.malformedDropped == 0, Date() < deadline { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(service.counters.malformedDropped == 1)
        #expect(inbound.messages.isEmpty)
        try await service.shutdown()
    }
}
