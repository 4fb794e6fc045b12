// Covers the TransactionLayer driver with an injected manual clock: RFC 3261 §17.1.3 (client
// matching), §17.2.3 (server matching, magic cookie, sent-by, ACK → INVITE, RFC 2543 fallback),
// §9.2 (CANCEL matching), §17.1.1.3 (ACK for non-2xx), timer schedules A-M end to end over
// unreliable and reliable transports, RFC 6026 §7.1/§7.2 (Accepted; stray responses discarded),
// §16.8 (timer C) and the bound on live transactions (503).

import Testing

@testable import SIPTransaction

@Suite("TransactionLayer (RFC 3261 §17.1.3, §17.2.3, §9.2; RFC 6026)")
struct TransactionLayerTests {
    func makeLayer(maximum: Int = 64, timerC: Bool = false) -> Layer {
        Layer(
            configuration: TransactionLayerConfiguration(maximumTransactions: maximum, runsTimerC: timerC),
            makeACK: testACKFactory)
    }

    /// Advances the clock in 100 ms steps up to `end`, collecting (time, output) pairs.
    func run(_ layer: inout Layer, clock: inout ManualClock, until end: Duration) -> [(Duration, Output)] {
        var collected: [(Duration, Output)] = []
        while clock.current.sinceOrigin < end {
            clock.advance(by: .milliseconds(100))
            for output in layer.advance(to: clock.now()) {
                collected.append((clock.current.sinceOrigin, output))
            }
        }
        return collected
    }

    // MARK: Client side, timers end to end

    @Test("RFC 3261 §17.1.1.2: over UDP the INVITE is retransmitted at 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s and timer B ends it at 32 s")
    func inviteClientUDPSchedule() throws {
        var layer = makeLayer()
        var clock = ManualClock()
        let invite = makeRequest(.invite, branch: "z9hG4bK-out1")
        let (id, first) = try layer.sendRequest(invite, to: "core", reliable: false, now: clock.now())
        #expect(first == [.transmit(invite, to: "core", reliable: false, transaction: id)])
        let outputs = run(&layer, clock: &clock, until: .seconds(33))
        let retransmitTimes = outputs.filter { if case .transmit = $0.1 { return true } else { return false } }.map(\.0)
        #expect(retransmitTimes == [.milliseconds(500), .milliseconds(1500), .milliseconds(3500), .milliseconds(7500), .milliseconds(15500), .milliseconds(31500)])
        let ends = outputs.filter { if case .transmit = $0.1 { return false } else { return true } }
        #expect(ends.map(\.1) == [.timeout(id, .timerB), .terminated(id)])
        #expect(ends.first?.0 == .seconds(32))
        #expect(layer.count == 0)
    }

    @Test("RFC 3261 §17.1.2.2: over UDP a non-INVITE is retransmitted with E = MIN(2^n*T1, T2) and timer F ends it at 32 s")
    func nonInviteClientUDPSchedule() throws {
        var layer = makeLayer()
        var clock = ManualClock()
        let (id, _) = try layer.sendRequest(makeRequest(.options, branch: "z9hG4bK-opt"), to: "core", reliable: false, now: clock.now())
        let outputs = run(&layer, clock: &clock, until: .seconds(33))
        let times = outputs.filter { if case .transmit = $0.1 { return true } else { return false } }.map { $0.0 }
        let expected: [Duration] = [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5].map { .milliseconds(Int($0 * 1000)) }
        #expect(times == expected)
        #expect(outputs.last?.1 == .terminated(id))
        #expect(outputs.contains { $0.1 == .timeout(id, .timerF) && $0.0 == .seconds(32) })
    }

