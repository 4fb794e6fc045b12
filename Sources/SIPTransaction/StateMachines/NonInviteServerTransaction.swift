/// The non-INVITE server transaction of RFC 3261 §17.2.2.
///
/// ```
/// Trying --1xx from TU--> Proceeding --200-699 from TU--> Completed --J--> Terminated
///   \--200-699 from TU----------------------------^
///   Proceeding/Completed --transport error--> Terminated
/// ```
public struct NonInviteServerTransaction<Payload: Sendable>: Sendable {
    /// The current state.
    public private(set) var state: TransactionState = .initial
    /// The request that created the transaction, until it has been passed to the TU (§17.2.2 never
    /// sends it; retransmissions are matched by the layer's keys).
    public private(set) var request: TransactionMessage<Payload>?
    /// True when the transport is reliable: timer J is zero.
    public let reliable: Bool
    // The timer durations this machine uses, resolved once from `TransactionTimers` at creation:
    // the machine is moved on every event, so it carries a few values rather than the whole set.
    let timerJ: Duration
    /// The most recent response sent.
    public private(set) var lastResponse: TransactionMessage<Payload>?

    public init(request: TransactionMessage<Payload>, reliable: Bool, timers: TransactionTimers) {
        self.request = request
        self.reliable = reliable
        self.timerJ = timers.timerJ(reliable: reliable)
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
            // §17.2.2: "The state machine is initialized in the "Trying" state and is passed a
            // request other than INVITE or ACK when initialized. This request is passed up to the TU."
            state = .trying
            guard let request else { return }
            self.request = nil
            actions.append(.passToTU(request))

        case (.trying, .received(let message)) where message.isRequest:
            // §17.2.2: "Once in the "Trying" state, any further request retransmissions are
            // discarded."
            break

        case (.trying, .sendResponse(let response)), (.proceeding, .sendResponse(let response)):
            guard let code = response.statusCode, let responseClass = ResponseClass(statusCode: code) else {
                return
            }
            lastResponse = response
            if responseClass == .provisional {
                // §17.2.2: "While in the "Trying" state, if the TU passes a provisional response
                // to the server transaction, the server transaction MUST enter the "Proceeding"
                // state. The response MUST be passed to the transport layer for transmission.
                // Any further provisional responses that are received from the TU while in the
                // "Proceeding" state MUST be passed to the transport layer for transmission."
                state = .proceeding
                actions.append(.send(response))
                return
            }
            // §17.2.2: "If the TU passes a final response (status codes 200-699) to the server
            // while in the "Proceeding" [or "Trying"] state, the transaction MUST enter the
            // "Completed" state, and the response MUST be passed to the transport layer for
            // transmission." / "When the server transaction enters the "Completed" state, it
            // MUST set Timer J to fire in 64*T1 seconds for unreliable transports, and zero
            // seconds for reliable transports."
            state = .completed
            actions.append(.send(response))
            actions.append(.startTimer(.timerJ, timerJ))

        case (.proceeding, .received(let message)) where message.isRequest:
            // §17.2.2: "If a retransmission of the request is received while in the "Proceeding"
            // state, the most recently sent provisional response MUST be passed to the transport
            // layer for retransmission."
            if let lastResponse { actions.append(.send(lastResponse)) }

        case (.completed, .received(let message)) where message.isRequest:
            // §17.2.2: "While in the "Completed" state, the server transaction MUST pass the final
            // response to the transport layer for retransmission whenever a retransmission of the
            // request is received."
            if let lastResponse { actions.append(.send(lastResponse)) }

        case (.completed, .sendResponse):
            // §17.2.2: "Any other final responses passed by the TU to the server transaction MUST
            // be discarded while in the "Completed" state."
            break

        case (.completed, .timerFired(.timerJ)):
            // §17.2.2: "The server transaction remains in this state until Timer J fires, at which
            // point it MUST transition to the "Terminated" state."
            state = .terminated
            actions.append(.terminated)

        case (.proceeding, .transportError):
            // §17.2.2 / Figure 8 and §17.2.4: a transport error informs the TU and terminates.
            state = .terminated
            actions.append(.transportError)
            actions.append(.terminated)

        case (.completed, .transportError):
            state = .terminated
            actions.append(.cancelTimer(.timerJ))
            actions.append(.transportError)
            actions.append(.terminated)

        default:
            break
        }
    }
}
