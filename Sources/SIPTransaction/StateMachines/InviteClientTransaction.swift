/// The INVITE client transaction of RFC 3261 §17.1.1 with the RFC 6026 §7.2 / §8.4 changes
/// (Accepted state, timer M), plus the optional proxy timer C of RFC 3261 §16.6 step 11 / §16.8.
///
/// ```
/// Calling --1xx--> Proceeding --300-699--> Completed --D--> Terminated
///    |  \__________________2xx____________> Accepted  --M--> Terminated
///    +--B / transport error / C (no 1xx)--> Terminated
/// ```
public struct InviteClientTransaction<Payload: Sendable>: Sendable {
    /// The current state.
    public private(set) var state: TransactionState = .initial
    /// The INVITE that created the transaction; nil once it entered Accepted (RFC 6026 §7.2: 2xx
    /// responses go to the TU and nothing is sent again, so it is not held for the 64*T1 of timer M).
    public private(set) var request: TransactionMessage<Payload>?
    /// True when the transport is reliable (TCP, TLS, SCTP): no timer A, timer D is zero.
    public let reliable: Bool
    /// True when this element is a proxy and runs timer C (RFC 3261 §16.6 step 11).
    public let usesTimerC: Bool
    // The timer durations this machine uses, resolved once from `TransactionTimers` at creation:
    // the machine is moved on every event, so it carries a few values rather than the whole set.
    /// 64*T1: timers B and M (RFC 3261 §17.1.1.2, RFC 6026 §7.2).
    let sixtyFourT1: Duration
    let timerC: Duration
    let timerD: Duration
    /// The current timer A interval (doubles after each retransmission).
    public private(set) var timerAInterval: Duration
    private var timerCFired = false

    public init(
        request: TransactionMessage<Payload>, reliable: Bool, timers: TransactionTimers, usesTimerC: Bool = false
    ) {
        self.request = request
        self.reliable = reliable
        self.sixtyFourT1 = timers.sixtyFourT1
        self.timerC = timers.timerC
        self.timerD = timers.timerD(reliable: reliable)
        self.usesTimerC = usesTimerC
        self.timerAInterval = timers.timerAInitial
    }

    /// Feeds one event to the state machine and returns the actions to execute, in order.
    /// Events without a transition in the current state return no action.
    public mutating func handle(_ event: TransactionEvent<Payload>) -> [TransactionAction<Payload>] {
        var actions: [TransactionAction<Payload>] = []
        handle(event, into: &actions)
        return actions
    }

    /// As `handle(_:)`, appending the actions to `actions` (the layer reuses one array for all
    /// events instead of allocating one per event).
    mutating func handle(_ event: TransactionEvent<Payload>, into actions: inout [TransactionAction<Payload>]) {
        switch (state, event) {
        case (.initial, .start):
            // §17.1.1.2: "The initial state, "Calling", MUST be entered when the TU initiates a new
            // client transaction with an INVITE request. The client transaction MUST pass the
            // request to the transport layer for transmission. If an unreliable transport is being
            // used, the client transaction MUST start timer A with a value of T1. [...] For any
            // transport, the client transaction MUST start timer B with a value of 64*T1."
            state = .calling
            if let request { actions.append(.send(request)) }
            if !reliable { actions.append(.startTimer(.timerA, timerAInterval)) }
            actions.append(.startTimer(.timerB, sixtyFourT1))
            // §16.6 step 11: a stateful proxy starts timer C when forwarding an INVITE.
            if usesTimerC { actions.append(.startTimer(.timerC, timerC)) }

        case (.calling, .timerFired(.timerA)):
            // §17.1.1.2: on timer A, retransmit and reset timer A to 2*previous (no T2 cap).
            // Timer B (64*T1) ends Calling before an interval above 64*T1 could matter, so the
            // doubling is clamped there: the schedule is unchanged and the arithmetic can never
            // overflow, whatever feeds the events.
            timerAInterval = min(timerAInterval + timerAInterval, sixtyFourT1)
            guard let request else { actions.append(.startTimer(.timerA, timerAInterval)); return }
            actions.append(.send(request))
            actions.append(.startTimer(.timerA, timerAInterval))

        case (.calling, .timerFired(.timerB)):
            // §17.1.1.2: timer B in Calling: inform the TU of the timeout; no ACK.
            stopAll(except: .timerB, into: &actions)
            state = .terminated
            actions.append(.timeout(.timerB))
            actions.append(.terminated)

        case (.proceeding, .timerFired(.timerB)) where timerCFired:
            // RFC 3261 §9.1: after the CANCEL that timer C caused, the original transaction is
            // considered cancelled if no final response arrives within 64*T1.
            state = .terminated
            actions.append(.timeout(.timerB))
            actions.append(.terminated)

        case (.calling, .timerFired(.timerC)):
            // §16.8: "If the client transaction has not received a provisional response, the
            // proxy MUST behave as if the transaction received a 408 (Request Timeout) response."
            timerCFired = true
            stopAll(into: &actions)
            state = .terminated
            actions.append(.timerCExpired(provisionalReceived: false))
            actions.append(.terminated)

        case (.proceeding, .timerFired(.timerC)):
            // §16.8: "If the client transaction has received a provisional response, the proxy
            // MUST generate a CANCEL request matching that transaction." The TU sends it; we guard
            // the wait for the 487 with 64*T1 (§9.1) so the transaction cannot linger.
            timerCFired = true
            actions.append(.timerCExpired(provisionalReceived: true))
            actions.append(.startTimer(.timerB, sixtyFourT1))

        case (.calling, .received(let response)), (.proceeding, .received(let response)):
            receivedWhileActive(response, into: &actions)

        case (.completed, .received(let response)):
            // §17.1.1.2: "Any retransmissions of the final response that are received while in
            // the "Completed" state MUST cause the ACK to be re-passed to the transport layer for
            // retransmission, but the newly received response MUST NOT be passed up to the TU."
            if let code = response.statusCode, ResponseClass(statusCode: code) == .failure {
                actions.append(.sendACK(forResponse: response))
            }

        case (.completed, .timerFired(.timerD)):
            // §17.1.1.2: "If timer D fires while the client transaction is in the "Completed"
            // state, the client transaction MUST move to the terminated state."
            state = .terminated
            actions.append(.terminated)

        case (.accepted, .received(let response)):
            // RFC 6026 §7.2: "A 2xx response received while in the "Accepted" state MUST be
            // passed to the TU and the machine remains in the "Accepted" state. The client
            // transaction MUST NOT generate an ACK to any 2xx response on its own."
            if let code = response.statusCode, ResponseClass(statusCode: code) == .success {
                actions.append(.passToTU(response))
            }

        case (.accepted, .timerFired(.timerM)):
            // RFC 6026 §7.2: "When Timer M fires and the state machine is in the "Accepted"
            // state, the machine MUST transition to the "Terminated" state."
            state = .terminated
            actions.append(.terminated)

        case (.calling, .transportError), (.completed, .transportError):
            // §17.1.1.2 / Figure 5: a transport error in Calling or Completed informs the TU and
            // terminates the transaction (§17.1.4).
            stopAll(into: &actions)
            state = .terminated
            actions.append(.transportError)
            actions.append(.terminated)

        default:
            // Stale timers and messages that have no transition in this state are absorbed.
            break
        }
    }

