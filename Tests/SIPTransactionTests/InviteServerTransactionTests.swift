// Covers: RFC 3261 §17.2.1 (INVITE server: Proceeding, Completed, Confirmed, Terminated; timers G,
// H, I; request retransmissions; transport errors) and RFC 6026 §7.1 / §8.7 (Accepted state,
// timer L, 2xx from the TU sent, ACK in Accepted passed to the TU), unreliable and reliable.

import Testing

@testable import SIPTransaction

@Suite("InviteServerTransaction (RFC 3261 §17.2.1, RFC 6026 §7.1)")
struct InviteServerTransactionTests {
    let invite = makeRequest(.invite)
    var ack: Msg { makeRequest(.ack, toTag: "to-1") }

    func started(reliable: Bool) -> InviteServerTransaction<String> {
        var machine = InviteServerTransaction(request: invite, reliable: reliable, timers: defaultTimers)
        _ = machine.handle(.start)
        return machine
    }

    func completed(reliable: Bool, code: Int = 486) -> InviteServerTransaction<String> {
        var machine = started(reliable: reliable)
        _ = machine.handle(.sendResponse(makeResponse(code, to: invite)))
        return machine
    }

    @Test("RFC 3261 §17.2.1: a new server transaction enters Proceeding and passes the INVITE to the TU")
    func start() {
        var machine = InviteServerTransaction(request: invite, reliable: false, timers: defaultTimers)
        #expect(machine.handle(.start) == [.passToTU(invite)])
        #expect(machine.state == .proceeding)
    }

    @Test("RFC 3261 §17.2.1: a retransmitted INVITE in Proceeding before any provisional response sends nothing")
    func retransmissionBeforeProvisional() {
        var machine = started(reliable: false)
        #expect(machine.handle(.received(invite)) == [])
        #expect(machine.state == .proceeding)
    }

    @Test("RFC 3261 §17.2.1: provisional responses from the TU are sent; an INVITE retransmission re-sends the latest")
    func provisionalAndRetransmission() {
        var machine = started(reliable: false)
        let trying = makeResponse(100, to: invite)
        let ringing = makeResponse(180, to: invite)
        #expect(machine.handle(.sendResponse(trying)) == [.send(trying)])
        #expect(machine.handle(.sendResponse(ringing)) == [.send(ringing)])
        #expect(machine.handle(.received(invite)) == [.send(ringing)])
        #expect(machine.state == .proceeding)
    }

    @Test("RFC 6026 §8.7: a 2xx from the TU in Proceeding is sent once and the transaction enters Accepted with timer L = 64*T1", arguments: [false, true])
    func successEntersAccepted(reliable: Bool) {
        var machine = started(reliable: reliable)
        let ok = makeResponse(200, to: invite)
        #expect(machine.handle(.sendResponse(ok)) == [.send(ok), .startTimer(.timerL, .seconds(32))])
        #expect(machine.state == .accepted)
    }

    @Test("RFC 6026 §7.1: an INVITE retransmission in Accepted is absorbed (not re-answered, not to the TU)")
    func acceptedAbsorbsInvite() {
        var machine = started(reliable: false)
        _ = machine.handle(.sendResponse(makeResponse(200, to: invite)))
        #expect(machine.handle(.received(invite)) == [])
        #expect(machine.state == .accepted)
    }

    @Test("RFC 6026 §7.1: an ACK in Accepted is passed to the TU, the state stays Accepted")
    func acceptedPassesACK() {
        var machine = started(reliable: false)
        _ = machine.handle(.sendResponse(makeResponse(200, to: invite)))
        #expect(machine.handle(.received(ack)) == [.passToTU(ack)])
        #expect(machine.handle(.received(ack)) == [.passToTU(ack)])
        #expect(machine.state == .accepted)
    }

    @Test("RFC 6026 §7.1: 2xx retransmissions from the TU in Accepted are sent; non-2xx are discarded")
    func acceptedSendsTU2xx() {
        var machine = started(reliable: false)
        let ok = makeResponse(200, to: invite)
        _ = machine.handle(.sendResponse(ok))
        #expect(machine.handle(.sendResponse(ok)) == [.send(ok)])
        #expect(machine.handle(.sendResponse(makeResponse(500, to: invite))) == [])
        #expect(machine.state == .accepted)
    }

    @Test("RFC 6026 Figure 7: a transport error in Accepted informs the TU and stays in Accepted")
    func acceptedTransportError() {
        var machine = started(reliable: false)
        _ = machine.handle(.sendResponse(makeResponse(200, to: invite)))
        #expect(machine.handle(.transportError) == [.transportError])
        #expect(machine.state == .accepted)
    }

    @Test("RFC 6026 §7.1: timer L in Accepted moves to Terminated")
    func timerL() {
        var machine = started(reliable: true)
        _ = machine.handle(.sendResponse(makeResponse(200, to: invite)))
        #expect(machine.handle(.timerFired(.timerL)) == [.terminated])
        #expect(machine.state == .terminated)
    }

