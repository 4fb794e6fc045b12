// TPKT framing for H.248 over TCP (H.248.1 Annex D.2, RFC 1006 §6):
//   byte 0: version = 3; byte 1: reserved = 0; bytes 2-3: packet length, big-endian, INCLUDING the
//   4-byte header; then the H.248 message. Pure: bytes in, frames out.

/// RFC 1006 TPKT constants and the frame encoder.
public enum TPKT {
    /// RFC 1006 §6: "vrsn 8 bits: This field is always 3".
    public static let version: UInt8 = 3
    /// RFC 1006 §6: the header is 4 octets (vrsn, reserved, 16-bit packet length).
    public static let headerLength = 4
    /// RFC 1006 §6: the length field is 16 bits, so a packet is at most 65535 octets with header.
    public static let maximumPacketLength = 65_535
    /// Largest H.248 message one TPKT packet can carry.
    public static let maximumPayloadLength = maximumPacketLength - headerLength

    /// Frames one H.248 message. Throws `.messageTooLarge` (H.248.8 533 when it is a reply) if it
    /// cannot fit in one packet, and `.emptyMessage` for an empty payload.
    public static func encode(_ payload: some Collection<UInt8>) throws(H248ClientError) -> [UInt8] {
        let count = payload.count
        guard count > 0 else { throw H248ClientError(.emptyMessage, "TPKT: refusing to frame an empty H.248 message") }
        guard count <= maximumPayloadLength else {
            throw H248ClientError(
                .messageTooLarge, h248ErrorCode: H248ErrorCodes.responseTooLarge,
                "TPKT: message of \(count) octets exceeds the RFC 1006 maximum payload of \(maximumPayloadLength)")
        }
        let total = count + headerLength
        var frame: [UInt8] = []
        frame.reserveCapacity(total)
        frame.append(version)
        frame.append(0)
        frame.append(UInt8(truncatingIfNeeded: total >> 8))
        frame.append(UInt8(truncatingIfNeeded: total))
        frame.append(contentsOf: payload)
        return frame
    }
}

/// Streaming TPKT decoder: feed it whatever the socket returned (one byte, half a frame, or several
/// frames at once) and take out complete H.248 messages.
///
/// Bounds: after `feed` returns, at most one partial packet (`maximumPacketLength` octets) stays
/// buffered. A bad header makes the stream unusable (framing is lost): the decoder then stays failed
/// and the driver must close the connection.
public struct TPKTDecoder: Sendable {
    /// Largest accepted packet, header included (≤ RFC 1006's 65535). Lower it to bound memory.
    public let maximumPacketLength: Int
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var failure: H248ClientError?

    public init(maximumPacketLength: Int = TPKT.maximumPacketLength) {
        self.maximumPacketLength = Swift.max(TPKT.headerLength + 1, Swift.min(maximumPacketLength, TPKT.maximumPacketLength))
    }

    /// Octets received but not yet returned as a frame.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// True once a malformed header was seen; the connection must be closed.
    public var hasFailed: Bool { failure != nil }

    /// Appends `bytes` and returns every complete H.248 message now available, in order.
    /// Throws a typed error for a bad version, a length below the minimum or above the bound.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(H248ClientError) -> [[UInt8]] {
        if let failure { throw failure }
        var frames: [[UInt8]] = []
        var pending = bytes[...]
        while true {
            // Take only what completes the current packet (or its header), so the buffer never
            // holds more than one packet even if `bytes` is huge.
            let needed = try neededBytes()
            if needed > 0 {
                if pending.isEmpty { break }
                let take = pending.prefix(needed)
                buffer.append(contentsOf: take)
                pending = pending.dropFirst(take.count)
                continue
            }
            // A complete packet is buffered.
            let length = Int(buffer[readIndex + 2]) << 8 | Int(buffer[readIndex + 3])
            frames.append(Array(buffer[(readIndex + TPKT.headerLength)..<(readIndex + length)]))
            readIndex += length
            compact()
        }
        return frames
    }

    /// Octets still missing before the current header or packet is complete (0 = complete).
    private mutating func neededBytes() throws(H248ClientError) -> Int {
        let available = bufferedByteCount
        if available < TPKT.headerLength { return TPKT.headerLength - available }
        let version = buffer[readIndex]
        guard version == TPKT.version else {
            return try fail(H248ClientError(
                .tpktBadVersion, "TPKT: version \(version), RFC 1006 §6 requires 3"))
        }
        // RFC 1006 §6: byte 1 is reserved; we send 0 and ignore it on receipt.
        let length = Int(buffer[readIndex + 2]) << 8 | Int(buffer[readIndex + 3])
        guard length > TPKT.headerLength else {
            return try fail(H248ClientError(
                .tpktBadLength, "TPKT: packet length \(length) leaves no room for an H.248 message (header is 4 octets)"))
        }
        guard length <= maximumPacketLength else {
            return try fail(H248ClientError(
                .tpktFrameTooLarge, "TPKT: packet length \(length) exceeds the configured bound \(maximumPacketLength)"))
        }
        return length - available > 0 ? length - available : 0
    }

    private mutating func fail(_ error: H248ClientError) throws(H248ClientError) -> Int {
        failure = error
        buffer = []
        readIndex = 0
        throw error
    }

    private mutating func compact() {
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex > 0 {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
    }
}
