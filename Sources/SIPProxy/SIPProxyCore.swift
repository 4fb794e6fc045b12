// Stateful proxy core, request and response processing (RFC 3261 §16.3, §16.4, §16.6, §16.7 step 3,
// §16.10, §16.11). Pure: takes parsed messages, returns decisions with the bytes to send. Forwarding
// splices the received bytes (SIPSplice); the message is never re-serialised.
public import SIPCore

/// Where a forwarded request goes (RFC 3261 §16.6 steps 6-7; DNS per RFC 3263 is the driver's job).
public struct NextHop: Sendable, Equatable {
    /// The URI the hop was taken from (top Route, or the Request-URI).
    public var uri: String
    public var host: String
    public var port: Int
    public var transport: String

    public init(uri: String, host: String, port: Int, transport: String) {
        self.uri = uri; self.host = host; self.port = port; self.transport = transport
    }
}

/// A request to send on a new client transaction.
public struct ForwardDecision: Sendable {
    /// The forwarded request.
    public var bytes: [UInt8]
    public var nextHop: NextHop
    /// The listener to send from (its side and transport).
    public var outbound: ProxyListener
    /// Our branch (RFC 3261 §16.6 step 8), the key of the client transaction.
    public var branch: String
    /// Our Via value, as inserted.
    public var via: String
    /// True when the request was forwarded without state (ACK for 2xx, §16.11 branch rule).
    public var stateless: Bool
}

/// What to do with a received request.
public enum RequestOutcome: Sendable {
    /// Send `ForwardDecision.bytes` to the next hop.
    case forward(ForwardDecision)
    /// Answer with the rejection's response (built with `ProxyReject.response(to:toTag:)`).
    case reject(ProxyReject)
    /// Nothing to send (ACK absorbed by its INVITE server transaction, RFC 3261 §17.2.1).
    case absorb
}

/// What to do with a received response.
public enum ResponseOutcome: Sendable {
    /// The response with our Via removed and the policy's edits applied, for the response context.
    case forward(bytes: [UInt8], status: Int)
    /// Top Via is not ours, or no Via is left: drop (RFC 3261 §16.7 step 3, §18.1.2).
    case drop
    /// The response policy or body rewriter refused it; treat the branch as having received this.
    case replace(ProxyReject)
}

public struct SIPProxyCore: Sendable {
    public var configuration: ProxyConfiguration
    public var requestPolicy: any RequestPolicy
    public var responsePolicy: any ResponsePolicy
    public var bodyRewriter: any BodyRewriter

    public init(configuration: ProxyConfiguration, requestPolicy: any RequestPolicy = NoRequestPolicy(),
                responsePolicy: any ResponsePolicy = NoResponsePolicy(), bodyRewriter: any BodyRewriter = NoBodyRewriter()) {
        self.configuration = configuration
        self.requestPolicy = requestPolicy
        self.responsePolicy = responsePolicy
        self.bodyRewriter = bodyRewriter
    }

    /// RFC 3261 §8.1.1.7 / §16.6 step 8: magic cookie of RFC 3261 branches.
    public static let magicCookie = "z9hG4bK"

    // MARK: Requests

