// Several transactions in one message, in and out (H.248.1 §8: "a message contains one or more
// transactions"; Annex D.1/D.2), TransactionResponseAck piggy-backing (§8.2.3), and several
// configured gateways (`IqGatewayPool` + `GatewaySelector`). A scripted gateway over real UDP
// sockets checks the exact messages; the OTP megaco MG checks that an independent stack accepts them.
import Foundation
import Testing
import H248Codec
@testable import H248Client

/// A registered client facing a scripted UDP gateway.
struct ScriptedGateway {
    let client: IqClient
    let gw: any H248Transport
    let gwPort: Int
    var inbound: AsyncStream<H248TransportEvent>.AsyncIterator

    static func start(policy: H248DatagramPolicy = .init(),
                      configure: (inout IqClientConfiguration) -> Void = { _ in }) async throws -> ScriptedGateway {
        let mgcTransport = try await openH248Transport(H248ListenAddress(kind: .udp, host: "127.0.0.1", port: 0), datagramPolicy: policy)
        let mgcPort = try #require(mgcTransport.localPort)
        var config = IqClientConfiguration(mid: .address("127.0.0.1", port: UInt16(mgcPort)), form: .pretty)
        config.association.keepAliveInterval = nil
        configure(&config)
        let client = IqClient(transport: mgcTransport, configuration: config)
        await client.start()
        let gw = try await openH248Transport(H248ListenAddress(kind: .udp, host: "127.0.0.1", port: 0))
        var s = ScriptedGateway(client: client, gw: gw, gwPort: try #require(gw.localPort),
                                inbound: gw.events.makeAsyncIterator())
        try s.send("Transaction = 1 { Context = - { ServiceChange = ROOT { Services { Method = Restart, Reason = \"901 Cold Boot\" } } } }")
        _ = try await s.receive()
        #expect(try await client.waitForRegistration(timeout: .seconds(2)) == 3)
        return s
    }

    func send(_ body: String) throws {
        guard let mgc = client.transport.localAddress else { throw IqError.unexpectedReply("MGC transport not bound") }
        try gw.send(Array("MEGACO/3 [127.0.0.1]:\(gwPort)\n\(body)\n".utf8), to: mgc)
    }

    mutating func receive() async throws -> H248Message {
        guard case .message(let bytes, _)? = await inbound.next() else { throw IqError.unexpectedReply("gateway stream ended") }
        return try H248TextParser().parse(bytes: bytes)
    }

    func close() async {
        await client.close()
        await gw.close()
    }
}

@Suite("Several transactions in one message (H.248.1 §8, Annex D) with a scripted gateway")
struct IqMultiTransactionScriptedTests {
    @Test("H.248.1 §8: three requests leave in one message with distinct ids; each gets its own result from a mixed reply message; §8.2.3 batched acks ride on the next reply and the next request",
          .timeLimit(.minutes(1)))
    func batchedRequestsAndPiggyback() async throws {
        var s = try await ScriptedGateway.start { $0.responseAckFlushDelay = .seconds(5) }
        let client = s.client
        let batch = Task { try await client.send([[IqProcedures.auditRoot()], [IqProcedures.auditRoot()], [IqProcedures.auditRoot()]]) }
        let out = try await s.receive()
        let requests = out.transactions.compactMap { t -> TransactionRequest? in if case .request(let r) = t { return r }; return nil }
        #expect(requests.count == 3, "one message, three transactions")
        #expect(out.transactions.count == 3, "no ack yet: nothing was answered")
        let ids = requests.map(\.id)
        #expect(Set(ids).count == 3, "§8.2.1 distinct transaction ids")
        // One message back: the replies in reverse order (the middle one an error) and a Notify
        // request for a termination the MGC never reserved.
        try s.send("""
            Reply = \(ids[2]) { Context = - { AuditValue = ROOT } }
            Transaction = 50 { Context = 5 { Notify = ip/9 { ObservedEvents = 1 { hangterm/thb } } } }
            Reply = \(ids[1]) { Error = 430 { "Unknown TerminationID" } }
            Reply = \(ids[0]) { Context = - { AuditValue = ROOT } }
            """)
        let results = try await batch.value
        #expect(results.count == 3)
        #expect((try? results[0].get()).map { (try? IqProcedures.check($0)) != nil } == true)
        #expect((try? results[2].get()).map { (try? IqProcedures.check($0)) != nil } == true)
        let middle = try results[1].get()
        #expect(throws: IqError.errorReply(IqErrorReply(code: 430, text: "Unknown TerminationID", level: .transaction))) {
            try IqProcedures.check(middle)
        }
        // The request inside the mixed message was executed too: 435 for the unknown termination.
        // §8.2.3: its reply carries the ack of the one reply processed before it (ids[2]).
        let notifyReply = try await s.receive()
        guard case .responseAck(let early)? = notifyReply.transactions.first,
              case .reply(let r50)? = notifyReply.transactions.dropFirst().first else {
            Issue.record("expected K{…} then the reply to T=50: \(notifyReply)"); return
        }
        #expect(Set(early.flatMap { Array($0.first...$0.last) }) == [ids[2]])
        #expect(r50.id == 50)
        #expect(throws: IqError.self) { try IqProcedures.check(r50) }