    @Test("RFC 3261 §17.2.1: 300-699 from the TU: sent, Completed, timer G = T1 (unreliable) and timer H = 64*T1")
    func failureUnreliable() {
        var machine = started(reliable: false)
        let busy = makeResponse(486, to: invite)
        #expect(machine.handle(.sendResponse(busy)) == [.send(busy), .startTimer(.timerG, .milliseconds(500)), .startTimer(.timerH, .seconds(32))])
        #expect(machine.state == .completed)
    }

    @Test("RFC 3261 §17.2.1: over a reliable transport Completed starts only timer H")
    func failureReliable() {
        var machine = started(reliable: true)
        let busy = makeResponse(486, to: invite)
        #expect(machine.handle(.sendResponse(busy)) == [.send(busy), .startTimer(.timerH, .seconds(32))])
    }

    @Test("RFC 3261 §17.2.1: timer G re-sends the final response with MIN(2^n*T1, T2): 1 s, 2 s, 4 s, 4 s")
    func timerG() {
        var machine = completed(reliable: false)
        let busy = makeResponse(486, to: invite)
        for expected: Duration in [.seconds(1), .seconds(2), .seconds(4), .seconds(4)] {
            #expect(machine.handle(.timerFired(.timerG)) == [.send(busy), .startTimer(.timerG, expected)])
        }
        #expect(machine.state == .completed)
    }

    @Test("RFC 3261 §17.2.1: an INVITE retransmission in Completed re-sends the final response")
    func completedRetransmission() {
        var machine = completed(reliable: false)
        #expect(machine.handle(.received(invite)) == [.send(makeResponse(486, to: invite))])
    }

    @Test("RFC 3261 §17.2.1: further responses from the TU in Completed are discarded")
    func completedDiscardsTU() {
        var machine = completed(reliable: false)
        #expect(machine.handle(.sendResponse(makeResponse(200, to: invite))) == [])
        #expect(machine.state == .completed)
    }

    @Test("RFC 3261 §17.2.1: timer H in Completed means no ACK came: TU told of the failure, Terminated", arguments: [false, true])
    func timerH(reliable: Bool) {
        var machine = completed(reliable: reliable)
        let cancelG: [Action] = reliable ? [] : [.cancelTimer(.timerG)]
        #expect(machine.handle(.timerFired(.timerH)) == cancelG + [.timeout(.timerH), .terminated])
        #expect(machine.state == .terminated)
    }

    @Test("RFC 3261 §17.2.1: an ACK in Completed enters Confirmed, stops G and H, timer I = T4 unreliable / 0 reliable", arguments: [false, true])
    func ackConfirms(reliable: Bool) {
        var machine = completed(reliable: reliable)
        let cancelG: [Action] = reliable ? [] : [.cancelTimer(.timerG)]
        let timerI: Duration = reliable ? .zero : .seconds(5)
        #expect(machine.handle(.received(ack)) == cancelG + [.cancelTimer(.timerH), .startTimer(.timerI, timerI)])
        #expect(machine.state == .confirmed)
    }

    @Test("RFC 3261 §17.2.1: Confirmed absorbs further ACKs (and INVITEs); a late timer G sends nothing")
    func confirmedAbsorbs() {
        var machine = completed(reliable: false)
        _ = machine.handle(.received(ack))
        #expect(machine.handle(.received(ack)) == [])
        #expect(machine.handle(.received(invite)) == [])
        #expect(machine.handle(.timerFired(.timerG)) == [])
        #expect(machine.state == .confirmed)
    }

    @Test("RFC 3261 §17.2.1: timer I in Confirmed moves to Terminated")
    func timerI() {
        var machine = completed(reliable: false)
        _ = machine.handle(.received(ack))
        #expect(machine.handle(.timerFired(.timerI)) == [.terminated])
        #expect(machine.state == .terminated)
    }

    @Test("RFC 3261 §17.2.1 Figure 7: a transport error in Completed informs the TU and terminates")
    func completedTransportError() {
        var machine = completed(reliable: false)
        #expect(machine.handle(.transportError) == [.cancelTimer(.timerG), .cancelTimer(.timerH), .transportError, .terminated])
        #expect(machine.state == .terminated)
    }

    @Test("RFC 6026 Figure 7: a transport error in Proceeding informs the TU, the transaction stays in Proceeding")
    func proceedingTransportError() {
        var machine = started(reliable: false)
        #expect(machine.handle(.transportError) == [.transportError])
        #expect(machine.state == .proceeding)
        let busy = makeResponse(486, to: invite)
        #expect(machine.handle(.sendResponse(busy)).first == .send(busy))
    }

    @Test("RFC 3261 §17.2.1: Terminated ignores further events")
    func terminatedIgnores() {
        var machine = completed(reliable: false)
        _ = machine.handle(.timerFired(.timerH))
        #expect(machine.handle(.received(ack)) == [])
        #expect(machine.handle(.sendResponse(makeResponse(200, to: invite))) == [])
    }
}
