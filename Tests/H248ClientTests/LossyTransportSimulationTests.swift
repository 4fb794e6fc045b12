// Covers H.248.1 Annex D.1 end to end (at-most-once over an unreliable datagram service):
// the requester machines (D.1.2 retransmission, D.1.4 Pending, §8.2.3 acks) run against the
// responder's reply cache (D.1.3 duplicate detection) through a simulated channel that drops 20 %
// of datagrams in both directions and reorders them (random per-datagram delay).
// Assertions: every transaction completes exactly once, none fails, and the executor ran every
// request exactly once, although duplicates, resent replies and Pendings did occur.
// The pseudo-random generator is seeded and lives only in this test; the state machines use none.
import ALGTestSupport
import Testing
@testable import H248Client


private enum Packet: Hashable {
    case request(UInt32)
    case pending(UInt32)
    case reply(UInt32, immAck: Bool)
    case ack([TransactionAckRange])
}

private enum Direction { case toMG, toMGC }

private struct InFlight {
    var at: H248Instant
    var seq: Int
    var direction: Direction
    var packet: Packet
}

private struct SimulationResult {
    var completions: [Int]
    var failures: [H248ClientError]
    var executions: [Int]
    var datagramsSent = 0
    var datagramsDropped = 0
    var resentReplies = 0
    var pendingsSent = 0
    var ignoredDuplicates = 0
    var repliesReleasedByAck = 0
    var retransmissions = 0
    var reorderings = 0
    var smoothedRTT: Duration?
}

/// Runs `count` UDP transactions through the lossy channel.
private func simulate(seed: UInt64, count: Int, dropRate: Double) -> SimulationResult {
    var rng = SplitMix64(state: seed)
    var timers = H248TransactionTimers()
    timers.longTimer = .seconds(30)
    timers.mgcProvisionalResponseTimerValue = .seconds(1)
    timers.mgProvisionalResponseTimerValue = .seconds(2)
    timers.mgOriginatedPendingLimit = 20
    timers.mgcOriginatedPendingLimit = 20

    var result = SimulationResult(
        completions: Array(repeating: 0, count: count), failures: [], executions: Array(repeating: 0, count: count))

    // Channel.
    var inFlight: [InFlight] = []
    var seq = 0
    var lastDeliveredSeq: [Direction: Int] = [.toMG: -1, .toMGC: -1]
    func send(_ packet: Packet, _ direction: Direction, now: H248Instant) {
        result.datagramsSent += 1
        if rng.unit() < dropRate {
            result.datagramsDropped += 1
            return
        }
        // 5-155 ms one-way delay, independent per datagram: later datagrams often overtake.
        inFlight.append(InFlight(at: now + .milliseconds(5 + rng.below(150)), seq: seq, direction: direction, packet: packet))
        seq += 1
    }

    // MGC (requester) side: the per-peer table (allocator, machines, RTT estimator, ack batcher).
    var mgc = OutgoingTransactionTable(
        transport: .udp, timers: timers, ackBatcher: ResponseAckBatcher(maximumBatchSize: 8, flushDelay: .milliseconds(50)))
    let startTimes = (0..<count).map { H248Instant.milliseconds(Int64($0) * 25) }
    var nextStart = 0

    // MG (responder) side.
    var table = IncomingTransactionTable<Packet>(timers: timers)
    var executing: [(id: UInt32, doneAt: H248Instant)] = []

    func handleMGC(_ actions: [OutgoingTransactionTable.Action], now: H248Instant) {
        for action in actions {
            switch action {
            case .send(let id):
                send(.request(id), .toMG, now: now)
            case .retransmit(let id, _):
                result.retransmissions += 1
                send(.request(id), .toMG, now: now)
            case .completed(let id, _):
                result.completions[Int(id) - 1] += 1
            case .failed(_, let e):
                result.failures.append(e)
            case .sendResponseAck(let ranges):
                send(.ack(ranges), .toMG, now: now)
            }
        }
    }

    var now = H248Instant.zero
    var steps = 0
    while steps < 1_000_000 {
        steps += 1
        var candidates: [H248Instant] = []
        if nextStart < count { candidates.append(startTimes[nextStart]) }
        if let p = inFlight.map(\.at).min() { candidates.append(p) }
        if let e = executing.map(\.doneAt).min() { candidates.append(e) }
        if let d = table.nextDeadline { candidates.append(d) }
        if let d = mgc.nextDeadline { candidates.append(d) }
        guard let t = candidates.min() else { break }
        now = max(now, t)

        // 1. New transactions.
        while nextStart < count, startTimes[nextStart] <= now {
            guard let (id, actions) = try? mgc.begin(now: now) else { break }
            #expect(id == UInt32(nextStart + 1))
            handleMGC(actions, now: now)
            nextStart += 1
        }

        // 2. Datagrams due, in arrival order.
        let due = inFlight.filter { $0.at <= now }.sorted { ($0.at, $0.seq) < ($1.at, $1.seq) }
        inFlight.removeAll { $0.at <= now }
        for d in due {
            if let last = lastDeliveredSeq[d.direction], d.seq < last { result.reorderings += 1 }
            lastDeliveredSeq[d.direction] = max(lastDeliveredSeq[d.direction] ?? -1, d.seq)
            switch (d.direction, d.packet) {
            case (.toMG, .request(let id)):
                switch table.requestReceived(transactionID: id, now: now) {
                case .execute:
                    result.executions[Int(id) - 1] += 1
                    // Every 10th request runs 2.5 s (> MGCProvisionalResponseTimerValue → Pending).
                    let duration: Duration = id % 10 == 0 ? .milliseconds(2500) : .milliseconds(20)
                    executing.append((id, now + duration))
                case .resendReply(let reply):
                    result.resentReplies += 1
                    send(reply, .toMGC, now: now)
                case .sendPending:
                    result.pendingsSent += 1
                    send(.pending(id), .toMGC, now: now)
                case .ignoreDuplicate:
                    result.ignoredDuplicates += 1
                case .reject(let e):
                    result.failures.append(e)
                }
            case (.toMG, .ack(let ranges)):
                result.repliesReleasedByAck += table.responseAckReceived(ranges, now: now)
            case (.toMGC, .pending(let id)):
                handleMGC(mgc.pendingReceived(transactionID: id, now: now), now: now)
            case (.toMGC, .reply(let id, let immAck)):
                handleMGC(mgc.replyReceived(transactionID: id, immAckRequired: immAck, now: now), now: now)
            default:
                Issue.record("unexpected \(d.packet) towards \(d.direction)")
            }
        }

        // 3. Executions finishing (sorted for determinism).
        let finished = executing.filter { $0.doneAt <= now }.sorted { ($0.doneAt, $0.id) < ($1.doneAt, $1.id) }
        executing.removeAll { $0.doneAt <= now }
        for f in finished {
            let reply = Packet.reply(f.id, immAck: f.id % 3 == 0)
            if table.replyReady(transactionID: f.id, reply: reply, now: now) == .send {
                send(reply, .toMGC, now: now)
            }
        }

        // 4. Responder timers (proactive Pending, cache expiry).
        if let d = table.nextDeadline, d <= now {
            for case .sendPending(let id) in table.timerFired(now: now) {
                result.pendingsSent += 1
                send(.pending(id), .toMGC, now: now)
            }
        }

        // 5. Requester timers (retransmission, provisional, LONG-TIMER, ack flush).
        if let d = mgc.nextDeadline, d <= now { handleMGC(mgc.timerFired(now: now), now: now) }
    }
    result.smoothedRTT = mgc.estimator.smoothedRTT
    #expect(mgc.trackedCount == 0, "every transaction is forgotten LONG-TIMER after completion")
    return result
}

