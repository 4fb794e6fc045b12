import ALGTestSupport
import Foundation
import NIOCore
import SIPCore
import Testing
@testable import SIPTransport

/// Every SIPCore fixture (RFC 4475 torture messages, IMS messages, invalid input) sent as one UDP
/// datagram: parsed ones reach `inbound`; malformed requests whose head names Via, From, To, Call-ID
/// and CSeq get the status their `.expected.json` gives (RFC 3261 §21.4.1, §21.5.6, §21.5.14); all
/// other malformed input is dropped and counted (§18.3, §16.7).
@Suite("SIPTransport over the SIPCore fixtures (UDP)")
struct SIPTransportFixtureTests {
    static let root = TestRepository.root

    static let fixtures: [String] = {
        var out: [String] = []
        for folder in ["torture", "ims", "invalid"] {
            let dir = root.appendingPathComponent("Fixtures/sip/\(folder)")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            out += names.filter { $0.hasSuffix(".sip") }.sorted().map { "\(folder)/\($0.dropLast(4))" }
        }
        return out
    }()

    enum Outcome: Equatable { case delivered, answered(Int), dropped }

    static func expectedOutcome(_ name: String, bytes: [UInt8]) throws -> Outcome {
        let url = root.appendingPathComponent("Fixtures/sip/\(name).expected.json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
        guard let error = json["error"] as? [String: Any] else { return .delivered }
        guard let status = error["answer"] as? Int else { return .dropped }
        // A response needs the head fields the client matches on (RFC 3261 §8.2.6.2).
        guard let head = try? SIPParser.scan(bytes, lenientVersion: true), head.isRequest,
              [SIPHeaderName.via, .from, .to, .callID, .cseq].allSatisfy({ n in head.headers.contains { $0.name == n } })
        else { return .dropped }
        return .answered(status)
    }

    @Test("fixture datagram → delivered, answered with its status, or dropped and counted", arguments: fixtures)
    func fixtureOverUDP(name: String) async throws {
        #expect(!Self.fixtures.isEmpty)
        let bytes = try [UInt8](Data(contentsOf: Self.root.appendingPathComponent("Fixtures/sip/\(name).sip")))
        let expected = try Self.expectedOutcome(name, bytes: bytes)
        let service = try await makeService([(.gm, .udp)])
        defer { Task { try? await service.shutdown() } }
        let inbound = InboundCollector(service)
        let peer = TestSocket.udp()
        peer.sendTo(port: try #require(service.listener(side: .gm, transport: .udp)).port, bytes)
        switch expected {
        case .delivered:
            let m = try await inbound.wait(for: 1)[0]
            #expect(m.side == .gm && m.transport == .udp)
            #expect(service.counters.malformedAnswered + service.counters.malformedDropped == 0)
        case .answered(let status):
            let reply = try #require(await peer.receive(timeout: 5), "no answer for \(name)")
            #expect(reply.text.hasPrefix("SIP/2.0 \(status) "))
            // The answer copies the request's Via/From/To/Call-ID/CSeq bytes (RFC 3261 §8.2.6.2), which
            // may themselves be malformed here, so only its frame is checked.
            #expect(reply.text.hasSuffix("Content-Length: 0\r\n\r\n"))
            if let callID = try? SIPParser.scan(bytes, lenientVersion: true).fields(.callID).first {
                #expect(reply.text.contains(String(decoding: bytes[callID.valueRange], as: UTF8.self)))
            }
            #expect(service.counters.malformedAnswered == 1)
        case .dropped:
            #expect(await eventually { service.counters.malformedDropped == 1 })
            #expect(await peer.receive(timeout: 0.2) == nil)
            #expect(inbound.messages.isEmpty)
        }
    }
}
