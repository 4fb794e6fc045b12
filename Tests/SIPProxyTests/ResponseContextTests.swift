// Response side: RFC 3261 §16.7 (Via removal, best response, 2xx forwarding, 503 -> 500),
// §16.8 Timer C, §16.10 CANCEL, §9.1 CANCEL construction.
import Testing
import SIPCore
import SIPProxy

@Suite struct ResponseContextTests {
    let proxy = SIPProxyCore(configuration: ProxyFixtures.configuration(), requestPolicy: ToCorePolicy())
    let invite: SIPMessage
    init() throws { invite = try parse(ProxyFixtures.text("ims/invite-msrp-bfcp")) }

    /// Forwards the INVITE `count` times (serial/parallel forking) and returns the context and decisions.
    func forked(_ count: Int) throws -> (ResponseContext, [ForwardDecision]) {
        var ids = CountingIDGenerator(prefix: "b")
        var ctx = ResponseContext(request: invite, toTag: "ptag")
        var ds: [ForwardDecision] = []
        for _ in 0..<count {
            let d = try #require(proxy.processRequest(invite, arrivedOn: ProxyFixtures.access, ids: &ids).decision)
            let added = ctx.addBranch(d)
            #expect(added)
            ds.append(d)
        }
        return (ctx, ds)
    }

    /// A response from the next hop to the request forwarded on `d`, processed by the core.
    func response(_ d: ForwardDecision, _ status: Int, _ reason: String) throws -> ResponseOutcome {
        let forwarded = try parse(d.bytes)
        let bytes = SIPResponseBuilder.response(to: forwarded, status: status, reason: reason, toTag: status == 100 ? nil : "uas\(status)")
        return proxy.processResponse(try parse(bytes))
    }

    func status(_ bytes: [UInt8]) throws -> Int? { try parse(bytes).statusCode }

    @Test("RFC 3261 §16.7 step 3: our top Via is removed; every other byte kept")
    func viaRemoved() throws {
        let (_, ds) = try forked(1)
        let forwarded = try parse(ds[0].bytes)
        let raw = SIPResponseBuilder.response(to: forwarded, status: 180, reason: "Ringing", toTag: "u1")
        guard case .forward(let bytes, let st) = proxy.processResponse(try parse(raw)) else { Issue.record("not forwarded"); return }
        #expect(st == 180)
        var expected = lines(raw)
        expected.removeAll { $0 == "Via: \(ds[0].via)" }
        #expect(lines(bytes) == expected)
        #expect(lines(raw).count == expected.count + 1)
    }

    @Test("RFC 3261 §16.7 step 3: a response whose top Via is not ours is dropped")
    func foreignViaDropped() throws {
        let raw = SIPResponseBuilder.response(to: invite, status: 180, reason: "Ringing", toTag: "u1")
        guard case .drop = proxy.processResponse(try parse(raw)) else { Issue.record("expected drop"); return }
    }

    @Test("RFC 3261 §16.7 step 5: 100 is not forwarded, 180 is")
    func provisional() throws {
        var (ctx, ds) = try forked(1)
        let t = ctx.handle(.response(branch: ds[0].branch, outcome: try response(ds[0], 100, "Trying")))
        #expect(t.isEmpty)
        let a = ctx.handle(.response(branch: ds[0].branch, outcome: try response(ds[0], 180, "Ringing")))
        guard case .forwardProvisional(let b)? = a.first, a.count == 1 else { Issue.record("\(a)"); return }
        #expect(try status(b) == 180)
    }

    @Test("RFC 3261 §16.7 step 6: best response waits for all branches; 4xx preferring 401/407/415/420/484")
    func bestResponse() throws {
        var (ctx, ds) = try forked(3)
        let r0 = ctx.handle(.response(branch: ds[0].branch, outcome: try response(ds[0], 404, "Not Found")))
        #expect(r0.isEmpty)
        let r1 = ctx.handle(.response(branch: ds[1].branch, outcome: try response(ds[1], 500, "Server Internal Error")))
        #expect(r1.isEmpty)
        let a = ctx.handle(.response(branch: ds[2].branch, outcome: try response(ds[2], 407, "Proxy Authentication Required")))
        guard case .forwardFinal(let st, let b)? = a.first, a.count == 1 else { Issue.record("\(a)"); return }
        let sb = try status(b)
        #expect(st == 407 && sb == 407)
        #expect(ctx.finalForwarded)
    }

