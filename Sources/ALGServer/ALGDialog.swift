// The SIP dialog as the IMS-ALG on the proxy sees it (issue 9), and the in-dialog requests the proxy
// originates from it (pure: no I/O). The session state machine asks for `.sendBYE` (the only stream
// failed, the gateway restarted or went out of service, TS 23.334 §5.11.2.2 / seed 000; RFC 4028 §10)
// and `.sendReINVITERemovingStream` (one of several streams failed: RFC 3264 §8.2 port 0); the proxy,
// which is not a UA of the dialog, sends them on behalf of the party on the other side:
//   - towards the callee, as the caller: From = the caller's From, To = the callee's To (tags),
//     Request-URI = the callee's Contact, Route = the Record-Route set reversed (RFC 3261 §12.1.2);
//   - towards the caller, as the callee: From = the callee's To, To = the caller's From, Request-URI =
//     the caller's Contact, Route = the Record-Route set in order (§12.1.1).
// `ProxyServer.originate` drops the route entries up to this proxy's own, adds Via, runs the transaction.
//
// CSeq translation (`ALGCSeqTranslation`): a request the proxy inserts into the X→Y direction takes a
// CSeq number that X does not know about, so X's own next request could carry the same or a lower number
// and Y, a strict UAS, would answer 500 (RFC 3261 §12.2.2). Per dialog and per direction the proxy keeps
// an offset: every later in-dialog request X sends towards Y gets its CSeq number raised by it (§12.2.1.1:
// numbers must increase by at least one per request), the ACK of a 2xx gets the number its INVITE was sent
// with (§13.2.2.4), and the responses going back to X carry the number X used (§8.2.6.2). CANCEL and the
// ACK of a non-2xx are hop by hop: the proxy builds them from the INVITE it forwarded (§9.1, §17.1.1.3),
// which already carries the translated number.
import IMSALG
import ProxyRuntime
import SDPRewrite
import SIPCore
import SIPProxy
import SIPTransport

/// What the ALG records of a dialog from the dialog-creating INVITE and its 2xx (RFC 3261 §12.1).
public struct ALGDialogRecord: Sendable, Equatable {
    public var callID: String
    /// The side the INVITE came from (access: originating call, core: terminating call).
    public var callerSide: Side
    /// From header value of the INVITE (with the caller's tag).
    public var callerFrom: String
    /// Contact URI of the INVITE (the caller's remote target).
    public var callerTarget: String
    /// CSeq numbers of the caller→callee direction (the caller's requests and the proxy's own towards the callee).
    public var fromCaller: ALGCSeqTranslation
    /// To header value of the 2xx (with the callee's tag); nil until the dialog is confirmed.
    public var calleeTo: String?
    /// Contact URI of the 2xx (the callee's remote target).
    public var calleeTarget: String?
    /// CSeq numbers of the callee→caller direction (the callee's requests and the proxy's own towards the caller).
    public var fromCallee = ALGCSeqTranslation()
    /// Record-Route of the 2xx as `<uri>` values, top first.
    public var recordRoute: [String] = []
    /// The UE's flow (the INVITE's flow for an originating call; the 2xx's for a terminating call).
    public var accessFlow: ProxyFlow?
    /// The last SDP the proxy forwarded towards each side (what that side believes the other offered).
    public var lastSDPTowards: [Side: String] = [:]

    public init(callID: String, callerSide: Side, callerFrom: String, callerTarget: String, callerCSeq: UInt32) {
        self.callID = callID; self.callerSide = callerSide; self.callerFrom = callerFrom
        self.callerTarget = callerTarget
        self.fromCaller = ALGCSeqTranslation(dialogCreating: callerCSeq)
    }

    /// Confirmed: the 2xx was seen, so in-dialog requests can be built.
    public var isConfirmed: Bool { calleeTo != nil && calleeTarget != nil }

    /// The CSeq number to forward for an in-dialog request that `side` sent with `cseq` (RFC 3261
    /// §12.2.1.1, §12.2.2; see `ALGCSeqTranslation.forward`). Nil: forward it unchanged.
    public mutating func forwardCSeq(_ cseq: UInt32, method: String, from side: Side) -> UInt32? {
        side == callerSide ? fromCaller.forward(cseq, method: method) : fromCallee.forward(cseq, method: method)
    }

