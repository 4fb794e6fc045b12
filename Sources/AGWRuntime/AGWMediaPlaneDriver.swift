// Adapter from IMSAGW's pure media operations to AGWMedia's `MediaPlane` (TCP/TLS/UDP relay on
// SwiftNIO): allocate → MediaPlane.allocate, configure → MediaPlane.configure (Remote and the
// Establish-TLS signal as TLS client role), interconnect, release; MediaPlane events → AGWMediaEvent.

import AGWMedia
import IMSAGW
import Logging
import NIOPosix

public actor AGWMediaPlaneDriver: AGWMediaDriver {
    public nonisolated let events: AsyncStream<AGWMediaEvent>
    private let continuation: AsyncStream<AGWMediaEvent>.Continuation
    public let plane: MediaPlane
    private let bindHost: String
    private let logger: Logger
    private var pump: Task<Void, Never>?

    public init(plane: MediaPlane, bindHost: String, logger: Logger) {
        self.plane = plane
        self.bindHost = bindHost
        self.logger = logger
        (events, continuation) = AsyncStream<AGWMediaEvent>.makeStream(bufferingPolicy: .bufferingNewest(4_096))
    }

    /// The relay: one MediaPlane with these settings; its events forwarded.
    public static func make(address: String, ports: ClosedRange<UInt16>, certificatePerStream: Bool, certificateFile: String?,
                            keyFile: String?, keyLogFile: String?, msrpApplicationAware: Bool = false,
                            logger: Logger) async throws -> any AGWMediaDriver {
        var config = MediaPlaneConfiguration(portRange: Int(ports.lowerBound)...Int(ports.upperBound),
                                             certificatePerStream: certificatePerStream, msrpPathRewrite: msrpApplicationAware,
                                             keyLogFile: keyLogFile)
        switch (certificateFile, keyFile) {
        case (nil, nil):
            break
        case let (cert?, key?):
            // One identity for the gateway, its fingerprint computed from the file's certificate (RFC 8122 §5).
            config.identity = try TLSIdentity.load(certificateFile: cert, keyFile: key)
        default:
            throw AGWMediaPlaneDriverError("--cert and --key go together")
        }
        let plane = try MediaPlane(configuration: config, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        if let cert = certificateFile, let fp = plane.gatewayFingerprint {
            logger.info("TLS identity from \(cert) for every stream: fingerprint \(fp.sdpValue)")
        }
        let driver = AGWMediaPlaneDriver(plane: plane, bindHost: address, logger: logger)
        await driver.startPump()
        return driver
    }

    func startPump() {
        let stream = plane.events
        let c = continuation
        pump = Task {
            for await e in stream {
                switch e {
                case .connected(let k): c.yield(AGWMediaEvent(key: Self.key(k), kind: .connected))
                case .tlsFailed(let k, let r): c.yield(AGWMediaEvent(key: Self.key(k), kind: .tlsFailed(r)))
                case .tcpFailed(let k, let r): c.yield(AGWMediaEvent(key: Self.key(k), kind: .tcpFailed(r)))
                case .bearerReleased(let k): c.yield(AGWMediaEvent(key: Self.key(k), kind: .bearerReleased(nil)))
                }
            }
            c.finish()
        }
    }

    static func key(_ k: MediaTerminationKey) -> AGWMediaKey { AGWMediaKey(context: k.context, termination: k.termination, stream: k.stream) }
    static func key(_ k: AGWMediaKey) -> MediaTerminationKey { MediaTerminationKey(context: k.context, termination: k.termination, stream: k.stream) }

    static func transport(_ t: AGWTransport) -> MediaTransport {
        switch t {
        case .tcp: .tcp
        case .tls: .tls
        case .udp: .udp
        }
    }

    static func setup(_ s: AGWSetup?) -> TCPSetup? { s.flatMap { TCPSetup(rawValue: $0.rawValue) } }

    public func allocate(_ a: AGWAllocation) async -> Result<AGWLocalResource, AGWMediaFailure> {
        let m = MediaAllocation(key: Self.key(a.key), transport: Self.transport(a.transport), bindHost: a.requestedAddress ?? bindHost,
                                port: a.requestedPort.map(Int.init), setup: Self.setup(a.setup), wantsFingerprint: a.wantsFingerprint,
                                msrp: a.proto.uppercased().hasSuffix("/MSRP"))
        do {
            let local = try await plane.allocate(m)
            guard let port = UInt16(exactly: local.port) else {
                return .failure(AGWMediaFailure(AGWError(.insufficientResources, "port \(local.port)")))
            }
            return .success(AGWLocalResource(address: local.host, port: port, fingerprint: local.fingerprint?.sdpValue))
        } catch {
            return .failure(AGWMediaFailure(Self.agwError(error)))
        }
    }

    static func agwError(_ e: MediaError) -> AGWError {
        switch e {
        case .noPortAvailable: AGWError(.insufficientResources, "no media port available")
        case .invalid(let s): AGWError.value(s)
        case .unsupported(let s): AGWError(.notImplemented, s)
        case .alreadyExists(let k): AGWError(.terminationAlreadyInContext, "\(k)")
        case .unknownTermination(let k): AGWError(.terminationNotInContext, "\(k)")
        case .io(let s): AGWError(.insufficientResources, s)
        }
    }

    public func perform(_ op: AGWMediaOperation) async {
        do {
            switch op {
            case .configure(let k, let remote, _, let tlsClient, _, _):
                let r = remote.map { r in
                    MediaRemote(host: r.address, port: Int(r.port), setup: Self.setup(r.setup),
                                fingerprint: r.fingerprints.lazy.compactMap { try? CertificateFingerprint(sdpValue: $0) }.first,
                                msrpPath: r.path.last)
                }
                try await plane.configure(Self.key(k), remote: r, establishTLS: tlsClient ? .client : nil)
            case .interconnect(let a, let b, let mode):
                try await plane.interconnect(Self.key(a), Self.key(b), mode: mode == .merge ? .merge : .proxy)
            case .release(let k):
                await plane.release(Self.key(k))
            }
        } catch {
            logger.warning("media: \(op): \(error)")
        }
    }

    public func shutdown() async {
        await plane.shutdown()
        pump?.cancel()
    }
}

public struct AGWMediaPlaneDriverError: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}
