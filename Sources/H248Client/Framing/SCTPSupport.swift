// SCTP framing for H.248 (H.248.4): SCTP preserves message boundaries, so one H.248 message is one
// SCTP user message with Payload Protocol Identifier 7 (IANA "H.248"). No socket calls here: the
// live driver (CSCTP, libsctp) is a later step; this file is the pure part it will use.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public enum SCTPSupport {
    /// IANA SCTP Payload Protocol Identifier for H.248 (specs.md §10.1, [K: IANA]).
    public static let h248PayloadProtocolIdentifier: UInt32 = 7
    /// The PPID as sctp_sendmsg/sctp_sndrcvinfo expect it: network byte order in a host integer.
    public static var h248PayloadProtocolIdentifierNetworkOrder: UInt32 { h248PayloadProtocolIdentifier.bigEndian }
    /// Default ports (H.248.1 Annex D / H.248.4): 2944 text, 2945 binary.
    public static let defaultTextPort: UInt16 = 2944
    public static let defaultBinaryPort: UInt16 = 2945
    /// Largest H.248 message we accept in one SCTP user message (bounded reassembly of partial
    /// deliveries). H.248.4 sets no limit; 64 KiB matches the TPKT and UDP maxima.
    public static let maximumMessageSize = 65_535

    /// Classifies an errno returned by `socket(…, IPPROTO_SCTP)`.
    /// EPROTONOSUPPORT (one-to-one, SOCK_STREAM) and ESOCKTNOSUPPORT (one-to-many, SOCK_SEQPACKET) mean
    /// the kernel has no SCTP (platform-notes §6: `# CONFIG_IP_SCTP is not set`).
    public static func classifySocketError(errno code: Int32) -> H248ClientError {
        if code == EPROTONOSUPPORT || code == ESOCKTNOSUPPORT {
            let name = code == EPROTONOSUPPORT ? "EPROTONOSUPPORT" : "ESOCKTNOSUPPORT"
            return H248ClientError(
                .sctpUnavailable,
                "SCTP is not available on this kernel: socket(IPPROTO_SCTP) failed with \(name) (errno \(code)). "
                    + "Load the sctp module or use a kernel built with CONFIG_IP_SCTP, or configure h248.transport = udp or tcp.")
        }
        return H248ClientError(.sctpSocketFailed, "socket(IPPROTO_SCTP) failed with errno \(code)")
    }

    /// True when the errno means "this kernel has no SCTP" (a live test should skip and say why).
    public static func isSCTPUnavailable(errno code: Int32) -> Bool {
        code == EPROTONOSUPPORT || code == ESOCKTNOSUPPORT
    }
}

/// One SCTP user message to send: the driver passes these fields to sctp_sendmsg.
public struct SCTPOutboundMessage: Sendable, Hashable {
    public var payload: [UInt8]
    /// Host-order PPID (convert with `.bigEndian` for the socket call).
    public var payloadProtocolIdentifier: UInt32
    public var streamID: UInt16
    public var unordered: Bool
}

/// What sctp_recvmsg returned for one read.
public struct SCTPInboundChunk: Sendable, Hashable {
    public var payload: [UInt8]
    /// Host-order PPID from sctp_sndrcvinfo.
    public var payloadProtocolIdentifier: UInt32
    public var streamID: UInt16
    /// MSG_EOR was set: this read ends the user message (partial delivery otherwise).
    public var endOfRecord: Bool

    public init(payload: [UInt8], payloadProtocolIdentifier: UInt32, streamID: UInt16 = 0, endOfRecord: Bool = true) {
        self.payload = payload
        self.payloadProtocolIdentifier = payloadProtocolIdentifier
        self.streamID = streamID
        self.endOfRecord = endOfRecord
    }
}

/// Message-boundary-preserving framer: outgoing messages pass through unchanged with PPID 7;
/// incoming reads are passed through when complete, or reassembled (bounded) across partial
/// deliveries. A PPID other than 7 (or 0, "unspecified", which some stacks send) is refused.
public struct SCTPMessageFramer: Sendable {
    public let maximumMessageSize: Int
    /// Stream used for outgoing messages (H.248.4 lets the sender choose; 0 keeps order simple).
    public var outboundStreamID: UInt16
    private var partial: [UInt8] = []

    public init(maximumMessageSize: Int = SCTPSupport.maximumMessageSize, outboundStreamID: UInt16 = 0) {
        self.maximumMessageSize = maximumMessageSize
        self.outboundStreamID = outboundStreamID
    }

    /// Wraps one encoded H.248 message.
    public func encode(_ message: [UInt8]) throws(H248ClientError) -> SCTPOutboundMessage {
        guard !message.isEmpty else { throw H248ClientError(.emptyMessage, "SCTP: refusing to send an empty H.248 message") }
        guard message.count <= maximumMessageSize else {
            throw H248ClientError(
                .messageTooLarge, h248ErrorCode: H248ErrorCodes.responseTooLarge,
                "SCTP: message of \(message.count) octets exceeds \(maximumMessageSize)")
        }
        return SCTPOutboundMessage(
            payload: message, payloadProtocolIdentifier: SCTPSupport.h248PayloadProtocolIdentifier,
            streamID: outboundStreamID, unordered: false)
    }

    /// Returns the complete H.248 message when `chunk` ends one, nil while a partial delivery continues.
    public mutating func decode(_ chunk: SCTPInboundChunk) throws(H248ClientError) -> [UInt8]? {
        let ppid = chunk.payloadProtocolIdentifier
        guard ppid == SCTPSupport.h248PayloadProtocolIdentifier || ppid == 0 else {
            partial = []
            throw H248ClientError(.sctpWrongPayloadProtocol, "SCTP: PPID \(ppid) is not H.248 (7)")
        }
        guard partial.count + chunk.payload.count <= maximumMessageSize else {
            partial = []
            throw H248ClientError(
                .messageTooLarge, h248ErrorCode: H248ErrorCodes.syntaxErrorInMessage,
                "SCTP: incoming message exceeds \(maximumMessageSize) octets")
        }
        if chunk.endOfRecord && partial.isEmpty {
            guard !chunk.payload.isEmpty else { throw H248ClientError(.emptyMessage, "SCTP: empty user message") }
            return chunk.payload
        }
        partial.append(contentsOf: chunk.payload)
        guard chunk.endOfRecord else { return nil }
        let message = partial
        partial = []
        guard !message.isEmpty else { throw H248ClientError(.emptyMessage, "SCTP: empty user message") }
        return message
    }
}
