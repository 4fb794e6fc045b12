/// One Via value (RFC 3261 §20.42, §18.2.1 `received`, RFC 3581 `rport`).
public struct SIPVia: Sendable, Equatable {
    /// `SIP/2.0`.
    public var protocolNameVersion: String
    /// Transport token, upper-cased (`UDP`, `TCP`, `TLS`, `SCTP`, `WS`, ...).
    public var transport: String
    public var host: String
    public var port: Int?
    public var parameters: SIPParameters

    public var branch: String? { parameters["branch"] }
    public var received: String? { parameters["received"] }
    /// RFC 3581: `.absent`, `.requested` (bare `rport`) or `.value(port)`.
    public var rport: RPort {
        guard let p = parameters.items.first(where: { SIPParameters.sameName($0.name, "rport") }) else { return .absent }
        guard let v = p.value, !v.isEmpty else { return .requested }
        return Int(v).map { .value($0) } ?? .requested
    }
    public enum RPort: Sendable, Equatable { case absent, requested, value(Int) }

    /// Parses one Via element: `sent-protocol LWS sent-by *( SEMI via-params )`, LWS allowed around `/`.
    /// Plain text (ASCII, no quote or fold) in the usual shape is read by a byte scan (`SIPPlainScan.via`);
    /// everything else by `init(generalParsing:)`; both give the same result.
    public init?(parsing text: Substring) {
        if case .parsed(let v)? = text.utf8.withContiguousStorageIfAvailable({ SIPPlainScan.via($0, 0..<$0.count) }) {
            self = v
            return
        }
        self.init(generalParsing: text)
    }

    init(protocolNameVersion: String, transport: String, host: String, port: Int?, parameters: SIPParameters) {
        self.protocolNameVersion = protocolNameVersion
        self.transport = transport
        self.host = host
        self.port = port
        self.parameters = parameters
    }

    /// The general (Character-based) Via parser.
    init?(generalParsing text: Substring) {
        let t = text.trimmingLWS()
        let parts = t.split(separator: "/", maxSplits: 2)
        guard parts.count == 3 else { return nil }
        let name = parts[0].trimmingLWS(), version = parts[1].trimmingLWS()
        var rest = parts[2].trimmingLWS()
        guard let wsp = rest.firstIndex(where: { $0 == " " || $0 == "\t" || $0 == "\r\n" || $0 == "\n" || $0 == "\r" }) else { return nil }
        transport = rest[..<wsp].uppercased()
        rest = rest[wsp...].trimmingLWS()
        protocolNameVersion = "\(name)/\(version)"
        let semi = rest.firstIndex(of: ";") ?? rest.endIndex
        let sentBy = rest[..<semi].trimmingLWS()
        parameters = SIPParameters(parsing: rest[semi...])
        if sentBy.first == "[", let close = sentBy.firstIndex(of: "]") {
            host = String(sentBy[...close])
            let after = sentBy[sentBy.index(after: close)...].trimmingLWS()
            port = after.first == ":" ? Int(after.dropFirst().trimmingLWS()) : nil
        } else if let colon = sentBy.firstIndex(of: ":") {
            host = String(sentBy[..<colon].trimmingLWS())
            port = Int(sentBy[sentBy.index(after: colon)...].trimmingLWS())
        } else {
            host = String(sentBy)
            port = nil
        }
        guard !host.isEmpty, !transport.isEmpty else { return nil }
    }
}

/// CSeq (RFC 3261 §20.16): sequence number below 2**31 and method.
public struct SIPCSeq: Sendable, Equatable {
    public var number: UInt32
    public var method: String
}

/// One Security-Client / Security-Server / Security-Verify mechanism (RFC 3329 §2.2), e.g.
/// `ipsec-3gpp;alg=hmac-sha-1-96;spi-c=1;...` or `msrp-tls;mediasec` (RFC 9396 / TS 33.328 `mediasec`).
public struct SIPSecurityMechanism: Sendable, Equatable {
    public var name: String
    public var parameters: SIPParameters
    /// The `mediasec` header parameter (media-plane security, RFC 9396 §3).
    public var mediasec: Bool { parameters.contains("mediasec") }
    /// `q` preference, when present.
    public var preference: String? { parameters["q"] }

    public init?(parsing text: Substring) {
        let t = text.trimmingLWS()
        let semi = t.firstIndex(of: ";") ?? t.endIndex
        let n = t[..<semi].trimmingLWS()
        guard !n.isEmpty else { return nil }
        name = String(n)
        parameters = SIPParameters(parsing: t[semi...])
    }
}

/// P-Access-Network-Info (RFC 7315 §5.4): access type plus parameters.
public struct SIPAccessNetworkInfo: Sendable, Equatable {
    public var accessType: String
    public var parameters: SIPParameters
}
