// Covers: RFC 3261 §17.1.1.2 (INVITE client: Calling, Proceeding, Completed, Terminated; timers
// A, B, D; transport errors), RFC 6026 §7.2 / §8.4 (Accepted state, timer M), RFC 3261 §16.6
// step 11 / §16.7 step 2 / §16.8 (timer C), for unreliable and reliable transports.

import Testing

@testable import SIPTransaction

@Suite("InviteClientTransaction (RFC 3261 §17.1.1, RFC 6026 §7.2)")
struct InviteClientTransactionTests {
    let invite = makeRequest(.invite)

    func started(reliable: Bool, timerC: Bool = false) -> InviteClientTransaction<String> {
        var machine = InviteClientTransaction(request: invite, reliable: reliable, timers: defaultTimers, usesTimerC: timerC)
        _ = machine.handle(.start)
        return machine
    }

    @Test("RFC 3261 §17.1.1.2: Calling sends the INVITE, starts timer A = T1 and timer B = 64*T1 (unreliable)")
    func startUnreliable() {
        var machine = InviteClientTransaction(request: invite, reliable: false, timers: defaultTimers)
        #expect(machine.state == .initial)
        let actions = machine.handle(.start)
        #expect(machine.state == .calling)
        #expect(actions == [.send(invite), .startTimer(.timerA, .milliseconds(500)), .startTimer(.timerB, .seconds(32))])
    }

    @Test("RFC 3261 §17.1.1.2: over a reliable transport timer A is not started, timer B is")
    func startReliable() {
        var machine = InviteClientTransaction(request: invite, reliable: true, timers: defaultTimers)
        #expect(machine.handle(.start) == [.send(invite), .startTimer(.timerB, .seconds(32))])
    }

    @Test("RFC 3261 §17.1.1.2: timer A retransmits and doubles each time, without a T2 cap")
    func timerADoubles() {
        var machine = started(reliable: false)
        var expected: Duration = .milliseconds(500)
        for _ in 0..<6 {
            expected = expected * 2
            #expect(machine.handle(.timerFired(.timerA)) == [.send(invite), .startTimer(.timerA, expected)])
        }
        // 500 ms * 2^6 = 32 s: well past T2 = 4 s, so no cap applies to INVITE requests.
        #expect(machine.timerAInterval == .seconds(32))
        #expect(machine.state == .calling)
    }

    @Test("RFC 3261 §17.1.1.2: timer B in Calling informs the TU of a timeout and terminates", arguments: [false, true])
    func timerBInCalling(reliable: Bool) {
        var machine = started(reliable: reliable)
        let actions = machine.handle(.timerFired(.timerB))
        let cancelA: [Action] = reliable ? [] : [.cancelTimer(.timerA)]
        #expect(actions == cancelA + [.timeout(.timerB), .terminated])
        #expect(machine.state == .terminated)
    }

    @Test("RFC 3261 §17.1.1.2: a provisional response in Calling moves to Proceeding, stops retransmission, goes to the TU")
    func provisionalInCalling() {
        var machine = started(reliable: false)
        let ringing = makeResponse(180, to: invite)
        #expect(machine.handle(.received(ringing)) == [.cancelTimer(.timerA), .cancelTimer(.timerB), .passToTU(ringing)])
        #expect(machine.state == .proceeding)
        // "SHOULD NOT retransmit the request any longer": a late timer A does nothing.
        #expect(machine.handle(.timerFired(.timerA)) == [])
    }

    @Test("RFC 3261 §17.1.1.2: further provisional responses in Proceeding are passed to the TU")
    func provisionalInProceeding() {
        var machine = started(reliable: true)
        _ = machine.handle(.received(makeResponse(100, to: invite)))
        let progress = makeResponse(183, to: invite)
        #expect(machine.handle(.received(progress)) == [.passToTU(progress)])
        #expect(machine.state == .proceeding)
    }

    @Test("RFC 3261 §17.1.1.2: 300-699 in Calling: Completed, response to TU, ACK sent, timer D (≥32 s unreliable, 0 reliable)", arguments: [false, true])
    func failureInCalling(reliable: Bool) {
        var machine = started(reliable: reliable)
        let busy = makeResponse(486, to: invite)
        let cancelA: [Action] = reliable ? [] : [.cancelTimer(.timerA)]
        let timerD: Duration = reliable ? .zero : .seconds(32)
        #expect(machine.handle(.received(busy)) == cancelA + [.cancelTimer(.timerB), .passToTU(busy), .sendACK(forResponse: busy), .startTimer(.timerD, timerD)])
        #expect(machine.state == .completed)
    }

