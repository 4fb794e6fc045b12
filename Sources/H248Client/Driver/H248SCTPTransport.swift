// SCTP transport for H.248 (H.248.4): one-to-one style sockets through libsctp (`SCTPSocket`, the
// only CSCTP user). On Iq the gateway initiates the association, so the MGC listens. One blocking
// accept thread and one blocking reader thread per association (bounded by
// `H248DriverLimits.maximumStreamConnections`); each read goes through the pure
// `SCTPMessageFramer` (PPID 7, MSG_EOR reassembly). A kernel without SCTP (platform-notes §6)
// makes `listen` throw `.sctpUnavailable` at once, with the cause named.

import Foundation
import NIOCore
import Synchronization

public final class H248SCTPTransport: H248Transport {
    public let kind = H248TransportKind.sctp
    public let events: AsyncStream<H248TransportEvent>
    public let eventLoop: any EventLoop
    private let listener: SCTPSocket
    private let continuation: AsyncStream<H248TransportEvent>.Continuation
    private let associations = Mutex<[SocketAddress: SCTPSocket]>([:])
    private let bound: SocketAddress?

    public var localAddress: SocketAddress? { bound }

    /// Pause after a failed accept() before trying again (100 ms).
    static let acceptRetryMicroseconds: UInt32 = 100_000

    private init(listener: SCTPSocket, eventLoop: any EventLoop,
                 events: AsyncStream<H248TransportEvent>, continuation: AsyncStream<H248TransportEvent>.Continuation) {
        self.listener = listener
        self.eventLoop = eventLoop
        self.events = events
        self.continuation = continuation
        self.bound = listener.localAddress.flatMap { try? SocketAddress(ipAddress: $0.host, port: $0.port) }
    }

    /// socket(IPPROTO_SCTP) + bind + listen, then accepts associations on a background thread.
    /// Throws `.sctpUnavailable` when the kernel has no SCTP, `.sctpBindFailed`, or
    /// `.invalidConfiguration` for a non-numeric host.
    public static func listen(host: String, port: Int, group: any EventLoopGroup) throws(H248ClientError) -> H248SCTPTransport {
        let listener = try SCTPSocket.listen(host: host, port: port)
        let (stream, cont) = AsyncStream<H248TransportEvent>.makeStream(bufferingPolicy: .bufferingOldest(H248DriverLimits.inboundQueueLength))
        let transport = H248SCTPTransport(listener: listener, eventLoop: group.next(), events: stream, continuation: cont)
        let accepting = Thread { [transport] in transport.acceptLoop() }
        accepting.name = "h248-sctp-accept"
        accepting.start()
        return transport
    }

    private func acceptLoop() {
        while true {
            let accepted: (SCTPSocket, SCTPSocketAddress?)
            do {
                accepted = try listener.accept()
            } catch {
                if listener.isClosed { return }  // close(): no more associations
                // ECONNABORTED, EMFILE, ENOBUFS…: keep the listener, retry after a pause (bounded rate).
                usleep(Self.acceptRetryMicroseconds)
                continue
            }
            let (socket, remote) = accepted
            guard let remote, let peer = try? SocketAddress(ipAddress: remote.host, port: remote.port) else {
                socket.close()
                continue
            }
            let admitted = associations.withLock { m -> Bool in
                guard m.count < H248DriverLimits.maximumStreamConnections else { return false }
                m[peer] = socket
                return true
            }
            guard admitted else {
                socket.close()
                continue
            }
            let reader = Thread { [self] in self.readLoop(socket, peer: peer) }
            reader.name = "h248-sctp-read"
            reader.start()
        }
    }

    private func readLoop(_ socket: SCTPSocket, peer: SocketAddress) {
        let reason = Self.pump(peer: peer, receive: { () throws(H248ClientError) in try socket.receive() },
                               yield: { continuation.yield($0) })
        associations.withLock { m in
            if m[peer] === socket { m[peer] = nil }
        }
        socket.close()
        continuation.yield(.closed(peer, reason: reason))
    }

    /// The reader loop without the socket: pulls sctp_recvmsg chunks through a fresh
    /// `SCTPMessageFramer` and yields each complete message, until the peer ends the association
    /// (`receive` gives nil) or the input is refused (wrong PPID, oversize: an `.inputError`, then
    /// the association is dropped, no resynchronisation inside a partial delivery). Returns the
    /// reason for the `.closed` event.
    static func pump(peer: SocketAddress, receive: () throws(H248ClientError) -> SCTPInboundChunk?,
                     yield: (H248TransportEvent) -> Void) -> String {
        var framer = SCTPMessageFramer()
        while true {
            do throws(H248ClientError) {
                guard let chunk = try receive() else { return "SCTP association closed by the peer" }
                if let message = try framer.decode(chunk) { yield(.message(message, from: peer)) }
            } catch {
                yield(.inputError(error, from: peer))
                return "SCTP association closed after \(error.code)"
            }
        }
    }

    public func send(_ message: [UInt8], to peer: SocketAddress) throws(H248ClientError) {
        guard let socket = associations.withLock({ $0[peer] }) else {
            throw H248ClientError(.transportNotConnected, "no SCTP association from \(peer)")
        }
        try socket.send(try SCTPMessageFramer().encode(message))
    }

    public func close() async {
        listener.close()
        for socket in associations.withLock({ Array($0.values) }) { socket.shutdown() }
        continuation.finish()
    }
}