    @Test("RFC 3261 §16.7 step 7: the chosen 401/407 carries every branch's WWW-Authenticate / Proxy-Authenticate")
    func challengeAggregation() throws {
        var (ctx, ds) = try forked(2)
        func challenge(_ d: ForwardDecision, _ status: Int, _ name: String, _ realm: String) throws -> ResponseOutcome {
            let raw = SIPResponseBuilder.response(to: try parse(d.bytes), status: status, reason: status == 401 ? "Unauthorized" : "Proxy Authentication Required",
                                                  toTag: "u\(realm)", extraHeaders: [(name, "Digest realm=\"\(realm)\", nonce=\"n\(realm)\"")])
            return proxy.processResponse(try parse(raw))
        }
        let r0 = ctx.handle(.response(branch: ds[0].branch, outcome: try challenge(ds[0], 401, "WWW-Authenticate", "a")))
        #expect(r0.isEmpty)
        let a = ctx.handle(.response(branch: ds[1].branch, outcome: try challenge(ds[1], 407, "Proxy-Authenticate", "b")))
        guard case .forwardFinal(let st, let b)? = a.first else { Issue.record("\(a)"); return }
        #expect(st == 401)
        let r = try parse(b)
        #expect(r.fields(named: "WWW-Authenticate").map { r.value(of: $0) } == ["Digest realm=\"a\", nonce=\"na\""])
        #expect(r.fields(named: "Proxy-Authenticate").map { r.value(of: $0) } == ["Digest realm=\"b\", nonce=\"nb\""])
    }

    @Test("RFC 3261 §16.7 step 6: a 503 chosen as best is sent as 500")
    func map503() throws {
        var (ctx, ds) = try forked(1)
        let a = ctx.handle(.response(branch: ds[0].branch, outcome: try response(ds[0], 503, "Service Unavailable")))
        guard case .forwardFinal(let st, let b)? = a.first else { Issue.record("\(a)"); return }
        #expect(st == 500)
        let r = try parse(b)
        #expect(r.statusCode == 500 && r.to?.tag == "ptag" && r.topVia?.branch == invite.topVia?.branch)
    }

    @Test("RFC 3261 §16.7 steps 5/10: 2xx forwarded at once and the other branches cancelled; later 2xx also forwarded")
    func twoXX() throws {
        var (ctx, ds) = try forked(2)
        _ = ctx.handle(.response(branch: ds[1].branch, outcome: try response(ds[1], 180, "Ringing")))
        let a = ctx.handle(.response(branch: ds[0].branch, outcome: try response(ds[0], 200, "OK")))
        #expect(a.count == 2)
        guard case .forward2xx(let ok)? = a.first, case .cancel(let br, let cancel)? = a.last else { Issue.record("\(a)"); return }
        #expect(try status(ok) == 200)
        #expect(br == ds[1].branch)
        #expect(try parse(cancel).topVia?.branch == ds[1].branch)
        let added = ctx.addBranch(ds[0])
        #expect(!added)
        // The cancelled branch answers 200 too (race): still forwarded (§16.7 step 5). Its 487 would not be.
        let b = ctx.handle(.response(branch: ds[1].branch, outcome: try response(ds[1], 200, "OK")))
        guard case .forward2xx? = b.first else { Issue.record("\(b)"); return }
    }

    @Test("RFC 3261 §16.7 step 5: a 6xx cancels pending branches; the 6xx wins once all are done")
    func sixXX() throws {
        var (ctx, ds) = try forked(2)
        _ = ctx.handle(.response(branch: ds[1].branch, outcome: try response(ds[1], 183, "Session Progress")))
        let a = ctx.handle(.response(branch: ds[0].branch, outcome: try response(ds[0], 603, "Decline")))
        #expect(a.count == 1)
        guard case .cancel(let br, _)? = a.first else { Issue.record("\(a)"); return }
        #expect(br == ds[1].branch)
        let b = ctx.handle(.response(branch: ds[1].branch, outcome: try response(ds[1], 487, "Request Terminated")))
        guard case .forwardFinal(let st, _)? = b.first else { Issue.record("\(b)"); return }
        #expect(st == 603)
    }

    @Test("RFC 3261 §16.8: Timer C cancels a proceeding branch; without a provisional it counts as 408")
    func timerC() throws {
        var (ctx, ds) = try forked(2)
        _ = ctx.handle(.response(branch: ds[0].branch, outcome: try response(ds[0], 180, "Ringing")))
        let a = ctx.handle(.timerC(branch: ds[0].branch))
        guard case .cancel(let br, _)? = a.first, a.count == 1 else { Issue.record("\(a)"); return }
        #expect(br == ds[0].branch)
        let t1 = ctx.handle(.timerC(branch: ds[1].branch))
        #expect(t1.isEmpty) // 408 recorded, branch 0 still pending
        let b = ctx.handle(.response(branch: ds[0].branch, outcome: try response(ds[0], 487, "Request Terminated")))
        guard case .forwardFinal(let st, _)? = b.first else { Issue.record("\(b)"); return }
        #expect(st == 408)
    }

