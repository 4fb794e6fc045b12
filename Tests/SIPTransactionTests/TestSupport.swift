// Helpers shared by the SIPTransaction tests: message builders with String payloads and a manual
// clock (time is injected; no test reads a real clock).

@testable import SIPTransaction

typealias Msg = TransactionMessage<String>
typealias Action = TransactionAction<String>
typealias Output = TransactionLayerOutput<String, String>
typealias Layer = TransactionLayer<String, String>

let defaultTimers = TransactionTimers()

/// Builds a request. `branch` nil or without `z9hG4bK` makes an RFC 2543 request.
func makeRequest(
    _ method: TransactionMethod,
    branch: String? = "z9hG4bK-a1",
    host: String = "ue.example.com",
    port: UInt16? = 5060,
    transport: String = "UDP",
    callID: String = "call-1@ue",
    cseq: UInt32 = 1,
    cseqMethod: TransactionMethod? = nil,
    fromTag: String? = "from-1",
    toTag: String? = nil,
    uri: String = "sip:bob@example.com",
    payload: String? = nil
) -> Msg {
    Msg(
        startLine: .request(method: method, requestURI: uri),
        headers: TransactionHeaderFields(
            topVia: TopVia(transport: transport, sentBy: ViaSentBy(host: host, port: port), branch: branch),
            callID: callID,
            cseq: CSeqField(number: cseq, method: cseqMethod ?? method),
            fromTag: fromTag,
            toTag: toTag),
        payload: payload ?? "\(method) \(uri) cseq=\(cseq) branch=\(branch ?? "-")")
}

/// Builds a response to `request` (same Via, Call-ID, CSeq, From tag).
func makeResponse(_ code: Int, to request: Msg, toTag: String? = "to-1", tag suffix: String = "") -> Msg {
    var headers = request.headers
    headers.toTag = code == 100 ? request.headers.toTag : toTag
    return Msg(startLine: .response(statusCode: code), headers: headers, payload: "SIP/2.0 \(code) \(request.method)\(suffix)")
}

/// The ACK factory used by the tests: §17.1.1.3 fields, a readable payload.
let testACKFactory: Layer.ACKFactory = { invite, response in
    Msg.nonSuccessACK(invite: invite, response: response, payload: "ACK for \(response.statusCode ?? 0)")
}

/// A manual clock: time moves only when the test says so.
struct ManualClock: TransactionClock {
    var current: TransactionInstant = .zero
    func now() -> TransactionInstant { current }
    mutating func advance(by duration: Duration) { current = current + duration }
    mutating func set(_ duration: Duration) { current = TransactionInstant(sinceOrigin: duration) }
}

func at(_ duration: Duration) -> TransactionInstant { TransactionInstant(sinceOrigin: duration) }

extension Array where Element == Output {
    /// The messages transmitted, in order.
    var transmitted: [Msg] {
        compactMap { if case .transmit(let message, _, _, _) = $0 { return message } else { return nil } }
    }
    var newRequests: [TransactionID] {
        compactMap { if case .newRequest(let id, _, _) = $0 { return id } else { return nil } }
    }
    var terminatedIDs: [TransactionID] {
        compactMap { if case .terminated(let id) = $0 { return id } else { return nil } }
    }
    var responsesToTU: [Msg] {
        compactMap { if case .response(_, let message) = $0 { return message } else { return nil } }
    }
    var acks: [(Msg, TransactionID?)] {
        compactMap { if case .ack(let message, _, let id) = $0 { return (message, id) } else { return nil } }
    }
    var discards: [TransactionDiscardReason] {
        compactMap { if case .discarded(_, let reason) = $0 { return reason } else { return nil } }
    }
}