    @Test("RFC 3261 §17.1.1.2: 300-699 in Proceeding moves to Completed and generates the ACK")
    func failureInProceeding() {
        var machine = started(reliable: false)
        _ = machine.handle(.received(makeResponse(180, to: invite)))
        let notFound = makeResponse(404, to: invite)
        #expect(machine.handle(.received(notFound)) == [.passToTU(notFound), .sendACK(forResponse: notFound), .startTimer(.timerD, .seconds(32))])
        #expect(machine.state == .completed)
    }

    @Test("RFC 3261 §17.1.1.2: a retransmitted final response in Completed re-sends the ACK and is not passed to the TU")
    func retransmissionInCompleted() {
        var machine = started(reliable: false)
        let busy = makeResponse(486, to: invite)
        _ = machine.handle(.received(busy))
        #expect(machine.handle(.received(busy)) == [.sendACK(forResponse: busy)])
        #expect(machine.handle(.received(makeResponse(180, to: invite))) == [])
        #expect(machine.state == .completed)
    }

    @Test("RFC 3261 §17.1.1.2: timer D in Completed moves to Terminated")
    func timerD() {
        var machine = started(reliable: false)
        _ = machine.handle(.received(makeResponse(500, to: invite)))
        #expect(machine.handle(.timerFired(.timerD)) == [.terminated])
        #expect(machine.state == .terminated)
    }

    @Test("RFC 6026 §8.4: a 2xx in Calling enters Accepted, goes to the TU and starts timer M = 64*T1", arguments: [false, true])
    func successInCalling(reliable: Bool) {
        var machine = started(reliable: reliable)
        let ok = makeResponse(200, to: invite)
        let cancelA: [Action] = reliable ? [] : [.cancelTimer(.timerA)]
        #expect(machine.handle(.received(ok)) == cancelA + [.cancelTimer(.timerB), .passToTU(ok), .startTimer(.timerM, .seconds(32))])
        #expect(machine.state == .accepted)
    }

    @Test("RFC 6026 §8.4: a 2xx in Proceeding enters Accepted; no ACK is generated by the transaction")
    func successInProceeding() {
        var machine = started(reliable: false)
        _ = machine.handle(.received(makeResponse(183, to: invite)))
        let ok = makeResponse(200, to: invite)
        let actions = machine.handle(.received(ok))
        #expect(actions == [.passToTU(ok), .startTimer(.timerM, .seconds(32))])
        #expect(!actions.contains { if case .sendACK = $0 { return true } else { return false } })
        #expect(machine.state == .accepted)
    }

    @Test("RFC 6026 §7.2: in Accepted every 2xx (retransmission or another fork) goes to the TU; no ACK")
    func successInAccepted() {
        var machine = started(reliable: false)
        _ = machine.handle(.received(makeResponse(200, to: invite)))
        let fork = makeResponse(200, to: invite, toTag: "to-2")
        #expect(machine.handle(.received(fork)) == [.passToTU(fork)])
        #expect(machine.state == .accepted)
    }

    @Test("RFC 6026 §7.2: in Accepted non-2xx responses are absorbed")
    func nonSuccessInAccepted() {
        var machine = started(reliable: false)
        _ = machine.handle(.received(makeResponse(200, to: invite)))
        #expect(machine.handle(.received(makeResponse(486, to: invite))) == [])
        #expect(machine.handle(.received(makeResponse(180, to: invite))) == [])
        #expect(machine.state == .accepted)
    }

    @Test("RFC 6026 §7.2: timer M in Accepted moves to Terminated")
    func timerM() {
        var machine = started(reliable: true)
        _ = machine.handle(.received(makeResponse(200, to: invite)))
        #expect(machine.handle(.timerFired(.timerM)) == [.terminated])
        #expect(machine.state == .terminated)
    }

    @Test("RFC 3261 §17.1.1.2 / §17.1.4: a transport error in Calling informs the TU and terminates")
    func transportErrorInCalling() {
        var machine = started(reliable: false)
        #expect(machine.handle(.transportError) == [.cancelTimer(.timerA), .cancelTimer(.timerB), .transportError, .terminated])
        #expect(machine.state == .terminated)
    }