    @Test("Bound: at most ResponseContext.maxBranches branches (RFC 3261 §16.5 target set, house rule on bounded state)")
    func branchLimit() throws {
        var (ctx, ds) = try forked(ResponseContext.maxBranches)
        let added = ctx.addBranch(ds[0])
        #expect(!added)
        #expect(ctx.branches.count == ResponseContext.maxBranches)
    }

    @Test("RFC 3261 §16.7 step 1: a branch whose transaction timed out counts as 408 (built by the proxy, our To tag)")
    func branchTimeout() throws {
        var (ctx, ds) = try forked(1)
        let a = ctx.handle(.branchTimedOut(branch: ds[0].branch))
        guard case .forwardFinal(let st, let b)? = a.first, a.count == 1 else { Issue.record("\(a)"); return }
        let r = try parse(b)
        #expect(st == 408 && r.statusCode == 408 && r.to?.tag == "ptag")
        #expect(r.topVia?.branch == invite.topVia?.branch)
        // Unknown branches are ignored.
        #expect(ctx.handle(.branchTimedOut(branch: "z9hG4bKnone")).isEmpty)
    }

    @Test("RFC 3261 §16.10 / §9.1: CANCEL matched to the INVITE context; pending branches cancelled once provisional; 200 to CANCEL")
    func cancelReceived() throws {
        var (ctx, ds) = try forked(2)
        _ = ctx.handle(.response(branch: ds[0].branch, outcome: try response(ds[0], 180, "Ringing")))
        let cancel = try parse(ProxyFixtures.text("ims/cancel"))
        #expect(ctx.matches(cancel: cancel))
        let other = try parse(ProxyFixtures.text("ims/cancel").replacingOccurrences(of: "branch=z9hG4bK-inv-0001", with: "branch=z9hG4bK-other"))
        #expect(!ctx.matches(cancel: other))
        let a = ctx.handle(.cancelReceived)
        guard case .cancel(let br, let bytes)? = a.first, a.count == 1 else { Issue.record("\(a)"); return }
        #expect(br == ds[0].branch)
        // §9.1: branch 1 has no provisional yet: its CANCEL waits for one.
        let b = ctx.handle(.response(branch: ds[1].branch, outcome: try response(ds[1], 180, "Ringing")))
        #expect(b.count == 2)
        guard case .cancel(let br1, _)? = b.first else { Issue.record("\(b)"); return }
        #expect(br1 == ds[1].branch)
        // §9.1 content of the CANCEL.
        let c = try parse(bytes)
        let sent = try parse(ds[0].bytes)
        #expect(c.method == "CANCEL" && c.requestURI == sent.requestURI)
        #expect(c.vias.count == 1 && c.topVia?.branch == ds[0].branch)
        #expect(c.callID == sent.callID && c.from == sent.from && c.to == sent.to)
        #expect(c.cseq?.number == sent.cseq?.number && c.cseq?.method == "CANCEL")
        #expect(c.routes == sent.routes && !c.routes.isEmpty)
        let ok = try parse(SIPProxyCore.okToCancel(cancel, toTag: "ct"))
        #expect(ok.statusCode == 200 && ok.cseq?.method == "CANCEL")
    }

    @Test("Hook: a response policy rejection replaces the branch's response (RFC 3261 §16.7 step 6 then applies)")
    func responsePolicy() throws {
        struct Deny: ResponsePolicy {
            func process(_ response: SIPMessage, splice: inout SIPSplice) -> ProxyReject? {
                response.statusCode == 200 ? ProxyReject(status: 488, reason: "Not Acceptable Here") : nil
            }
        }
        let p = SIPProxyCore(configuration: ProxyFixtures.configuration(), requestPolicy: ToCorePolicy(), responsePolicy: Deny())
        var (ctx, ds) = try forked(1)
        let raw = SIPResponseBuilder.response(to: try parse(ds[0].bytes), status: 200, reason: "OK", toTag: "u")
        let a = ctx.handle(.response(branch: ds[0].branch, outcome: p.processResponse(try parse(raw))))
        guard case .forwardFinal(let st, let b)? = a.first else { Issue.record("\(a)"); return }
        let sb = try status(b)
        #expect(st == 488 && sb == 488)
    }
}