    private mutating func receivedWhileActive(
        _ response: TransactionMessage<Payload>, into actions: inout [TransactionAction<Payload>]
    ) {
        guard let code = response.statusCode, let responseClass = ResponseClass(statusCode: code) else {
            return
        }
        switch responseClass {
        case .provisional:
            // §17.1.1.2: "If the client transaction receives a provisional response while in the
            // "Calling" state, it transitions to the "Proceeding" state. In the "Proceeding"
            // state, the client transaction SHOULD NOT retransmit the request any longer.
            // Furthermore, the provisional response MUST be passed to the TU."
            if state == .calling {
                state = .proceeding
                if !reliable { actions.append(.cancelTimer(.timerA)) }
                actions.append(.cancelTimer(.timerB))
            }
            // §16.7 step 2: provisional responses other than 100 reset timer C (not after it
            // already fired and a CANCEL is under way).
            if usesTimerC, code != 100, !timerCFired {
                actions.append(.startTimer(.timerC, timerC))
            }
            actions.append(.passToTU(response))
        case .success:
            // RFC 6026 §8.4 (replacing §17.1.1.2): "When in either the "Calling" or "Proceeding"
            // states, reception of a 2xx response MUST cause the client transaction to enter the
            // "Accepted" state, and the response MUST be passed up to the TU." Timer M = 64*T1.
            stopAll(into: &actions)
            state = .accepted
            request = nil
            actions.append(.passToTU(response))
            actions.append(.startTimer(.timerM, sixtyFourT1))
        case .failure:
            // §17.1.1.2: "When in either the "Calling" or "Proceeding" states, reception of a
            // response with status code from 300-699 MUST cause the client transaction to
            // transition to "Completed". The client transaction MUST pass the received response
            // up to the TU, and the client transaction MUST generate an ACK request [...]. The
            // client transaction SHOULD start timer D [...] at least 32 seconds for unreliable
            // transports, and a value of zero seconds for reliable transports."
            stopAll(into: &actions)
            state = .completed
            actions.append(.passToTU(response))
            actions.append(.sendACK(forResponse: response))
            actions.append(.startTimer(.timerD, timerD))
        }
    }

    /// Cancels the timers that run in the current state, except `fired` (the timer being handled).
    private func stopAll(except fired: TransactionTimer? = nil, into actions: inout [TransactionAction<Payload>]) {
        func cancel(_ timer: TransactionTimer) {
            if timer != fired { actions.append(.cancelTimer(timer)) }
        }
        let timerCRunning = usesTimerC && !timerCFired
        switch state {
        case .calling:
            if !reliable { cancel(.timerA) }
            cancel(.timerB)
            if timerCRunning { cancel(.timerC) }
        case .proceeding:
            if timerCFired { cancel(.timerB) }
            if timerCRunning { cancel(.timerC) }
        case .completed:
            cancel(.timerD)
        case .accepted:
            cancel(.timerM)
        case .initial, .trying, .confirmed, .terminated:
            break
        }
    }
}