    @Test("RFC 3261 §17.1.2.2: over a reliable transport nothing is retransmitted and timer K = 0 ends the transaction with the final response")
    func nonInviteClientReliable() throws {
        var layer = makeLayer()
        var clock = ManualClock()
        let options = makeRequest(.options, branch: "z9hG4bK-opt", transport: "TCP")
        let (id, _) = try layer.sendRequest(options, to: "core", reliable: true, now: clock.now())
        clock.advance(by: .seconds(10))
        #expect(layer.advance(to: clock.now()) == [])
        let ok = makeResponse(200, to: options)
        let outputs = layer.receive(ok, from: "core", reliable: true, now: clock.now())
        #expect(outputs == [.response(id, ok), .terminated(id)])
        #expect(layer.count == 0)
    }

    @Test("RFC 3261 §17.1.2.2: over UDP timer K = T4 keeps Completed for 5 s and absorbs retransmitted responses")
    func nonInviteClientTimerK() throws {
        var layer = makeLayer()
        var clock = ManualClock()
        let options = makeRequest(.options, branch: "z9hG4bK-opt")
        let (id, _) = try layer.sendRequest(options, to: "core", reliable: false, now: clock.now())
        let ok = makeResponse(200, to: options)
        #expect(layer.receive(ok, from: "core", reliable: false, now: clock.now()) == [.response(id, ok)])
        clock.advance(by: .seconds(4))
        #expect(layer.receive(ok, from: "core", reliable: false, now: clock.now()) == [])
        #expect(layer.state(of: id) == .completed)
        clock.advance(by: .seconds(1))
        #expect(layer.advance(to: clock.now()) == [.terminated(id)])
    }

    @Test("RFC 3261 §17.1.1.3: the ACK for a non-2xx carries the INVITE's Request-URI, Call-ID, From tag, CSeq number and top Via, and the response's To tag")
    func ackForNonSuccess() throws {
        var layer = makeLayer()
        var clock = ManualClock()
        let invite = makeRequest(.invite, branch: "z9hG4bK-out2", cseq: 7, uri: "sip:bob@core.example")
        let (id, _) = try layer.sendRequest(invite, to: "core", reliable: false, now: clock.now())
        let busy = makeResponse(486, to: invite, toTag: "callee-tag")
        let outputs = layer.receive(busy, from: "core", reliable: false, now: clock.now())
        #expect(outputs.responsesToTU == [busy])
        let ack = try #require(outputs.transmitted.first)
        #expect(ack.method == .ack)
        #expect(ack.requestURI == "sip:bob@core.example")
        #expect(ack.headers.cseq == CSeqField(number: 7, method: .ack))
        #expect(ack.headers.topVia == invite.headers.topVia)
        #expect(ack.headers.callID == invite.headers.callID)
        #expect(ack.headers.fromTag == invite.headers.fromTag)
        #expect(ack.headers.toTag == "callee-tag")
        // A retransmitted 486 re-sends the ACK and does not reach the TU again.
        clock.advance(by: .seconds(1))
        let again = layer.receive(busy, from: "core", reliable: false, now: clock.now())
        #expect(again == [.transmit(ack, to: "core", reliable: false, transaction: id)])
        // Timer D (32 s on UDP) ends the transaction.
        clock.advance(by: .seconds(31))
        #expect(layer.advance(to: clock.now()) == [.terminated(id)])
    }

    @Test("RFC 6026 §7.2: a 2xx retransmission reaches the TU while timer M runs; after M a stray 2xx is discarded")
    func clientAcceptedAndStray() throws {
        var layer = makeLayer()
        var clock = ManualClock()
        let invite = makeRequest(.invite, branch: "z9hG4bK-out3")
        let (id, _) = try layer.sendRequest(invite, to: "core", reliable: false, now: clock.now())
        let ok = makeResponse(200, to: invite)
        #expect(layer.receive(ok, from: "core", reliable: false, now: clock.now()) == [.response(id, ok)])
        #expect(layer.state(of: id) == .accepted)
        clock.advance(by: .seconds(10))
        #expect(layer.receive(ok, from: "core", reliable: false, now: clock.now()) == [.response(id, ok)])
        clock.advance(by: .seconds(22))
        #expect(layer.advance(to: clock.now()) == [.terminated(id)])
        #expect(layer.receive(ok, from: "core", reliable: false, now: clock.now()) == [.discarded(ok, reason: .strayResponse)])
    }

