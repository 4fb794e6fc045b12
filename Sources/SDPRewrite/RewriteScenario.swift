// A self-contained description of one SDP crossing the ALG, used by the fixtures
// (Fixtures/sdp/rewrite/<case>/context.json) and by `pcscf-alg sdp-rewrite --context FILE`.
// Earlier exchanges of the same session (the offer before an answer, the call before a re-offer) are
// replayed first through the same state machine.
import SDPCore

public struct RewriteScenario: Sendable, Codable, Equatable {
    /// An exchange replayed before the input: its SDP (inline text or a file next to the context)
    /// and the AGW's answer to it.
    public struct Step: Sendable, Codable, Equatable {
        public var direction: CallDirection
        public var kind: SDPKind
        public var sdp: String?
        public var sdpFile: String?
        public var gateway: GatewayAnswer?
    }

    /// The rejection a malformed case must produce.
    public struct ExpectedError: Sendable, Codable, Equatable {
        public var sipStatus: Int
        public var code: RewriteError.Code
        public var sdpCode: SDPError.Code?
    }

    public var description: String?
    public var direction: CallDirection
    public var kind: SDPKind
    public var flags: MediaSecurityFlags
    public var policy: RewritePolicy?
    public var gateway: GatewayAnswer?
    public var prior: [Step]?
    public var expectError: ExpectedError?

    /// The outcome of running a scenario.
    public struct Outcome: Sendable {
        public var request: GatewayRequest
        public var sdp: SessionDescription
        public var session: RewriteSession
    }

    /// Runs the prior steps, then the input. `load` resolves `sdpFile` names.
    public func run(input: String, load: (String) -> String?) throws(RewriteError) -> Outcome {
        var session = RewriteSession(policy: policy ?? .default, flags: flags)
        for (n, step) in (prior ?? []).enumerated() {
            guard let text = step.sdp ?? step.sdpFile.flatMap(load) else {
                throw RewriteError(.unexpectedEvent, detail: "prior step \(n) has no SDP")
            }
            let sdp: SessionDescription
            do { sdp = try SessionDescription(parsing: text) } catch { throw RewriteError(error) }
            _ = try session.receive(sdp, kind: step.kind, direction: step.direction)
            _ = try session.applyGatewayAnswer(step.gateway ?? GatewayAnswer())
        }
        let sdp: SessionDescription
        do { sdp = try SessionDescription(parsing: input) } catch { throw RewriteError(error) }
        let request = try session.receive(sdp, kind: kind, direction: direction)
        let out = try session.applyGatewayAnswer(gateway ?? GatewayAnswer())
        return Outcome(request: request, sdp: out, session: session)
    }
}

extension GatewayRequest {
    /// A human-readable rendering (for `pcscf-alg sdp-rewrite` and logs).
    public var humanReadable: String {
        var out = ""
        if streams.isEmpty { return "no gateway action\n" }
        for s in streams {
            out += "stream \(s.index) (\(s.media), \(s.protocol.rawValue)): \(s.treatment.rawValue), \(s.action.rawValue)"
            if let d = s.direction { out += ", \(d.rawValue)" }
            out += "\n"
            for (name, t) in [("access", s.access), ("core", s.core)] {
                guard let t else { continue }
                out += "  \(name): transport \(t.transport)"
                if let r = t.remote {
                    out += ", remote \(r.address):\(r.port)"
                    if let p = r.rtcpPort { out += " rtcp \(r.rtcpAddress ?? r.address):\(p)" }
                }
                if let fps = t.remoteFingerprints, !fps.isEmpty { out += ", remote fingerprint " + fps.map(\.value).joined(separator: ", ") }
                if t.requestLocalFingerprint { out += ", request AGW fingerprint" }
                if let tcp = t.tcp {
                    out += ", a=setup:\(tcp.setup.rawValue)"
                    if tcp.synTriggersPeer { out += ", incoming SYN triggers peer SYN" }
                    if tcp.connect { out += ", AGW connects" }
                    if tcp.reuseConnection { out += ", keep connection" }
                }
                if let c = t.startTLSAsClient { out += c ? ", AGW starts TLS (client)" : ", AGW is TLS server" }
                if let a = t.bandwidthAS { out += ", police b=AS:\(a)" }
                if let a = t.bandwidthTIAS { out += ", b=TIAS:\(a)" }
                out += "\n"
            }
        }
        return out
    }
}
