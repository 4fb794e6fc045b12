// Writes made on the event loop while it handles a read burst (`deliverInbound` sink + `sendImmediately`,
// the proxy's path) are queued and flushed once at the end of the loop tick (`beginReadBurst`). Every
// answer must still leave, in order, over UDP (RFC 3261 §18.2.2: the response goes back to the source)
// and over the TCP connection the request came in on (§18.2.2, §18.3).
import ALGTestSupport
import Foundation
import NIOCore
import SIPCore
import Testing
@testable import SIPTransport

@Suite("SIPTransport write batching per read burst", .serialized)
struct SIPWriteBatchingTests {
    /// A transport whose sink answers every request with 200 from the event loop, at once.
    static func echoService(_ transport: SIPTransportKind) async throws -> SIPTransportService {
        let config = SIPTransportConfiguration(
            listeners: [SIPListenerConfiguration(side: .gm, transport: transport, host: "127.0.0.1", port: 0)],
            toTagGenerator: { "bad1" })
        let service = SIPTransportService(configuration: config)
        service.deliverInbound { [weak service] inbound in
            guard let service, inbound.message.isRequest else { return }
            let ok = SIPResponseBuilder.response(to: inbound.message, status: 200, reason: "OK", toTag: "b1")
            _ = try? service.sendImmediately(ok, to: .flow(inbound.flow), onFailure: { _ in })
        }
        try await service.start()
        return service
    }

    static func callID(_ bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let line = text.split(separator: "\r\n").first(where: { $0.hasPrefix("Call-ID: ") }) else { return nil }
        return String(line.dropFirst("Call-ID: ".count))
    }

    @Test("RFC 3261 §18.2.2 over UDP: 40 requests sent back to back get their 40 answers, in order, from the sink's sendImmediately")
    func udpBurstAllAnswered() async throws {
        let service = try await Self.echoService(.udp)
        defer { Task { try? await service.shutdown() } }
        let port = try #require(service.listener(side: .gm, transport: .udp)).port
        let peer = TestSocket.udp()
        let count = 40
        for i in 0..<count {
            peer.sendTo(port: port, Array(request(callID: "burst\(i)@test", cseq: i + 1).utf8))
        }
        var ids: [String] = []
        while ids.count < count, let reply = await peer.receive(timeout: 5) {
            #expect(String(decoding: reply.prefix(15), as: UTF8.self) == "SIP/2.0 200 OK\r")
            ids.append(Self.callID(reply) ?? "?")
        }
        #expect(ids == (0..<count).map { "burst\($0)@test" })
        #expect(service.counters.messagesSent == count)
    }

    @Test("RFC 3261 §18.2.2 / §18.3 over TCP: requests written in one segment are all answered on the same connection, in order")
    func tcpBurstAllAnswered() async throws {
        let service = try await Self.echoService(.tcp)
        defer { Task { try? await service.shutdown() } }
        let port = try #require(service.listener(side: .gm, transport: .tcp)).port
        let peer = try TestSocket.tcpConnect(port: port)
        let count = 10
        var segment: [UInt8] = []
        for i in 0..<count {
            segment += Array(request(via: "SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-b\(i)", callID: "tcp\(i)@test", cseq: i + 1).utf8)
        }
        peer.write(segment)
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, String(decoding: received, as: UTF8.self).components(separatedBy: "SIP/2.0 200 OK").count - 1 < count {
            guard let more = await peer.receive(timeout: 1) else { continue }
            received += more
        }
        let text = String(decoding: received, as: UTF8.self)
        let ids = text.components(separatedBy: "\r\n").filter { $0.hasPrefix("Call-ID: ") }.map { String($0.dropFirst(9)) }
        #expect(ids == (0..<count).map { "tcp\($0)@test" })
    }
}
