import SIPCore

/// Headers that only the network may set: the UE side (Gm) is outside the trust domain, so the
/// P-CSCF removes them from everything the UE sends before it adds its own (RFC 3325 §4/§5 trust
/// domain; TS 24.229 §4.4 "trust domain" and the P-CSCF procedures of §5.2.2.1, §5.2.6.3 [K]).
public enum TrustBoundary {
    /// One network-only header and the clause that makes it so.
    public struct Rule: Sendable, Equatable, CustomStringConvertible {
        public var header: String
        public var clause: String
        public var description: String { "\(header) (\(clause))" }
    }

    /// Removed from every request (and REGISTER) arriving from the UE. P-Asserted-Identity,
    /// P-Charging-Vector and P-Visited-Network-ID are then re-added by the P-CSCF itself.
    public static let networkOnlyHeaders: [Rule] = [
        Rule(header: "P-Asserted-Identity", clause: "RFC 3325 §5; TS 24.229 §5.2.6.3.3 [K]"),
        Rule(header: "P-Charging-Vector", clause: "RFC 7315 §4.6; TS 24.229 §5.2.6.3.3, §5.2.2.1 [K]"),
        Rule(header: "P-Charging-Function-Addresses", clause: "RFC 7315 §4.5; TS 24.229 §5.2.6.3.3 [K]"),
        Rule(header: "P-Visited-Network-ID", clause: "RFC 7315 §4.3; TS 24.229 §5.2.2.1 [K]"),
        Rule(header: "P-Served-User", clause: "RFC 5502 §6; TS 24.229 §5.2.6.3.3 [K]"),
        Rule(header: "P-Asserted-Service", clause: "RFC 6050 §4.1; TS 24.229 §5.2.6.3.3 [K]"),
        Rule(header: "P-Profile-Key", clause: "RFC 5002 §6; TS 24.229 §4.4 [K]"),
        Rule(header: "P-Private-Network-Indication", clause: "RFC 7316 §5; TS 24.229 §4.4 [K]"),
        Rule(header: "Relayed-Charge", clause: "TS 24.229 §7.2.12 [K]"),
        Rule(header: "Restoration-Info", clause: "TS 24.229 §7.2.11 [K]"),
    ]

    /// The P-Access-Network-Info parameter that only the network may add (TS 24.229 §5.2.6.3.3,
    /// §7.2A.4.3 "network-provided" [K]; RFC 7315 §5.4).
    public static let networkProvidedParameter = "network-provided"

    /// Removes the network-only headers (plus `extra`) and P-Access-Network-Info values that claim to
    /// be network-provided. Returns the header names actually removed, for logging and tests.
    @discardableResult
    public static func sanitize(_ message: SIPMessage, into splice: inout SIPSplice, extra: [String] = []) -> [String] {
        var removed: [String] = []
        for name in networkOnlyHeaders.map(\.header) + extra where !message.headerIndices(named: name).isEmpty {
            splice.removeHeader(name)
            removed.append(name)
        }
        let pani = HeaderElements.keep(message, .pAccessNetworkInfo, "P-Access-Network-Info", into: &splice) { element in
            !element.lowercased().split(separator: ";").dropFirst().contains { $0.trimmingCharacters(in: " \t").split(separator: "=").first.map(String.init) == networkProvidedParameter }
        }
        if pani { removed.append("P-Access-Network-Info;network-provided") }
        return removed
    }
}

/// Element-level edits of comma-separated header values with SIPSplice's public operations.
enum HeaderElements {
    /// Keeps only the elements of header `name` for which `keep` holds (raw text, byte-identical);
    /// rewrites the value into the first such line (RFC 3261 §7.3.1: a comma list and several lines
    /// are equivalent) or removes the header when nothing is kept. Returns true if anything changed.
    @discardableResult
    static func keep(_ message: SIPMessage, _ known: SIPHeaderName, _ written: String, into splice: inout SIPSplice,
                     _ keep: (String) -> Bool) -> Bool {
        let indices = message.headerIndices(named: written)
        guard !indices.isEmpty else { return false }
        var kept: [String] = []
        var dropped = false
        for i in indices {
            // Runs of consecutive kept elements keep their original bytes, separators included.
            var run: Range<Int>? = nil
            for r in message.elementRanges(of: message.headers[i]) {
                if keep(message.text(r)) {
                    run = run.map { $0.lowerBound..<r.upperBound } ?? r
                } else {
                    dropped = true
                    if let k = run { kept.append(message.text(k)); run = nil }
                }
            }
            if let k = run { kept.append(message.text(k)) }
        }
        guard dropped else { return false }
        if kept.isEmpty { splice.removeHeader(written) } else { splice.replaceHeader(written, kept.joined(separator: ", ")) }
        return true
    }

    /// True when the Security-* element carries the `mediasec` parameter (TS 24.229 §7.2A.7).
    static func isMediasec(_ element: String) -> Bool {
        SIPSecurityMechanism(parsing: element[...])?.mediasec ?? false
    }
}