    @Test("RFC 3261 §17.1.1.2 Figure 5: a transport error in Completed (sending the ACK) informs the TU and terminates")
    func transportErrorInCompleted() {
        var machine = started(reliable: false)
        _ = machine.handle(.received(makeResponse(603, to: invite)))
        #expect(machine.handle(.transportError) == [.cancelTimer(.timerD), .transportError, .terminated])
        #expect(machine.state == .terminated)
    }

    @Test("RFC 3261 §17.1.1.2: a Terminated transaction ignores every further event")
    func terminatedIgnores() {
        var machine = started(reliable: false)
        _ = machine.handle(.timerFired(.timerB))
        #expect(machine.handle(.received(makeResponse(200, to: invite))) == [])
        #expect(machine.handle(.timerFired(.timerA)) == [])
        #expect(machine.handle(.transportError) == [])
        #expect(machine.state == .terminated)
    }

    @Test("RFC 3261 §17.1.1.2: invalid status codes are ignored")
    func invalidStatus() {
        var machine = started(reliable: false)
        #expect(machine.handle(.received(makeResponse(99, to: invite))) == [])
        #expect(machine.handle(.received(makeResponse(700, to: invite))) == [])
        #expect(machine.state == .calling)
    }

    // MARK: Timer C (proxy)

    @Test("RFC 3261 §16.6 step 11: a proxy starts timer C (> 3 min) with the INVITE")
    func timerCStarts() {
        var machine = InviteClientTransaction(request: invite, reliable: true, timers: defaultTimers, usesTimerC: true)
        #expect(machine.handle(.start) == [.send(invite), .startTimer(.timerB, .seconds(32)), .startTimer(.timerC, .seconds(181))])
    }

    @Test("RFC 3261 §16.7 step 2: provisional responses other than 100 reset timer C; 100 does not")
    func timerCReset() {
        var machine = started(reliable: true, timerC: true)
        let trying = makeResponse(100, to: invite)
        #expect(machine.handle(.received(trying)) == [.cancelTimer(.timerB), .passToTU(trying)])
        let ringing = makeResponse(180, to: invite)
        #expect(machine.handle(.received(ringing)) == [.startTimer(.timerC, .seconds(181)), .passToTU(ringing)])
    }

    @Test("RFC 3261 §16.8: timer C without a provisional response acts as a 408: TU told, transaction ends")
    func timerCInCalling() {
        var machine = started(reliable: false, timerC: true)
        #expect(machine.handle(.timerFired(.timerC)) == [.cancelTimer(.timerA), .cancelTimer(.timerB), .timerCExpired(provisionalReceived: false), .terminated])
        #expect(machine.state == .terminated)
    }

    @Test("RFC 3261 §16.8 / §9.1: timer C after a provisional response asks the TU to CANCEL and guards the wait with 64*T1")
    func timerCInProceeding() {
        var machine = started(reliable: false, timerC: true)
        _ = machine.handle(.received(makeResponse(180, to: invite)))
        #expect(machine.handle(.timerFired(.timerC)) == [.timerCExpired(provisionalReceived: true), .startTimer(.timerB, .seconds(32))])
        #expect(machine.state == .proceeding)
        // A further 180 no longer restarts timer C once the CANCEL is under way.
        let ringing = makeResponse(180, to: invite)
        #expect(machine.handle(.received(ringing)) == [.passToTU(ringing)])
        // The 487 for the CANCELled INVITE completes the transaction normally...
        var answered = machine
        let terminatedRequest = makeResponse(487, to: invite)
        #expect(answered.handle(.received(terminatedRequest)) == [.cancelTimer(.timerB), .passToTU(terminatedRequest), .sendACK(forResponse: terminatedRequest), .startTimer(.timerD, .seconds(32))])
        // ...and without it the 64*T1 guard ends the transaction.
        #expect(machine.handle(.timerFired(.timerB)) == [.timeout(.timerB), .terminated])
        #expect(machine.state == .terminated)
    }

    @Test("RFC 3261 §16.7: a final response cancels timer C")
    func finalCancelsTimerC() {
        var machine = started(reliable: true, timerC: true)
        let ok = makeResponse(200, to: invite)
        #expect(machine.handle(.received(ok)) == [.cancelTimer(.timerB), .cancelTimer(.timerC), .passToTU(ok), .startTimer(.timerM, .seconds(32))])
    }
}
