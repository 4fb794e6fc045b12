// Request side of the proxy core: RFC 3261 §16.3 validation, §16.4 route pre-processing,
// §16.6 forwarding, RFC 5658 double Record-Route, §16.11 ACK for 2xx, hooks.
import Testing
import SIPCore
import SIPProxy

@Suite struct RequestProcessingTests {
    let inviteText = ProxyFixtures.text("ims/invite-msrp-bfcp")

    func coreToCore() -> SIPProxyCore { SIPProxyCore(configuration: ProxyFixtures.configuration(), requestPolicy: ToCorePolicy()) }

    @Test("RFC 3261 §16.6 wire level: only Via (step 8), Record-Route x2 (step 4, RFC 5658), Max-Forwards (step 3) and our Route (§16.4) change")
    func wireLevelDiff() throws {
        let request = try parse(inviteText)
        var ids = CountingIDGenerator(prefix: "g")
        let d = try #require(coreToCore().processRequest(request, arrivedOn: ProxyFixtures.access, ids: &ids).decision)
        // Expected output built independently from the input lines and the intended edits.
        var expected = inviteText.components(separatedBy: "\r\n")
        let viaIndex = try #require(expected.firstIndex { $0.hasPrefix("Via:") })
        let mf = try #require(expected.firstIndex { $0.hasPrefix("Max-Forwards:") })
        expected[mf] = "Max-Forwards: 69"
        let route = try #require(expected.firstIndex { $0.hasPrefix("Route:") })
        expected[route] = "Route: <sip:orig@scscf.ims.mnc001.mcc001.3gppnetwork.org:6060;lr>"
        expected.insert(contentsOf: ["Record-Route: <sip:pcscf.core.example.net:5060;transport=tcp;lr>",
                                     "Record-Route: <sip:[2001:db8:1::1]:5068;transport=tcp;lr>"], at: viaIndex + 1)
        expected.insert("Via: SIP/2.0/TCP pcscf.core.example.net:5060;branch=\(d.branch)", at: viaIndex)
        #expect(String(decoding: d.bytes, as: UTF8.self) == expected.joined(separator: "\r\n"))
        // Body untouched, and libosip2 accepts the result.
        let out = try parse(d.bytes)
        #expect(Array(out.body) == Array(request.body))
        #expect(d.branch.hasPrefix("z9hG4bK") && d.branch.hasSuffix(".g1"))
        #expect(d.nextHop == NextHop(uri: "sip:orig@scscf.ims.mnc001.mcc001.3gppnetwork.org:6060;lr",
                                     host: "scscf.ims.mnc001.mcc001.3gppnetwork.org", port: 6060, transport: "UDP"))
        #expect(d.outbound.side == .core && !d.stateless)
    }

    @Test("RFC 3261 §16.6 step 4: one Record-Route (with lr, configurable) when side and transport do not change")
    func singleRecordRoute() throws {
        var config = ProxyFixtures.configuration()
        config.recordRouteLooseRouting = false
        let proxy = SIPProxyCore(configuration: config)
        var ids = CountingIDGenerator()
        let d = try #require(proxy.processRequest(try parse(inviteText), arrivedOn: ProxyFixtures.access, ids: &ids).decision)
        let rr = lines(d.bytes).filter { $0.hasPrefix("Record-Route:") }
        #expect(rr == ["Record-Route: <sip:[2001:db8:1::1]:5068;transport=tcp>"])
        #expect(d.outbound == ProxyFixtures.access)
    }

    @Test("RFC 5658 §4: double Record-Route when only the transport changes (TCP in, UDP out)")
    func doubleRecordRouteOnTransportChange() throws {
        struct ToCoreUDP: RequestPolicy {
            func process(_ request: SIPMessage, context: inout RequestContext, splice: inout SIPSplice) -> ProxyReject? {
                context.outbound = ProxyFixtures.coreUDP; return nil
            }
        }
        let core = ProxyListener(host: "pcscf.core.example.net", port: 5060, transport: "TCP", side: .core)
        let proxy = SIPProxyCore(configuration: ProxyFixtures.configuration(), requestPolicy: ToCoreUDP())
        var ids = CountingIDGenerator()
        let d = try #require(proxy.processRequest(try parse(inviteText), arrivedOn: core, ids: &ids).decision)
        let rr = lines(d.bytes).filter { $0.hasPrefix("Record-Route:") }
        #expect(rr == ["Record-Route: <sip:pcscf.core.example.net:5060;lr>",
                       "Record-Route: <sip:pcscf.core.example.net:5060;transport=tcp;lr>"])
        #expect(lines(d.bytes).contains { $0.hasPrefix("Via: SIP/2.0/UDP pcscf.core.example.net:5060;branch=z9hG4bK") })
    }

    @Test("RFC 3261 §16.3 step 3: Max-Forwards 0 gives 483 (OPTIONS included, Docs/proxy.md)", arguments: ["INVITE", "OPTIONS"])
    func maxForwardsZero(method: String) throws {
        let text = inviteText.replacingOccurrences(of: "Max-Forwards: 70", with: "Max-Forwards: 0")
            .replacingOccurrences(of: "INVITE tel:", with: "\(method) tel:")
            .replacingOccurrences(of: "CSeq: 1 INVITE", with: "CSeq: 1 \(method)")
        let request = try parse(text)
        var ids = CountingIDGenerator()
        let r = try #require(coreToCore().processRequest(request, arrivedOn: ProxyFixtures.access, ids: &ids).rejection)
        #expect(r.status == 483)
        let response = try parse(r.response(to: request, toTag: ids.tag()))
        #expect(response.statusCode == 483)
        #expect(response.to?.tag != nil)
    }

    @Test("RFC 3261 §16.6 step 3: Max-Forwards 1 is forwarded as 0; absent gets 70")
    func maxForwardsDecrement() throws {
        var ids = CountingIDGenerator()
        let one = try parse(inviteText.replacingOccurrences(of: "Max-Forwards: 70", with: "Max-Forwards: 1"))
        let d1 = try #require(coreToCore().processRequest(one, arrivedOn: ProxyFixtures.access, ids: &ids).decision)
        #expect(try parse(d1.bytes).maxForwards == 0)
        let none = try parse(inviteText.replacingOccurrences(of: "Max-Forwards: 70\r\n", with: ""))
        let d2 = try #require(coreToCore().processRequest(none, arrivedOn: ProxyFixtures.access, ids: &ids).decision)
        #expect(try parse(d2.bytes).maxForwards == 70)
    }

    @Test("RFC 3261 §16.3 step 4 / §16.6 step 8: a request coming back with our branch hash gives 482; a spiral does not")
    func loopDetection() throws {
        var ids = CountingIDGenerator()
        let proxy = coreToCore()
        let d = try #require(proxy.processRequest(try parse(inviteText), arrivedOn: ProxyFixtures.access, ids: &ids).decision)
        // The next hop sends it back to us (adds its own Via on top).
        let looped = String(decoding: d.bytes, as: UTF8.self)
            .replacingOccurrences(of: "Via: SIP/2.0/TCP pcscf", with: "Via: SIP/2.0/UDP scscf.example.net;branch=z9hG4bK-s1\r\nVia: SIP/2.0/TCP pcscf")
        let loopedRequest = try parse(looped)
        let r = try #require(proxy.processRequest(loopedRequest, arrivedOn: ProxyFixtures.core, ids: &ids).rejection)
        #expect(r.status == 482)
        #expect(r.warning?.code == 399 && r.warning?.agent == "pcscf.example.net")
        // Spiral: the S-CSCF retargeted it (new Request-URI), so it is forwarded again.
        let spiral = looped.replacingOccurrences(of: "INVITE tel:+15557654321;phone-context=ims.mnc001.mcc001.3gppnetwork.org SIP/2.0",
                                                 with: "INVITE sip:+15557654321@ue.example.net SIP/2.0")
        #expect(proxy.processRequest(try parse(spiral), arrivedOn: ProxyFixtures.core, ids: &ids).decision != nil)
    }

    @Test("RFC 3261 §16.3 step 5: unsupported Proxy-Require gives 420 with Unsupported (§20.40)")
    func proxyRequire() throws {
        let proxy = SIPProxyCore(configuration: ProxyFixtures.configuration(supported: []))
        let request = try parse(inviteText)
        var ids = CountingIDGenerator()
        let r = try #require(proxy.processRequest(request, arrivedOn: ProxyFixtures.access, ids: &ids).rejection)
        #expect(r.status == 420)
        let response = try parse(r.response(to: request, toTag: "t1"))
        #expect(response.statusCode == 420)
        #expect(response.fields(named: "Warning").map { response.value(of: $0) } == ["399 pcscf.example.net \"unsupported Proxy-Require\""])
        #expect(response.fields(named: "Unsupported").map { response.value(of: $0) } == ["sec-agree"])
        // Supported (case-insensitive): forwarded.
        let ok = SIPProxyCore(configuration: ProxyFixtures.configuration(supported: ["SEC-AGREE"]))
        #expect(ok.processRequest(request, arrivedOn: ProxyFixtures.access, ids: &ids).decision != nil)
    }

    @Test("RFC 3261 §16.4: Request-URI ours (strict-routing previous hop) is replaced by the last Route, which is removed")
    func strictRoutingPreviousHop() throws {
        let text = "BYE sip:pcscf.core.example.net:5060;transport=tcp SIP/2.0\r\n" +
            "Via: SIP/2.0/UDP strict.example.org;branch=z9hG4bK-strict1\r\n" +
            "Max-Forwards: 10\r\n" +
            "Route: <sip:next.example.org;lr>, <sip:bob@ue.example.com:5070>\r\n" +
            "From: <sip:alice@example.org>;tag=a1\r\nTo: <sip:bob@example.com>;tag=b1\r\n" +
            "Call-ID: strict-1\r\nCSeq: 5 BYE\r\nContent-Length: 0\r\n\r\n"
        var ids = CountingIDGenerator()
        let d = try #require(coreToCore().processRequest(try parse(text), arrivedOn: ProxyFixtures.core, ids: &ids).decision)
        let out = try parse(d.bytes)
        #expect(out.requestURI == "sip:bob@ue.example.com:5070")
        #expect(out.routes.map(\.uri) == ["sip:next.example.org;lr"])
        #expect(d.nextHop.host == "next.example.org" && d.nextHop.port == 5060)
        #expect(lines(d.bytes)[0] == "BYE sip:bob@ue.example.com:5070 SIP/2.0")
        // In-dialog (To tag): no Record-Route (RFC 3261 §16.6 step 4 applies to dialog creation).
        #expect(out.recordRoutes.isEmpty)
    }

    @Test("RFC 3261 §16.4 / RFC 5658 §4: both of our Route entries (double Record-Route) are removed; next hop from Request-URI")
    func removeOwnDoubleRoute() throws {
        let text = ProxyFixtures.text("ims/bye").replacingOccurrences(
            of: "Route: <sip:[2001:db8:1::1]:5068;lr>\r\nRoute: <sip:orig@scscf.ims.mnc001.mcc001.3gppnetwork.org:6060;lr>\r\n",
            with: "Route: <sip:[2001:db8:1::1]:5068;transport=tcp;lr>,<sip:pcscf.core.example.net;transport=tcp;lr>\r\n")
        var ids = CountingIDGenerator()
        let d = try #require(coreToCore().processRequest(try parse(text), arrivedOn: ProxyFixtures.access, ids: &ids).decision)
        let out = try parse(d.bytes)
        #expect(out.routes.isEmpty)
        #expect(!lines(d.bytes).contains { $0.hasPrefix("Route") })
        #expect(d.nextHop == NextHop(uri: "sip:+15557654321@[2001:db8:20::9]:5060", host: "2001:db8:20::9", port: 5060, transport: "UDP"))
    }

    @Test("RFC 3261 §16.4: our top Route on its own line is removed, the next Route line stays and is the next hop")
    func removeOwnRouteLine() throws {
        var ids = CountingIDGenerator()
        let d = try #require(coreToCore().processRequest(try parse(ProxyFixtures.text("ims/bye")), arrivedOn: ProxyFixtures.access, ids: &ids).decision)
        #expect(lines(d.bytes).filter { $0.hasPrefix("Route") } == ["Route: <sip:orig@scscf.ims.mnc001.mcc001.3gppnetwork.org:6060;lr>"])
        #expect(d.nextHop.port == 6060)
    }

    @Test("RFC 3261 §17.2.1: ACK for a non-2xx is absorbed; §16.11: ACK for 2xx is forwarded with a branch derived from the request")
    func ackHandling() throws {
        let ack = try parse(ProxyFixtures.text("ims/ack"))
        var ids1 = CountingIDGenerator(prefix: "x")
        var ids2 = CountingIDGenerator(prefix: "y")
        #expect(coreToCore().processRequest(ack, arrivedOn: ProxyFixtures.access, ids: &ids1, ackMatchesNon2xx: true).isAbsorb)
        let a = try #require(coreToCore().processRequest(ack, arrivedOn: ProxyFixtures.access, ids: &ids1).decision)
        let b = try #require(coreToCore().processRequest(ack, arrivedOn: ProxyFixtures.access, ids: &ids2).decision)
        #expect(a.stateless && a.branch == b.branch)
        #expect(ids1.counter == 0)
        #expect(try parse(a.bytes).routes.map(\.uri) == ["sip:orig@scscf.ims.mnc001.mcc001.3gppnetwork.org:6060;lr"])
    }

    @Test("Hook: a request policy rejection becomes the response (RFC 3261 §16.3 step 6 style, Warning §20.43)")
    func policyReject() throws {
        struct Deny: RequestPolicy {
            func process(_ request: SIPMessage, context: inout RequestContext, splice: inout SIPSplice) -> ProxyReject? {
                ProxyReject(status: 403, reason: "Forbidden", warning: .init(code: 399, agent: "pcscf.example.net", text: "no"))
            }
        }
        let request = try parse(inviteText)
        var ids = CountingIDGenerator()
        let r = try #require(SIPProxyCore(configuration: ProxyFixtures.configuration(), requestPolicy: Deny())
            .processRequest(request, arrivedOn: ProxyFixtures.access, ids: &ids).rejection)
        let resp = try parse(r.response(to: request, toTag: "t"))
        #expect(resp.statusCode == 403)
        #expect(resp.fields(named: "Warning").map { resp.value(of: $0) } == ["399 pcscf.example.net \"no\""])
    }

    @Test("Hook: the body rewriter replaces the SDP (Content-Length rewritten, RFC 3261 §20.14) or refuses it with its status")
    func bodyRewriter() throws {
        struct Rewriter: BodyRewriter {
            let fail: Bool
            func rewrite(body: ArraySlice<UInt8>, contentType: String, message: SIPMessage, direction: ProxyDirection) -> BodyRewriteResult {
                guard contentType == "application/sdp", direction == .request(from: .access, to: .core) else { return .unchanged }
                return fail ? .failed(ProxyReject(status: 488, reason: "Not Acceptable Here")) : .replaced(body: Array("v=0\r\n".utf8), contentType: nil)
            }
        }
        let request = try parse(inviteText)
        var ids = CountingIDGenerator()
        let ok = SIPProxyCore(configuration: ProxyFixtures.configuration(), requestPolicy: ToCorePolicy(), bodyRewriter: Rewriter(fail: false))
        let d = try #require(ok.processRequest(request, arrivedOn: ProxyFixtures.access, ids: &ids).decision)
        let out = try parse(d.bytes)
        #expect(Array(out.body) == Array("v=0\r\n".utf8))
        #expect(out.contentLength == 5)
        let bad = SIPProxyCore(configuration: ProxyFixtures.configuration(), requestPolicy: ToCorePolicy(), bodyRewriter: Rewriter(fail: true))
        #expect(bad.processRequest(request, arrivedOn: ProxyFixtures.access, ids: &ids).rejection?.status == 488)
    }

    @Test("RFC 3261 §16.6 step 7: next hop is a strict router (no lr): Request-URI becomes the last Route, the Route value the Request-URI")
    func strictRouterNextHop() throws {
        let text = "MESSAGE sip:bob@example.com SIP/2.0\r\n" +
            "Via: SIP/2.0/UDP ue.example.org:5070;branch=z9hG4bK-sr1\r\n" +
            "Max-Forwards: 10\r\n" +
            "Route: <sip:pcscf.core.example.net:5060;lr>, <sip:strict.example.net:5080>\r\n" +
            "Route: <sip:third.example.net;lr>\r\n" +
            "From: <sip:alice@example.org>;tag=a1\r\nTo: <sip:bob@example.com>\r\n" +
            "Call-ID: sr-1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"
        var ids = CountingIDGenerator()
        let d = try #require(coreToCore().processRequest(try parse(text), arrivedOn: ProxyFixtures.core, ids: &ids).decision)
        let out = try parse(d.bytes)
        #expect(out.requestURI == "sip:strict.example.net:5080")
        #expect(out.routes.map(\.uri) == ["sip:third.example.net;lr", "sip:bob@example.com"])
        #expect(d.nextHop == NextHop(uri: "sip:strict.example.net:5080", host: "strict.example.net", port: 5080, transport: "UDP"))
    }

    @Test("RFC 3261 §16.2: 100 Trying for INVITE has no To tag")
    func trying() throws {
        let resp = try parse(SIPProxyCore.trying(for: try parse(inviteText)))
        #expect(resp.statusCode == 100 && resp.to?.tag == nil)
    }
}
