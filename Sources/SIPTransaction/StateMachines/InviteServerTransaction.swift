/// The INVITE server transaction of RFC 3261 §17.2.1 with the RFC 6026 §7.1 / §8.7 changes
/// (Accepted state, timer L; 2xx retransmissions from the TU are sent, ACKs in Accepted go to the TU).
///
/// ```
/// Proceeding --300-699 from TU--> Completed --ACK--> Confirmed --I--> Terminated
///      |                              \--H / transport error--------> Terminated
///      \--2xx from TU--> Accepted --L--> Terminated
/// ```
///
/// The 100 (Trying) of §17.2.1 ("MUST generate a 100 (Trying) response unless it knows that the
/// TU will generate a provisional or final response within 200 ms") is left to the TU: the proxy
/// core sends it at once (RFC 3261 §16.2), which satisfies the 200 ms condition.
public struct InviteServerTransaction<Payload: Sendable>: Sendable {
    /// The current state.
    public private(set) var state: TransactionState = .initial
    /// The INVITE that created the transaction, until it has been passed to the TU: nothing in
    /// §17.2.1 / RFC 6026 §7.1 sends or matches it afterwards (matching uses the layer's keys), so the
    /// transaction does not hold it for the 64*T1 of timer H / L.
    public private(set) var request: TransactionMessage<Payload>?
    /// True when the transport is reliable: no timer G, timer I is zero.
    public let reliable: Bool
    // The timer durations this machine uses, resolved once from `TransactionTimers` at creation:
    // the machine is moved on every event, so it carries a few values rather than the whole set.
    /// 64*T1: timers H and L (RFC 3261 §17.2.1, RFC 6026 §7.1).
    let sixtyFourT1: Duration
    let t2: Duration
    let timerI: Duration
    /// The most recent response sent (retransmitted on request retransmissions / timer G).
    public private(set) var lastResponse: TransactionMessage<Payload>?
    /// The current timer G interval.
    public private(set) var timerGInterval: Duration

