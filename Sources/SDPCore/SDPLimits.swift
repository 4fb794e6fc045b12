// Bounds on untrusted SDP input. RFC 8866 §5 sets no limits of its own; these are local policy
// (house rule: network input never allocates without a bound). A SIP body above these is rejected
// with 400 before any per-line allocation grows further.

public enum SDPLimits {
    /// Largest SDP body accepted, in bytes (RFC 8866 §5 has no limit; RFC 3261 §18.1.1 UDP path MTU
    /// guidance and real IMS SDP sizes, typically < 4 KiB, make 64 KiB generous).
    public static let maxBytes = 65_536
    /// Most lines in one SDP (RFC 8866 §5: no limit; local bound).
    public static let maxLines = 1_024
    /// Longest single line in bytes, without its terminator (RFC 8866 §5: no limit; local bound).
    public static let maxLineLength = 4_096
    /// Most m= sections (RFC 8866 §5.14: no limit; local bound).
    public static let maxMediaDescriptions = 64
    /// Most digits in a numeric field (b= value, o= sess-id/version, ports): keeps arithmetic in
    /// UInt64 without overflow (RFC 8866 §5.2 sess-id is 1*DIGIT, §5.8 bandwidth is 1*DIGIT).
    public static let maxNumberDigits = 19
    /// Largest fingerprint in bytes (RFC 8122 §5: SHA-512 = 64 bytes is the longest registered hash).
    public static let maxFingerprintBytes = 64
    /// Longest diagnostic text kept in an `SDPError`.
    public static let maxDiagnosticLength = 120
}
