import NIOCore
import NIOSSL

/// Server side of a TLS listener (RFC 3261 §26.3.1, RFC 5246/8446): the certificate chain and private
/// key are PEM files named in the configuration. TLS 1.2 is the minimum (`SIPTLSLimits`).
public struct SIPTLSServerSettings: Sendable, Hashable {
    /// PEM file with the server certificate first, then any intermediates.
    public var certificateChainPath: String
    /// PEM file with the private key of the first certificate (unencrypted).
    public var privateKeyPath: String

    public init(certificateChainPath: String, privateKeyPath: String) {
        self.certificateChainPath = certificateChainPath; self.privateKeyPath = privateKeyPath
    }
}

/// Client side of outgoing TLS connections.
public struct SIPTLSClientSettings: Sendable, Hashable {
    /// Peer certificate checking. `full`: chain against the trust roots and the name (the destination's
    /// `serverName`, else its IP address against the certificate's IP SANs; RFC 5922 §7.2 / RFC 6125).
    /// `none`: no check at all, for the lab only (e.g. peers with self-signed certificates).
    public enum Verify: String, Sendable, Hashable { case none, full }

    public var verify: Verify
    /// PEM file (or directory of PEM files) with the trusted roots; nil = the system's default roots.
    public var trustRootsPath: String?

    public init(verify: Verify = .full, trustRootsPath: String? = nil) {
        self.verify = verify; self.trustRootsPath = trustRootsPath
    }
}

/// Named TLS bounds.
public enum SIPTLSLimits {
    /// Lowest protocol version accepted or offered: TLS 1.2 (RFC 8996 deprecates 1.0/1.1; RFC 5630 §3.1.3).
    public static let minimumVersion = TLSVersion.tlsv12
}

/// A TLS configuration that cannot be loaded (unreadable or bad PEM, key not matching).
public struct SIPTLSConfigurationError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

enum SIPTLSContexts {
    static func server(_ s: SIPTLSServerSettings) throws -> NIOSSLContext {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(s.certificateChainPath)
            guard !chain.isEmpty else { throw SIPTLSConfigurationError("no certificate in \(s.certificateChainPath)") }
            let key = try NIOSSLPrivateKey(file: s.privateKeyPath, format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                               privateKey: .privateKey(key))
            tls.minimumTLSVersion = SIPTLSLimits.minimumVersion
            return try NIOSSLContext(configuration: tls)
        } catch let e as SIPTLSConfigurationError {
            throw e
        } catch {
            throw SIPTLSConfigurationError("TLS server \(s.certificateChainPath) / \(s.privateKeyPath): \(error)")
        }
    }

    static func client(_ s: SIPTLSClientSettings) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = SIPTLSLimits.minimumVersion
        switch s.verify {
        case .none: tls.certificateVerification = .none
        case .full: tls.certificateVerification = .fullVerification
        }
        if let path = s.trustRootsPath { tls.trustRoots = .file(path) }
        do { return try NIOSSLContext(configuration: tls) }
        catch { throw SIPTLSConfigurationError("TLS client (trust roots \(s.trustRootsPath ?? "default")): \(error)") }
    }
}