    public init(request: TransactionMessage<Payload>, reliable: Bool, timers: TransactionTimers) {
        self.request = request
        self.reliable = reliable
        self.sixtyFourT1 = timers.sixtyFourT1
        self.t2 = timers.t2
        self.timerI = timers.timerI(reliable: reliable)
        self.timerGInterval = timers.timerGInitial
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
            // §17.2.1: "When a server transaction is constructed for a request, it enters the
            // "Proceeding" state. [...] The request MUST be passed to the TU."
            state = .proceeding
            guard let request else { return }
            self.request = nil
            actions.append(.passToTU(request))

        case (.proceeding, .received(let message)) where message.isRequest && message.method == .invite:
            // §17.2.1: "If a request retransmission is received while in the "Proceeding" state,
            // the most recent provisional response that was received from the TU MUST be passed
            // to the transport layer for retransmission."
            if let lastResponse { actions.append(.send(lastResponse)) }

        case (.proceeding, .sendResponse(let response)):
            guard let code = response.statusCode, let responseClass = ResponseClass(statusCode: code) else {
                return
            }
            lastResponse = response
            switch responseClass {
            case .provisional:
                // §17.2.1: "The TU passes any number of provisional responses to the server
                // transaction. So long as the server transaction is in the "Proceeding" state,
                // each of these MUST be passed to the transport layer for transmission."
                actions.append(.send(response))
            case .success:
                // RFC 6026 §8.7 (replacing §17.2.1): "If, while in the "Proceeding" state, the TU
                // passes a 2xx response to the server transaction, the server transaction MUST
                // pass this response to the transport layer for transmission. It is not
                // retransmitted by the server transaction; retransmissions of 2xx responses are
                // handled by the TU. The server transaction MUST then transition to the
                // "Accepted" state." Timer L = 64*T1 (RFC 6026 §7.1).
                // Accepted never sends lastResponse (2xx retransmissions come from the TU, INVITE
                // retransmissions are absorbed): not kept for the 64*T1 of timer L.
                state = .accepted
                lastResponse = nil
                actions.append(.send(response))
                actions.append(.startTimer(.timerL, sixtyFourT1))
            case .failure:
                // §17.2.1: "While in the "Proceeding" state, if the TU passes a response with
                // status code from 300 to 699 to the server transaction, the response MUST be
                // passed to the transport layer for transmission, and the state machine MUST
                // enter the "Completed" state. For unreliable transports, timer G is set to fire
                // in T1 seconds [...]. When the "Completed" state is entered, timer H MUST be set
                // to fire in 64*T1 seconds for all transports."
                state = .completed
                actions.append(.send(response))
                if !reliable { actions.append(.startTimer(.timerG, timerGInterval)) }
                actions.append(.startTimer(.timerH, sixtyFourT1))
            }

        case (.proceeding, .transportError):
            // RFC 6026 Figure 7 (replacing RFC 3261 Figure 7): in Proceeding a transport error
            // informs the TU and the transaction stays in Proceeding.
            actions.append(.transportError)

        case (.completed, .received(let message)) where message.isRequest && message.method == .invite:
            // §17.2.1: "If a request retransmission is received while in the "Completed"
            // state, the server SHOULD pass the response to the transport for retransmission."
            if let lastResponse { actions.append(.send(lastResponse)) }

        case (.completed, .received(let message)) where message.isRequest && message.method == .ack:
            // §17.2.1: "If an ACK is received while the server transaction is in the "Completed"
            // state, the server transaction MUST transition to the "Confirmed" state. As Timer G
            // is ignored in this state, any retransmissions of the response will cease." Timer I
            // is set to T4 for unreliable transports and zero for reliable transports.
            state = .confirmed
            // Confirmed only absorbs ACKs (§17.2.1): the response is no longer needed.
            lastResponse = nil
            if !reliable { actions.append(.cancelTimer(.timerG)) }
            actions.append(.cancelTimer(.timerH))
            actions.append(.startTimer(.timerI, timerI))

        case (.completed, .timerFired(.timerG)):
            // §17.2.1: "If timer G fires, the response is passed to the transport layer once more
            // for retransmission, and timer G is set to fire in MIN(2*T1, T2) seconds. From then
            // on, when timer G fires, [...] timer G is reset with a value that doubles, unless
            // that value exceeds T2, in which case it is reset with the value of T2."
            timerGInterval = min(timerGInterval + timerGInterval, t2)
            if let lastResponse { actions.append(.send(lastResponse)) }
            actions.append(.startTimer(.timerG, timerGInterval))

        case (.completed, .timerFired(.timerH)):
            // §17.2.1: "If timer H fires while in the "Completed" state, it implies that the ACK
            // was never received. In this case, the server transaction MUST transition to the
            // "Terminated" state, and MUST indicate to the TU that a transaction failure has
            // occurred."
            state = .terminated
            if !reliable { actions.append(.cancelTimer(.timerG)) }
            actions.append(.timeout(.timerH))
            actions.append(.terminated)

        case (.completed, .transportError):
            // §17.2.1 / Figure 7: a transport error in Completed informs the TU and terminates.
            state = .terminated
            if !reliable { actions.append(.cancelTimer(.timerG)) }
            actions.append(.cancelTimer(.timerH))
            actions.append(.transportError)
            actions.append(.terminated)

        case (.completed, .sendResponse):
            // §17.2.1: any further response from the TU in Completed is discarded.
            break

        case (.confirmed, .timerFired(.timerI)):
            // §17.2.1: "Once timer I fires, the server MUST transition to the "Terminated" state."
            state = .terminated
            actions.append(.terminated)

        case (.confirmed, .received):
            // §17.2.1: "The purpose of the "Confirmed" state is to absorb any additional ACK
            // messages that arrive, triggered from retransmissions of the final response."
            break

        case (.accepted, .received(let message)) where message.isRequest && message.method == .ack:
            // RFC 6026 §7.1 / §8.7: "If an ACK is received while the INVITE server transaction is
            // in the "Accepted" state, then the ACK must be passed up to the TU."
            actions.append(.passToTU(message))

        case (.accepted, .received):
            // RFC 6026 §7.1: retransmissions of the INVITE in Accepted are absorbed (Figure 7:
            // "INVITE / -"); the TU retransmits the 2xx on its own.
            break

        case (.accepted, .sendResponse(let response)):
            // RFC 6026 §7.1: "the server transaction [...] MUST pass any retransmissions of the
            // 2xx response from the TU to the transport" (Figure 7: "2xx from TU / send
            // response"). Non-2xx responses are discarded.
            if let code = response.statusCode, ResponseClass(statusCode: code) == .success {
                actions.append(.send(response))
            }

        case (.accepted, .transportError):
            // RFC 6026 Figure 7: in Accepted a transport error informs the TU, state unchanged.
            actions.append(.transportError)

        case (.accepted, .timerFired(.timerL)):
            // RFC 6026 §7.1: "When Timer L fires and the state machine is in the "Accepted"
            // state, the machine MUST transition to the "Terminated" state."
            state = .terminated
            actions.append(.terminated)

        default:
            break
        }
    }
}
