import SIPCore
import SIPTransaction

/// `pcscf-bench txn [rounds]`: transaction churn. For each MESSAGE a proxy handles it runs one
/// server transaction (receive request, send 200) and one client transaction (send the forwarded
/// request, receive its 200) through `TransactionLayer` over UDP, with the SIPCore adapter building
/// the matching facts from the parsed message; after each batch, virtual time advances past
/// timers J and K so every transaction terminates and frees its slot. The peer in the same run is
/// raw libosip2 parsing of the same request: the figure says how many libosip2 parses one
/// server+client transaction pair costs.
func runTxnBench(_ arguments: [String]) {
    let rounds = arguments.first.flatMap { Int($0) } ?? 7
    let batch = 2_000
    // Distinct branches per transaction: pre-parse a batch of requests and responses (not timed).
    func text(_ i: Int, status: Bool, branch: String) -> [UInt8] {
        let start = status ? "SIP/2.0 200 OK" : "MESSAGE sip:bob@ims.mnc001.mcc001.3gppnetwork.org SIP/2.0"
        let toTag = status ? ";tag=b\(i)" : ""
        return Array("""
            \(start)\r
            Via: SIP/2.0/UDP 10.20.30.40:5060;branch=\(branch)\r
            Max-Forwards: 70\r
            From: <sip:+15550001111@ims.mnc001.mcc001.3gppnetwork.org>;tag=a\(i)\r
            To: <sip:+15559998888@ims.mnc001.mcc001.3gppnetwork.org>\(toTag)\r
            Call-ID: churn-\(i)@10.20.30.40\r
            CSeq: 1 MESSAGE\r
            Content-Type: text/plain\r
            Content-Length: 5\r
            \r
            hello
            """.utf8)
    }
    func parsed(_ bytes: [UInt8]) -> TransactionMessage<SIPMessage>? {
        (try? SIPParser.parse(bytes)).flatMap { TransactionMessage<SIPMessage>($0) }
    }
    var serverRequests: [TransactionMessage<SIPMessage>] = [], serverResponses: [TransactionMessage<SIPMessage>] = []
    var clientRequests: [TransactionMessage<SIPMessage>] = [], clientResponses: [TransactionMessage<SIPMessage>] = []
    for i in 0..<batch {
        let ue = "z9hG4bK-ue-\(i)", ours = "z9hG4bK-pcscf-\(i)"
        guard let a = parsed(text(i, status: false, branch: ue)), let b = parsed(text(i, status: true, branch: ue)),
              let c = parsed(text(i, status: false, branch: ours)), let d = parsed(text(i, status: true, branch: ours))
        else { print("txn bench: a generated message did not parse"); return }
        serverRequests.append(a); serverResponses.append(b); clientRequests.append(c); clientResponses.append(d)
    }
    let rawRequest = text(0, status: false, branch: "z9hG4bK-ue-0")

    var layer = TransactionLayer<SIPMessage, Int>(configuration: .init()) { invite, _ in invite }
    var now = TransactionInstant.zero
    /// One batch of server+client transaction pairs; returns how many completed.
    func churn() -> Int {
        var completed = 0
        for i in 0..<batch {
            var server: TransactionID?
            for output in layer.receive(serverRequests[i], from: 1, reliable: false, now: now) {
                if case .newRequest(let id, _, _) = output { server = id }
            }
            guard let server, let (_, _) = try? layer.sendRequest(clientRequests[i], to: 2, reliable: false, now: now) else { continue }
            var gotResponse = false
            for output in layer.receive(clientResponses[i], from: 2, reliable: false, now: now) {
                if case .response = output { gotResponse = true }
            }
            if gotResponse, (try? layer.sendResponse(serverResponses[i], on: server, now: now)) != nil { completed += 1 }
        }
        now = now + .seconds(64)   // past timer J (64*T1) and K (T4): everything terminates
        _ = layer.advance(to: now)
        return completed
    }
    precondition(churn() == batch, "a transaction pair did not complete")

    let clock = ContinuousClock()
    func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
    var pairRates: [Double] = [], parseRates: [Double] = []
    var sink = 0
    for _ in 0..<rounds {
        let tc = seconds(clock.measure { for _ in 0..<5 { sink &+= churn() } })
        let tp = seconds(clock.measure {
            LibOSIP2.withPlainAllocators {
                rawRequest.withUnsafeBytes { b in for _ in 0..<(5 * batch) where LibOSIP2.parseAndFree(b) { sink &+= 1 } }
            }
        })
        pairRates.append(Double(5 * batch) / tc)
        parseRates.append(Double(5 * batch) / tp)
    }
    func median(_ a: [Double]) -> Double { let s = a.sorted(); return s[s.count / 2] }
    let pairs = median(pairRates), parses = median(parseRates)
    print("Transaction churn: \(rounds) rounds x \(5 * batch) server+client transaction pairs over UDP (sink \(sink % 10))")
    print("SIPTransaction pairs          : \(Int(pairs)) pairs/s median, \(String(format1(1e6 / pairs))) µs per pair")
    print("raw libosip2 parse (same MESSAGE): \(Int(parses)) msgs/s median, \(String(format1(1e6 / parses))) µs per parse")
    print("ratio (pair time / libosip2 parse time): \(format1(parses / pairs))")
}

private func format1(_ v: Double) -> String {
    let t = Int(v * 10 + 0.5)
    return "\(t / 10).\(t % 10)"
}