    /// Processes a request received on `inbound`: validation (§16.3), route pre-processing (§16.4),
    /// the request policy, body rewrite, then forwarding (§16.6).
    /// - Parameter ackMatchesNon2xx: for ACK, true when the driver matched it to an INVITE server
    ///   transaction that sent a non-2xx final response (RFC 3261 §17.2.3): it is absorbed.
    public func processRequest(_ request: SIPMessage, arrivedOn inbound: ProxyListener,
                               ids: inout some ProxyIDGenerator, ackMatchesNon2xx: Bool = false) -> RequestOutcome {
        guard let method = request.method, let receivedURI = request.requestURI else {
            return .reject(ProxyReject(status: 400, reason: "Bad Request"))
        }
        if method == "ACK" && ackMatchesNon2xx { return .absorb }

        // §16.3 step 3: Max-Forwards 0 → 483 (OPTIONS is not answered by us: see Docs/proxy.md).
        if let mf = request.maxForwards, mf == 0 {
            if method == "ACK" { return .absorb }
            return .reject(ProxyReject(status: 483, reason: "Too Many Hops", warning: warning("Max-Forwards is 0")))
        }

        // §16.3 step 4: loop detection with the branch hash of §16.6 step 8.
        let loopHash = Self.loopHash(request)
        if method != "ACK", method != "CANCEL" {
            // Each Via's sent-by and branch bytes (no `SIPVia` with its parameter list per element).
            var looped = false
            // The branch is checked first (bytes); the sent-by only of a hop whose branch carries this hash.
            request.forEachViaHop(branchFilter: { b in b.map { Self.loopHash(ofBranch: $0) == loopHash } ?? false }) { hop in
                if configuration.isOurs(hop: hop) { looped = true }
                return !looped
            }
            if looped {
                return .reject(ProxyReject(status: 482, reason: "Loop Detected", warning: warning("request looped back to this proxy")))
            }
        }

        // §16.3 step 5: Proxy-Require.
        // (No Proxy-Require field, the usual case: no element list to build.)
        let unsupported = !request.headers.contains(where: { $0.name == .proxyRequire }) ? []
            : request.proxyRequire.filter { !configuration.supportedExtensions.contains($0.lowercased()) }
        if !unsupported.isEmpty, method != "ACK", method != "CANCEL" {
            return .reject(ProxyReject(status: 420, reason: "Bad Extension", warning: warning("unsupported Proxy-Require"),
                                       extraHeaders: [ProxyHeaderLine("Unsupported", unsupported.joined(separator: ", "))]))
        }

        var splice = SIPSplice(request)
        // The URIs of `request.routes` (each URI below is read once: `SIPURIParts` of the same text is reused).
        let routes = request.routeURIs

        // §16.4: strict-routing previous hop put our URI in the Request-URI.
        var targetURI = receivedURI
        var firstRemaining = 0
        var lastRemoved = routes.count
        let receivedParts = SIPURIParts(parsing: receivedURI)
        if let ru = receivedParts, configuration.isOurs(ru), let last = routes.last {
            targetURI = last
            do { try splice.removeRoute(at: routes.count - 1) } catch { return .reject(Self.reject(error)) }
            lastRemoved = routes.count - 1
        }
        // §16.4: remove our own top Route values (two of them after a double Record-Route, RFC 5658 §4).
        // `firstRouteParts` ends as the parse of routes[firstRemaining] when that one is left.
        var firstRouteParts: SIPURIParts?
        while firstRemaining < lastRemoved {
            firstRouteParts = SIPURIParts(parsing: routes[firstRemaining])
            guard let u = firstRouteParts, configuration.isOurs(u) else { break }
            do { try splice.removeRoute(at: firstRemaining) } catch { return .reject(Self.reject(error)) }
            firstRemaining += 1
            firstRouteParts = nil
        }

        // §16.6 step 3.
        do { try splice.decrementMaxForwards() } catch { return .reject(Self.reject(error)) }

        var context = RequestContext(
            inbound: inbound, requestURI: targetURI, outbound: nil,
            recordRoute: configuration.recordRoute && configuration.recordRouteMethods.contains(method) && !request.hasToTag)
        if let rejection = requestPolicy.process(request, context: &context, splice: &splice) { return .reject(rejection) }

        // §16.6 steps 6-7: next hop from the first remaining Route (loose routing) or the Request-URI.
        let hopURI = firstRemaining < lastRemoved ? routes[firstRemaining] : context.requestURI
        // The parse of hopURI: the first remaining Route's (made by the loop above), or the Request-URI's
        // when it is still the received one (same bytes, so the same parse).
        let hopParts = firstRemaining < lastRemoved ? firstRouteParts
            : (Self.sameBytes(hopURI, receivedURI) ? receivedParts : SIPURIParts(parsing: hopURI))
        if firstRemaining < lastRemoved, let r = hopParts, !r.looseRouting {
            // §16.6 step 7: the next hop is a strict router: the Request-URI becomes the last Route
            // value and the first Route value becomes the Request-URI.
            do { try splice.removeRoute(at: firstRemaining) } catch { return .reject(Self.reject(error)) }
            splice.addHeader("Route", "<\(context.requestURI)>")
            context.requestURI = hopURI
        }
        guard let hop = hopParts else {
            return .reject(ProxyReject(status: 416, reason: "Unsupported URI Scheme"))
        }
        let nextHop = NextHop(uri: hopURI, host: hop.host, port: hop.effectivePort, transport: hop.effectiveTransport)
        let outbound = context.outbound ?? pickOutbound(side: inbound.side, transport: nextHop.transport, fallback: inbound)

        // SDP / body rewrite hook.
        if !request.bodyRange.isEmpty, let ct = request.contentType {
            switch bodyRewriter.rewrite(body: request.body, contentType: ct, message: request,
                                        direction: .request(from: inbound.side, to: outbound.side)) {
            case .unchanged: break
            case .replaced(let body, let contentType): splice.replaceBody(body, contentType: contentType)
            case .failed(let rejection): return .reject(rejection)
            }
        }

        // §16.6 step 4: Record-Route; double when side or transport changes (RFC 5658 §4).
        if context.recordRoute {
            let lr = configuration.recordRouteLooseRouting
            splice.insertRecordRoute(outbound.recordRouteValue(looseRouting: lr))
            if outbound.side != inbound.side || outbound.transport != inbound.transport {
                splice.insertRecordRoute(inbound.recordRouteValue(looseRouting: lr))
            }
        }

        // §16.6 step 8: our Via. ACK (only 2xx ACKs get here) is forwarded statelessly, so its branch is
        // a function of the request (§16.11): the received top branch replaces the generated token.
        let stateless = method == "ACK"
        let token = stateless ? Self.hex(Self.fnv1a(request.topViaHop?.branch ?? [])) : ids.branchToken()
        let branch = Self.branch(loopHash: loopHash, token: token)
        let via = Self.joined("SIP/2.0/", outbound.transport, " ", outbound.hostPort, ";branch=", branch)
        splice.insertTopVia(via)

        var bytes = splice.bytes()
        if context.requestURI != receivedURI, case .request(_, let uriRange) = request.startLine {
            // §16.6 step 2 / §16.4: new Request-URI. Splice edits never touch the start line, so its
            // offsets are the same in the output.
            bytes.replaceSubrange(uriRange, with: Array(context.requestURI.utf8))
        }
        return .forward(ForwardDecision(bytes: bytes, nextHop: nextHop, outbound: outbound, branch: branch, via: via, stateless: stateless))
    }

