// A datagram write that fails after `sendImmediately` returned is reported to the caller (RFC 3261 §17.1.4:
// the transport tells the transaction user about a transport failure). The proxy's path gives one
// `SIPSendFailureHandler` for every send and a tag per send (no closure per datagram); the failure must
// reach it with the tag of the failed send, and successful sends must report nothing.
import ALGTestSupport
import Foundation
import NIOCore
import SIPCore
import Testing
@testable import SIPTransport

@Suite("SIPTransport datagram send failures (RFC 3261 §17.1.4)", .serialized)
struct SIPSendFailureTests {
    final class Recorder: SIPSendFailureHandler, @unchecked Sendable {
        private let lock = NSLock()
        private var reports: [UInt64] = []
        func sendFailed(tag: UInt64, error: any Error) { lock.lock(); reports.append(tag); lock.unlock() }
        var tags: [UInt64] { lock.lock(); defer { lock.unlock() }; return reports }
    }

    static func service() async throws -> SIPTransportService {
        let config = SIPTransportConfiguration(
            listeners: [SIPListenerConfiguration(side: .gm, transport: .udp, host: "127.0.0.1", port: 0)])
        let service = SIPTransportService(configuration: config)
        try await service.start()
        return service
    }

    @Test("RFC 3261 §17.1.4: a datagram write that fails later reaches the failure handler with its send's tag; one that succeeds reports nothing")
    func failedDatagramIsReportedWithItsTag() async throws {
        let service = try await Self.service()
        defer { Task { try? await service.shutdown() } }
        let recorder = Recorder()
        let peer = TestSocket.udp()
        let ok = Array(request(callID: "ok@test").utf8)
        let sent = try service.sendImmediately(ok, to: .address(try SocketAddress(ipAddress: "127.0.0.1", port: peer.localPort),
                                                                 transport: .udp, side: .gm),
                                               failureTag: 7, reportingTo: recorder)
        #expect(sent?.transport == .udp)
        #expect(await peer.receive(timeout: 5) != nil)
        // An IPv6 destination through the IPv4-only listener (the fallback of `udpListener`): the kernel
        // refuses the sendto, after `sendImmediately` has returned.
        _ = try service.sendImmediately(ok, to: .address(try SocketAddress(ipAddress: "::1", port: 9), transport: .udp, side: .gm),
                                        failureTag: 42, reportingTo: recorder)
        let deadline = Date().addingTimeInterval(5)
        while recorder.tags.isEmpty, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(recorder.tags == [42])
    }
}