    // MARK: Client matching

    @Test("RFC 3261 §17.1.3: responses match by branch and CSeq method: the CANCEL's 200 and the INVITE's 487 reach their own transactions")
    func clientMatchingByMethod() throws {
        var layer = makeLayer()
        let now = TransactionInstant.zero
        let invite = makeRequest(.invite, branch: "z9hG4bK-same")
        let cancel = makeRequest(.cancel, branch: "z9hG4bK-same")
        let (inviteID, _) = try layer.sendRequest(invite, to: "core", reliable: true, now: now)
        let (cancelID, _) = try layer.sendRequest(cancel, to: "core", reliable: true, now: now)
        #expect(inviteID != cancelID)
        let cancelOK = makeResponse(200, to: cancel)
        #expect(layer.receive(cancelOK, from: "core", reliable: true, now: now) == [.response(cancelID, cancelOK), .terminated(cancelID)])
        let terminated = makeResponse(487, to: invite)
        let outputs = layer.receive(terminated, from: "core", reliable: true, now: now)
        #expect(outputs.responsesToTU == [terminated])
        #expect(outputs.terminatedIDs == [inviteID])  // timer D = 0 on a reliable transport
    }

    @Test("RFC 3261 §17.1.3: a response with another branch, or without a branch, matches nothing and is discarded")
    func clientNoMatch() throws {
        var layer = makeLayer()
        let invite = makeRequest(.invite, branch: "z9hG4bK-x")
        _ = try layer.sendRequest(invite, to: "core", reliable: true, now: .zero)
        let other = makeResponse(200, to: makeRequest(.invite, branch: "z9hG4bK-y"))
        #expect(layer.receive(other, from: "core", reliable: true, now: .zero).discards == [.strayResponse])
        let noBranch = makeResponse(200, to: makeRequest(.invite, branch: nil))
        #expect(layer.receive(noBranch, from: "core", reliable: true, now: .zero).discards == [.strayResponse])
        let bad = makeResponse(700, to: invite)
        #expect(layer.receive(bad, from: "core", reliable: true, now: .zero).discards == [.invalidStatusCode])
        #expect(layer.state(of: TransactionID(rawValue: 1)) == .calling)
    }