        // §8.2.3: the other two batched acks are piggy-backed on the next outgoing request message.
        let next = Task { try await client.auditRoot() }
        let carrier = try await s.receive()
        guard case .responseAck(let ranges)? = carrier.transactions.first else {
            Issue.record("no piggy-backed TransactionResponseAck: \(carrier)"); return
        }
        let acked = Set(ranges.flatMap { Array($0.first...$0.last) })
        #expect(acked == [ids[1], ids[0]])
        guard case .request(let r)? = carrier.transactions.dropFirst().first else { Issue.record("no request after the ack"); return }
        #expect(!ids.contains(r.id))
        try s.send("Reply = \(r.id) { Context = - { AuditValue = ROOT } }")
        _ = try await next.value
        await s.close()
    }

    @Test("H.248.1 §8 incoming: a TransactionResponseAck, a request and a repeated request in one message are each handled (Annex D.1.3: the repeat is not executed again)",
          .timeLimit(.minutes(1)))
    func mixedIncoming() async throws {
        var s = try await ScriptedGateway.start()
        try s.send("Transaction = 60 { Context = 5 { Notify = ip/9 { ObservedEvents = 1 { hangterm/thb } } } }")
        let first = try await s.receive()
        guard case .reply(let r60)? = first.transactions.first else { Issue.record("no reply"); return }
        #expect(r60.id == 60)
        // One message: ack for 60, a new request 61, and request 60 again (already acknowledged:
        // its id is still remembered, so it is never executed a second time).
        try s.send("""
            TransactionResponseAck { 60 }
            Transaction = 61 { Context = 6 { Notify = ip/8 { ObservedEvents = 1 { hangterm/thb } } } }
            Transaction = 60 { Context = 5 { Notify = ip/9 { ObservedEvents = 1 { hangterm/thb } } } }
            """)
        let second = try await s.receive()
        guard case .reply(let r61)? = second.transactions.first else { Issue.record("no reply to 61: \(second)"); return }
        #expect(r61.id == 61)
        // Nothing more: the repeat of 60 after its ack is ignored (no second execution, no reply).
        try s.send("Transaction = 62 { Context = - { AuditValue = ROOT { Audit { } } } }")
        let third = try await s.receive()
        guard case .reply(let r62)? = third.transactions.first else { Issue.record("no reply to 62"); return }
        #expect(r62.id == 62, "the next thing the gateway hears is the answer to 62, not a repeat for 60")
        await s.close()
    }

    @Test("Annex D.1 / TS 29.334 533: a batch above the path MTU is sent one transaction per datagram instead; every transaction still completes once",
          .timeLimit(.minutes(1)))
    func oversizeBatchSplits() async throws {
        var s = try await ScriptedGateway.start(policy: H248DatagramPolicy(pathMTU: 576))
        let client = s.client
        let count = 8
        let batch = Task { try await client.send(Array(repeating: [IqProcedures.auditRoot()], count: count)) }
        var ids: [UInt32] = []
        for _ in 0..<count {
            let m = try await s.receive()
            #expect(m.transactions.count == 1, "one transaction per datagram after the split")
            guard case .request(let r)? = m.transactions.first else { Issue.record("expected a request: \(m)"); return }
            ids.append(r.id)
        }
        #expect(Set(ids).count == count)
        for id in ids { try s.send("Reply = \(id) { Context = - { AuditValue = ROOT } }") }
        let results = try await batch.value
        #expect(results.count == count)
        for r in results { #expect((try? IqProcedures.check(try r.get())) != nil) }
        await s.close()
    }

    @Test("Batch bounds: an empty batch sends nothing; more than the per-message bound is refused; not registered is refused")
    func batchBounds() async throws {
        let s = try await ScriptedGateway.start()
        #expect(try await s.client.send([]).isEmpty)
        let tooMany = Array(repeating: [IqProcedures.auditRoot()], count: IqClientLimits.maximumTransactionsPerMessage + 1)
        await #expect(throws: IqError.self) { try await s.client.send(tooMany) }
        await s.close()
        let t = try await openH248Transport(H248ListenAddress(kind: .udp, host: "127.0.0.1", port: 0))
        let lone = IqClient(transport: t, configuration: IqClientConfiguration(mid: .address("127.0.0.1", port: 2944)))
        await #expect(throws: IqError.notRegistered) { try await lone.send([[IqProcedures.auditRoot()]]) }
        await lone.close()
    }
}