    /// Warning 399 (miscellaneous, RFC 3261 §20.43) naming this proxy.
    private func warning(_ text: String) -> SIPResponseBuilder.Warning {
        SIPResponseBuilder.Warning(code: 399, agent: configuration.warningAgent, text: text)
    }

    private func pickOutbound(side: ProxySide, transport: String, fallback: ProxyListener) -> ProxyListener {
        configuration.listeners.first { $0.side == side && $0.transport == transport } ?? fallback
    }

    static func reject(_ failure: SIPSplice.Failure) -> ProxyReject {
        if case .respond(let status, let reason) = failure.disposition { return ProxyReject(status: status, reason: reason) }
        return ProxyReject(status: 400, reason: "Bad Request")
    }

    // MARK: Responses

    /// RFC 3261 §16.7 step 3: remove our top Via, run the response policy and body rewriter.
    public func processResponse(_ response: SIPMessage) -> ResponseOutcome {
        guard let status = response.statusCode else { return .drop }
        // The top Via hop and whether a second Via parses (`topViaHop`, `hasVias(atLeast: 2)`), in one walk.
        let (topHop, secondVia) = response.topViaHop(countingVias: 2)
        guard let top = topHop, configuration.isOurs(hop: top),
              top.branch?.starts(with: Self.magicCookie.utf8) == true, secondVia else { return .drop }
        var splice = SIPSplice(response)
        do { try splice.removeTopVia() } catch { return .drop }
        if let rejection = responsePolicy.process(response, splice: &splice) { return .replace(rejection) }
        if !response.bodyRange.isEmpty, let ct = response.contentType {
            switch bodyRewriter.rewrite(body: response.body, contentType: ct, message: response, direction: .response) {
            case .unchanged: break
            case .replaced(let body, let contentType): splice.replaceBody(body, contentType: contentType)
            case .failed(let rejection): return .replace(rejection)
            }
        }
        return .forward(bytes: splice.bytes(), status: status)
    }

