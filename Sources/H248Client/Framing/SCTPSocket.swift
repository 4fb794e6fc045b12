// The only file that imports CSCTP (Debian libsctp-dev, RFC 6458 socket API). A thin, blocking
// wrapper around one-to-one style SCTP sockets (SOCK_STREAM + IPPROTO_SCTP): listen/accept on the
// MGC side (on Iq the gateway initiates the association, H.248.4 / TS 29.334), connect for tests,
// sctp_sendmsg with PPID 7 and sctp_recvmsg with MSG_EOR so the pure `SCTPMessageFramer` can
// reassemble partial deliveries. Every failure is a typed `H248ClientError`; socket() failing with
// EPROTONOSUPPORT/ESOCKTNOSUPPORT (a kernel without SCTP, platform-notes §6) becomes
// `.sctpUnavailable` via `SCTPSupport.classifySocketError`.

import CSCTP
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension H248ClientError.Code {
    public static let sctpBindFailed = H248ClientError.Code("sctp.bindFailed")
    public static let sctpAcceptFailed = H248ClientError.Code("sctp.acceptFailed")
    public static let sctpConnectFailed = H248ClientError.Code("sctp.connectFailed")
    public static let sctpSendFailed = H248ClientError.Code("sctp.sendFailed")
    public static let sctpReceiveFailed = H248ClientError.Code("sctp.receiveFailed")
    public static let sctpClosed = H248ClientError.Code("sctp.closed")
}

/// One SCTP socket descriptor (listening or associated). Not thread-safe beyond what the kernel
/// gives: one reader thread calls `receive`, others may `send`; `shutdown()` wakes a blocked reader.
public final class SCTPSocket: @unchecked Sendable {
    public let fd: Int32
    private let closedFlag = AtomicFlag()

    init(fd: Int32) { self.fd = fd }

    deinit { close() }

    /// Bytes read per sctp_recvmsg call; a longer message arrives in several reads without MSG_EOR.
    public static let receiveChunkSize = 65_536
    /// listen() backlog: one gateway needs one association (H248DriverLimits bounds the total).
    public static let listenBacklog: Int32 = 16

    /// `socket(AF_INET|AF_INET6, SOCK_STREAM, IPPROTO_SCTP)`; errno classified (platform-notes §6).
    public static func open(ipv6: Bool = false) throws(H248ClientError) -> SCTPSocket {
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), Int32(IPPROTO_SCTP))
        guard fd >= 0 else { throw SCTPSupport.classifySocketError(errno: errno) }
        _ = ignoreSIGPIPE
        return SCTPSocket(fd: fd)
    }

    /// sctp_sendmsg has no MSG_NOSIGNAL: a send on an association the peer has shut down would
    /// raise SIGPIPE and end the process. Ignored once, process-wide, when the first SCTP socket
    /// opens (the send then fails with EPIPE, a typed `.sctpSendFailed`).
    private static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    /// True once `shutdown()` or `close()` was called.
    public var isClosed: Bool { closedFlag.isSet }

    /// Tries to create an SCTP socket and says why not: nil when the kernel supports SCTP, else
    /// the typed error (used by live tests to decide whether to skip).
    public static func probeKernelSupport() -> H248ClientError? {
        do {
            let s = try open()
            s.close()
            return nil
        } catch {
            return error
        }
    }

    /// socket + SO_REUSEADDR + bind + listen.
    public static func listen(host: String, port: Int) throws(H248ClientError) -> SCTPSocket {
        let address = try SCTPSocketAddress(host: host, port: port)
        let s = try open(ipv6: address.isIPv6)
        var one: Int32 = 1
        _ = setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc = address.withSockaddr { bind(s.fd, $0, $1) }
        guard rc == 0 else {
            let e = errno
            s.close()
            throw H248ClientError(.sctpBindFailed, "sctp bind \(host):\(port) failed: \(String(cString: strerror(e))) (errno \(e))")
        }
        guard Glibc.listen(s.fd, listenBacklog) == 0 else {
            let e = errno
            s.close()
            throw H248ClientError(.sctpBindFailed, "sctp listen \(host):\(port) failed: \(String(cString: strerror(e))) (errno \(e))")
        }
        return s
    }

    /// Opens an association to `host:port` (the gateway side; used by tests and tools).
    public static func connect(host: String, port: Int) throws(H248ClientError) -> SCTPSocket {
        let address = try SCTPSocketAddress(host: host, port: port)
        let s = try open(ipv6: address.isIPv6)
        let rc = address.withSockaddr { Glibc.connect(s.fd, $0, $1) }
        guard rc == 0 else {
            let e = errno
            s.close()
            throw H248ClientError(.sctpConnectFailed, "sctp connect \(host):\(port) failed: \(String(cString: strerror(e))) (errno \(e))")
        }
        s.configureAssociation()
        return s
    }

    /// Per-association options: the SCTP_SNDRCV ancillary data on every read (`sctp_data_io_event`,
    /// RFC 6458 §6.2.1), without which sctp_recvmsg leaves the PPID at 0 and the PPID check could
    /// not see a wrong one; and SCTP_NODELAY (no bundling delay for small H.248 messages, like
    /// TCP_NODELAY on the TCP transport). A refusal leaves the defaults (PPID then read as 0,
    /// which the framer accepts as "unspecified").
    func configureAssociation() {
        var events = sctp_event_subscribe()
        events.sctp_data_io_event = 1
        _ = setsockopt(fd, Int32(IPPROTO_SCTP), SCTP_EVENTS, &events, socklen_t(MemoryLayout<sctp_event_subscribe>.size))
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_SCTP), SCTP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// The bound local address (port resolved after binding port 0).
    public var localAddress: SCTPSocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return rc == 0 ? SCTPSocketAddress(storage: storage) : nil
    }

    /// Blocks until a gateway opens an association; returns its socket and address.
    public func accept() throws(H248ClientError) -> (SCTPSocket, SCTPSocketAddress?) {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        while true {
            let child = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(fd, $0, &length) }
            }
            if child >= 0 {
                let association = SCTPSocket(fd: child)
                association.configureAssociation()
                return (association, SCTPSocketAddress(storage: storage))
            }
            let e = errno
            if e == EINTR && !closedFlag.isSet { continue }
            throw H248ClientError(closedFlag.isSet ? .sctpClosed : .sctpAcceptFailed,
                                  "sctp accept failed: \(String(cString: strerror(e))) (errno \(e))")
        }
    }

    /// Sends one user message (H.248.4: one H.248 message, PPID 7 in network byte order).
    public func send(_ message: SCTPOutboundMessage) throws(H248ClientError) {
        let flags: UInt32 = message.unordered ? UInt32(SCTP_UNORDERED.rawValue) : 0
        let sent = message.payload.withUnsafeBytes { buf in
            sctp_sendmsg(fd, buf.baseAddress, buf.count, nil, 0, message.payloadProtocolIdentifier.bigEndian,
                         flags, message.streamID, 0, 0)
        }
        guard Int(sent) == message.payload.count else {
            let e = errno
            throw H248ClientError(.sctpSendFailed, "sctp_sendmsg failed: \(String(cString: strerror(e))) (errno \(e))")
        }
    }

    /// One sctp_recvmsg: a chunk with its PPID and MSG_EOR; nil at end of association (peer closed).
    /// SCTP notifications (MSG_NOTIFICATION, none subscribed) are skipped.
    public func receive() throws(H248ClientError) -> SCTPInboundChunk? {
        var buffer = [UInt8](repeating: 0, count: Self.receiveChunkSize)
        while true {
            var info = sctp_sndrcvinfo()
            var flags: Int32 = 0
            let n = buffer.withUnsafeMutableBytes { buf in
                sctp_recvmsg(fd, buf.baseAddress, buf.count, nil, nil, &info, &flags)
            }
            if n == 0 { return nil }
            if n < 0 {
                let e = errno
                if e == EINTR && !closedFlag.isSet { continue }
                if closedFlag.isSet { return nil }
                throw H248ClientError(.sctpReceiveFailed, "sctp_recvmsg failed: \(String(cString: strerror(e))) (errno \(e))")
            }
            if flags & Int32(MSG_NOTIFICATION.rawValue) != 0 { continue }
            return SCTPInboundChunk(
                payload: Array(buffer[0..<Int(n)]), payloadProtocolIdentifier: UInt32(bigEndian: info.sinfo_ppid),
                streamID: info.sinfo_stream, endOfRecord: flags & Int32(MSG_EOR) != 0)
        }
    }

    /// Wakes a blocked accept/recv (shutdown) without releasing the descriptor.
    public func shutdown() {
        closedFlag.set()
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }

    /// Closes the descriptor once.
    public func close() {
        guard closedFlag.setClosedOnce() else { return }
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
        _ = Glibc.close(fd)
    }
}