    /// A request of the dialog towards `side` on behalf of the party on the other side, with the next
    /// CSeq of that party (RFC 3261 §12.2.1.1). Nil before the dialog is confirmed.
    public mutating func request(_ method: String, towards side: Side, extraHeaders: [ProxyHeaderLine] = [],
                                 sdp: String? = nil) -> ProxyOriginatedRequest? {
        guard let calleeTo, let calleeTarget else { return nil }
        let towardsCallee = side != callerSide
        let from = towardsCallee ? callerFrom : calleeTo
        let to = towardsCallee ? calleeTo : callerFrom
        let uri = towardsCallee ? calleeTarget : callerTarget
        let contact = towardsCallee ? callerTarget : calleeTarget
        let routes = towardsCallee ? Array(recordRoute.reversed()) : recordRoute
        // The next number of the impersonated party's direction; the offset keeps its own later requests above it.
        guard let cseq = towardsCallee ? fromCaller.insert() : fromCallee.insert() else { return nil }
        var headers = [ProxyHeaderLine("From", from), ProxyHeaderLine("To", to), ProxyHeaderLine("Call-ID", callID)]
        if method == "INVITE" { headers.append(ProxyHeaderLine("Contact", "<\(contact)>")) }
        headers += extraHeaders
        let sipSide: SIPSide = side == .access ? .gm : .mw
        return ProxyOriginatedRequest(method: method, requestURI: uri, routeSet: routes, headers: headers, cseq: cseq,
                                      body: sdp.map { Array($0.utf8) } ?? [], contentType: sdp == nil ? nil : "application/sdp",
                                      side: sipSide, flow: side == .access ? accessFlow : nil)
    }
}

/// The CSeq numbers of one direction of a dialog (party X towards party Y) as forwarded by a proxy that
/// also inserts requests of its own into that direction, impersonating X (pure: no I/O).
///
/// RFC 3261 §12.2.1.1: X's CSeq numbers increase by at least one per request; §12.2.2: Y answers 500 to
/// a request whose number is not above the last one it received. The proxy keeps `offset` so that a
/// number X sends, once translated (`received + offset`), is above every number the proxy used:
/// after an insertion with number p, `offset = p - lastReceived`, so X's next request (> lastReceived)
/// lands above p. With one insertion after X's last request, the offset grows by one: it counts the
/// requests the proxy inserted. When X has sent nothing yet (the callee before its first request) its
/// first number may be anything from 0, so the offset is p + 1.
public struct ALGCSeqTranslation: Sendable, Equatable {
    /// RFC 3261 §8.1.1.5: a CSeq number is below 2**31.
    public static let maximumNumber: UInt32 = UInt32(Int32.max)

    /// Highest number X sent (as received); nil: none yet.
    public private(set) var lastReceived: UInt32?
    /// Highest number sent towards Y in this direction (translated, or the proxy's own); nil: none yet.
    public private(set) var lastSent: UInt32?
    /// Added to every number X sends (the proxy's insertions; 0 while it inserted none).
    public private(set) var offset: UInt32 = 0
    /// The last INVITE of X: its number as received and as sent (its 2xx ACK carries the same, §13.2.2.4).
    public private(set) var lastInvite: (received: UInt32, sent: UInt32)?

    public init() {}

    /// The direction of the caller, from the dialog-creating INVITE (forwarded unchanged).
    public init(dialogCreating cseq: UInt32) {
        lastReceived = cseq; lastSent = cseq; lastInvite = (cseq, cseq)
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.lastReceived == b.lastReceived && a.lastSent == b.lastSent && a.offset == b.offset
            && a.lastInvite?.received == b.lastInvite?.received && a.lastInvite?.sent == b.lastInvite?.sent
    }