    // MARK: Loop detection (§16.6 step 8, §16.3 step 4)

    /// Hash over the fields that stay the same when a request loops: Request-URI, From tag, To tag,
    /// Call-ID, CSeq number, Proxy-Require, Proxy-Authorization (RFC 3261 §16.6 step 8). The top Via
    /// and Route are left out: in a loop they are the previous hop's, so they would hide it (RFC 5393 §3).
    public static func loopHash(_ request: SIPMessage) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        // The bytes of each value's text (no String per value: slices of the message's bytes).
        func mix(_ s: ArraySlice<UInt8>?) {
            s?.withUnsafeBufferPointer { for b in $0 { h = (h ^ UInt64(b)) &* 0x100000001b3 } }
            h = (h ^ 0x1F) &* 0x100000001b3
        }
        func mix(_ s: String?) {
            for b in (s ?? "").utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
            h = (h ^ 0x1F) &* 0x100000001b3
        }
        mix(request.requestURIBytes)
        mix(request.tagBytes(.from))
        mix(request.tagBytes(.to))
        mix(request.callIDBytes)
        // The CSeq number's decimal digits, as `String(number)` writes them (no String).
        if let n = request.cseqNumber {
            var digits: (UInt64, Int) = (1, 1)
            while digits.0 <= UInt64(n) / 10 { digits.0 *= 10; digits.1 += 1 }
            var d = digits.0
            while d > 0 { h = (h ^ UInt64(0x30 + (UInt64(n) / d) % 10)) &* 0x100000001b3; d /= 10 }
        }
        h = (h ^ 0x1F) &* 0x100000001b3
        // The classified names (what `fields(named:)` filters on for a known name), without classifying
        // the text for every request.
        for f in request.headers where f.name == .proxyRequire { mix(request.unfoldedBytes(f.valueRange)) }
        for f in request.headers where f.name == .proxyAuthorization { mix(request.unfoldedBytes(f.valueRange)) }
        return h
    }

    /// The loop hash carried in one of our branches, or nil when `branch` is not ours.
    static func loopHash(ofBranch branch: String) -> UInt64? {
        guard branch.hasPrefix(magicCookie) else { return nil }
        let rest = branch.dropFirst(magicCookie.count)
        guard let dot = rest.firstIndex(of: "."), rest.distance(from: rest.startIndex, to: dot) == 16 else { return nil }
        return UInt64(rest[..<dot], radix: 16)
    }

    /// `loopHash(ofBranch:)` of the branch's bytes (the Via hop's branch, no String).
    /// ASCII with 16 hex digits is read from the bytes; anything else (signs, non-ASCII) goes to the String
    /// version, so both give the same result.
    static func loopHash(ofBranch branch: ArraySlice<UInt8>) -> UInt64? {
        let cookie = magicCookie.utf8.count
        // Our shape needs at least cookie + 16 + 1 characters, so at least that many bytes on either path.
        guard branch.count > cookie + 16 else { return nil }
        guard branch.allSatisfy({ $0 < 0x80 }) else { return loopHash(ofBranch: String(decoding: branch, as: UTF8.self)) }
        guard branch.starts(with: magicCookie.utf8),
              branch[branch.startIndex + cookie + 16] == 0x2E else { return nil }
        var v: UInt64 = 0
        for c in branch[(branch.startIndex + cookie)..<(branch.startIndex + cookie + 16)] {
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x61...0x66: d = c - 0x57
            case 0x41...0x46: d = c - 0x37
            default: return loopHash(ofBranch: String(decoding: branch, as: UTF8.self))
            }
            v = v << 4 | UInt64(d)
        }
        return v
    }

    static func fnv1a(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return h
    }

    /// `magicCookie + hex(loopHash) + "." + token` in one String buffer (it runs for every forwarded request).
    static func branch(loopHash: UInt64, token: String) -> String {
        var token = token
        return token.withUTF8 { t in
            String(unsafeUninitializedCapacity: 7 + 16 + 1 + t.count) { out in
                var i = 0
                for c in magicCookie.utf8 { out[i] = c; i += 1 }
                writeHex(loopHash, into: out, at: i)
                i += 16
                out[i] = 0x2E
                i += 1
                for c in t { out[i] = c; i += 1 }
                return i
            }
        }
    }

    /// True when `a` and `b` have the same UTF-8 bytes (one compare of contiguous buffers).
    static func sameBytes(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                guard x.count == y.count else { return false }
                var k = 0
                while k < x.count { if x[k] != y[k] { return false }; k += 1 }
                return true
            }
        }
    }

    /// The concatenation of `parts` in one String buffer (no interpolation buffer growing per part).
    @inline(__always)  // inlined, the array of parts can stay on the stack
    static func joined(_ parts: String...) -> String {
        var count = 0
        for p in parts { count += p.utf8.count }
        return String(unsafeUninitializedCapacity: count) { out in
            var i = 0
            for p in parts {
                // Contiguous UTF-8 (native and small Strings): one copy per part, not a loop per byte.
                var p = p
                p.withUTF8 { u in
                    guard let src = u.baseAddress, let dst = out.baseAddress, u.count <= count - i else { return }
                    (dst + i).update(from: src, count: u.count)
                    i += u.count
                }
            }
            return i
        }
    }

    /// `v` as 16 lower-case hex digits, zero-padded (what `String(v, radix: 16)` padded to 16 gives), written
    /// into one String buffer (no intermediate Strings: it runs for every forwarded request).
    static func hex(_ v: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { out in
            writeHex(v, into: out, at: 0)
            return 16
        }
    }

    /// Writes `v` as 16 lower-case hex digits into `out[start..<start + 16]` (the caller sized `out`).
    @inline(__always)
    private static func writeHex(_ v: UInt64, into out: UnsafeMutableBufferPointer<UInt8>, at start: Int) {
        for k in 0..<16 {
            let nibble = UInt8(truncatingIfNeeded: v >> UInt64(60 - 4 * k)) & 0x0F
            out[start + k] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble  // '0'-'9', 'a'-'f'
        }
    }
}

extension SIPProxyCore {
    /// 100 Trying for an INVITE (RFC 3261 §16.2, §8.2.6.1: no To tag, Timestamp copied).
    public static func trying(for invite: SIPMessage) -> [UInt8] {
        SIPResponseBuilder.response(to: invite, status: 100, reason: "Trying")
    }

    /// 200 OK to a CANCEL that matched a response context (RFC 3261 §16.10, §9.2).
    public static func okToCancel(_ cancel: SIPMessage, toTag: String) -> [UInt8] {
        SIPResponseBuilder.response(to: cancel, status: 200, reason: "OK", toTag: toTag)
    }
}
