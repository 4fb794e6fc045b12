// The thin adapter from SIPCore's parsed message to the facts the transaction layer matches on
// (RFC 3261 §17.1.3, §17.2.3). The payload stays the parsed `SIPMessage`, so forwarding still
// splices the received bytes.
public import SIPCore

extension TransactionMessage where Payload == SIPMessage {
    /// Builds the transaction view of `message`; nil when a field that matching needs is missing
    /// or malformed (top Via, Call-ID, CSeq). SIPCore's parser already rejects such messages with
    /// 400, so nil here only happens for hand-built messages.
    public init?(_ message: SIPMessage) {
        self.init(message, topVia: message.topVia)
    }

    /// As `init?(_:)` with the top Via already parsed (the transport parses it once per message): only its
    /// sent-protocol, sent-by and branch are read, which the `received`/`rport` stamp of a request
    /// (RFC 3261 §18.2.1, RFC 3581 §4) does not change, so the Via as received may be given.
    public init?(_ message: SIPMessage, topVia: SIPVia?) {
        // The Via's fields are read through the optional (no copy of the whole `SIPVia`, parameters included).
        guard let transport = topVia?.transport, let host = topVia?.host, let callID = message.callID,
              let cseq = message.cseq else { return nil }
        let startLine: StartLine
        if let method = message.method {
            startLine = .request(method: TransactionMethod(method), requestURI: message.requestURI ?? "")
        } else if case .response(let status, _) = message.startLine {
            startLine = .response(statusCode: status)
        } else {
            return nil
        }
        let port = topVia?.port.flatMap { UInt16(exactly: $0) }
        self.init(
            startLine: startLine,
            headers: TransactionHeaderFields(
                topVia: TopVia(transport: transport, sentBy: ViaSentBy(host: host, port: port), branch: topVia?.parameters["branch"]),
                callID: callID,
                cseq: CSeqField(number: cseq.number, method: TransactionMethod(cseq.method)),
                fromTag: message.fromTag,
                toTag: message.toTag),
            payload: message)
    }
}
