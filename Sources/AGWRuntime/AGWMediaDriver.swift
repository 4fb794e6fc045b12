// The media plane as the runtime sees it: IMSAGW's pure operations performed for real. The
// adapter to AGWMedia's `MediaPlane` implements this protocol; `AGWSignallingOnlyMedia` is the
// Iq-only stand-in (ports and fingerprints without sockets) for signalling labs and tests.

import IMSAGW

public protocol AGWMediaDriver: Sendable {
    /// Reserve ports (and a certificate for TLS) for one stream: fills `$` in Local.
    func allocate(_ allocation: AGWAllocation) async -> Result<AGWLocalResource, AGWMediaFailure>
    /// Configure / interconnect / release.
    func perform(_ operation: AGWMediaOperation) async
    /// Connected, TLS/TCP failures, bearer released.
    var events: AsyncStream<AGWMediaEvent> { get }
    func shutdown() async
}

/// Iq without a media plane: ports handed out from a range, one configured fingerprint; nothing
/// listens. For signalling-only labs (`ims-agw --media none`) and the Iq conformance tests.
public actor AGWSignallingOnlyMedia: AGWMediaDriver {
    public nonisolated let events: AsyncStream<AGWMediaEvent>
    private let continuation: AsyncStream<AGWMediaEvent>.Continuation
    private let address: String
    private let ports: ClosedRange<UInt16>
    private let fingerprint: String
    private var inUse: [AGWMediaKey: UInt16] = [:]
    private var next: UInt16
    public private(set) var performed: [AGWMediaOperation] = []

    public init(address: String, ports: ClosedRange<UInt16>, fingerprint: String) {
        self.address = address
        self.ports = ports
        self.fingerprint = fingerprint
        self.next = ports.lowerBound
        (events, continuation) = AsyncStream<AGWMediaEvent>.makeStream(bufferingPolicy: .bufferingNewest(256))
    }

    public func allocate(_ a: AGWAllocation) async -> Result<AGWLocalResource, AGWMediaFailure> {
        let used = Set(inUse.values)
        for _ in 0..<ports.count {
            let p = next
            next = next >= ports.upperBound ? ports.lowerBound : next + 1
            if !used.contains(p) {
                inUse[a.key] = p
                return .success(AGWLocalResource(address: a.requestedAddress ?? address, port: p, fingerprint: a.wantsFingerprint ? fingerprint : nil))
            }
        }
        return .failure(AGWMediaFailure(AGWError(.insufficientResources, "no free port in \(ports)")))
    }

    public func perform(_ operation: AGWMediaOperation) async {
        if performed.count < 1_024 { performed.append(operation) }
        if case .release(let k) = operation { inUse[k] = nil }
    }

    /// Test hook: the media plane reports an event.
    public func report(_ event: AGWMediaEvent) { continuation.yield(event) }

    public func shutdown() async { continuation.finish() }
}
