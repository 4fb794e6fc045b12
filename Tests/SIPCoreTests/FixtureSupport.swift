// Fixture access for SIPCore tests: finds the package root from #filePath (house style §7.6) and turns
// a parse result into the JSON form stored next to each fixture as `<name>.expected.json`.
import ALGTestSupport
import Foundation
@testable import SIPCore

enum Fixtures {
    /// The folder containing Package.swift.
    static let root = TestRepository.root

    static let sipFolders = ["torture", "ims", "invalid"]

    /// Every `Fixtures/sip/<folder>/*.sip`, as "folder/name" (sorted, stable test arguments).
    static let sipCases: [String] = {
        var out: [String] = []
        for folder in sipFolders {
            let dir = root.appendingPathComponent("Fixtures/sip/\(folder)")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            out += names.filter { $0.hasSuffix(".sip") }.map { "\(folder)/\(String($0.dropLast(4)))" }
        }
        return out.sorted()
    }()

    static func bytes(_ name: String) -> [UInt8] {
        let url = root.appendingPathComponent("Fixtures/sip/\(name).sip")
        return Array((try? Data(contentsOf: url)) ?? Data())
    }

    static func expectedURL(_ name: String) -> URL { root.appendingPathComponent("Fixtures/sip/\(name).expected.json") }

    static func expected(_ name: String) -> [String: Any]? {
        guard let data = try? Data(contentsOf: expectedURL(name)) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    /// Canonical JSON (sorted keys) so comparisons and golden files are stable.
    static func canonical(_ object: Any) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// The decoded fields compared with `<name>.expected.json`.
    static func describe(_ result: Result<SIPMessage, SIPParseError>) -> [String: Any] {
        switch result {
        case .failure(let e):
            var err: [String: Any] = ["code": e.code.name]
            switch e.disposition {
            case .drop: err["answer"] = "drop"
            case .respond(let s, _): err["answer"] = s
            }
            return ["error": err]
        case .success(let m):
            return describe(m)
        }
    }

    static func describe(_ m: SIPMessage) -> [String: Any] {
        var d: [String: Any] = [:]
        func put(_ k: String, _ v: Any?) { if let v { d[k] = v } }
        func list(_ k: String, _ v: [String]) { if !v.isEmpty { d[k] = v } }
        put("method", m.method)
        put("requestURI", m.requestURI)
        put("status", m.statusCode)
        put("reason", m.reasonPhrase)
        d["headerCount"] = m.headers.count
        d["vias"] = m.vias.map { v -> [String: Any] in
            var o: [String: Any] = ["transport": v.transport, "host": v.host]
            if let p = v.port { o["port"] = p }
            if let b = v.branch { o["branch"] = b }
            if let r = v.received { o["received"] = r }
            switch v.rport {
            case .absent: break
            case .requested: o["rport"] = true
            case .value(let p): o["rport"] = p
            }
            return o
        }
        if let f = m.from { d["from"] = nameAddr(f) }
        if let t = m.to { d["to"] = nameAddr(t) }
        put("callID", m.callID)
        if let c = m.cseq { d["cseq"] = "\(c.number) \(c.method)" }
        put("maxForwards", m.maxForwards)
        list("routes", m.routes.map(\.uri))
        list("recordRoutes", m.recordRoutes.map(\.uri))
        list("paths", m.paths.map(\.uri))
        list("serviceRoutes", m.serviceRoutes.map(\.uri))
        list("pAssertedIdentities", m.pAssertedIdentities.map(\.uri))
        list("pPreferredIdentities", m.pPreferredIdentities.map(\.uri))
        list("pAssociatedURIs", m.pAssociatedURIs.map(\.uri))
        let contacts = m.contacts.map { c -> [String: Any] in
            guard let a = c.address else { return ["wildcard": true] }
            var o: [String: Any] = ["uri": a.uri]
            if let e = c.expires { o["expires"] = Int(e) }
            let tags = c.featureTags.map(\.name)
            if !tags.isEmpty { o["featureTags"] = tags }
            return o
        }
        if !contacts.isEmpty { d["contacts"] = contacts }
        for (k, list) in [("securityClient", m.securityClient), ("securityServer", m.securityServer), ("securityVerify", m.securityVerify)] where !list.isEmpty {
            d[k] = list.map { s -> [String: Any] in
                var o: [String: Any] = ["name": s.name, "mediasec": s.mediasec]
                if let q = s.preference { o["q"] = q }
                return o
            }
        }
        list("require", m.require)
        list("proxyRequire", m.proxyRequire)
        list("supported", m.supported)
        if let e = m.expires { d["expires"] = Int(e) }
        if let p = m.pAccessNetworkInfo.first { d["pAccessNetworkInfo"] = p.accessType }
        if let icid = m.pChargingVector?["icid-value"] { d["pChargingVectorICID"] = icid }
        put("contentType", m.contentType)
        put("contentLength", m.contentLength)
        d["bodyLength"] = m.bodyRange.count
        return d
    }

    private static func nameAddr(_ a: SIPNameAddress) -> [String: Any] {
        var o: [String: Any] = ["uri": a.uri]
        if let t = a.tag { o["tag"] = t }
        if let n = a.displayName { o["displayName"] = n }
        return o
    }

    static func parse(_ bytes: [UInt8]) -> Result<SIPMessage, SIPParseError> {
        do { return .success(try SIPParser.parse(bytes)) } catch { return .failure(error) }
    }
}
