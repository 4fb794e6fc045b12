// Covers: RFC 3261 §17.2.2 (non-INVITE server: Trying, Proceeding, Completed, Terminated; timer J;
// request retransmissions; transport errors), unreliable and reliable transports.

import Testing

@testable import SIPTransaction

@Suite("NonInviteServerTransaction (RFC 3261 §17.2.2)")
struct NonInviteServerTransactionTests {
    let bye = makeRequest(.bye, toTag: "to-1")

    func started(reliable: Bool) -> NonInviteServerTransaction<String> {
        var machine = NonInviteServerTransaction(request: bye, reliable: reliable, timers: defaultTimers)
        _ = machine.handle(.start)
        return machine
    }

    @Test("RFC 3261 §17.2.2: the transaction starts in Trying and passes the request to the TU")
    func start() {
        var machine = NonInviteServerTransaction(request: bye, reliable: false, timers: defaultTimers)
        #expect(machine.handle(.start) == [.passToTU(bye)])
        #expect(machine.state == .trying)
    }

    @Test("RFC 3261 §17.2.2: request retransmissions in Trying are discarded")
    func tryingDiscards() {
        var machine = started(reliable: false)
        #expect(machine.handle(.received(bye)) == [])
        #expect(machine.state == .trying)
    }

    @Test("RFC 3261 §17.2.2: a provisional response from the TU in Trying is sent and moves to Proceeding")
    func provisionalInTrying() {
        var machine = started(reliable: false)
        let trying = makeResponse(100, to: bye)
        #expect(machine.handle(.sendResponse(trying)) == [.send(trying)])
        #expect(machine.state == .proceeding)
    }

    @Test("RFC 3261 §17.2.2: in Proceeding further provisionals are sent and a retransmission re-sends the latest")
    func proceeding() {
        var machine = started(reliable: false)
        _ = machine.handle(.sendResponse(makeResponse(100, to: bye)))
        let progress = makeResponse(183, to: bye)
        #expect(machine.handle(.sendResponse(progress)) == [.send(progress)])
        #expect(machine.handle(.received(bye)) == [.send(progress)])
        #expect(machine.state == .proceeding)
    }

    @Test("RFC 3261 §17.2.2: a final response in Trying is sent; Completed; timer J = 64*T1 unreliable, 0 reliable", arguments: [false, true])
    func finalInTrying(reliable: Bool) {
        var machine = started(reliable: reliable)
        let ok = makeResponse(200, to: bye)
        let timerJ: Duration = reliable ? .zero : .seconds(32)
        #expect(machine.handle(.sendResponse(ok)) == [.send(ok), .startTimer(.timerJ, timerJ)])
        #expect(machine.state == .completed)
    }

    @Test("RFC 3261 §17.2.2: a final response in Proceeding is sent and moves to Completed")
    func finalInProceeding() {
        var machine = started(reliable: false)
        _ = machine.handle(.sendResponse(makeResponse(100, to: bye)))
        let notFound = makeResponse(481, to: bye)
        #expect(machine.handle(.sendResponse(notFound)) == [.send(notFound), .startTimer(.timerJ, .seconds(32))])
        #expect(machine.state == .completed)
    }

    @Test("RFC 3261 §17.2.2: in Completed a retransmission re-sends the final response; other TU finals are discarded")
    func completed() {
        var machine = started(reliable: false)
        let ok = makeResponse(200, to: bye)
        _ = machine.handle(.sendResponse(ok))
        #expect(machine.handle(.received(bye)) == [.send(ok)])
        #expect(machine.handle(.sendResponse(makeResponse(500, to: bye))) == [])
        #expect(machine.handle(.received(bye)) == [.send(ok)])
    }

    @Test("RFC 3261 §17.2.2: timer J in Completed moves to Terminated")
    func timerJ() {
        var machine = started(reliable: false)
        _ = machine.handle(.sendResponse(makeResponse(200, to: bye)))
        #expect(machine.handle(.timerFired(.timerJ)) == [.terminated])
        #expect(machine.state == .terminated)
    }

    @Test("RFC 3261 §17.2.2 Figure 8 / §17.2.4: a transport error in Proceeding informs the TU and terminates")
    func transportErrorInProceeding() {
        var machine = started(reliable: false)
        _ = machine.handle(.sendResponse(makeResponse(100, to: bye)))
        #expect(machine.handle(.transportError) == [.transportError, .terminated])
        #expect(machine.state == .terminated)
    }

    @Test("RFC 3261 §17.2.2 Figure 8 / §17.2.4: a transport error in Completed informs the TU and terminates")
    func transportErrorInCompleted() {
        var machine = started(reliable: false)
        _ = machine.handle(.sendResponse(makeResponse(200, to: bye)))
        #expect(machine.handle(.transportError) == [.cancelTimer(.timerJ), .transportError, .terminated])
        #expect(machine.state == .terminated)
    }

    @Test("RFC 3261 §17.2.2: Terminated ignores further events")
    func terminatedIgnores() {
        var machine = started(reliable: true)
        _ = machine.handle(.sendResponse(makeResponse(200, to: bye)))
        _ = machine.handle(.timerFired(.timerJ))
        #expect(machine.handle(.received(bye)) == [])
        #expect(machine.handle(.sendResponse(makeResponse(200, to: bye))) == [])
    }
}