    /// The number to send towards Y for X's request numbered `number`, or nil to send it unchanged.
    /// ACK (of a 2xx, the only one that is end to end) and CANCEL take the number of the INVITE they
    /// belong to as it was sent (RFC 3261 §13.2.2.4, §9.1); any other request `number + offset`
    /// (§12.2.1.1). A number the offset would push to 2**31 or beyond is left unchanged (Y will answer
    /// it 500 as it would have anyway; never a trap).
    public mutating func forward(_ number: UInt32, method: String) -> UInt32? {
        let out: UInt32
        if method == "ACK" || method == "CANCEL" {
            if let i = lastInvite, i.received == number { out = i.sent } else {
                guard let t = translated(number) else { return nil }
                out = t
            }
            return out == number ? nil : out
        }
        guard let t = translated(number) else { return nil }
        out = t
        lastReceived = max(lastReceived ?? 0, number)
        lastSent = max(lastSent ?? 0, out)
        if method == "INVITE" { lastInvite = (number, out) }
        return out == number ? nil : out
    }

    /// RFC 3262 §7.2: the `RAck` value (`response-num CSeq-num Method`) of a PRACK sent in this direction,
    /// as it must go on: its CSeq-num names the INVITE the reliable 18x answered, as the UAS saw it, so an
    /// INVITE that went on translated is named by its translated number. Nil: unchanged (no translation,
    /// not an INVITE of this direction, or not a well-formed RAck).
    public func forwardRAck(_ value: String) -> String? {
        let parts = value.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 3, let rseq = UInt32(parts[0]), let number = UInt32(parts[1]),
              parts[2] == "INVITE", let i = lastInvite, i.received == number, i.sent != number else { return nil }
        return "\(rseq) \(i.sent) \(parts[2])"
    }

    /// The number of a request the proxy inserts into this direction (the next after everything sent
    /// towards Y), and the new offset. Nil when it would reach 2**31 (§8.1.1.5).
    public mutating func insert() -> UInt32? {
        let next = Int64(lastSent ?? 0) + 1
        // X's next number is above lastReceived; when X sent none it may be anything from 0 (as if -1).
        let newOffset = next - (lastReceived.map { Int64($0) } ?? -1)
        guard next <= Int64(Self.maximumNumber), newOffset >= 1, newOffset <= Int64(Self.maximumNumber) else { return nil }
        lastSent = UInt32(next)
        offset = UInt32(newOffset)
        return UInt32(next)
    }

    private func translated(_ number: UInt32) -> UInt32? {
        let t = UInt64(number) + UInt64(offset)
        return t <= UInt64(Self.maximumNumber) ? UInt32(t) : nil
    }

    /// The CSeq number a response must carry on its way back to X: the number of X's request as received
    /// (RFC 3261 §8.2.6.2: a response copies its request's CSeq). Nil when the response has it already.
    public static func responseNumber(_ response: SIPMessage, request: SIPMessage) -> UInt32? {
        guard let r = request.cseq?.number, let n = response.cseq?.number, r != n else { return nil }
        return r
    }

    /// Rewrites only the number of the CSeq line of `splice`'s message (its method text is kept); the
    /// other bytes are forwarded as received (RFC 3261 §16.6 splice).
    public static func rewrite(_ splice: inout SIPSplice, number: UInt32) {
        guard let method = splice.message.cseq?.method else { return }
        splice.replaceHeader("CSeq", "\(number) \(method)")
    }
}

/// SDP edits for the proxy's own re-offer (pure, RFC 3264 §8).
public enum ALGReofferSDP {
    /// `sdp` with the m-line of `index` (0-based) at port 0 (RFC 3264 §8.2: the stream is removed) and
    /// the o= version incremented (§8: a changed session description gets a higher version). Nil when
    /// there is no such m-line.
    public static func removingStream(_ index: Int, from sdp: String) -> String? {
        let crlf = sdp.contains("\r\n")
        // "\r\n" is one Character in Swift: split on it and on a bare "\n".
        var lines = sdp.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        var mIndex = -1
        var done = false
        for i in lines.indices {
            let l = lines[i]
            if l.hasPrefix("o=") {
                var f = l.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false).map(String.init)
                if f.count >= 6, let v = UInt64(f[2]), v < UInt64.max { f[2] = String(v + 1) }
                lines[i] = "o=" + f.joined(separator: " ")
            } else if l.hasPrefix("m=") {
                mIndex += 1
                guard mIndex == index else { continue }
                var f = l.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false).map(String.init)
                guard f.count >= 3 else { return nil }
                f[1] = "0"
                lines[i] = "m=" + f.joined(separator: " ")
                done = true
            }
        }
        return done ? lines.joined(separator: crlf ? "\r\n" : "\n") : nil
    }
}
