/// `( name-addr / addr-spec ) *( SEMI param )`: From, To, Route, Record-Route, Path, Service-Route,
/// P-Asserted-Identity, P-Preferred-Identity, P-Associated-URI, Contact (RFC 3261 §20.10, §20.20,
/// §20.39, §20.34, §20.30; RFC 3327; RFC 3608; RFC 3325; RFC 7315).
public struct SIPNameAddress: Sendable, Equatable {
    /// Display name without quotes (nil when absent).
    public var displayName: String?
    /// The URI (without `<>`).
    public var uri: String
    /// Header parameters after the URI (`tag`, `lr` is a URI param and stays in `uri`).
    public var parameters: SIPParameters
    /// True when the URI was enclosed in `<>`.
    public var angleBracketed: Bool

    /// The `tag` parameter (RFC 3261 §19.3).
    public var tag: String? { parameters["tag"] }

    public init(displayName: String?, uri: String, parameters: SIPParameters, angleBracketed: Bool) {
        self.displayName = displayName
        self.uri = uri
        self.parameters = parameters
        self.angleBracketed = angleBracketed
    }

    /// Parses one element (one comma-separated value). Returns nil for `*` or an empty element.
    /// Plain text (ASCII, no quote or fold) is read by a byte scan (`SIPPlainScan.nameAddress`), the
    /// rest by `init(generalParsing:)`; both give the same result.
    public init?(parsing text: Substring) {
        if case .parsed(let v)? = text.utf8.withContiguousStorageIfAvailable({ SIPPlainScan.nameAddress($0, 0..<$0.count) }) {
            guard let v else { return nil }
            self = v
            return
        }
        self.init(generalParsing: text)
    }

    /// The general (Character-based) parser.
    init?(generalParsing text: Substring) {
        let t = text.trimmingLWS()
        guard !t.isEmpty, t != "*" else { return nil }
        if let lt = t.firstIndexOutsideQuotes(of: "<") ?? Self.firstAngle(t), let gt = t[lt...].firstIndex(of: ">") {
            var dn = t[..<lt].trimmingLWS()
            if dn.count >= 2, dn.first == "\"", dn.last == "\"" { dn = dn.dropFirst().dropLast() }
            displayName = dn.isEmpty ? nil : String(dn)
            uri = String(t[t.index(after: lt)..<gt].trimmingLWS())
            parameters = SIPParameters(parsing: t[t.index(after: gt)...])
            angleBracketed = true
        } else {
            // addr-spec: parameters after the first ';' are header parameters (RFC 3261 §20.10).
            let semi = t.firstIndex(of: ";") ?? t.endIndex
            displayName = nil
            uri = String(t[..<semi].trimmingLWS())
            parameters = SIPParameters(parsing: t[semi...])
            angleBracketed = false
        }
    }

    /// First `<` outside a quoted display name.
    private static func firstAngle(_ t: Substring) -> Substring.Index? {
        var inQuote = false, escaped = false
        var idx = t.startIndex
        while idx < t.endIndex {
            let c = t[idx]
            if escaped { escaped = false } else if inQuote { if c == "\\" { escaped = true } else if c == "\"" { inQuote = false } }
            else if c == "\"" { inQuote = true } else if c == "<" { return idx }
            idx = t.index(after: idx)
        }
        return nil
    }
}

/// One Contact value (RFC 3261 §20.10) with RFC 3840 feature tags.
public struct SIPContact: Sendable, Equatable {
    /// nil for `Contact: *`.
    public var address: SIPNameAddress?
    public var isWildcard: Bool { address == nil }
    /// `expires` parameter (RFC 3261 §20.10), when it is a valid delta-seconds.
    public var expires: UInt32? { address?.parameters["expires"].flatMap { UInt32($0) } }
    /// Feature tag parameters (RFC 3840 §9: base tags and `+`-prefixed tags such as `+g.3gpp.icsi-ref`,
    /// `+sip.instance`), in written order.
    public var featureTags: [SIPParameters.Parameter] {
        address?.parameters.items.filter { p in p.name.hasPrefix("+") || SIPContact.baseFeatureTags.contains(p.name.lowercased()) } ?? []
    }
    /// RFC 3840 §9 feature tags written without the `+` prefix.
    public static let baseFeatureTags: Set<String> = [
        "audio", "automata", "class", "duplex", "data", "control", "mobility", "description", "events",
        "priority", "methods", "schemes", "application", "video", "language", "type", "isfocus", "actor", "text", "extensions",
    ]
}
