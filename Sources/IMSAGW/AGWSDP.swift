// Local / Remote descriptor handling on the MG side (H.248.1 §7.1.8: SDP with `$` = "MG chooses";
// TS 29.334 §5.17.1: an unsupported value is refused with 449 naming it). Works on the SDP lines
// (SDPBlock) so the reply re-encodes exactly what was asked, with only the `$` replaced.

import H248Codec

/// What a Local descriptor asks for, from its chosen alternative.
public struct AGWLocalRequest: Sendable, Equatable {
    public var media: String
    public var proto: String
    public var transport: AGWTransport
    public var address: String?
    public var ipv6: Bool
    public var port: UInt16?
    public var setup: AGWSetup?
    public var wantsFingerprint: Bool
    /// The chosen alternative (H.248.1 §7.1.8: the MG returns only the one it picked).
    public var block: SDPBlock
}

public enum AGWSDP {
    static let choose = "$"
    /// URIs kept from a Remote `a=path` (RFC 4975 §8.1 sets no count; an endpoint and a few RFC 4976 relays).
    public static let maxPathURIs = 16

    /// Parses a Local descriptor: picks the first alternative whose m-line proto is supported.
    /// `fingerprintHash` is the one hash function the gateway computes (RFC 8122 §5).
    public static func local(_ block: SDPBlock, fingerprintHash: String) throws(AGWError) -> AGWLocalRequest {
        var firstError: AGWError?
        for alt in block.alternatives {
            do throws(AGWError) {
                return try localAlternative(alt, fingerprintHash: fingerprintHash)
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        throw firstError ?? AGWError.value("Local: empty")
    }

    static func localAlternative(_ block: SDPBlock, fingerprintHash: String) throws(AGWError) -> AGWLocalRequest {
        var media: (String, String, String)?
        var address: String?
        var ipv6 = false
        var setup: AGWSetup?
        var wantsFingerprint = false
        for line in block.lines {
            if line.hasPrefix("m=") {
                guard media == nil else { throw AGWError.value("Local: second m= line '\(line)'") }
                let f = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: true)
                guard f.count >= 3 else { throw AGWError.value("Local '\(line)'") }
                media = (String(f[0]), String(f[1]), String(f[2]))
            } else if line.hasPrefix("c=") {
                let f = line.dropFirst(2).split(separator: " ")
                guard f.count == 3, f[0] == "IN", f[1] == "IP4" || f[1] == "IP6" else { throw AGWError.value("Local '\(line)'") }
                ipv6 = f[1] == "IP6"
                address = f[2] == "$" ? nil : String(f[2])
            } else if line.hasPrefix("a=setup:") {
                guard let s = AGWSetup(rawValue: String(line.dropFirst(8)).lowercased()) else { throw AGWError.value("Local '\(line)'") }
                setup = s
            } else if line.hasPrefix("a=fingerprint:") {
                let v = line.dropFirst(14).split(separator: " ")
                // `a=fingerprint:$` or `a=fingerprint:<hash> $` (iq-tokens §3.3, LIKELY forms).
                if v == ["$"] || (v.count == 2 && v[1] == "$" && v[0].lowercased() == fingerprintHash.lowercased()) {
                    wantsFingerprint = true
                } else {
                    throw AGWError.value("Local '\(line)'")
                }
            }
        }
        guard let (m, portText, proto) = media else { throw AGWError.value("Local: no m= line") }
        guard let transport = AGWTransport.of(proto: proto) else { throw AGWError.value("m=\(m) \(portText) \(proto)") }
        if wantsFingerprint && transport != .tls { throw AGWError.value("a=fingerprint:$ on \(proto)") }
        var port: UInt16?
        if portText != "$" {
            guard let p = UInt16(portText.split(separator: "/").first ?? "") else { throw AGWError.value("m=\(m) \(portText)") }
            port = p
        }
        return AGWLocalRequest(media: m, proto: proto, transport: transport, address: address, ipv6: ipv6, port: port,
                               setup: setup, wantsFingerprint: wantsFingerprint, block: block)
    }

    /// Parses a Remote descriptor (address, port, `a=setup`, `a=fingerprint`). `$` is not legal in Remote.
    public static func remote(_ block: SDPBlock) throws(AGWError) -> (AGWRemote, proto: String) {
        var address: String?
        var port: UInt16?
        var proto: String?
        var setup: AGWSetup?
        var fingerprints: [String] = []
        var path: [String] = []
        guard let alt = block.alternatives.first else { throw AGWError.value("Remote: empty") }
        for line in alt.lines {
            if line.hasPrefix("c=") {
                let f = line.dropFirst(2).split(separator: " ")
                guard f.count == 3, f[0] == "IN", f[1] == "IP4" || f[1] == "IP6", f[2] != "$" else { throw AGWError.value("Remote '\(line)'") }
                address = String(f[2].split(separator: "/").first ?? f[2])
            } else if line.hasPrefix("m="), proto == nil {
                let f = line.dropFirst(2).split(separator: " ")
                guard f.count >= 3, let p = UInt16(f[1].split(separator: "/").first ?? "") else { throw AGWError.value("Remote '\(line)'") }
                guard AGWTransport.of(proto: String(f[2])) != nil else { throw AGWError.value("m=\(f[0]) \(f[1]) \(f[2])") }
                port = p
                proto = String(f[2])
            } else if line.hasPrefix("a=setup:") {
                guard let s = AGWSetup(rawValue: String(line.dropFirst(8)).lowercased()) else { throw AGWError.value("Remote '\(line)'") }
                setup = s
            } else if line.hasPrefix("a=fingerprint:") {
                let v = line.dropFirst(14).split(separator: " ")
                guard v.count == 2, !v[1].contains("$") else { throw AGWError.value("Remote '\(line)'") }
                fingerprints.append("\(v[0].lowercased()) \(v[1].uppercased())")
            } else if line.hasPrefix("a=path:") {
                // RFC 4975 §8.1: MSRP URIs separated by SP, the endpoint last: the last maxPathURIs are kept.
                path = line.dropFirst(7).split(separator: " ", omittingEmptySubsequences: true).suffix(AGWSDP.maxPathURIs).map(String.init)
            }
        }
        guard let address, let port, let proto else { throw AGWError.value("Remote: c= and m= lines are required") }
        return (AGWRemote(address: address, port: port, setup: setup, fingerprints: fingerprints, path: path), proto)
    }

    /// Replaces the `$` of a Local alternative with the allocated address, port and fingerprint
    /// (H.248.1 §7.1.8; "Local certificate fingerprint" in the reply, specs.md §10.3).
    public static func resolve(_ block: SDPBlock, with resource: AGWLocalResource) -> SDPBlock {
        var out: [String] = []
        let family = resource.address.contains(":") ? "IP6" : "IP4"
        for line in block.lines {
            if line.hasPrefix("c=") {
                out.append("c=IN \(family) \(resource.address)")
            } else if line.hasPrefix("m=") {
                var f = line.dropFirst(2).split(separator: " ").map(String.init)
                if f.count >= 2 { f[1] = String(resource.port) }
                out.append("m=" + f.joined(separator: " "))
            } else if line.hasPrefix("o="), line.contains("$") {
                var f = line.dropFirst(2).split(separator: " ").map(String.init)
                for i in f.indices where f[i] == "$" { f[i] = i == f.count - 1 ? resource.address : (i == f.count - 2 ? family : "0") }
                out.append("o=" + f.joined(separator: " "))
            } else if line.hasPrefix("a=fingerprint:") {
                if let fp = resource.fingerprint { out.append("a=fingerprint:\(fp)") }
            } else {
                out.append(line)
            }
        }
        if !block.lines.contains(where: { $0.hasPrefix("c=") }) {
            out.insert("c=IN \(family) \(resource.address)", at: min(1, out.count))
        }
        return SDPBlock(lines: out)
    }
}
