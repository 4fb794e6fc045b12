// Maps Iq failures to the SIP final response sent for the offer that needed the AGW
// (RFC 3261 §21.4.26 488, §21.5.1 500, §21.5.4 503; Warning codes RFC 3261 §20.43; H.248.8 error codes).

/// A SIP final response with its Warning header value.
public struct SIPRejection: Sendable, Equatable {
    public var status: Int
    /// Complete Warning header value, e.g. `399 pcscf.example "IMS-AGW error 510: Insufficient resources"`.
    public var warning: String
    public init(status: Int, warning: String) {
        self.status = status
        self.warning = warning
    }
}

public enum GatewayErrorMapping {
    /// One row of the table: H.248.8 code -> SIP status and Warning code.
    public struct Row: Sendable, Equatable {
        public var status: Int
        public var warningCode: Int
    }

    /// H.248.8 codes that say the offered media cannot be handled: 488 (RFC 3261 §21.4.26) with
    /// Warning 304 (media type not available), 370 (insufficient bandwidth) or 399.
    /// Resource and availability codes: 503. Anything else (protocol/identifier faults of our own
    /// request, unknown codes): 500.
    public static let table: [Int: Row] = [
        444: Row(status: 488, warningCode: 399),   // unsupported or unknown package
        445: Row(status: 488, warningCode: 399),   // unsupported or unknown property
        449: Row(status: 488, warningCode: 399),   // unsupported or unknown parameter
        501: Row(status: 488, warningCode: 399),   // not implemented
        515: Row(status: 488, warningCode: 304),   // unsupported media type
        517: Row(status: 488, warningCode: 399),   // unsupported or invalid mode
        526: Row(status: 488, warningCode: 370),   // insufficient bandwidth
        412: Row(status: 503, warningCode: 399),   // no ContextIDs available
        432: Row(status: 503, warningCode: 399),   // out of TerminationIDs
        502: Row(status: 503, warningCode: 399),   // not ready
        510: Row(status: 503, warningCode: 399),   // insufficient resources
        521: Row(status: 503, warningCode: 399),   // termination is ServiceChanging
    ]

    /// Default for codes not in the table (400, 401, 402, 403, 406, 410, 411, 421, 430, 431, 433, 434,
    /// 442, ...: the request or the association is at fault): 500 + Warning 399.
    public static let defaultRow = Row(status: 500, warningCode: 399)

    /// Bound on the H.248 error text copied into the Warning (RFC 3261 §20.43 warn-text is free text;
    /// keep headers small).
    public static let maxWarningTextBytes = 128

    public static func rejection(for failure: MGCFailure, agent: String) -> SIPRejection {
        switch failure {
        case .timeout:
            // No answer from the AGW: 503 (service unavailable) + Warning 399.
            return SIPRejection(status: 503, warning: warning(399, agent: agent, text: "IMS-AGW did not answer"))
        case .error(let code, let text, _):
            let row = table[code] ?? defaultRow
            return SIPRejection(status: row.status,
                                warning: warning(row.warningCode, agent: agent, text: "IMS-AGW error \(code): \(text)"))
        }
    }

    static func warning(_ code: Int, agent: String, text: String) -> String {
        var clean = String(text.unicodeScalars.filter { $0 != "\"" && $0 != "\\" && $0.value >= 0x20 && $0.value != 0x7F }
            .map(Character.init))
        if clean.utf8.count > maxWarningTextBytes {
            clean = String(decoding: clean.utf8.prefix(maxWarningTextBytes), as: UTF8.self)
        }
        return "\(code) \(agent) \"\(clean)\""
    }
}
