// Covers the MGC side of the control association:
//  - H.248.1 §7.2.8 / §11.2: registration by ServiceChange Restart (901/902), Failover, HandOff,
//    Disconnected on ROOT; requests before registration refused (H.248.8 505, configurable);
//  - H.248.1 §11.3: version negotiation (higher → reply with our highest; supported → no version;
//    lower than supported → 406);
//  - TS 29.334 profile (specs.md U1, iq-tokens.md §3.1): accept-any answers with our profile;
//    require-accepted refuses unknown profiles with 461;
//  - TS 23.334 §8 IMS-AGW Out-of-Service (Forced / Graceful + Delay), Restoration (Restart 900),
//    gateway restart while registered, termination ServiceChange: each an event;
//  - keep-alive with periodic empty AuditValue on ROOT and loss after N failures; H.248.14
//    inactivity timer activation after registration; transport loss.
//  - gateway selection policy (round-robin / first available).
import Testing
@testable import H248Client

private func s(_ v: Int64) -> H248Instant { .seconds(v) }

private func config() -> AssociationConfiguration {
    var c = AssociationConfiguration()
    c.supportedVersions = 2...3
    c.localProfile = H248ProfileID(name: "iqprofile", version: 1)
    c.keepAliveInterval = .seconds(30)
    c.keepAliveFailuresBeforeLoss = 2
    return c
}

private func restart(_ reason: UInt16 = 901, version: Int? = 3, profile: H248ProfileID? = nil) -> ServiceChangeRequestInfo {
    ServiceChangeRequestInfo(method: .restart, reason: reason, version: version, messageVersion: 1, profile: profile)
}

@Suite("Association (H.248.1 §7.2.8 ServiceChange, §11)")
struct AssociationTests {
    @Test("§11.2: a request before registration is refused with 505 (configurable)")
    func requestBeforeRegistration() {
        let a = AssociationStateMachine(configuration: config())
        guard case .rejectRequest(let e) = a.requestReceived() else {
            Issue.record("expected rejection")
            return
        }
        #expect(e.h248ErrorCode == 505)
        #expect(e.code == .notRegistered)
        var c = config()
        c.notRegisteredErrorCode = 402
        guard case .rejectRequest(let e2) = AssociationStateMachine(configuration: c).requestReceived() else {
            Issue.record("expected rejection")
            return
        }
        #expect(e2.h248ErrorCode == 402)
    }

