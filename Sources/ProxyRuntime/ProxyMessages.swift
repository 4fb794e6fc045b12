// Messages the driver builds itself: the ACK of an INVITE client transaction for a non-2xx final
// response (RFC 3261 §17.1.1.3), and the glue between transaction messages and bytes.
public import SIPCore
public import SIPTransaction

public enum ProxyACKBuilder {
    /// RFC 3261 §17.1.1.3: Request-URI, Call-ID, From and CSeq number of the INVITE (method ACK), the To
    /// of the response (with its tag), a single Via equal to the INVITE's top Via, the INVITE's Route
    /// header fields.
    public static func ack(invite: SIPMessage, response: SIPMessage) -> [UInt8]? {
        guard let uri = invite.requestURI, let via = invite.fields(.via).first, let topVia = invite.elementRanges(of: via).first,
              let cseq = invite.cseq, let to = response.fields(.to).first else { return nil }
        var out: [UInt8] = Array("ACK \(uri) SIP/2.0\r\nVia: ".utf8)
        out += invite.bytes[topVia]
        out += [0x0D, 0x0A]
        for h in invite.headers {
            switch h.name {
            case .route, .from, .callID: out += line(invite, h)
            default: continue
            }
        }
        out += line(response, to)
        out += Array("CSeq: \(cseq.number) ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n".utf8)
        return out
    }

    /// A header line with a CRLF end (lenient input may end in a bare LF).
    static func line(_ m: SIPMessage, _ h: SIPHeaderField) -> [UInt8] {
        var l = Array(m.bytes[h.lineRange])
        if l.last == 0x0A, l.count < 2 || l[l.count - 2] != 0x0D { l.removeLast(); l += [0x0D, 0x0A] }
        return l
    }

    /// The `TransactionLayer.ACKFactory` of the driver.
    @Sendable public static func factory(_ invite: TransactionMessage<SIPMessage>, _ response: TransactionMessage<SIPMessage>) -> TransactionMessage<SIPMessage> {
        let payload = ack(invite: invite.payload, response: response.payload).flatMap { try? SIPParser.scan($0) }
        // Unreachable in practice (both messages were parsed); falls back to the response, which the
        // peer drops as a stray response, rather than trapping.
        return TransactionMessage.nonSuccessACK(invite: invite, response: response, payload: payload ?? response.payload)
    }
}

extension TransactionMessage where Payload == SIPMessage {
    /// The transaction view of bytes the driver built or spliced (scanned, not re-validated).
    static func scanning(_ bytes: [UInt8]) -> TransactionMessage<SIPMessage>? {
        guard let m = try? SIPParser.scan(bytes, limits: .default) else { return nil }
        return TransactionMessage(m)
    }
}
