import Crypto
import Foundation
import NIOCore
import NIOSSL
import X509

/// A self-signed ECDSA P-256 certificate and its key, made with swift-certificates (TS 33.328 Annex M:
/// certificate fingerprints instead of a PKI; RFC 8122 §5 fingerprint over the DER certificate).
public struct TLSIdentity: Sendable {
    public let certificate: NIOSSLCertificate
    public let privateKey: NIOSSLPrivateKey
    public let der: [UInt8]
    public let fingerprint: CertificateFingerprint

    /// Validity of generated certificates.
    public static let validity: TimeInterval = 365 * 86400
    /// Back-dating of notBefore to tolerate clock skew between gateway and UE.
    public static let backdate: TimeInterval = 3600

    public static func generate(commonName: String, now: Date = Date()) throws(MediaError) -> TLSIdentity {
        do {
            let key = P256.Signing.PrivateKey()
            let name = try DistinguishedName { CommonName(commonName) }
            let cert = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: .init(key.publicKey),
                notValidBefore: now - backdate,
                notValidAfter: now + validity,
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    SubjectAlternativeNames([.dnsName(commonName)])
                },
                issuerPrivateKey: .init(key)
            )
            let der = try cert.serializeAsPEM().derBytes
            let nio = try NIOSSLCertificate(bytes: der, format: .der)
            let nioKey = try NIOSSLPrivateKey(bytes: Array(key.pemRepresentation.utf8), format: .pem)
            guard let fp = CertificateFingerprint.of(der: der) else { throw MediaError.io("sha-256 unavailable") }
            return TLSIdentity(certificate: nio, privateKey: nioKey, der: der, fingerprint: fp)
        } catch let e as MediaError {
            throw e
        } catch {
            throw .io("certificate generation: \(error)")
        }
    }

    /// Bound on a PEM file read for `load` (a certificate chain or a key is a few KiB).
    public static let maximumPEMFileBytes = 256 * 1024

    /// The identity in a PEM certificate file (its first certificate is ours) and a PEM private key
    /// file; the fingerprint is computed over the certificate's DER (RFC 8122 §5, sha-256). Whether
    /// the key belongs to the certificate is checked when the TLS contexts are made (`MediaPlane.init`).
    public static func load(certificateFile: String, keyFile: String) throws(MediaError) -> TLSIdentity {
        func read(_ path: String, _ what: String) throws(MediaError) -> [UInt8] {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                  let size = attributes[.size] as? Int else { throw .invalid("\(what) \(path): cannot be read") }
            guard size <= maximumPEMFileBytes else { throw .invalid("\(what) \(path): larger than \(maximumPEMFileBytes) bytes") }
            guard let data = FileManager.default.contents(atPath: path) else { throw .invalid("\(what) \(path): cannot be read") }
            return Array(data.prefix(maximumPEMFileBytes))
        }
        let certBytes = try read(certificateFile, "certificate")
        let keyBytes = try read(keyFile, "private key")
        let certificate: NIOSSLCertificate
        let der: [UInt8]
        do {
            guard let first = try NIOSSLCertificate.fromPEMBytes(certBytes).first else { throw MediaError.invalid("no certificate") }
            certificate = first
            der = try first.toDERBytes()
        } catch {
            throw .invalid("certificate \(certificateFile): not a PEM certificate (\(error))")
        }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(bytes: keyBytes, format: .pem) } catch {
            throw .invalid("private key \(keyFile): not a PEM private key (\(error))")
        }
        guard let fp = CertificateFingerprint.of(der: der) else { throw .io("sha-256 unavailable") }
        return TLSIdentity(certificate: certificate, privateKey: key, der: der, fingerprint: fp)
    }

    public init(certificate: NIOSSLCertificate, privateKey: NIOSSLPrivateKey, der: [UInt8], fingerprint: CertificateFingerprint) {
        self.certificate = certificate; self.privateKey = privateKey; self.der = der; self.fingerprint = fingerprint
    }
}

/// The media TLS profile (TS 33.328 Annex M): TLS 1.2 and 1.3 only, no NULL ciphers, no PSK, no
/// renegotiation; the peer certificate is always requested and checked against the SDP fingerprint only.
public enum MediaTLSProfile {
    /// TLS 1.2 minimum, TLS 1.3 maximum (TS 33.328 Annex M; TS 33.210 profile).
    public static let minimumVersion = TLSVersion.tlsv12
    public static let maximumVersion = TLSVersion.tlsv13
    /// TLS 1.2 suites: ECDHE with AEAD only. No NULL, no PSK, no anonymous, no static RSA (Annex M).
    /// (TLS 1.3 suites are all AEAD, and BoringSSL enables no PSK-only mode without a PSK callback.)
    public static let tls12CipherSuites = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

    /// A configuration for `role` presenting `identity`. Verification is `noHostnameVerification` so
    /// that the server requests the client certificate (SSL_VERIFY_PEER | FAIL_IF_NO_PEER_CERT); the
    /// custom verification callback replaces the chain check entirely (fingerprint only, no CA).
    public static func configuration(role: TLSRole, identity: TLSIdentity, keyLog: NIOSSLKeyLogCallback?) -> TLSConfiguration {
        var c: TLSConfiguration
        switch role {
        case .server:
            c = .makeServerConfiguration(certificateChain: [.certificate(identity.certificate)], privateKey: .privateKey(identity.privateKey))
        case .client:
            c = .makeClientConfiguration()
            c.certificateChain = [.certificate(identity.certificate)]
            c.privateKey = .privateKey(identity.privateKey)
        }
        c.minimumTLSVersion = minimumVersion
        c.maximumTLSVersion = maximumVersion
        c.cipherSuites = tls12CipherSuites
        c.renegotiationSupport = .none
        c.certificateVerification = .noHostnameVerification
        c.trustRoots = .certificates([])
        c.keyLogCallback = keyLog
        return c
    }
}

/// Appends NSS key log lines to a file (SSLKEYLOGFILE format), serialised by a lock.
final class KeyLogWriter: @unchecked Sendable {
    private let lock = NSLock()
    private let handle: FileHandle?

    init(path: String) {
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        handle = FileHandle(forWritingAtPath: path)
        _ = try? handle?.seekToEnd()
    }

    func write(_ buffer: ByteBuffer) {
        let bytes = Data(buffer.readableBytesView)
        lock.lock(); defer { lock.unlock() }
        try? handle?.write(contentsOf: bytes)
    }

    var callback: NIOSSLKeyLogCallback { { [self] buf in self.write(buf) } }
}
