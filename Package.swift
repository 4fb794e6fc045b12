// swift-tools-version:6.0
// pcscf-alg: a P-CSCF / IMS-ALG with e2ae TLS for MSRP and BFCP, driving an IMS-AGW over Iq (H.248).
// Layers, dependencies pointing down only (Docs/architecture.md):
//   PCSCFServer (pcscf-alg), PCSCFBench (pcscf-bench)
//   SIPTransaction -> SIPCore -> CLibOSIP2 (libosip2 parser, only OSIPBridge.swift imports it)
//   SDPRewrite -> SDPCore;  H248Codec -> SDPCore
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]
/// The generic transaction layer and the proxy core are used from ProxyRuntime with concrete types
/// (`TransactionLayer<SIPMessage, SIPDestination>`, `processRequest<CountingIDGenerator>`): release
/// builds serialise their bodies so the caller specialises them (no run-time generic metadata).
let crossModuleSettings: [SwiftSetting] = swiftSettings + [
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
]

let package = Package(
    name: "pcscf-alg",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pcscf-alg", targets: ["PCSCFServer"]),
        .executable(name: "pcscf-bench", targets: ["PCSCFBench"]),
        .library(name: "SIPCore", targets: ["SIPCore"]),
        .library(name: "SDPCore", targets: ["SDPCore"]),
        .library(name: "SDPRewrite", targets: ["SDPRewrite"]),
        .library(name: "H248Codec", targets: ["H248Codec"]),
        .library(name: "SIPTransaction", targets: ["SIPTransaction"]),
        .library(name: "H248Client", targets: ["H248Client"]),
        .library(name: "SIPTransport", targets: ["SIPTransport"]),
        .library(name: "IMSALG", targets: ["IMSALG"]),
        .library(name: "SIPProxy", targets: ["SIPProxy"]),
        .library(name: "ProxyRuntime", targets: ["ProxyRuntime"]),
        .library(name: "ALGServer", targets: ["ALGServer"]),
        .executable(name: "ims-agw", targets: ["IMSAGWServer"]),
        .library(name: "IMSAGW", targets: ["IMSAGW"]),
        .library(name: "AGWMedia", targets: ["AGWMedia"]),
        .library(name: "AGWRuntime", targets: ["AGWRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibOSIP2",
            pkgConfig: "libosip2",
            providers: [.apt(["libosip2-dev"])]
        ),
        // Debian libsctp-dev; only H248Client/Framing/SCTP*.swift imports it.
        .systemLibrary(
            name: "CSCTP",
            pkgConfig: "libsctp",
            providers: [.apt(["libsctp-dev"])]
        ),
        .target(name: "SIPCore", dependencies: ["CLibOSIP2"], swiftSettings: swiftSettings),
        .target(name: "SDPCore", swiftSettings: swiftSettings),
        .target(name: "SDPRewrite", dependencies: ["SDPCore"], swiftSettings: swiftSettings),
        .target(name: "H248Codec", dependencies: ["SDPCore"], swiftSettings: swiftSettings),
        .target(name: "SIPTransaction", dependencies: ["SIPCore"], swiftSettings: crossModuleSettings),
        .target(
            name: "H248Client",
            dependencies: ["H248Codec", "CSCTP", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SIPTransport",
            dependencies: [
                "SIPCore", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "SIPProxy", dependencies: ["SIPCore", "SIPTransaction"], swiftSettings: crossModuleSettings),
        .target(name: "IMSALG", dependencies: ["SIPCore", "SIPTransaction", "SDPRewrite"], swiftSettings: swiftSettings),
        // The running stateful proxy: SIPTransport + SIPTransaction + SIPProxy joined by an async driver.
        .target(
            name: "ProxyRuntime",
            dependencies: [
                "SIPCore", "SIPTransaction", "SIPProxy", "SIPTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The product wiring: P-CSCF policy and ALG sessions plugged into ProxyRuntime, Iq MGC adapter.
        .target(
            name: "ALGServer",
            dependencies: [
                "SIPCore", "SIPTransaction", "SIPProxy", "SIPTransport", "ProxyRuntime", "IMSALG",
                "SDPRewrite", "H248Codec", "H248Client",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // IMS-AGW (ims-agw), the companion gateway. Pure MG-side Iq logic: terminations, contexts,
        // command execution against a media-plane protocol, $ resolution, registration state.
        .target(name: "IMSAGW", dependencies: ["H248Codec", "SDPCore"], swiftSettings: swiftSettings),
        // The gateway's media plane on SwiftNIO: TCP/TLS relay (NIOSSL, swift-certificates), UDP RTP relay.
        .target(
            name: "AGWMedia",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The running gateway: the MG side of Iq (H248Client transports) driving IMSAGW and AGWMedia.
        .target(
            name: "AGWRuntime",
            dependencies: [
                "IMSAGW", "AGWMedia", "H248Codec", "H248Client",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "IMSAGWServer",
            dependencies: [
                "AGWRuntime", "IMSAGW", "AGWMedia", "H248Client", "H248Codec",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Shared test helpers (repository root, seeded generator); only test targets depend on it.
        .target(name: "ALGTestSupport", swiftSettings: swiftSettings),
        .executableTarget(
            name: "PCSCFServer",
            dependencies: [
                "SIPCore", "SDPCore", "SDPRewrite", "H248Codec", "H248Client", "SIPTransport", "IMSALG",
                "SIPProxy", "SIPTransaction", "ProxyRuntime", "ALGServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "PCSCFBench",
            dependencies: [
                "SIPCore", "SIPTransaction", "SDPCore", "SDPRewrite", "H248Codec", "H248Client", "SIPTransport", "SIPProxy", "ProxyRuntime", "AGWMedia",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SIPCoreTests", dependencies: ["ALGTestSupport", "SIPCore"], swiftSettings: swiftSettings),
        .testTarget(name: "SDPCoreTests", dependencies: ["ALGTestSupport", "SDPCore"], swiftSettings: swiftSettings),
        .testTarget(name: "SDPRewriteTests", dependencies: ["ALGTestSupport", "SDPRewrite", "SDPCore", "SIPCore"], swiftSettings: swiftSettings),
        .testTarget(name: "H248CodecTests", dependencies: ["ALGTestSupport", "H248Codec", "SDPCore"], swiftSettings: swiftSettings),
        .testTarget(name: "SIPTransactionTests", dependencies: ["ALGTestSupport", "SIPTransaction", "SIPCore"], swiftSettings: swiftSettings),
        .testTarget(name: "H248ClientTests", dependencies: ["ALGTestSupport", "H248Client", "H248Codec"], swiftSettings: swiftSettings),
        .testTarget(name: "SIPTransportTests", dependencies: ["ALGTestSupport", "SIPTransport", "SIPCore"], swiftSettings: swiftSettings),
        .testTarget(name: "SIPProxyTests", dependencies: ["ALGTestSupport", "SIPProxy", "SIPCore", "SIPTransaction"], swiftSettings: swiftSettings),
        .testTarget(name: "IMSALGTests", dependencies: ["ALGTestSupport", "IMSALG", "SIPCore", "SDPRewrite"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ProxyRuntimeTests",
            dependencies: ["ALGTestSupport", "ProxyRuntime", "SIPProxy", "SIPTransport", "SIPTransaction", "SIPCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ALGServerTests",
            dependencies: ["ALGTestSupport", "ALGServer", "ProxyRuntime", "IMSALG", "SIPCore", "H248Client", "H248Codec"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "IMSAGWTests", dependencies: ["ALGTestSupport", "IMSAGW", "H248Codec", "SDPCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "AGWMediaTests",
            dependencies: [
                "ALGTestSupport", "AGWMedia",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AGWRuntimeTests",
            dependencies: ["ALGTestSupport", "AGWRuntime", "IMSAGW", "AGWMedia", "H248Client", "H248Codec"],
            swiftSettings: swiftSettings
        ),
    ]
)
