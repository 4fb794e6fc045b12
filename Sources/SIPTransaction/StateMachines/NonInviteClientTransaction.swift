/// The non-INVITE client transaction of RFC 3261 §17.1.2.
///
/// ```
/// Trying --1xx--> Proceeding --200-699--> Completed --K--> Terminated
///   \--200-699------------------------------^
///   Trying/Proceeding --F / transport error--> Terminated
/// ```
public struct NonInviteClientTransaction<Payload: Sendable>: Sendable {
    /// The current state.
    public private(set) var state: TransactionState = .initial
    /// The request that created the transaction; nil once it entered Completed (§17.1.2.2: that
    /// state only absorbs response retransmissions, so the request is not held for timer K).
    public private(set) var request: TransactionMessage<Payload>?
    /// True when the transport is reliable: no timer E, timer K is zero.
    public let reliable: Bool
    // The timer durations this machine uses, resolved once from `TransactionTimers` at creation:
    // the machine is moved on every event, so it carries a few values rather than the whole set.
    let timerF: Duration
    let t2: Duration
    let timerK: Duration
    /// The current timer E interval.
    public private(set) var timerEInterval: Duration

    public init(request: TransactionMessage<Payload>, reliable: Bool, timers: TransactionTimers) {
        self.request = request
        self.reliable = reliable
        self.timerF = timers.timerF
        self.t2 = timers.t2
        self.timerK = timers.timerK(reliable: reliable)
        self.timerEInterval = timers.timerEInitial
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
            // §17.1.2.2: "The "Trying" state is entered when the TU initiates a new client
            // transaction with a request. When entering this state, the client transaction SHOULD
            // set timer F to fire in 64*T1 seconds. The request MUST be passed to the transport
            // layer for transmission. If an unreliable transport is in use, the client
            // transaction MUST set timer E to fire in T1 seconds."
            state = .trying
            if let request { actions.append(.send(request)) }
            if !reliable { actions.append(.startTimer(.timerE, timerEInterval)) }
            actions.append(.startTimer(.timerF, timerF))

        case (.trying, .timerFired(.timerE)):
            // §17.1.2.2: "If timer E fires while still in this state, the timer is reset, but this
            // time with value MIN(2*T1, T2). When the timer fires again, it is reset to a
            // MIN(4*T1, T2)."
            timerEInterval = min(timerEInterval + timerEInterval, t2)
            guard let request else { actions.append(.startTimer(.timerE, timerEInterval)); return }
            actions.append(.send(request))
            actions.append(.startTimer(.timerE, timerEInterval))

        case (.proceeding, .timerFired(.timerE)):
            // §17.1.2.2: "If Timer E fires while in the "Proceeding" state, the request MUST be
            // passed to the transport layer for retransmission, and Timer E MUST be reset with a
            // value of T2 seconds."
            timerEInterval = t2
            guard let request else { actions.append(.startTimer(.timerE, timerEInterval)); return }
            actions.append(.send(request))
            actions.append(.startTimer(.timerE, timerEInterval))

        case (.trying, .timerFired(.timerF)), (.proceeding, .timerFired(.timerF)):
            // §17.1.2.2: "If Timer F fires while the client transaction is still in the "Trying"
            // [or "Proceeding"] state, the client transaction SHOULD inform the TU about the
            // timeout, and then it SHOULD enter the "Terminated" state."
            state = .terminated
            stopERunning(into: &actions)
            actions.append(.timeout(.timerF))
            actions.append(.terminated)

        case (.trying, .received(let response)), (.proceeding, .received(let response)):
            guard let code = response.statusCode, let responseClass = ResponseClass(statusCode: code) else {
                return
            }
            if responseClass == .provisional {
                // §17.1.2.2: "If a provisional response is received while in the "Trying" state,
                // the response MUST be passed to the TU, and then the client transaction SHOULD
                // move to the "Proceeding" state." / in Proceeding: passed to the TU.
                state = .proceeding
                actions.append(.passToTU(response))
                return
            }
            // §17.1.2.2: "If a final response (status codes 200-699) is received while in the
            // "Trying" [or "Proceeding"] state, the response MUST be passed to the TU, and the
            // client transaction MUST transition to the "Completed" state." ... "Once the client
            // transaction enters the "Completed" state, it MUST set Timer K to fire in T4 seconds
            // for unreliable transports, and zero seconds for reliable transports."
            state = .completed
            request = nil
            stopERunning(into: &actions)
            actions.append(.cancelTimer(.timerF))
            actions.append(.passToTU(response))
            actions.append(.startTimer(.timerK, timerK))

        case (.completed, .received):
            // §17.1.2.2: the Completed state "buffer[s] any additional response retransmissions
            // that may be received": they are absorbed, not passed to the TU.
            break

        case (.completed, .timerFired(.timerK)):
            // §17.1.2.2: "If Timer K fires while in this state, the client transaction MUST
            // transition to the "Terminated" state."
            state = .terminated
            actions.append(.terminated)

        case (.trying, .transportError), (.proceeding, .transportError):
            // §17.1.2.2 / Figure 6 and §17.1.4: a transport error informs the TU and terminates.
            state = .terminated
            stopERunning(into: &actions)
            actions.append(.cancelTimer(.timerF))
            actions.append(.transportError)
            actions.append(.terminated)

        default:
            break
        }
    }

    private func stopERunning(into actions: inout [TransactionAction<Payload>]) {
        if !reliable { actions.append(.cancelTimer(.timerE)) }
    }
}
