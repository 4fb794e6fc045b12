// Typed rejection of an SDP the ALG cannot serve, with its SIP mapping (RFC 3261 §21.4.26 488 Not
// Acceptable Here + Warning §20.43; §21.4.1 400 for malformed SDP; §21.5.1 500 for internal misuse).
import SDPCore

public struct RewriteError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Codable, Equatable {
        /// The SDP itself is malformed or a typed value in it is (see `sdp`).
        case malformedSDP
        /// An e2ae line carries no usable a=fingerprint (TS 33.328 §7.2.1 step 1; seed 000).
        case missingFingerprint
        /// A protocol the policy refuses (unknown proto with `unknownProtocol = reject`).
        case unsupportedProtocol
        /// e2ae requested but the registration does not allow it and policy says reject.
        case e2aeNotAllowed
        /// The answer does not match the offer (m-line count or proto; RFC 3264 §6).
        case answerMismatch
        /// No c= address applies to an anchored stream (RFC 8866 §5.7).
        case missingConnectionAddress
        /// a=path could not be rewritten (RFC 4975 §9 URI syntax).
        case malformedPath
        /// The call sequence is wrong (answer without offer, gateway answer without request).
        case unexpectedEvent
        /// The gateway answer lacks an address or fingerprint needed for the SDP.
        case incompleteGatewayAnswer
    }

    public let code: Code
    /// m-line index concerned, when there is one.
    public let stream: Int?
    public let detail: String
    /// The underlying SDP error, for `.malformedSDP`.
    public let sdp: SDPError?

    public init(_ code: Code, stream: Int? = nil, detail: String = "", sdp: SDPError? = nil) {
        self.code = code
        self.stream = stream
        self.detail = detail
        self.sdp = sdp
    }

    public init(_ sdpError: SDPError, stream: Int? = nil) {
        self.init(.malformedSDP, stream: stream, detail: sdpError.description, sdp: sdpError)
    }

    /// The SIP status to answer the request carrying the SDP with.
    public var sipStatus: Int {
        switch code {
        case .malformedSDP: return sdp?.sipStatus ?? 400
        case .unexpectedEvent, .incompleteGatewayAnswer: return 500
        default: return 488
        }
    }

    /// RFC 3261 §20.43 warn-code.
    public var warningCode: Int {
        switch code {
        case .malformedSDP: return sdp?.warningCode ?? 399
        case .missingFingerprint: return 306
        case .unsupportedProtocol, .e2aeNotAllowed: return 302
        case .answerMismatch: return 305
        case .missingConnectionAddress: return 301
        case .malformedPath: return 306
        case .unexpectedEvent, .incompleteGatewayAnswer: return 399
        }
    }

    /// Warning header field value: `<code> <agent> "<text>"`.
    public func warningHeaderValue(agent: String) -> String {
        var text = "IMS-ALG \(code.rawValue)"
        if let stream { text += " (m-line \(stream))" }
        if let sdp { text += ": " + sdp.warningText }
        let clean = text.filter { $0 != "\"" && $0 != "\\" }
        return "\(warningCode) \(agent) \"\(clean)\""
    }

    public var description: String {
        "\(sipStatus) \(code.rawValue)" + (stream.map { " m-line \($0)" } ?? "") + (detail.isEmpty ? "" : ": \(detail)")
    }
}
