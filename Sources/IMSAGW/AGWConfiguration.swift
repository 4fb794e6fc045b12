// Settings of the pure gateway. The package tokens TS 29.334 / H.248.89 / H.248.90 leave unknown
// are the same configurable `IqPackageTokens` pcscf-alg uses, with the same defaults
// (iq-tokens.md; specs.md §10.2), so the two ends agree out of the box.

import H248Codec

public struct AGWConfiguration: Sendable, Equatable {
    /// Package/item names (the same defaults as pcscf-alg's `IqGatewayMapping.tokens`).
    public var tokens = IqPackageTokens()
    /// "Notify Released Bearer" event (TS 23.334 IE; H.248 token UNKNOWN, specs.md §10.3): a
    /// placeholder in the H.248.89 package, configurable.
    public var bearerReleasedEvent: PackageItemName = "tcpbcc/bearerrel"
    /// Ephemeral TerminationIDs are `<prefix>/<n>` (H.248.1 §6.2.1, name scheme of the MG).
    public var terminationPrefix = "ip"
    /// Heartbeat period when `hangterm/thb` is asked for without `timerx` (H.248.36), seconds.
    public var defaultHeartbeatSeconds: UInt32 = 60
    /// When set, every heartbeat uses this period whatever timerx says (lab setting), seconds.
    public var heartbeatOverrideSeconds: UInt32?
    /// H.248.1 root properties `maxNumberOfContexts` / `maxTerminationsPerContext`.
    public var maximumContexts = 10_000
    public var maximumTerminationsPerContext = 8
    /// The hash function of the certificate fingerprints the gateway computes (RFC 8122 §5).
    public var fingerprintHash = "sha-256"
    /// H.248.1 versions the MG speaks (ServiceChange Version; §11.3 negotiation).
    public var supportedVersions: ClosedRange<Int> = 1...3

    public init() {}

    /// Packages this gateway implements (AuditCapabilities; 440 for any other).
    public var packages: [PackageVersion] {
        var names: [String] = []
        for item in [tokens.heartbeatEvent, tokens.inactivityEvent, tokens.latchProperty, tokens.realmProperty,
                     tokens.tcpEstablishSignal, tokens.tlsEstablishSignal, tokens.interlinkageProperty, bearerReleasedEvent] {
            let pkg = Self.package(of: item)
            if !names.contains(pkg) { names.append(pkg) }
        }
        return names.map { PackageVersion($0, 1) }
    }

    static func package(of item: PackageItemName) -> String {
        String(item.split(separator: "/", maxSplits: 1).first ?? Substring(item)).lowercased()
    }

    func knows(package pkg: String) -> Bool {
        packages.contains { $0.name == pkg.lowercased() }
    }

    /// 440 when the package is unknown, else `itemCode` naming the item (H.248.8 450/451/452).
    func unknownItem(_ name: PackageItemName, _ itemCode: AGWErrorCode) -> AGWError {
        let pkg = Self.package(of: name)
        return knows(package: pkg) ? AGWError(itemCode, name) : AGWError(.unknownPackage, name)
    }
}