    @Test("RFC 3261 §17: ACK is never a client transaction; a duplicate branch+method is refused")
    func clientErrors() throws {
        var layer = makeLayer()
        #expect(throws: TransactionError.self) {
            _ = try layer.sendRequest(makeRequest(.ack), to: "core", reliable: true, now: .zero)
        }
        _ = try layer.sendRequest(makeRequest(.bye, branch: "z9hG4bK-d"), to: "core", reliable: true, now: .zero)
        do {
            _ = try layer.sendRequest(makeRequest(.bye, branch: "z9hG4bK-d"), to: "core", reliable: true, now: .zero)
            Issue.record("duplicate accepted")
        } catch {
            #expect(error.code == .duplicateClientTransaction)
        }
        #expect(throws: TransactionError.self) {
            _ = try layer.sendResponse(makeResponse(200, to: makeRequest(.bye)), on: TransactionID(rawValue: 99), now: .zero)
        }
    }

    // MARK: Server matching

    @Test("RFC 3261 §17.2.3: a new INVITE creates a server transaction; its retransmission (same branch, sent-by, method) matches it")
    func serverMatchingMagicCookie() throws {
        var layer = makeLayer()
        let invite = makeRequest(.invite, branch: "z9hG4bK-in1")
        let first = layer.receive(invite, from: "ue", reliable: false, now: .zero)
        let id = try #require(first.newRequests.first)
        #expect(first == [.newRequest(id, invite, from: "ue")])
        let ringing = makeResponse(180, to: invite)
        #expect(try layer.sendResponse(ringing, on: id, now: .zero) == [.transmit(ringing, to: "ue", reliable: false, transaction: id)])
        // Retransmission: no new transaction, the 180 is sent again.
        #expect(layer.receive(invite, from: "ue", reliable: false, now: .zero) == [.transmit(ringing, to: "ue", reliable: false, transaction: id)])
        #expect(layer.count == 1)
    }

    @Test("RFC 3261 §17.2.3: the same branch from another sent-by, or with another method, is a different transaction")
    func serverMatchingSentByAndMethod() {
        var layer = makeLayer()
        _ = layer.receive(makeRequest(.invite, branch: "z9hG4bK-in2", host: "a.example"), from: "ue", reliable: false, now: .zero)
        let otherHost = layer.receive(makeRequest(.invite, branch: "z9hG4bK-in2", host: "b.example"), from: "ue", reliable: false, now: .zero)
        #expect(otherHost.newRequests.count == 1)
        let otherPort = layer.receive(makeRequest(.invite, branch: "z9hG4bK-in2", host: "a.example", port: 5070), from: "ue", reliable: false, now: .zero)
        #expect(otherPort.newRequests.count == 1)
        let otherMethod = layer.receive(makeRequest(.options, branch: "z9hG4bK-in2", host: "a.example"), from: "ue", reliable: false, now: .zero)
        #expect(otherMethod.newRequests.count == 1)
        // Host comparison is case-insensitive (RFC 3261 §19.1.4).
        let sameHostUpper = layer.receive(makeRequest(.invite, branch: "z9hG4bK-in2", host: "A.EXAMPLE"), from: "ue", reliable: false, now: .zero)
        #expect(sameHostUpper.newRequests.isEmpty)
        #expect(layer.count == 4)
    }

    @Test("RFC 3261 §17.2.3 / §17.2.1: an ACK matches the INVITE transaction (method ACK → INVITE): Confirmed, then timer I")
    func serverACKMatchesInvite() throws {
        var layer = makeLayer()
        var clock = ManualClock()
        let invite = makeRequest(.invite, branch: "z9hG4bK-in3")
        let id = try #require(layer.receive(invite, from: "ue", reliable: false, now: clock.now()).newRequests.first)
        _ = try layer.sendResponse(makeResponse(486, to: invite), on: id, now: clock.now())
        let ack = makeRequest(.ack, branch: "z9hG4bK-in3", toTag: "to-1")
        #expect(layer.receive(ack, from: "ue", reliable: false, now: clock.now()) == [])
        #expect(layer.state(of: id) == .confirmed)
        clock.advance(by: .seconds(5))
        #expect(layer.advance(to: clock.now()) == [.terminated(id)])
    }

    @Test("RFC 3261 §17.2.1: over UDP the non-2xx is re-sent at 0.5, 1.5, 3.5, 7.5, 11.5 ... s and timer H reports the missing ACK at 32 s")
    func serverTimerGAndH() throws {
        var layer = makeLayer()
        var clock = ManualClock()
        let invite = makeRequest(.invite, branch: "z9hG4bK-in4")
        let id = try #require(layer.receive(invite, from: "ue", reliable: false, now: clock.now()).newRequests.first)
        _ = try layer.sendResponse(makeResponse(480, to: invite), on: id, now: clock.now())
        let outputs = run(&layer, clock: &clock, until: .seconds(33))
        let times = outputs.filter { if case .transmit = $0.1 { return true } else { return false } }.map(\.0)
        let expected: [Duration] = [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5].map { .milliseconds(Int($0 * 1000)) }
        #expect(times == expected)
        #expect(outputs.suffix(2).map(\.1) == [.timeout(id, .timerH), .terminated(id)])
        #expect(outputs.suffix(2).allSatisfy { $0.0 == .seconds(32) })
    }

    @Test("RFC 3261 §17.2.1: over a reliable transport there is no timer G and the ACK terminates at once (timer I = 0)")
    func serverReliableACK() throws {
        var layer = makeLayer()
        var clock = ManualClock()
        let invite = makeRequest(.invite, branch: "z9hG4bK-in5", transport: "TCP")
        let id = try #require(layer.receive(invite, from: "ue", reliable: true, now: clock.now()).newRequests.first)
        _ = try layer.sendResponse(makeResponse(486, to: invite), on: id, now: clock.now())
        #expect(layer.runningTimers(of: id) == [.timerH])
        clock.advance(by: .seconds(2))
        #expect(layer.advance(to: clock.now()) == [])
        let ack = makeRequest(.ack, branch: "z9hG4bK-in5", transport: "TCP", toTag: "to-1")
        #expect(layer.receive(ack, from: "ue", reliable: true, now: clock.now()) == [.terminated(id)])
    }

    @Test("RFC 3261 §17.2.2: a non-INVITE server transaction keeps Completed for timer J = 64*T1 over UDP and 0 over TCP", arguments: [false, true])
    func serverTimerJ(reliable: Bool) throws {
        var layer = makeLayer()
        var clock = ManualClock()
        let bye = makeRequest(.bye, branch: "z9hG4bK-bye", toTag: "to-1")
        let id = try #require(layer.receive(bye, from: "ue", reliable: reliable, now: clock.now()).newRequests.first)
        let ok = makeResponse(200, to: bye)
        let sent = try layer.sendResponse(ok, on: id, now: clock.now())
        if reliable {
            #expect(sent == [.transmit(ok, to: "ue", reliable: true, transaction: id), .terminated(id)])
            return
        }
        #expect(sent == [.transmit(ok, to: "ue", reliable: false, transaction: id)])
        clock.advance(by: .seconds(31))
        #expect(layer.receive(bye, from: "ue", reliable: false, now: clock.now()) == [.transmit(ok, to: "ue", reliable: false, transaction: id)])
        clock.advance(by: .seconds(1))
        #expect(layer.advance(to: clock.now()) == [.terminated(id)])
    }

    @Test("RFC 6026 §7.1: after a 2xx the INVITE server transaction absorbs INVITE retransmissions, passes the ACK to the TU, and timer L ends it")
    func serverAccepted() throws {
        var layer = makeLayer()
        var clock = ManualClock()
        let invite = makeRequest(.invite, branch: "z9hG4bK-in6")
        let id = try #require(layer.receive(invite, from: "ue", reliable: false, now: clock.now()).newRequests.first)
        let ok = makeResponse(200, to: invite)
        _ = try layer.sendResponse(ok, on: id, now: clock.now())
        #expect(layer.state(of: id) == .accepted)
        // The INVITE retransmission is not a new request (the RFC 3261 bug RFC 6026 fixes).
        clock.advance(by: .seconds(1))
        #expect(layer.receive(invite, from: "ue", reliable: false, now: clock.now()) == [])
        // The TU's own 2xx retransmission goes out through the transaction.
        #expect(try layer.sendResponse(ok, on: id, now: clock.now()) == [.transmit(ok, to: "ue", reliable: false, transaction: id)])
        // An ACK that matches the transaction goes to the TU with the transaction id.
        let matchingACK = makeRequest(.ack, branch: "z9hG4bK-in6", toTag: "to-1")
        #expect(layer.receive(matchingACK, from: "ue", reliable: false, now: clock.now()) == [.ack(matchingACK, from: "ue", transaction: id)])
        // The usual ACK for a 2xx has a new branch: it matches no transaction and goes to the core.
        let endToEndACK = makeRequest(.ack, branch: "z9hG4bK-ack-new", toTag: "to-1")
        #expect(layer.receive(endToEndACK, from: "ue", reliable: false, now: clock.now()) == [.ack(endToEndACK, from: "ue", transaction: nil)])
        clock.advance(by: .seconds(31))
        #expect(layer.advance(to: clock.now()) == [.terminated(id)])
        // After timer L the retransmitted INVITE would be new again.
        #expect(layer.receive(invite, from: "ue", reliable: false, now: clock.now()).newRequests.count == 1)
    }

    // MARK: RFC 2543 fallback

    @Test("RFC 3261 §17.2.3 (RFC 2543 fallback): an INVITE without magic cookie matches on Request-URI, To tag, From tag, Call-ID, CSeq and top Via", arguments: [nil, "legacy-1"] as [String?])
    func legacyInviteMatching(branch: String?) throws {
        var layer = makeLayer()
        let invite = makeRequest(.invite, branch: branch)
        let id = try #require(layer.receive(invite, from: "ue", reliable: false, now: .zero).newRequests.first)
        #expect(layer.serverTransaction(matching: invite) == id)
        #expect(layer.receive(invite, from: "ue", reliable: false, now: .zero).newRequests.isEmpty)
        let variants: [Msg] = [
            makeRequest(.invite, branch: branch, uri: "sip:carol@example.com"),
            makeRequest(.invite, branch: branch, toTag: "x"),
            makeRequest(.invite, branch: branch, fromTag: "other"),
            makeRequest(.invite, branch: branch, callID: "call-2@ue"),
            makeRequest(.invite, branch: branch, cseq: 2),
            makeRequest(.invite, branch: branch, host: "elsewhere.example"),
            makeRequest(.invite, branch: branch, transport: "TCP"),
        ]
        for variant in variants {
            #expect(layer.serverTransaction(matching: variant) == nil)
        }
    }

    @Test("RFC 3261 §17.2.3 (RFC 2543 fallback): the ACK matches when its To tag equals the To tag of the response sent")
    func legacyACKMatching() throws {
        var layer = makeLayer()
        let invite = makeRequest(.invite, branch: nil)
        let id = try #require(layer.receive(invite, from: "ue", reliable: false, now: .zero).newRequests.first)
        _ = try layer.sendResponse(makeResponse(486, to: invite, toTag: "srv-tag"), on: id, now: .zero)
        // A response the transaction discards (Completed) does not change the tag an ACK must carry.
        #expect(try layer.sendResponse(makeResponse(200, to: invite, toTag: "late-tag"), on: id, now: .zero) == [])
        let wrongTag = makeRequest(.ack, branch: nil, toTag: "other-tag")
        #expect(layer.receive(wrongTag, from: "ue", reliable: false, now: .zero) == [.ack(wrongTag, from: "ue", transaction: nil)])
        #expect(layer.state(of: id) == .completed)
        let ack = makeRequest(.ack, branch: nil, toTag: "srv-tag")
        #expect(layer.serverTransaction(matching: ack) == id)
        #expect(layer.receive(ack, from: "ue", reliable: false, now: .zero) == [])
        #expect(layer.state(of: id) == .confirmed)
    }

    @Test("RFC 3261 §17.2.3 (RFC 2543 fallback): a non-INVITE matches including the CSeq method")
    func legacyNonInvite() throws {
        var layer = makeLayer()
        let options = makeRequest(.options, branch: nil)
        _ = try #require(layer.receive(options, from: "ue", reliable: false, now: .zero).newRequests.first)
        #expect(layer.receive(options, from: "ue", reliable: false, now: .zero).newRequests.isEmpty)
        let info = makeRequest("INFO", branch: nil)
        #expect(layer.receive(info, from: "ue", reliable: false, now: .zero).newRequests.count == 1)
    }

    // MARK: CANCEL

    @Test("RFC 3261 §9.2: a CANCEL creates its own server transaction and names the INVITE transaction with the same branch and sent-by")
    func cancelMatching() throws {
        var layer = makeLayer()
        let invite = makeRequest(.invite, branch: "z9hG4bK-c1")
        let inviteID = try #require(layer.receive(invite, from: "ue", reliable: false, now: .zero).newRequests.first)
        let cancel = makeRequest(.cancel, branch: "z9hG4bK-c1", cseqMethod: .cancel)
        #expect(layer.inviteTransaction(cancelledBy: cancel) == inviteID)
        let outputs = layer.receive(cancel, from: "ue", reliable: false, now: .zero)
        guard case .cancelRequest(let cancelID, let message, "ue", let target)? = outputs.first else {
            Issue.record("expected a cancelRequest, got \(outputs)")
            return
        }
        #expect(message == cancel)
        #expect(target == inviteID)
        #expect(cancelID != inviteID)
        #expect(layer.kind(of: cancelID) == .nonInviteServer)
        // The CANCEL retransmission matches the CANCEL transaction, not a new one.
        #expect(layer.receive(cancel, from: "ue", reliable: false, now: .zero).isEmpty)
        #expect(layer.count == 2)
    }

    @Test("RFC 3261 §9.2: a CANCEL with no matching INVITE (other branch or other sent-by) names no transaction")
    func cancelWithoutInvite() throws {
        var layer = makeLayer()
        _ = layer.receive(makeRequest(.invite, branch: "z9hG4bK-c2"), from: "ue", reliable: false, now: .zero)
        let otherBranch = makeRequest(.cancel, branch: "z9hG4bK-c3")
        #expect(layer.inviteTransaction(cancelledBy: otherBranch) == nil)
        let otherSentBy = makeRequest(.cancel, branch: "z9hG4bK-c2", host: "spoof.example")
        #expect(layer.inviteTransaction(cancelledBy: otherSentBy) == nil)
        let outputs = layer.receive(otherBranch, from: "ue", reliable: false, now: .zero)
        guard case .cancelRequest(_, _, _, let target)? = outputs.first else {
            Issue.record("expected a cancelRequest")
            return
        }
        #expect(target == nil)
    }

    @Test("RFC 3261 §9.2 with §17.2.3 fallback: an RFC 2543 CANCEL names the INVITE with the same Request-URI, Call-ID, tags, CSeq number and top Via")
    func legacyCancel() throws {
        var layer = makeLayer()
        let invite = makeRequest(.invite, branch: nil, cseq: 5)
        let inviteID = try #require(layer.receive(invite, from: "ue", reliable: false, now: .zero).newRequests.first)
        let cancel = makeRequest(.cancel, branch: nil, cseq: 5)
        #expect(layer.inviteTransaction(cancelledBy: cancel) == inviteID)
        #expect(layer.inviteTransaction(cancelledBy: makeRequest(.cancel, branch: nil, cseq: 6)) == nil)
        #expect(layer.inviteTransaction(cancelledBy: makeRequest(.cancel, branch: nil, cseq: 5, fromTag: "f2")) == nil)
        // A CANCEL for a non-INVITE request names nothing.
        _ = layer.receive(makeRequest(.options, branch: nil, cseq: 9), from: "ue", reliable: false, now: .zero)
        #expect(layer.inviteTransaction(cancelledBy: makeRequest(.cancel, branch: nil, cseq: 9)) == nil)
    }

    // MARK: Transport errors, timer C, limits

    @Test("RFC 3261 §17.1.4: a transport error reported for a client transaction informs the TU and destroys it")
    func transportErrorThroughLayer() throws {
        var layer = makeLayer()
        let (id, _) = try layer.sendRequest(makeRequest(.invite, branch: "z9hG4bK-te"), to: "core", reliable: true, now: .zero)
        #expect(layer.transportError(on: id, now: .zero) == [.transportError(id), .terminated(id)])
        #expect(layer.count == 0)
        #expect(layer.transportError(on: id, now: .zero) == [])
    }

    @Test("RFC 3261 §16.8: a proxy's INVITE client transaction reports timer C 181 s after the last non-100 provisional")
    func timerCThroughLayer() throws {
        var layer = makeLayer(timerC: true)
        var clock = ManualClock()
        let invite = makeRequest(.invite, branch: "z9hG4bK-tc")
        let (id, _) = try layer.sendRequest(invite, to: "core", reliable: true, now: clock.now())
        clock.advance(by: .seconds(20))
        _ = layer.receive(makeResponse(180, to: invite), from: "core", reliable: true, now: clock.now())
        clock.advance(by: .seconds(180))
        #expect(layer.advance(to: clock.now()) == [])  // C was reset at 20 s: due at 201 s
        clock.advance(by: .seconds(1))
        #expect(layer.advance(to: clock.now()) == [.timerC(id, provisionalReceived: true)])
        #expect(layer.nextDeadline == clock.now() + .seconds(32))
    }

    @Test("Bounded state (RFC 3261 §21.5.4): beyond maximumTransactions a new request is rejected statelessly with 503; ACKs still pass")
    func limit() throws {
        var layer = makeLayer(maximum: 2)
        let first = makeRequest(.invite, branch: "z9hG4bK-l1")
        let firstID = try #require(layer.receive(first, from: "ue", reliable: true, now: .zero).newRequests.first)
        _ = layer.receive(makeRequest(.invite, branch: "z9hG4bK-l2"), from: "ue", reliable: true, now: .zero)
        let third = makeRequest(.invite, branch: "z9hG4bK-l3")
        #expect(layer.receive(third, from: "ue", reliable: true, now: .zero) == [.rejectStateless(third, status: 503, to: "ue", reliable: true)])
        #expect(layer.count == 2)
        do {
            _ = try layer.sendRequest(makeRequest(.invite, branch: "z9hG4bK-l4"), to: "core", reliable: true, now: .zero)
            Issue.record("limit not enforced for client transactions")
        } catch {
            #expect(error.code == .tooManyTransactions)
            #expect(error.sipStatus == 503)
        }
        let ack = makeRequest(.ack, branch: "z9hG4bK-ack", toTag: "t")
        #expect(layer.receive(ack, from: "ue", reliable: true, now: .zero) == [.ack(ack, from: "ue", transaction: nil)])
        // Retransmissions of existing transactions are still matched at the limit.
        #expect(layer.receive(first, from: "ue", reliable: true, now: .zero) == [])
        // When a transaction ends there is room again.
        _ = try layer.sendResponse(makeResponse(486, to: first), on: firstID, now: .zero)
        _ = layer.receive(makeRequest(.ack, branch: "z9hG4bK-l1", toTag: "to-1"), from: "ue", reliable: true, now: .zero)
        #expect(layer.count == 1)
        #expect(layer.receive(third, from: "ue", reliable: true, now: .zero).newRequests.count == 1)
    }

    @Test("Deadline list: nextDeadline is the earliest running timer and stale timers do not pile up")
    func deadlineList() throws {
        var layer = makeLayer(maximum: 10_000)
        var clock = ManualClock()
        #expect(layer.nextDeadline == nil)
        _ = try layer.sendRequest(makeRequest(.options, branch: "z9hG4bK-dl"), to: "core", reliable: false, now: clock.now())
        #expect(layer.nextDeadline == at(.milliseconds(500)))
        // Thousands of short reliable transactions, each leaving a cancelled timer F behind.
        for index in 0..<3000 {
            let request = makeRequest(.options, branch: "z9hG4bK-n\(index)", transport: "TCP")
            let (id, _) = try layer.sendRequest(request, to: "core", reliable: true, now: clock.now())
            _ = layer.receive(makeResponse(200, to: request), from: "core", reliable: true, now: clock.now())
            #expect(layer.state(of: id) == nil)
        }
        #expect(layer.count == 1)
        #expect(layer.queuedTimerCount <= 8 * layer.count + 1024 + 1)
        clock.advance(by: .milliseconds(500))
        #expect(layer.advance(to: clock.now()).transmitted.count == 1)
    }

    @Test("Time never runs backwards: an older `now` fires nothing and keeps the layer's time")
    func monotonicTime() throws {
        var layer = makeLayer()
        let (id, _) = try layer.sendRequest(makeRequest(.options, branch: "z9hG4bK-mt"), to: "core", reliable: false, now: at(.seconds(10)))
        #expect(layer.advance(to: at(.seconds(1))) == [])
        #expect(layer.currentTime == at(.seconds(10)))
        #expect(layer.advance(to: at(.milliseconds(10_500))).transmitted.count == 1)
        #expect(layer.state(of: id) == .trying)
    }
}
