// Covers: RFC 3261 §17.1.2.2 (non-INVITE client: Trying, Proceeding, Completed, Terminated;
// timers E, F, K; transport errors), unreliable and reliable transports.

import Testing

@testable import SIPTransaction

@Suite("NonInviteClientTransaction (RFC 3261 §17.1.2)")
struct NonInviteClientTransactionTests {
    let options = makeRequest(.options)

    func started(reliable: Bool) -> NonInviteClientTransaction<String> {
        var machine = NonInviteClientTransaction(request: options, reliable: reliable, timers: defaultTimers)
        _ = machine.handle(.start)
        return machine
    }

    @Test("RFC 3261 §17.1.2.2: Trying sends the request, timer E = T1 (unreliable) and timer F = 64*T1")
    func startUnreliable() {
        var machine = NonInviteClientTransaction(request: options, reliable: false, timers: defaultTimers)
        #expect(machine.handle(.start) == [.send(options), .startTimer(.timerE, .milliseconds(500)), .startTimer(.timerF, .seconds(32))])
        #expect(machine.state == .trying)
    }

    @Test("RFC 3261 §17.1.2.2: over a reliable transport timer E is not started")
    func startReliable() {
        var machine = NonInviteClientTransaction(request: options, reliable: true, timers: defaultTimers)
        #expect(machine.handle(.start) == [.send(options), .startTimer(.timerF, .seconds(32))])
    }

    @Test("RFC 3261 §17.1.2.2: timer E in Trying retransmits with MIN(2^n*T1, T2): 1 s, 2 s, 4 s, 4 s")
    func timerEInTrying() {
        var machine = started(reliable: false)
        for expected: Duration in [.seconds(1), .seconds(2), .seconds(4), .seconds(4), .seconds(4)] {
            #expect(machine.handle(.timerFired(.timerE)) == [.send(options), .startTimer(.timerE, expected)])
        }
        #expect(machine.state == .trying)
    }

    @Test("RFC 3261 §17.1.2.2: a provisional response in Trying goes to the TU and moves to Proceeding")
    func provisionalInTrying() {
        var machine = started(reliable: false)
        let trying = makeResponse(100, to: options)
        #expect(machine.handle(.received(trying)) == [.passToTU(trying)])
        #expect(machine.state == .proceeding)
    }

    @Test("RFC 3261 §17.1.2.2: a provisional response in Proceeding goes to the TU")
    func provisionalInProceeding() {
        var machine = started(reliable: false)
        _ = machine.handle(.received(makeResponse(100, to: options)))
        let progress = makeResponse(183, to: options)
        #expect(machine.handle(.received(progress)) == [.passToTU(progress)])
        #expect(machine.state == .proceeding)
    }

    @Test("RFC 3261 §17.1.2.2: timer E in Proceeding retransmits and is reset to T2")
    func timerEInProceeding() {
        var machine = started(reliable: false)
        _ = machine.handle(.received(makeResponse(100, to: options)))
        #expect(machine.handle(.timerFired(.timerE)) == [.send(options), .startTimer(.timerE, .seconds(4))])
        #expect(machine.handle(.timerFired(.timerE)) == [.send(options), .startTimer(.timerE, .seconds(4))])
    }

    @Test("RFC 3261 §17.1.2.2: timer F in Trying informs the TU of the timeout and terminates", arguments: [false, true])
    func timerFInTrying(reliable: Bool) {
        var machine = started(reliable: reliable)
        let cancelE: [Action] = reliable ? [] : [.cancelTimer(.timerE)]
        #expect(machine.handle(.timerFired(.timerF)) == cancelE + [.timeout(.timerF), .terminated])
        #expect(machine.state == .terminated)
    }

    @Test("RFC 3261 §17.1.2.2: timer F in Proceeding informs the TU of the timeout and terminates")
    func timerFInProceeding() {
        var machine = started(reliable: false)
        _ = machine.handle(.received(makeResponse(100, to: options)))
        #expect(machine.handle(.timerFired(.timerF)) == [.cancelTimer(.timerE), .timeout(.timerF), .terminated])
        #expect(machine.state == .terminated)
    }

    @Test("RFC 3261 §17.1.2.2: a final response in Trying goes to the TU; Completed; timer K = T4 unreliable, 0 reliable", arguments: [false, true])
    func finalInTrying(reliable: Bool) {
        var machine = started(reliable: reliable)
        let ok = makeResponse(200, to: options)
        let cancelE: [Action] = reliable ? [] : [.cancelTimer(.timerE)]
        let timerK: Duration = reliable ? .zero : .seconds(5)
        #expect(machine.handle(.received(ok)) == cancelE + [.cancelTimer(.timerF), .passToTU(ok), .startTimer(.timerK, timerK)])
        #expect(machine.state == .completed)
    }

    @Test("RFC 3261 §17.1.2.2: a final response in Proceeding goes to the TU and moves to Completed")
    func finalInProceeding() {
        var machine = started(reliable: false)
        _ = machine.handle(.received(makeResponse(100, to: options)))
        let notFound = makeResponse(404, to: options)
        #expect(machine.handle(.received(notFound)) == [.cancelTimer(.timerE), .cancelTimer(.timerF), .passToTU(notFound), .startTimer(.timerK, .seconds(5))])
        #expect(machine.state == .completed)
    }

    @Test("RFC 3261 §17.1.2.2: Completed absorbs response retransmissions")
    func completedAbsorbs() {
        var machine = started(reliable: false)
        let ok = makeResponse(200, to: options)
        _ = machine.handle(.received(ok))
        #expect(machine.handle(.received(ok)) == [])
        #expect(machine.handle(.timerFired(.timerE)) == [])
        #expect(machine.state == .completed)
    }

    @Test("RFC 3261 §17.1.2.2: timer K in Completed moves to Terminated")
    func timerK() {
        var machine = started(reliable: false)
        _ = machine.handle(.received(makeResponse(200, to: options)))
        #expect(machine.handle(.timerFired(.timerK)) == [.terminated])
        #expect(machine.state == .terminated)
    }

    @Test("RFC 3261 §17.1.2.2 Figure 6 / §17.1.4: a transport error in Trying informs the TU and terminates")
    func transportErrorInTrying() {
        var machine = started(reliable: false)
        #expect(machine.handle(.transportError) == [.cancelTimer(.timerE), .cancelTimer(.timerF), .transportError, .terminated])
        #expect(machine.state == .terminated)
    }

    @Test("RFC 3261 §17.1.2.2 Figure 6 / §17.1.4: a transport error in Proceeding informs the TU and terminates")
    func transportErrorInProceeding() {
        var machine = started(reliable: true)
        _ = machine.handle(.received(makeResponse(100, to: options)))
        #expect(machine.handle(.transportError) == [.cancelTimer(.timerF), .transportError, .terminated])
        #expect(machine.state == .terminated)
    }

    @Test("RFC 3261 §17.1.2.2: Terminated ignores further events")
    func terminatedIgnores() {
        var machine = started(reliable: false)
        _ = machine.handle(.timerFired(.timerF))
        #expect(machine.handle(.received(makeResponse(200, to: options))) == [])
        #expect(machine.handle(.transportError) == [])
    }
}