@Suite("Lossy transport simulation (H.248.1 Annex D.1)")
struct LossyTransportSimulationTests {
    @Test("Annex D.1: 20 % loss + reordering — every transaction completes exactly once, each request executes once",
          arguments: [UInt64(0x1248), 0xC0FFEE, 20_261_123])
    func lossyChannel(seed: UInt64) {
        let r = simulate(seed: seed, count: 120, dropRate: 0.2)
        #expect(r.failures.isEmpty, "failures: \(r.failures)")
        #expect(r.completions.allSatisfy { $0 == 1 }, "completions: \(r.completions)")
        #expect(r.executions.allSatisfy { $0 == 1 }, "executions: \(r.executions)")
        // The test exercised the machinery it claims to test.
        let dropShare = Double(r.datagramsDropped) / Double(r.datagramsSent)
        #expect(dropShare > 0.1 && dropShare < 0.3, "drop share \(dropShare)")
        #expect(r.reorderings > 0)
        #expect(r.retransmissions > 0)
        #expect(r.resentReplies > 0, "no request was answered from the reply cache")
        #expect(r.pendingsSent > 0, "no Pending was sent")
        #expect(r.repliesReleasedByAck > 0, "no TransactionResponseAck released a cached reply")
        // RFC 6298 estimator fed by Karn-valid samples: one-way delays are 5-155 ms.
        if let srtt = r.smoothedRTT {
            #expect(srtt > .milliseconds(10) && srtt < .milliseconds(1000), "SRTT \(srtt)")
        } else {
            Issue.record("no RTT sample was taken")
        }
    }

    @Test("Annex D.1 control: without loss nothing is retransmitted or resent and everything completes once")
    func losslessChannel() {
        let r = simulate(seed: 7, count: 50, dropRate: 0)
        #expect(r.failures.isEmpty)
        #expect(r.completions.allSatisfy { $0 == 1 })
        #expect(r.executions.allSatisfy { $0 == 1 })
        #expect(r.resentReplies == 0)
        #expect(r.datagramsDropped == 0)
    }
}
