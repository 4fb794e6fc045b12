// UDP datagram policy for H.248 (H.248.1 Annex D.1): one H.248 message per datagram, no
// segmentation on Iq (TS 29.334 Table 5.12.2), so a message must fit the path MTU or fail with 533.

/// IP version of the path, for the header overhead.
public enum H248IPVersion: Sendable, Hashable {
    case v4
    case v6

    /// IP header (without options/extension headers) + UDP header octets.
    /// RFC 791 (20), RFC 8200 (40), RFC 768 (8).
    public var ipAndUDPHeaderLength: Int {
        switch self {
        case .v4: return 20 + 8
        case .v6: return 40 + 8
        }
    }

    /// Largest UDP payload the IP packet length field allows (RFC 768 / RFC 791: 65535 - 28;
    /// RFC 8200 without jumbograms: 65535 payload - 8).
    public var maximumUDPPayload: Int {
        switch self {
        case .v4: return 65_535 - 28
        case .v6: return 65_535 - 8
        }
    }
}

/// What the UDP driver must respect when sending and receiving H.248 datagrams.
public struct H248DatagramPolicy: Sendable, Hashable {
    /// Path MTU towards the gateway (`h248.udp.pathMTU`, default 1500 = Ethernet).
    public var pathMTU: Int
    public var ipVersion: H248IPVersion
    /// When true, messages may exceed the MTU and rely on IP fragmentation (up to the UDP maximum).
    /// Default false: Iq has no segmentation and fragments are often dropped, so fail early with 533.
    public var allowIPFragmentation: Bool

    /// Receive buffer the driver must give each datagram read. NIO's default datagram allocator
    /// (2048 octets) truncates larger datagrams silently (platform-notes §3.1), so allocate the UDP
    /// maximum; with vector reads of N messages, allocate N times this.
    public static let recommendedReceiveBufferSize = 65_536
    /// Socket receive buffer (SO_RCVBUF) suggested for bursts of H.248 traffic.
    public static let recommendedSocketReceiveBufferSize = 4 << 20

    public init(pathMTU: Int = 1500, ipVersion: H248IPVersion = .v4, allowIPFragmentation: Bool = false) {
        self.pathMTU = pathMTU
        self.ipVersion = ipVersion
        self.allowIPFragmentation = allowIPFragmentation
    }

    /// Largest H.248 message that may be sent in one datagram under this policy.
    public var maximumMessageSize: Int {
        if allowIPFragmentation { return ipVersion.maximumUDPPayload }
        return Swift.max(0, Swift.min(pathMTU - ipVersion.ipAndUDPHeaderLength, ipVersion.maximumUDPPayload))
    }

    /// Rejects configurations that cannot carry any H.248 message (RFC 791: every host accepts 576;
    /// RFC 8200: IPv6 minimum MTU 1280).
    public func validate() throws(H248ClientError) {
        let minimum = ipVersion == .v4 ? 576 : 1280
        guard pathMTU >= minimum, pathMTU <= 65_535 else {
            throw H248ClientError(.invalidConfiguration, "h248.udp.pathMTU \(pathMTU) outside \(minimum)...65535")
        }
    }

    /// Checks an encoded message before it is sent in one datagram. Oversize throws
    /// `.messageTooLarge` with H.248.8 code 533 "Response exceeds maximum transport PDU size":
    /// for a reply, the driver answers the request with error 533 instead; for a request, the
    /// caller gets the error and nothing is sent.
    public func checkOutgoing(messageLength: Int) throws(H248ClientError) {
        guard messageLength > 0 else {
            throw H248ClientError(.emptyMessage, "UDP: refusing to send an empty H.248 datagram")
        }
        let limit = maximumMessageSize
        guard messageLength <= limit else {
            throw H248ClientError(
                .messageTooLarge, h248ErrorCode: H248ErrorCodes.responseTooLarge,
                "UDP: H.248 message of \(messageLength) octets exceeds \(limit) (path MTU \(pathMTU), \(ipVersion); no segmentation on Iq)")
        }
    }

    /// Checks a received datagram: empty ones are dropped; one that filled the whole receive buffer
    /// may have been truncated by the socket layer and must not be parsed.
    public func checkIncoming(datagramLength: Int, receiveBufferSize: Int) throws(H248ClientError) {
        guard datagramLength > 0 else {
            throw H248ClientError(.emptyMessage, h248ErrorCode: H248ErrorCodes.syntaxErrorInMessage, "UDP: empty datagram")
        }
        guard datagramLength < receiveBufferSize else {
            throw H248ClientError(
                .datagramPossiblyTruncated,
                "UDP: datagram of \(datagramLength) octets filled the \(receiveBufferSize)-octet receive buffer; use \(Self.recommendedReceiveBufferSize)")
        }
    }
}
