// Test support for the ALG session state machine: a fake MGC that records every operation and answers
// as scripted (house style: injected clock and fake MGC), and SDP fixtures from Fixtures/sdp/rewrite.
import Foundation
import SDPCore
import SDPRewrite
import Testing
@testable import IMSALG

/// Records calls; replies with the next scripted result, or a generated success.
final class FakeMGC: MGCClient, @unchecked Sendable {
    enum Scripted { case reply(MGCResult); case hold }
    private let lock = NSLock()
    private(set) var calls: [(id: MGCOperationID, op: MGCOperation)] = []
    var script: [Scripted] = []
    var contextID = "ctx1"
    static let fingerprint = try! Fingerprint(parsing:
        "sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:EF")

    func perform(_ operation: MGCOperation, id: MGCOperationID) async -> MGCResult {
        reply(operation, id: id) ?? .failure(.timeout)
    }

    /// Records the call; nil = held (no reply yet). Releases always succeed (fire and forget).
    func reply(_ op: MGCOperation, id: MGCOperationID) -> MGCResult? {
        lock.lock(); defer { lock.unlock() }
        calls.append((id, op))
        if case .release = op { return nil }
        if !script.isEmpty {
            switch script.removeFirst() {
            case .reply(let r): return r
            case .hold: return nil
            }
        }
        return .success(success(for: op))
    }

    /// Success for reserve/configure: terminations `<ctx>/<i>/a|c`, AGW addresses 192.0.2.1 (access)
    /// and 198.51.100.1 (core), port 40000+2i / 40001+2i, and the AGW fingerprint.
    func success(for op: MGCOperation) -> MGCReply {
        var reply = MGCReply(contextID: contextID)
        guard case .reserve(_, let request, _) = op else { return reply }
        for s in request.streams where s.action == .reserve || s.action == .replace {
            reply.terminations.append(MGCStreamTerminations(index: s.index, access: "\(contextID)/\(s.index)/a",
                                                            core: "\(contextID)/\(s.index)/c"))
            reply.answer.streams.append(StreamAnswer(index: s.index,
                                                     access: LocalEndpoint(address: "192.0.2.1", port: UInt16(40000 + 2 * s.index)),
                                                     core: LocalEndpoint(address: "198.51.100.1", port: UInt16(40001 + 2 * s.index)),
                                                     fingerprint: s.access?.requestLocalFingerprint == true ? Self.fingerprint : nil))
        }
        return reply
    }

    var releases: [MGCReleaseTarget] {
        calls.compactMap { if case .release(let t) = $0.op { return t } else { return nil } }
    }
    var nonReleases: [MGCOperation] {
        calls.compactMap { if case .release = $0.op { return nil } else { return $0.op } }
    }
}

/// Drives a machine: every `.mgc` action goes to the fake; replies are fed back at once.
/// Returns the non-MGC actions in order.
struct SessionHarness {
    var machine: ALGSessionStateMachine
    let mgc = FakeMGC()

    init(flags: MediaSecurityFlags = .all, configuration: ALGSessionConfiguration = .init(warningAgent: "pcscf.test"),
         now: Duration = .seconds(1000)) {
        machine = ALGSessionStateMachine(dialog: SIPDialogID(callID: "call-1@ue", localTag: "ftag"), flags: flags,
                                         configuration: configuration, now: now)
    }

    @discardableResult
    mutating func send(_ event: ALGSessionEvent) -> [ALGSessionAction] {
        var out: [ALGSessionAction] = []
        var queue = machine.handle(event)
        while !queue.isEmpty {
            let a = queue.removeFirst()
            if case .mgc(let id, let op) = a {
                if let r = mgc.reply(op, id: id) { queue += machine.handle(.gatewayReplied(id, r)) }
            } else {
                out.append(a)
            }
        }
        return out
    }

    func forwarded(_ actions: [ALGSessionAction]) -> [(String, Side)] {
        actions.compactMap { if case .forwardSDP(let s, let side) = $0 { return (s, side) } else { return nil } }
    }
    func rejection(_ actions: [ALGSessionAction]) -> SIPRejection? {
        actions.lazy.compactMap { if case .rejectSIP(let r) = $0 { return r } else { return nil } }.first
    }
    func byeWarning(_ actions: [ALGSessionAction]) -> String? {
        actions.lazy.compactMap { if case .sendBYE(let w) = $0 { return w } else { return nil } }.first
    }
}

enum SDPFx {
    static func rewrite(_ prefix: String) throws -> String {
        let dir = Fx.root.appendingPathComponent("Fixtures/sdp/rewrite")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(prefix + "-") }
        let name = try #require(names.first, "fixture \(prefix)")
        return try String(contentsOf: dir.appendingPathComponent(name).appendingPathComponent("input.sdp"), encoding: .utf8)
    }

    /// Answer from the core to fixture 18's audio+MSRP+BFCP offer.
    static let mixedAnswer = """
    v=0\r
    o=bob 1 1 IN IP4 203.0.113.5\r
    s=-\r
    c=IN IP4 203.0.113.5\r
    t=0 0\r
    m=audio 6000 RTP/AVP 97\r
    a=rtpmap:97 AMR-WB/16000\r
    m=message 7654 TCP/MSRP *\r
    a=accept-types:message/cpim\r
    a=path:msrp://203.0.113.5:7654/kjh34;tcp\r
    a=setup:active\r
    a=connection:new\r
    a=msrp-cema\r
    m=application 7700 TCP/BFCP *\r
    a=setup:passive\r
    a=connection:new\r
    a=floorctrl:s-only\r

    """
}
