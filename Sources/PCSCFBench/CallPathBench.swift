import SIPCore
import SIPProxy
import SIPTransaction
import SIPTransport

/// `pcscf-bench path [calls]`: the proxy's per-message CPU path without sockets or threads, for a
/// stable figure (e.g. under `valgrind --tool=callgrind`). One call = the seven messages the proxy
/// receives in a SIPp `uac` call through it (INVITE, 180, 200, ACK, BYE, 200 … plus the 100 it
/// builds). Per received message, as `SIPTransportService.process` and `ProxyServer.receive` do it:
/// `SIPParser.parse` (libosip2 validation on), the top Via parsed once, for requests the Via stamp
/// (RFC 3261 §18.2.1 / RFC 3581, `SIPViaStamp.stampedMessage`: header table shifted, no re-scan),
/// `TransactionMessage` (the transaction matching facts), and `SIPProxyCore.processRequest` /
/// `processResponse`. Prints µs per call and, as the peer, raw libosip2 parses of the INVITE.
func runCallPathBench(_ arguments: [String]) {
    let calls = arguments.first.flatMap { Int($0) } ?? 20_000
    let gm = ProxyListener(host: "127.0.0.1", port: 15060, transport: "UDP", side: .access)
    let mw = ProxyListener(host: "127.0.0.1", port: 15070, transport: "UDP", side: .core)
    let core = SIPProxyCore(configuration: ProxyConfiguration(listeners: [gm, mw]))
    let sdp = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    func request(_ method: String, cseq: Int, toTag: Bool, body: String, route: Bool) -> [UInt8] {
        let ct = body.isEmpty ? "" : "Content-Type: application/sdp\r\n"
        return Array(("\(method) sip:service@127.0.0.1:15080 SIP/2.0\r\n"
            + "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-14086-1-\(cseq)\r\n"
            + (route ? "Route: <sip:127.0.0.1:15060;lr>\r\n" : "")
            + "From: sipp <sip:sipp@127.0.0.1:5061>;tag=14086SIPpTag001\r\n"
            + "To: service <sip:service@127.0.0.1:15080>" + (toTag ? ";tag=14090SIPpTag011" : "") + "\r\n"
            + "Call-ID: 1-14086@127.0.0.1\r\nCSeq: \(cseq) \(method)\r\nContact: sip:sipp@127.0.0.1:5061\r\n"
            + "Max-Forwards: 70\r\nSubject: Performance Test\r\n" + ct
            + "Content-Length: \(body.utf8.count)\r\n\r\n" + body).utf8)
    }
    func response(_ status: String, method: String, cseq: Int, body: String) -> [UInt8] {
        let ct = body.isEmpty ? "" : "Content-Type: application/sdp\r\n"
        return Array(("SIP/2.0 \(status)\r\n"
            + "Via: SIP/2.0/UDP 127.0.0.1:15070;branch=z9hG4bK1a2b3c4d5e6f.p\(cseq);rport=15070\r\n"
            + "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-14086-1-\(cseq);received=127.0.0.1;rport=5061\r\n"
            + (method == "INVITE" ? "Record-Route: <sip:127.0.0.1:15070;lr>\r\nRecord-Route: <sip:127.0.0.1:15060;lr>\r\n" : "")
            + "From: sipp <sip:sipp@127.0.0.1:5061>;tag=14086SIPpTag001\r\n"
            + "To: service <sip:service@127.0.0.1:15080>;tag=14090SIPpTag011\r\n"
            + "Call-ID: 1-14086@127.0.0.1\r\nCSeq: \(cseq) \(method)\r\nContact: <sip:127.0.0.1:15080;transport=UDP>\r\n" + ct
            + "Content-Length: \(body.utf8.count)\r\n\r\n" + body).utf8)
    }
    // The messages the proxy receives during one call, with true for requests.
    let received: [([UInt8], Bool)] = [
        (request("INVITE", cseq: 1, toTag: false, body: sdp, route: false), true),
        (response("180 Ringing", method: "INVITE", cseq: 1, body: ""), false),
        (response("200 OK", method: "INVITE", cseq: 1, body: sdp), false),
        (request("ACK", cseq: 1, toTag: true, body: "", route: true), true),
        (request("BYE", cseq: 2, toTag: true, body: "", route: true), true),
        (response("200 OK", method: "BYE", cseq: 2, body: ""), false),
    ]
    var ids = CountingIDGenerator()
    var sink = 0, failures = 0
    func oneCall() {
        for (bytes, isRequest) in received {
            guard var m = try? SIPParser.parse(bytes) else { failures += 1; continue }
            // As `SIPTransportService.process`: the top Via is parsed once, the stamp derives the stamped
            // message's header table from the received one, the transaction facts take the received Via.
            let topVia = m.topVia
            if isRequest, let stamped = SIPViaStamp.stampedMessage(m, sourceIP: "127.0.0.2", sourcePort: 5061,
                                                                   limits: .default, topVia: topVia) {
                m = stamped
            }
            guard let t = TransactionMessage<SIPMessage>(m, topVia: topVia) else { failures += 1; continue }
            sink &+= t.headers.callID.utf8.count
            if isRequest {
                switch core.processRequest(m, arrivedOn: gm, ids: &ids) {
                case .forward(let d): sink &+= d.bytes.count
                case .reject, .absorb: failures += 1
                }
                if m.method == "INVITE" { sink &+= SIPProxyCore.trying(for: m).count }
            } else {
                switch core.processResponse(m) {
                case .forward(let b, _): sink &+= b.count
                case .drop, .replace: failures += 1
                }
            }
        }
    }
    oneCall()
    guard failures == 0 else { print("path bench: \(failures) message(s) rejected or dropped"); return }
    let clock = ContinuousClock()
    func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
    let t = seconds(clock.measure { for _ in 0..<calls { oneCall() } })
    let invite = received[0].0
    let tp = seconds(clock.measure {
        LibOSIP2.withPlainAllocators {
            invite.withUnsafeBytes { b in for _ in 0..<calls where LibOSIP2.parseAndFree(b) { sink &+= 1 } }
        }
    })
    print("Call path (no sockets): \(calls) calls x \(received.count) received messages (sink \(sink % 10))")
    print("parse+stamp+txn facts+proxy core: \(String(format: 1e6 * t / Double(calls))) µs per call")
    print("raw libosip2 parse of the INVITE: \(String(format: 1e6 * tp / Double(calls))) µs per parse")
}

private extension String {
    init(format v: Double) {
        let t = Int(v * 100 + 0.5)
        self = "\(t / 100).\(t % 100 < 10 ? "0" : "")\(t % 100)"
    }
}
