/// Bounds applied to every SIP message taken from the network. Each is a named constant with the
/// clause that motivates it; nothing on the input path allocates beyond these.
public struct SIPParseLimits: Sendable, Equatable {
    /// Largest message (head + body) accepted. RFC 3261 §18.1.1 / §18.3: a UDP datagram cannot exceed
    /// 65,535 bytes; we apply the same ceiling to framed stream messages. Larger → 513 Message Too Large
    /// (RFC 3261 §21.5.14).
    public static let maxMessageBytes = 65_535
    /// Largest header block (start line + header fields + the blank line). RFC 3261 §21.5.14 (513):
    /// no IMS message needs more than 16 KiB of headers.
    public static let maxHeaderBlockBytes = 16_384
    /// Largest body. RFC 3261 §18.3 / §20.14 (Content-Length); bodies above this → 513.
    public static let maxBodyBytes = 49_152
    /// Most header field lines in one message (RFC 3261 §7.3); more → 513.
    public static let maxHeaderFields = 256
    /// Most comma-separated elements the typed views split out of one header line (RFC 3261 §7.3.1).
    public static let maxElementsPerField = 64
    /// Most digits accepted in Content-Length (RFC 3261 §20.14 is 1*DIGIT; 10 digits exceed any bound above).
    public static let maxContentLengthDigits = 10
    /// CSeq sequence numbers must be below 2**31 (RFC 3261 §8.1.1.5); larger → 400.
    public static let maxCSeqNumber: UInt64 = (1 << 31) - 1
    /// Max-Forwards is 0...255 (RFC 3261 §8.1.1.6, RFC 4475 §3.1.2.4); larger values are treated as absent.
    public static let maxMaxForwards = 255

    public var maxMessageBytes: Int
    public var maxHeaderBlockBytes: Int
    public var maxBodyBytes: Int
    public var maxHeaderFields: Int

    /// Defaults from the constants above.
    public static let `default` = SIPParseLimits(
        maxMessageBytes: SIPParseLimits.maxMessageBytes,
        maxHeaderBlockBytes: SIPParseLimits.maxHeaderBlockBytes,
        maxBodyBytes: SIPParseLimits.maxBodyBytes,
        maxHeaderFields: SIPParseLimits.maxHeaderFields)

    public init(maxMessageBytes: Int, maxHeaderBlockBytes: Int, maxBodyBytes: Int, maxHeaderFields: Int) {
        self.maxMessageBytes = maxMessageBytes
        self.maxHeaderBlockBytes = maxHeaderBlockBytes
        self.maxBodyBytes = maxBodyBytes
        self.maxHeaderFields = maxHeaderFields
    }

    /// Checked at start-up: every bound positive and the body/head bounds within the message bound.
    public func validate() throws(SIPParseError) {
        guard maxMessageBytes > 0, maxHeaderBlockBytes > 0, maxBodyBytes >= 0, maxHeaderFields > 0,
              maxHeaderBlockBytes <= maxMessageBytes, maxBodyBytes <= maxMessageBytes
        else { throw SIPParseError(.invalidLimits, disposition: .drop, detail: "inconsistent SIPParseLimits") }
    }
}