@Suite("Several transactions per message and several gateways against the OTP megaco MG", .serialized)
struct IqMultiTransactionLiveTests {
    @Test("H.248.1 §8 against OTP megaco: two Adds in one message, then two Subtracts in one message; each executed once, no context left",
          arguments: [H248TransportKind.udp, .tcp])
    func batchAgainstOTP(transport: H248TransportKind) async throws {
        guard let log = try await withLiveGateway(transport, .compact, { client in
            let session = IqE2AESession()
            let adds = try await client.send([[IqProcedures.reserve([session.coreRequest()], in: .choose)],
                                              [IqProcedures.reserve([session.coreRequest()], in: .choose)]])
            let reserved = try adds.map { try IqProcedures.reservedTerminations(try IqProcedures.check(try $0.get()))[0] }
            #expect(reserved.count == 2)
            #expect(reserved[0].contextID != reserved[1].contextID)
            let subtracts = try await client.send(reserved.map { [IqProcedures.release(context: $0.contextID)] })
            for r in subtracts { _ = try IqProcedures.check(try r.get()) }
            #expect(try await client.auditContexts().isEmpty)
        }) else { return }
        #expect(logLines(log, "MG ADD ").count == 2, "each Add executed exactly once")
        #expect(logLines(log, "MG SUBTRACT ").count == 2)
    }

    @Test("Several gateways (issue 6 item 3): two OTP MGs on loopback; round-robin spreads new sessions; a missing gateway is skipped; none in service gives nil",
          .timeLimit(.minutes(2)))
    func twoGateways() async throws {
        guard LivePeer.available() else { return }
        var config = IqClientConfiguration(mid: .address("127.0.0.1", port: nil), form: .compact)
        config.association.keepAliveInterval = nil
        config.timers.longTimer = .seconds(8)
        let ports = [try await LivePeer.freePort(), try await LivePeer.freePort(), try await LivePeer.freePort()]
        let pool = try await IqGatewayPool.listen(
            [IqGatewayConfiguration(name: "agw-a", listen: H248ListenAddress(kind: .udp, host: "127.0.0.1", port: ports[0])),
             IqGatewayConfiguration(name: "agw-b", listen: H248ListenAddress(kind: .udp, host: "127.0.0.1", port: ports[1])),
             IqGatewayConfiguration(name: "agw-missing", listen: H248ListenAddress(kind: .udp, host: "127.0.0.1", port: ports[2]))],
            configuration: config, policy: .roundRobin)
        #expect(await pool.selectForNewSession() == nil, "no gateway registered yet: nil (SIP 503 above)")
        let mgA = try MGProcess(mgcPort: ports[0], localPort: try await LivePeer.freePort(), transport: .udp, form: .compact, duration: 45, extra: [])
        let mgB = try MGProcess(mgcPort: ports[1], localPort: try await LivePeer.freePort(), transport: .udp, form: .compact, duration: 45, extra: [])
        var logs: [String] = []
        do {
            _ = try await pool.client(named: "agw-a")?.waitForRegistration(timeout: .seconds(30))
            _ = try await pool.client(named: "agw-b")?.waitForRegistration(timeout: .seconds(30))
            #expect(await pool.inService() == ["agw-a", "agw-b"])
            var chosen: [String] = []
            for _ in 0..<4 {
                let g = try #require(await pool.selectForNewSession())
                chosen.append(g.name)
                let outcome = try await IqE2AESession().run(on: g.client)
                #expect(outcome.contextsLeft == 0)
            }
            #expect(chosen == ["agw-a", "agw-b", "agw-a", "agw-b"], "round-robin over the gateways in service, the missing one skipped")
        } catch {
            logs = [mgA.stop(), mgB.stop()]
            print("MG logs:\n\(logs.joined(separator: "\n---\n"))")
            await pool.close()
            throw error
        }
        logs = [mgA.stop(), mgB.stop()]
        #expect(logLines(logs[0], "MG ADD ").count == 4, "two sessions on agw-a")
        #expect(logLines(logs[1], "MG ADD ").count == 4, "two sessions on agw-b")
        await pool.close()
    }

    @Test("Gateway pool configuration: names unique, at least one gateway, distinct listen addresses")
    func poolConfiguration() async throws {
        #expect(throws: H248ClientError.self) { try IqGatewayPool(clients: []) }
        let t1 = try await openH248Transport(H248ListenAddress(kind: .udp, host: "127.0.0.1", port: 0))
        let t2 = try await openH248Transport(H248ListenAddress(kind: .udp, host: "127.0.0.1", port: 0))
        let c1 = IqClient(transport: t1, configuration: IqClientConfiguration(mid: .address("127.0.0.1", port: 1)))
        let c2 = IqClient(transport: t2, configuration: IqClientConfiguration(mid: .address("127.0.0.1", port: 2)))
        #expect(throws: H248ClientError.self) { try IqGatewayPool(clients: [("x", c1), ("x", c2)]) }
        let pool = try IqGatewayPool(clients: [("x", c1), ("y", c2)], policy: .firstAvailable)
        #expect(await pool.selectForNewSession() == nil)
        #expect(pool.client(named: "y") != nil && pool.client(named: "z") == nil)
        let address = H248ListenAddress(kind: .udp, host: "127.0.0.1", port: try await LivePeer.freePort())
        await #expect(throws: H248ClientError.self) {
            _ = try await IqGatewayPool.listen([IqGatewayConfiguration(name: "a", listen: address), IqGatewayConfiguration(name: "b", listen: address)],
                                               configuration: IqClientConfiguration(mid: .address("127.0.0.1", port: nil)))
        }
        await pool.close()
    }
}
