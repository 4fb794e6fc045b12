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
    /// Highest CSeq number seen from the caller.
    public var callerCSeq: UInt32
    /// To header value of the 2xx (with the callee's tag); nil until the dialog is confirmed.
    public var calleeTo: String?
    /// Contact URI of the 2xx (the callee's remote target).
    public var calleeTarget: String?
    /// Highest CSeq number seen from the callee (nil: none yet).
    public var calleeCSeq: UInt32?
    /// Record-Route of the 2xx as `<uri>` values, top first.
    public var recordRoute: [String] = []
    /// The UE's flow (the INVITE's flow for an originating call; the 2xx's for a terminating call).
    public var accessFlow: ProxyFlow?
    /// The last SDP the proxy forwarded towards each side (what that side believes the other offered).
    public var lastSDPTowards: [Side: String] = [:]

    public init(callID: String, callerSide: Side, callerFrom: String, callerTarget: String, callerCSeq: UInt32) {
        self.callID = callID; self.callerSide = callerSide; self.callerFrom = callerFrom
        self.callerTarget = callerTarget; self.callerCSeq = callerCSeq
    }

    /// Confirmed: the 2xx was seen, so in-dialog requests can be built.
    public var isConfirmed: Bool { calleeTo != nil && calleeTarget != nil }

    /// Notes a request of the dialog from `side` (its CSeq, RFC 3261 §12.2.2).
    public mutating func saw(cseq: UInt32, from side: Side) {
        if side == callerSide { callerCSeq = max(callerCSeq, cseq) } else { calleeCSeq = max(calleeCSeq ?? 0, cseq) }
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
        let cseq: UInt32
        if towardsCallee {
            callerCSeq = callerCSeq < UInt32(Int32.max) ? callerCSeq + 1 : callerCSeq
            cseq = callerCSeq
        } else {
            // RFC 3261 §12.2.1.1: with no CSeq of the callee seen yet, any value will do for the caller.
            let next = (calleeCSeq ?? 0) < UInt32(Int32.max) ? (calleeCSeq ?? 0) + 1 : (calleeCSeq ?? 1)
            calleeCSeq = next
            cseq = next
        }
        var headers = [ProxyHeaderLine("From", from), ProxyHeaderLine("To", to), ProxyHeaderLine("Call-ID", callID)]
        if method == "INVITE" { headers.append(ProxyHeaderLine("Contact", "<\(contact)>")) }
        headers += extraHeaders
        let sipSide: SIPSide = side == .access ? .gm : .mw
        return ProxyOriginatedRequest(method: method, requestURI: uri, routeSet: routes, headers: headers, cseq: cseq,
                                      body: sdp.map { Array($0.utf8) } ?? [], contentType: sdp == nil ? nil : "application/sdp",
                                      side: sipSide, flow: side == .access ? accessFlow : nil)
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
