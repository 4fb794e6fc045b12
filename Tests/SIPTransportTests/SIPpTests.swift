import ALGTestSupport
import Foundation
import NIOCore
import SIPCore
import Testing
@testable import SIPTransport

/// SIPp's built-in UAC (INVITE, ACK, BYE) against a responder built on the transport.
@Suite("SIPp against the transport", .serialized)
struct SIPpTests {
    static func sippPath() -> String? {
        for p in ["/usr/bin/sipp", "/usr/local/bin/sipp"] where FileManager.default.isExecutableFile(atPath: p) { return p }
        return nil
    }

    @Test("SIPp uac calls (INVITE/200/ACK/BYE/200) over UDP and TCP get their answers; TCP calls share one connection (RFC 3261 §18)",
          arguments: [("u1", SIPTransportKind.udp, 1), ("t1", SIPTransportKind.tcp, 1),
                     ("u1", SIPTransportKind.udp, 50), ("t1", SIPTransportKind.tcp, 50)])
    func sippCall(mode: String, kind: SIPTransportKind, calls: Int) async throws {
        guard let sipp = Self.sippPath() else {
            if ProcessInfo.processInfo.environment["CI"] == "true" { Issue.record("sipp is missing and CI=true") }
            else { print("skipping SIPp test: sipp not installed") }
            return
        }
        let service = try await makeService([(.gm, kind)])
        defer { Task { try? await service.shutdown() } }
        _ = TestResponder(service)
        let port = try #require(service.listener(side: .gm, transport: kind)).port
        let (status, stderr) = try await runSIPpUAC(sipp, calls: calls, mode: mode, port: port)
        #expect(status == 0, "sipp exit \(status): \(stderr)")
        #expect(service.counters.messagesReceived >= 3 * calls)   // INVITE, ACK, BYE per call
        #expect(service.counters.malformedAnswered + service.counters.malformedDropped + service.counters.framingErrors == 0)
        if kind == .tcp { #expect(service.counters.connectionsAccepted == 1) }   // `-t t1`: one socket for all calls
    }
}