    @Test("§7.2.8 / TS 23.334 §8 Register: ServiceChange Restart 901 on ROOT registers; version 3 accepted without a version in the reply")
    func register() {
        var a = AssociationStateMachine(configuration: config())
        let action = a.serviceChangeReceived(restart(901), now: .zero)
        #expect(action == .replyServiceChange(
            ServiceChangeReplyInfo(version: nil, profile: H248ProfileID(name: "iqprofile", version: 1)),
            events: [.registered(version: 3, profile: nil, method: .restart, reason: 901)], requests: []))
        #expect(a.isRegistered)
        #expect(a.acceptsNewSessions)
        #expect(a.negotiatedVersion == 3)
        #expect(a.requestReceived() == .acceptRequest)
    }

    @Test("Registration methods: Restart 902, Failover, HandOff, Disconnected all register",
          arguments: [ServiceChangeMethod.restart, .failover, .handOff, .disconnected])
    func registrationMethods(method: ServiceChangeMethod) {
        var a = AssociationStateMachine(configuration: config())
        let sc = ServiceChangeRequestInfo(method: method, reason: 902, version: 2, messageVersion: 2)
        guard case .replyServiceChange(_, let events, _) = a.serviceChangeReceived(sc, now: .zero) else {
            Issue.record("expected a reply")
            return
        }
        #expect(events == [.registered(version: 2, profile: nil, method: method, reason: 902)])
        #expect(a.stateName == "inService")
    }

    @Test("§11.3: a gateway asking for a higher version than ours gets our highest in the reply")
    func negotiateDown() {
        var c = config()
        c.supportedVersions = 1...2
        var a = AssociationStateMachine(configuration: c)
        guard case .replyServiceChange(let reply, let events, _) = a.serviceChangeReceived(restart(version: 3), now: .zero) else {
            Issue.record("expected a reply")
            return
        }
        #expect(reply.version == 2)
        #expect(events == [.registered(version: 2, profile: nil, method: .restart, reason: 901)])
        #expect(a.negotiatedVersion == 2)
    }

    @Test("§11.3: without ServiceChangeVersion the message header version is used")
    func headerVersion() {
        var a = AssociationStateMachine(configuration: config())
        let sc = ServiceChangeRequestInfo(method: .restart, reason: 901, version: nil, messageVersion: 2)
        _ = a.serviceChangeReceived(sc, now: .zero)
        #expect(a.negotiatedVersion == 2)
    }

    @Test("§11.3 / H.248.8 406: a version below what we support is refused and nothing registers")
    func versionTooLow() {
        var a = AssociationStateMachine(configuration: config())
        guard case .rejectServiceChange(let e) = a.serviceChangeReceived(restart(version: 1), now: .zero) else {
            Issue.record("expected rejection")
            return
        }
        #expect(e.h248ErrorCode == 406)
        #expect(!a.isRegistered)
    }

    @Test("TS 29.334 U1: an accepted profile is echoed; acceptAny answers an unknown one with ours")
    func profileAcceptAny() {
        var c = config()
        c.acceptedProfiles = [H248ProfileID(name: "IQ_AGW", version: 2)]
        var a = AssociationStateMachine(configuration: c)
        guard case .replyServiceChange(let reply, _, _) = a.serviceChangeReceived(
            restart(profile: H248ProfileID(name: "iq_agw", version: 2)), now: .zero) else {
            Issue.record("expected a reply")
            return
        }
        #expect(reply.profile == H248ProfileID(name: "iq_agw", version: 2))
        var b = AssociationStateMachine(configuration: c)
        guard case .replyServiceChange(let reply2, _, _) = b.serviceChangeReceived(
            restart(profile: H248ProfileID(name: "other", version: 1)), now: .zero) else {
            Issue.record("expected a reply")
            return
        }
        #expect(reply2.profile == H248ProfileID(name: "iqprofile", version: 1))
    }

    @Test("iq-tokens.md §3.1 / H.248.8 461: requireAccepted refuses an unknown profile (and a version mismatch)")
    func profileRequired() {
        var c = config()
        c.acceptedProfiles = [H248ProfileID(name: "iq_agw", version: 2)]
        c.profilePolicy = .requireAccepted
        var a = AssociationStateMachine(configuration: c)
        for offered in [H248ProfileID(name: "other", version: 2), H248ProfileID(name: "iq_agw", version: 1)] {
            guard case .rejectServiceChange(let e) = a.serviceChangeReceived(restart(profile: offered), now: .zero) else {
                Issue.record("expected rejection for \(offered)")
                continue
            }
            #expect(e.h248ErrorCode == 461)
            #expect(e.diagnostics.contains(offered.description))
        }
        #expect(!a.isRegistered)
    }

    @Test("§7.2.8: a new Restart while registered is a gateway restart (sessions lost)")
    func gatewayRestart() {
        var a = AssociationStateMachine(configuration: config())
        _ = a.serviceChangeReceived(restart(901), now: .zero)
        guard case .replyServiceChange(_, let events, _) = a.serviceChangeReceived(restart(902), now: s(100)) else {
            Issue.record("expected a reply")
            return
        }
        #expect(events == [.gatewayRestarted(version: 3, method: .restart, reason: 902)])
        #expect(a.acceptsNewSessions)
    }

    @Test("§7.2.8: Restart 900 (Service Restored) while in service is a re-registration, not a restart")
    func restart900InService() {
        var a = AssociationStateMachine(configuration: config())
        _ = a.serviceChangeReceived(restart(901), now: .zero)
        guard case .replyServiceChange(_, let events, _) = a.serviceChangeReceived(restart(900), now: s(5)) else {
            Issue.record("expected a reply")
            return
        }
        #expect(events == [.reRegistered(version: 3, method: .restart, reason: 900)])
    }

    @Test("§7.2.8: Disconnected while registered keeps state (re-registered, sessions stay)")
    func disconnectedKeepsState() {
        var a = AssociationStateMachine(configuration: config())
        _ = a.serviceChangeReceived(restart(901), now: .zero)
        let sc = ServiceChangeRequestInfo(method: .disconnected, reason: 900, version: 3, messageVersion: 3)
        guard case .replyServiceChange(_, let events, _) = a.serviceChangeReceived(sc, now: s(5)) else {
            Issue.record("expected a reply")
            return
        }
        #expect(events == [.reRegistered(version: 3, method: .disconnected, reason: 900)])
    }

    @Test("TS 23.334 §8 Out-of-Service: Forced on ROOT → outOfService event; no new sessions; Restart 900 restores")
    func forcedAndRestored() {
        var a = AssociationStateMachine(configuration: config())
        _ = a.serviceChangeReceived(restart(901), now: .zero)
        let forced = ServiceChangeRequestInfo(method: .forced, reason: 908, messageVersion: 3)
        #expect(a.serviceChangeReceived(forced, now: s(1)) == .replyServiceChange(
            ServiceChangeReplyInfo(), events: [.outOfService(graceful: false, reason: 908)], requests: []))
        #expect(!a.acceptsNewSessions)
        #expect(a.isRegistered)
        #expect(a.nextDeadline == nil)
        #expect(a.serviceChangeReceived(restart(900), now: s(2)) == .replyServiceChange(
            ServiceChangeReplyInfo(), events: [.restored], requests: []))
        #expect(a.acceptsNewSessions)
    }

    @Test("TS 23.334 §8 Out-of-Service: Graceful with Delay drains, then goes out of service when the delay elapses")
    func graceful() {
        var a = AssociationStateMachine(configuration: config())
        _ = a.serviceChangeReceived(restart(901), now: .zero)
        let graceful = ServiceChangeRequestInfo(method: .graceful, reason: 905, messageVersion: 3, delay: .seconds(10))
        #expect(a.serviceChangeReceived(graceful, now: s(5)) == .replyServiceChange(
            ServiceChangeReplyInfo(), events: [.goingOutOfService(delay: .seconds(10), reason: 905)], requests: []))
        #expect(!a.acceptsNewSessions)
        #expect(a.nextDeadline == s(15))
        #expect(a.timerFired(now: s(14)) == .none)
        #expect(a.timerFired(now: s(15)) == .events([.outOfService(graceful: true, reason: nil)]))
        #expect(a.stateName == "outOfService")
    }

    @Test("§7.2.8 Graceful without Delay (or a negative one) drains until the next ServiceChange; Restart 900 restores")
    func gracefulNoDelay() {
        for delay in [nil, Duration.seconds(-5)] {
            var a = AssociationStateMachine(configuration: config())
            _ = a.serviceChangeReceived(restart(901), now: .zero)
            let graceful = ServiceChangeRequestInfo(method: .graceful, reason: 905, messageVersion: 3, delay: delay)
            #expect(a.serviceChangeReceived(graceful, now: s(1)) == .replyServiceChange(
                ServiceChangeReplyInfo(), events: [.goingOutOfService(delay: nil, reason: 905)], requests: []))
            // Only the keep-alive timer remains.
            #expect(a.nextDeadline == s(30))
            #expect(a.timerFired(now: s(30)) == .send(.keepAliveAudit))
            #expect(a.stateName == "draining")
            #expect(a.serviceChangeReceived(restart(900), now: s(40)) == .replyServiceChange(
                ServiceChangeReplyInfo(), events: [.restored], requests: []))
            #expect(a.acceptsNewSessions)
        }
    }

    @Test("§7.2.8: ServiceChange on a termination is an event; before registration it is refused")
    func terminationServiceChange() {
        var a = AssociationStateMachine(configuration: config())
        let sc = ServiceChangeRequestInfo(method: .forced, reason: 905, terminationID: "ip/1/7", messageVersion: 3)
        guard case .rejectServiceChange(let e) = a.serviceChangeReceived(sc, now: .zero) else {
            Issue.record("expected rejection")
            return
        }
        #expect(e.h248ErrorCode == 505)
        _ = a.serviceChangeReceived(restart(901), now: .zero)
        #expect(a.serviceChangeReceived(sc, now: s(1)) == .replyServiceChange(
            ServiceChangeReplyInfo(),
            events: [.terminationServiceChange(terminationID: "ip/1/7", method: .forced, reason: 905)], requests: []))
        #expect(a.acceptsNewSessions)
    }

    @Test("specs.md §10.4 keep-alive: empty AuditValue on ROOT every interval; one outstanding at a time")
    func keepAlive() {
        var a = AssociationStateMachine(configuration: config())
        _ = a.serviceChangeReceived(restart(901), now: .zero)
        #expect(a.nextDeadline == s(30))
        #expect(a.timerFired(now: s(29)) == .none)
        #expect(a.timerFired(now: s(30)) == .send(.keepAliveAudit))
        #expect(a.nextDeadline == nil)
        #expect(a.timerFired(now: s(31)) == .none)
        #expect(a.keepAliveSucceeded(now: s(31)) == .none)
        #expect(a.nextDeadline == s(61))
    }

    @Test("Loss of the gateway: N consecutive keep-alive failures → gatewayLost; requests then refused")
    func keepAliveLoss() {
        var a = AssociationStateMachine(configuration: config())
        _ = a.serviceChangeReceived(restart(901), now: .zero)
        _ = a.timerFired(now: s(30))
        #expect(a.keepAliveFailed(now: s(60)) == .none)
        #expect(a.nextDeadline == s(60))
        #expect(a.timerFired(now: s(60)) == .send(.keepAliveAudit))
        guard case .events(let events) = a.keepAliveFailed(now: s(90)), case .gatewayLost = events.first else {
            Issue.record("expected gatewayLost")
            return
        }
        #expect(!a.isRegistered)
        guard case .rejectRequest = a.requestReceived() else {
            Issue.record("expected refusal after loss")
            return
        }
        // A new registration after loss is a registration, not a restart.
        guard case .replyServiceChange(_, let ev, _) = a.serviceChangeReceived(restart(901), now: s(100)) else {
            Issue.record("expected reply")
            return
        }
        #expect(ev == [.registered(version: 3, profile: nil, method: .restart, reason: 901)])
    }

    @Test("A successful keep-alive resets the failure count")
    func keepAliveReset() {
        var a = AssociationStateMachine(configuration: config())
        _ = a.serviceChangeReceived(restart(901), now: .zero)
        _ = a.timerFired(now: s(30))
        _ = a.keepAliveFailed(now: s(60))
        _ = a.timerFired(now: s(60))
        _ = a.keepAliveSucceeded(now: s(61))
        _ = a.timerFired(now: s(91))
        #expect(a.keepAliveFailed(now: s(121)) == .none)
        #expect(a.isRegistered)
    }

    @Test("Keep-alive off: no timer")
    func keepAliveOff() {
        var c = config()
        c.keepAliveInterval = nil
        var a = AssociationStateMachine(configuration: c)
        _ = a.serviceChangeReceived(restart(901), now: .zero)
        #expect(a.nextDeadline == nil)
    }

    @Test("H.248.14: with an inactivity timer configured, registration asks to activate it (mit in 10 ms units)")
    func inactivityTimer() {
        var c = config()
        c.inactivityTimer = .seconds(120)
        var a = AssociationStateMachine(configuration: c)
        guard case .replyServiceChange(_, _, let requests) = a.serviceChangeReceived(restart(901), now: .zero) else {
            Issue.record("expected a reply")
            return
        }
        #expect(requests == [.activateInactivityTimer(maximumInactivityTime: 12_000)])
        #expect(a.inactivityNotified() == .events([.inactivityReported]))
    }

    @Test("Transport closed (TCP/SCTP) → gatewayLost")
    func transportClosed() {
        var a = AssociationStateMachine(configuration: config())
        #expect(a.transportClosed(reason: "x") == .none)
        _ = a.serviceChangeReceived(restart(901), now: .zero)
        #expect(a.transportClosed(reason: "TCP reset") == .events([.gatewayLost(reason: "TCP reset")]))
        #expect(a.stateName == "lost")
    }

    @Test("Configuration: validate() rejects versions outside 1...3, requireAccepted without profiles, bad mit")
    func validate() throws {
        try config().validate()
        var c = config()
        c.supportedVersions = 2...4
        #expect(throws: H248ClientError.self) { try c.validate() }
        var d = config()
        d.profilePolicy = .requireAccepted
        #expect(throws: H248ClientError.self) { try d.validate() }
        var e = config()
        e.inactivityTimer = .milliseconds(5)
        #expect(throws: H248ClientError.self) { try e.validate() }
    }
}