/// A numeric IPv4/IPv6 socket address (no name resolution: configuration names addresses).
public struct SCTPSocketAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var isIPv6: Bool { host.contains(":") }

    public init(host: String, port: Int) throws(H248ClientError) {
        guard (0...65_535).contains(port) else { throw H248ClientError(.invalidConfiguration, "sctp: port \(port) out of range") }
        var v4 = in_addr()
        var v6 = in6_addr()
        guard inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1 else {
            throw H248ClientError(.invalidConfiguration, "sctp: '\(host)' is not a numeric IPv4 or IPv6 address")
        }
        self.host = host
        self.port = port
    }

    init?(storage: sockaddr_storage) {
        var s = storage
        switch Int32(s.ss_family) {
        case AF_INET:
            let (addr, port) = withUnsafePointer(to: &s) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { ($0.pointee.sin_addr, $0.pointee.sin_port) }
            }
            var a = addr
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            guard inet_ntop(AF_INET, &a, &text, socklen_t(text.count)) != nil else { return nil }
            host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            self.port = Int(UInt16(bigEndian: port))
        case AF_INET6:
            let (addr, port) = withUnsafePointer(to: &s) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { ($0.pointee.sin6_addr, $0.pointee.sin6_port) }
            }
            var a = addr
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &a, &text, socklen_t(text.count)) != nil else { return nil }
            host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            self.port = Int(UInt16(bigEndian: port))
        default:
            return nil
        }
    }

    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        if isIPv6 {
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            sa.sin6_port = UInt16(port).bigEndian
            _ = inet_pton(AF_INET6, host, &sa.sin6_addr)
            return withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = UInt16(port).bigEndian
        _ = inet_pton(AF_INET, host, &sa.sin_addr)
        return withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
}

/// Two flags (shutting down, descriptor closed).
final class AtomicFlag: Sendable {
    private let state = Mutex<(shuttingDown: Bool, closed: Bool)>((false, false))

    var isSet: Bool { state.withLock { $0.shuttingDown } }

    func set() { state.withLock { $0.shuttingDown = true } }

    /// Marks closed; true only the first time.
    func setClosedOnce() -> Bool {
        state.withLock { s in
            s.shuttingDown = true
            if s.closed { return false }
            s.closed = true
            return true
        }
    }
}
