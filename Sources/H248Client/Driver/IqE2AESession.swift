// One e2ae MSRP stream through the Iq procedures (TS 23.334 §8; specs.md §10 examples): the core
// termination stays TCP (MSRP), the access termination is TLS towards the UE. Used by
// `pcscf-alg iq-probe` and the live tests against the OTP MG peer.

import H248Codec

/// The requests of one e2ae MSRP stream and a runner printing each transaction's result.
public struct IqE2AESession: Sendable {
    public var tokens = IqPackageTokens()
    /// The UE's address and port in the access Remote SDP.
    public var ueAddress = "192.0.2.10"
    public var uePort: UInt16 = 50_000
    public var ueFingerprint = "sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08"
    /// Heartbeat period asked for in the hanging-termination event (`hangterm/thb{timerx}`).
    public var heartbeatSeconds: UInt32 = 60
    /// Extra SDP line added to the access Local SDP (e.g. `a=x-mg-fail:430` for the peer's error hook).
    public var extraAccessLine: String?

    public init() {}

    /// Reserve AGW Connection Point (core leg, TCP proxy): `$` termination, Local with `$`,
    /// `a=setup:actpass`, realm, heartbeat event.
    public func coreRequest() -> IqTerminationRequest {
        IqTerminationRequest(
            mode: .inactive, localControlProperties: [tokens.realm("core")],
            local: SDPBlock(lines: ["v=0", "c=IN IP4 $", "m=message $ TCP/MSRP *", "a=setup:actpass"]),
            events: EventsDescriptor(requestID: 1, events: [tokens.heartbeatEvent(timerSeconds: heartbeatSeconds)]))
    }

    /// Reserve and Configure (access leg, e2ae): Local with `$` and the fingerprint request, Remote
    /// with the UE's address and fingerprint, latching, heartbeat event.
    public func accessRequest() -> IqTerminationRequest {
        var local = ["v=0", "c=IN IP4 $", "m=message $ TCP/TLS/MSRP *", "a=setup:actpass", "a=fingerprint:$"]
        if let extraAccessLine { local.append(extraAccessLine) }
        return IqTerminationRequest(
            mode: .inactive, localControlProperties: [tokens.realm("access"), tokens.latch(true)],
            local: SDPBlock(lines: local),
            remote: SDPBlock(lines: ["v=0", "c=IN IP4 \(ueAddress)", "m=message \(uePort) TCP/TLS/MSRP *",
                                     "a=setup:active", "a=fingerprint:\(ueFingerprint)"]),
            events: EventsDescriptor(requestID: 2, events: [tokens.heartbeatEvent(timerSeconds: heartbeatSeconds)]))
    }

    /// Configure: the UE's final Remote, Mode SendReceive, and the establish-TLS signal.
    public func configureRemote() -> SDPBlock {
        SDPBlock(lines: ["v=0", "c=IN IP4 \(ueAddress)", "m=message \(uePort) TCP/TLS/MSRP *",
                         "a=setup:active", "a=fingerprint:\(ueFingerprint)"])
    }

    public func establishTLS() -> SignalsDescriptor {
        SignalsDescriptor([.signal(Signal(tokens.tlsEstablishSignal))])
    }

    /// Result of `run`.
    public struct Outcome: Sendable {
        public var contextID: UInt32
        public var core: IqTermination
        public var access: IqTermination
        public var released: [TerminationID]
        public var contextsLeft: Int
    }

    /// Reserve core, reserve access in the same context, configure access, release the context,
    /// audit every context. `report` gets one line per step.
    public func run(on client: IqClient, report: @Sendable (String) -> Void = { _ in }) async throws -> Outcome {
        report("reserve core termination (Add $ in Context $) ...")
        let core = try await client.reserve([coreRequest()])[0]
        report("  ok: context \(core.contextID), termination \(core.terminationID), local \(core.local?.lines.joined(separator: " | ") ?? "-")")
        report("reserve access termination (Add $ in Context \(core.contextID)) ...")
        let access = try await client.reserve([accessRequest()], in: .id(core.contextID))[0]
        report("  ok: termination \(access.terminationID), local \(access.local?.lines.joined(separator: " | ") ?? "-")")
        report("configure access termination (Modify Remote, Mode SendReceive, \(tokens.tlsEstablishSignal)) ...")
        try await client.configure(context: core.contextID, termination: access.terminationID,
                                   remote: configureRemote(), mode: .sendReceive, signals: establishTLS())
        report("  ok")
        report("release context \(core.contextID) (Subtract *) ...")
        let released = try await client.release(context: core.contextID)
        report("  ok: subtracted \(released.map(\.text).joined(separator: ", "))")
        report("audit every context (Context * AuditValue *) ...")
        let left = try await client.auditContexts()
        report("  ok: \(left.count) context(s) left")
        return Outcome(contextID: core.contextID, core: core, access: access, released: released, contextsLeft: left.count)
    }
}
