import SIPCore
import SIPTransaction
import Testing

@Suite("SIPCore adapter (RFC 3261 §17.1.3, §17.2.3 matching fields)")
struct SIPCoreAdapterTests {
    static let request = """
        MESSAGE sip:bob@ims.example.net SIP/2.0\r
        Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK-adapter-1\r
        Max-Forwards: 70\r
        From: <sip:alice@ims.example.net>;tag=a1\r
        To: <sip:bob@ims.example.net>\r
        Call-ID: adapter-call@10.0.0.1\r
        CSeq: 7 MESSAGE\r
        Content-Length: 0\r
        \r

        """
    static let response = """
        SIP/2.0 200 OK\r
        Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK-adapter-1\r
        From: <sip:alice@ims.example.net>;tag=a1\r
        To: <sip:bob@ims.example.net>;tag=b2\r
        Call-ID: adapter-call@10.0.0.1\r
        CSeq: 7 MESSAGE\r
        Content-Length: 0\r
        \r

        """

    @Test("a parsed request carries branch, sent-by, Call-ID, CSeq and tags into the transaction view")
    func requestFields() throws {
        let parsed = try SIPParser.parse(Array(Self.request.utf8))
        let message = try #require(TransactionMessage<SIPMessage>(parsed))
        #expect(message.method == "MESSAGE")
        #expect(message.requestURI == "sip:bob@ims.example.net")
        #expect(message.headers.topVia.branch == "z9hG4bK-adapter-1")
        #expect(message.headers.topVia.sentBy == ViaSentBy(host: "10.0.0.1", port: 5060))
        #expect(message.headers.topVia.transport == "TCP")
        #expect(message.headers.callID == "adapter-call@10.0.0.1")
        #expect(message.headers.cseq == CSeqField(number: 7, method: "MESSAGE"))
        #expect(message.headers.fromTag == "a1")
        #expect(message.headers.toTag == nil)
    }

    @Test("RFC 3261 §17.2.3: a parsed request creates a server transaction; its parsed 200 is sent on it")
    func serverTransactionFromParsedMessages() throws {
        let request = try #require(TransactionMessage<SIPMessage>(try SIPParser.parse(Array(Self.request.utf8))))
        let response = try #require(TransactionMessage<SIPMessage>(try SIPParser.parse(Array(Self.response.utf8))))
        #expect(response.statusCode == 200)
        var layer = TransactionLayer<SIPMessage, String>(configuration: .init()) { invite, _ in invite }
        let outputs = layer.receive(request, from: "ue", reliable: true, now: .zero)
        guard case .newRequest(let id, _, _)? = outputs.first else {
            Issue.record("expected a new request, got \(outputs)")
            return
        }
        #expect(layer.serverTransaction(matching: request) == id)
        let sent = try layer.sendResponse(response, on: id, now: .zero)
        #expect(sent.contains { if case .transmit = $0 { return true } else { return false } })
    }
}
