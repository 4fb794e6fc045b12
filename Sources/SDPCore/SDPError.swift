// Typed SDP errors that know their SIP mapping (house style: errors carry a stable code and the wire
// mapping). RFC 3261 §21.4.1 (400 Bad Request: malformed syntax), §21.4.26 (488 Not Acceptable Here),
// §20.43 (Warning codes 3xx that describe the SDP problem).

/// An SDP could not be parsed, or a typed value inside it is malformed or not acceptable.
public struct SDPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable error codes (string raw values are used in logs and fixtures).
    public enum Code: String, Sendable, Equatable, Codable, CaseIterable {
        // Bounds (local policy, see `SDPLimits`).
        case inputTooLarge, tooManyLines, lineTooLong, tooManyMediaDescriptions
        // RFC 8866 §5 syntax.
        case emptyInput, malformedLine, missingVersion, unsupportedVersion, missingMandatoryLine
        case malformedOrigin, malformedConnection, malformedMedia, malformedBandwidth, malformedAttribute
        case wildcardNotAllowed
        // Typed attribute values (semantic: not acceptable here).
        case malformedFingerprint, unsupportedHashFunction, fingerprintLengthMismatch
        case malformedSetup, malformedConnectionAttribute, malformedRTCP, malformedCrypto
        case malformedPath, malformedFloorControl
    }

    public let code: Code
    /// 1-based line number inside the SDP body, 0 when not tied to one line.
    public let line: Int
    /// Short human-readable diagnostic (never contains more than `SDPLimits.maxDiagnosticLength` bytes of input).
    public let detail: String

    public init(_ code: Code, line: Int = 0, detail: String = "") {
        self.code = code
        self.line = line
        self.detail = detail.count > SDPLimits.maxDiagnosticLength
            ? String(detail.prefix(SDPLimits.maxDiagnosticLength)) : detail
    }

    /// SIP status for a request carrying this SDP: syntax errors are 400 (RFC 3261 §21.4.1), typed
    /// values we understand but cannot accept are 488 (RFC 3261 §21.4.26, RFC 3264 §6).
    public var sipStatus: Int {
        switch code {
        case .inputTooLarge, .tooManyLines, .lineTooLong, .tooManyMediaDescriptions,
             .emptyInput, .malformedLine, .missingVersion, .missingMandatoryLine,
             .malformedOrigin, .malformedConnection, .malformedMedia, .malformedBandwidth,
             .malformedAttribute, .wildcardNotAllowed:
            return 400
        case .unsupportedVersion, .malformedFingerprint, .unsupportedHashFunction, .fingerprintLengthMismatch,
             .malformedSetup, .malformedConnectionAttribute, .malformedRTCP, .malformedCrypto,
             .malformedPath, .malformedFloorControl:
            return 488
        }
    }

    /// RFC 3261 §20.43 warning code for a Warning header accompanying the response.
    public var warningCode: Int {
        switch code {
        case .malformedConnection, .wildcardNotAllowed: return 301   // Incompatible network address formats
        case .malformedMedia: return 302                              // Incompatible transport protocol
        case .malformedBandwidth: return 303                          // Incompatible bandwidth units
        case .malformedFingerprint, .unsupportedHashFunction, .fingerprintLengthMismatch,
             .malformedSetup, .malformedConnectionAttribute, .malformedRTCP, .malformedCrypto,
             .malformedPath, .malformedFloorControl, .malformedAttribute:
            return 306                                                // Attribute not understood
        default: return 399                                           // Miscellaneous warning
        }
    }

    /// Warning text (quoted-string content, no quotes or backslashes).
    public var warningText: String {
        let base = line > 0 ? "SDP \(code.rawValue) at line \(line)" : "SDP \(code.rawValue)"
        return base
    }

    public var description: String {
        detail.isEmpty ? warningText : "\(warningText): \(detail)"
    }
}
