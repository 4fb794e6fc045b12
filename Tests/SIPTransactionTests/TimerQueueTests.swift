// Covers the deadline list behind the injected-time timers (house style §6.6): deadline order,
// insertion order for equal deadlines (deterministic firing), lazy removal by compaction; and a
// proxy-shaped flow through the layer (RFC 3261 §16.10 CANCEL, §17.2.1 / §17.1.1.2 487 + ACK hop by hop).

import Testing

@testable import SIPTransaction

@Suite("TimerQueue and a proxy flow through TransactionLayer")
struct TimerQueueTests {
    @Test("Deadline list pops in deadline order, equal deadlines in insertion order")
    func ordering() {
        var queue = TimerQueue()
        let deadlines: [Int] = [7, 3, 9, 3, 1, 7, 3, 0, 12, 5]
        for (index, deadline) in deadlines.enumerated() {
            queue.push(deadline: at(.seconds(deadline)), transaction: TransactionID(rawValue: UInt64(index)), timer: .timerA, generation: 0)
        }
        var popped: [(Int, UInt64)] = []
        while let item = queue.popFirst() {
            popped.append((Int(item.deadline.sinceOrigin.components.seconds), item.transaction.rawValue))
        }
        #expect(popped.map(\.0) == deadlines.sorted())
        // The three entries due at 3 s come out in the order they were pushed (indexes 1, 3, 6).
        #expect(popped.filter { $0.0 == 3 }.map(\.1) == [1, 3, 6])
        #expect(queue.count == 0)
    }

    @Test("Compaction keeps only live entries and preserves the heap order")
    func compaction() {
        var queue = TimerQueue()
        for index in 0..<100 {
            queue.push(deadline: at(.seconds(100 - index)), transaction: TransactionID(rawValue: UInt64(index)), timer: .timerF, generation: UInt64(index))
        }
        queue.compact { $0.generation % 10 == 0 }
        #expect(queue.count == 10)
        var last = TransactionInstant.zero
        while let item = queue.popFirst() {
            #expect(item.deadline >= last)
            #expect(item.generation % 10 == 0)
            last = item.deadline
        }
    }

    @Test("RFC 3261 §9.2 / §16.10 / §17.2.1: a CANCELled call through a proxy: 487 on the server side, ACK absorbed hop by hop")
    func proxyCancelFlow() throws {
        var layer = Layer(configuration: TransactionLayerConfiguration(), makeACK: testACKFactory)
        var clock = ManualClock()
        // UE → proxy: INVITE over UDP.
        let inbound = makeRequest(.invite, branch: "z9hG4bK-ue1")
        let serverID = try #require(layer.receive(inbound, from: "ue", reliable: false, now: clock.now()).newRequests.first)
        _ = try layer.sendResponse(makeResponse(100, to: inbound), on: serverID, now: clock.now())
        // Proxy → core: INVITE over TCP with our own branch.
        let outbound = makeRequest(.invite, branch: "z9hG4bK-px1", host: "pcscf.example", transport: "TCP")
        let (clientID, _) = try layer.sendRequest(outbound, to: "core", reliable: true, now: clock.now())
        clock.advance(by: .milliseconds(300))
        let ringing = makeResponse(180, to: outbound)
        #expect(layer.receive(ringing, from: "core", reliable: true, now: clock.now()) == [.response(clientID, ringing)])
        // UE cancels; the CANCEL names the inbound INVITE transaction.
        clock.advance(by: .seconds(2))
        let cancel = makeRequest(.cancel, branch: "z9hG4bK-ue1")
        let outputs = layer.receive(cancel, from: "ue", reliable: false, now: clock.now())
        guard case .cancelRequest(let cancelServerID, _, _, let target)? = outputs.first else {
            Issue.record("no cancelRequest in \(outputs)")
            return
        }
        #expect(target == serverID)
        _ = try layer.sendResponse(makeResponse(200, to: cancel), on: cancelServerID, now: clock.now())
        // Proxy cancels the outbound branch (same branch, method CANCEL).
        let outboundCancel = makeRequest(.cancel, branch: "z9hG4bK-px1", host: "pcscf.example", transport: "TCP")
        let (cancelClientID, _) = try layer.sendRequest(outboundCancel, to: "core", reliable: true, now: clock.now())
        #expect(layer.receive(makeResponse(200, to: outboundCancel), from: "core", reliable: true, now: clock.now()).terminatedIDs == [cancelClientID])
        // Core answers 487: the client transaction ACKs it itself (hop by hop) and ends (D = 0 on TCP).
        let terminated = makeResponse(487, to: outbound, toTag: "core-tag")
        let clientOutputs = layer.receive(terminated, from: "core", reliable: true, now: clock.now())
        #expect(clientOutputs.responsesToTU == [terminated])
        #expect(clientOutputs.transmitted.map(\.method) == [.ack])
        #expect(clientOutputs.terminatedIDs == [clientID])
        // Proxy sends 487 to the UE; the UE's ACK is absorbed by the server transaction.
        _ = try layer.sendResponse(makeResponse(487, to: inbound, toTag: "px-tag"), on: serverID, now: clock.now())
        let ueACK = makeRequest(.ack, branch: "z9hG4bK-ue1", toTag: "px-tag")
        #expect(layer.receive(ueACK, from: "ue", reliable: false, now: clock.now()) == [])
        #expect(layer.state(of: serverID) == .confirmed)
        // Timers I (5 s) and J (32 s) end the UDP server transactions.
        clock.advance(by: .seconds(32))
        #expect(Set(layer.advance(to: clock.now()).terminatedIDs) == [serverID, cancelServerID])
        #expect(layer.count == 0)
    }
}
