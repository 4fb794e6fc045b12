// The input events and output actions shared by the four transaction state machines of
// RFC 3261 §17 (with RFC 6026). The state machines are pure: they never do I/O and never read a
// clock; a driver (`TransactionLayer`) executes the actions.

/// An input to a transaction state machine.
public enum TransactionEvent<Payload: Sendable>: Sendable {
    /// The transaction is created: a client transaction sends its request, a server transaction
    /// passes its request to the TU.
    case start
    /// A message arrived from the transport and was matched to this transaction: a response for a
    /// client transaction; a retransmitted request or an ACK for a server transaction.
    case received(TransactionMessage<Payload>)
    /// The TU passes a response to a server transaction for sending.
    case sendResponse(TransactionMessage<Payload>)
    /// A timer started by this transaction fired.
    case timerFired(TransactionTimer)
    /// The transport failed to send a message of this transaction (RFC 3261 §17.1.4, §17.2.4).
    case transportError
}

/// An output of a transaction state machine.
public enum TransactionAction<Payload: Sendable>: Sendable {
    /// Pass this message to the transport (request, retransmission or response).
    case send(TransactionMessage<Payload>)
    /// Build the ACK for this non-2xx final response (RFC 3261 §17.1.1.3) and send it.
    case sendACK(forResponse: TransactionMessage<Payload>)
    /// Start (or restart) a timer; it fires `duration` after the current event's time.
    case startTimer(TransactionTimer, Duration)
    /// Cancel a running timer.
    case cancelTimer(TransactionTimer)
    /// Pass this message to the transaction user.
    case passToTU(TransactionMessage<Payload>)
    /// Tell the TU that the transaction timed out (timers B, F, H).
    case timeout(TransactionTimer)
    /// Tell the TU that the transport failed (RFC 3261 §17.1.4, §17.2.4).
    case transportError
    /// Timer C fired (RFC 3261 §16.8). If a provisional response was received the TU (proxy core)
    /// must CANCEL; otherwise it behaves as if a 408 was received.
    case timerCExpired(provisionalReceived: Bool)
    /// The transaction entered Terminated and must be destroyed (RFC 3261 §17.1.1.2: "MUST be
    /// destroyed the instant it enters the Terminated state").
    case terminated
}

extension TransactionEvent: Equatable where Payload: Equatable {}
extension TransactionAction: Equatable where Payload: Equatable {}

/// The four kinds of transaction (RFC 3261 §17).
public enum TransactionKind: Hashable, Sendable {
    case inviteClient
    case nonInviteClient
    case inviteServer
    case nonInviteServer
}

/// The union of the states of all four state machines, for introspection and tests.
public enum TransactionState: Hashable, Sendable {
    /// Not started yet.
    case initial
    /// INVITE client: request sent, no response yet (§17.1.1.2).
    case calling
    /// Non-INVITE client and server: request sent / received, no response yet (§17.1.2.2, §17.2.2).
    case trying
    /// A provisional response was received / sent.
    case proceeding
    /// A final response was received / sent (non-2xx for INVITE).
    case completed
    /// INVITE server: ACK received for a non-2xx final response (§17.2.1).
    case confirmed
    /// INVITE client/server: 2xx received / sent (RFC 6026 §7.1, §7.2).
    case accepted
    /// The transaction is over.
    case terminated
}
