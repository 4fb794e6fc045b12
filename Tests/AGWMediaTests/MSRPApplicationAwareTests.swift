// Application-aware MSRP (seed 003: "modifying the MSRP Path parameter in application data by inserting
// its own IP address and port information", only by static configuration; TS 23.334 §5.19; specs.md
// §6.2-6.3). The pure framer/rewriter over the fixtures of Fixtures/msrp/ (RFC 4975 §7.1 framing, §9
// URIs), fed whole and in every split, its bounds; then MediaPlane over real sockets with the option on
// (To-Path / From-Path rewritten both ways) and off (the default: bytes untouched).

import AGWMedia
import ALGTestSupport
import Foundation
import Logging
import NIOCore
import Testing

struct MSRPFixture: CustomStringConvertible, Sendable {
    struct Authority: Decodable { var scheme: String; var host: String; var port: Int }
    struct Rule: Decodable { var description: String; var toPath: Authority; var fromPath: Authority }

    let name: String
    let rule: MSRPPathRewrite
    let summary: String
    let input: [UInt8]
    let expected: [UInt8]?
    let expectedError: String?

    var description: String { name }

    static let root = TestRepository.url("Fixtures/msrp")

    static func all() -> [MSRPFixture] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).sorted()
        return names.compactMap { load($0) }
    }

    static func load(_ name: String) -> MSRPFixture? {
        let dir = root.appendingPathComponent(name)
        guard let ruleData = try? Data(contentsOf: dir.appendingPathComponent("rule.json")),
              let r = try? JSONDecoder().decode(Rule.self, from: ruleData),
              let input = try? Data(contentsOf: dir.appendingPathComponent("input.msrp")) else { return nil }
        let expected = try? Data(contentsOf: dir.appendingPathComponent("expected.msrp"))
        let error = (try? String(contentsOf: dir.appendingPathComponent("expected-error.txt"), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        func a(_ x: Authority) -> MSRPAuthority { MSRPAuthority(scheme: x.scheme, host: x.host, port: x.port) }
        return MSRPFixture(name: name, rule: MSRPPathRewrite(toPath: a(r.toPath), fromPath: a(r.fromPath)), summary: r.description,
                           input: Array(input), expected: expected.map(Array.init), expectedError: error)
    }

    /// The name of an error case (`badStartLine`, `badPath`...) as in expected-error.txt.
    static func caseName(_ e: MSRPFramingError) -> String {
        switch e {
        case .badStartLine: "badStartLine"
        case .headerTooLarge: "headerTooLarge"
        case .chunkTooLarge: "chunkTooLarge"
        case .badPath: "badPath"
        case .missingPath: "missingPath"
        }
    }

    /// Feeds `input` in pieces of `sizes` (cycled); the bytes forwarded, or the error.
    func run(pieces sizes: [Int]) -> Result<[UInt8], MSRPFramingError> {
        var r = MSRPPathRewriter(rule: rule)
        var out: [UInt8] = []
        var i = 0, k = 0
        do {
            while i < input.count {
                let n = min(max(1, sizes[k % sizes.count]), input.count - i)
                out += try r.feed(Array(input[i..<(i + n)]))
                i += n; k += 1
            }
            return .success(out)
        } catch {
            return .failure(error)
        }
    }
}

@Suite("Application-aware MSRP: the pure framer and path rewriter over Fixtures/msrp (RFC 4975 §7.1, §9; seed 003)")
struct MSRPPathRewriterTests {
    @Test("Each fixture: the whole input gives expected.msrp byte for byte, or the expected error (RFC 4975 §7.1 framing, §9 URIs)",
          arguments: MSRPFixture.all())
    func fixture(_ f: MSRPFixture) {
        let result = f.run(pieces: [f.input.count])
        if let expected = f.expected {
            guard case .success(let out) = result else { Issue.record("\(f.name): \(result)"); return }
            #expect(out == expected, "\(f.name): \(f.summary)\n\(String(decoding: out, as: UTF8.self))")
        } else {
            guard case .failure(let e) = result else { Issue.record("\(f.name): no error, expected \(f.expectedError ?? "?")"); return }
            #expect(MSRPFixture.caseName(e) == f.expectedError, "\(f.name): \(e)")
        }
    }

    @Test("TCP delivers any segmentation: every fixture fed byte by byte and in uneven pieces gives the same result as whole (RFC 4975 §7.1 framing is by content, not by segment)",
          arguments: MSRPFixture.all())
    func anySplit(_ f: MSRPFixture) {
        let whole = f.run(pieces: [f.input.count])
        for sizes in [[1], [2, 3], [7], [13, 1, 40], [64]] {
            let split = f.run(pieces: sizes)
            switch (whole, split) {
            case (.success(let a), .success(let b)): #expect(a == b, "\(f.name) pieces \(sizes)")
            case (.failure(let a), .failure(let b)): #expect(MSRPFixture.caseName(a) == MSRPFixture.caseName(b), "\(f.name) pieces \(sizes)")
            default: Issue.record("\(f.name) pieces \(sizes): \(whole) vs \(split)")
            }
        }
    }

    @Test("Fixture set is complete: at least 8 rewrite cases and 4 error cases")
    func fixtureCount() {
        let all = MSRPFixture.all()
        #expect(all.filter { $0.expected != nil }.count >= 8)
        #expect(all.filter { $0.expectedError != nil }.count >= 4)
    }

    static let rule = MSRPPathRewrite(toPath: MSRPAuthority(scheme: "msrp", host: "127.0.0.1", port: 7654),
                                      fromPath: MSRPAuthority(scheme: "msrp", host: "198.51.100.1", port: 40002))

    @Test("MSRPLimits.maxHeaderBytes (local bound, RFC 4975 §7.1 sets none): a header section that never ends is refused, nothing forwarded")
    func headerBound() {
        var r = MSRPPathRewriter(rule: Self.rule)
        var forwarded = 0
        var error: MSRPFramingError?
        do {
            _ = try r.feed(Array("MSRP abcd SEND\r\n".utf8))
            for _ in 0..<(MSRPLimits.maxHeaderBytes / 1000 + 2) {
                forwarded += try r.feed(Array(("X-Long: " + String(repeating: "a", count: 990) + "\r\n").utf8)).count
            }
        } catch let e {
            error = e
        }
        #expect(error == .headerTooLarge)
        #expect(forwarded == 0)
    }

    @Test("MSRPLimits.maxChunkBytes: a body without its end-line is streamed (bounded memory) then refused past the bound (RFC 4975 §7.1)")
    func chunkBound() {
        var r = MSRPPathRewriter(rule: Self.rule)
        var forwarded = 0
        var error: MSRPFramingError?
        let head = "MSRP abcd SEND\r\nTo-Path: msrp://1.2.3.4:1/s;tcp\r\nFrom-Path: msrp://5.6.7.8:2/t;tcp\r\nContent-Type: text/plain\r\n\r\n"
        let piece = [UInt8](repeating: 0x41, count: 256 * 1024)
        do {
            forwarded += try r.feed(Array(head.utf8)).count
            for _ in 0..<(MSRPLimits.maxChunkBytes / piece.count + 2) { forwarded += try r.feed(piece).count }
        } catch let e {
            error = e
        }
        #expect(error == .chunkTooLarge)
        // Body bytes went through while the end-line was searched: only a short tail was held back.
        #expect(forwarded > MSRPLimits.maxChunkBytes - piece.count)
    }

    @Test("Bad input never traps: random bytes not starting with 'MSRP ' are refused at once; 3000 byte mutations of the fixtures end in output or a typed error (house rule)")
    func garbage() {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 { seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17; return seed }
        for _ in 0..<500 {
            var input = (0..<(5 + Int(next() % 300))).map { _ in UInt8(truncatingIfNeeded: next()) }
            if Array(input.prefix(5)) == Array("MSRP ".utf8) { input[0] = 0 }
            var r = MSRPPathRewriter(rule: Self.rule)
            #expect(throws: MSRPFramingError.self) { _ = try r.feed(input) }
        }
        let valid = MSRPFixture.all().filter { $0.expected != nil }
        var errors = 0, passed = 0
        for n in 0..<3000 {
            var input = valid[n % valid.count].input
            for _ in 0..<(1 + Int(next() % 4)) {
                let at = Int(next() % UInt64(input.count))
                switch next() % 3 {
                case 0: input[at] = UInt8(truncatingIfNeeded: next())
                case 1: input.remove(at: at)
                default: input.insert(UInt8(truncatingIfNeeded: next()), at: at)
                }
                if input.isEmpty { break }
            }
            var r = MSRPPathRewriter(rule: Self.rule)
            do { _ = try r.feed(input); passed += 1 } catch { errors += 1 }
        }
        #expect(errors > 0 && passed > 0, "errors \(errors), passed \(passed)")
    }

    @Test("MSRPAuthority(uri:) reads scheme, host and port of an MSRP URI (RFC 4975 §9); other URIs give nil")
    func authority() {
        #expect(MSRPAuthority(uri: "msrps://10.1.1.10:50000/u8kd2;tcp") == MSRPAuthority(scheme: "msrps", host: "10.1.1.10", port: 50000))
        #expect(MSRPAuthority(uri: "MSRP://bob@[2001:db8::1]:7/s;tcp") == MSRPAuthority(scheme: "msrp", host: "2001:db8::1", port: 7))
        #expect(MSRPAuthority(uri: "http://x:1/;tcp") == nil)
        #expect(MSRPAuthority(uri: "msrp://x/s;tcp") == nil)
        #expect(MSRPAuthority(uri: "msrp://x:99999/s;tcp") == nil)
    }
}

@Suite("Application-aware MSRP through MediaPlane over real sockets (seed 003: only by static configuration)", .serialized)
struct MSRPApplicationAwareLiveTests {
    let ue = try! TLSIdentity.generate(commonName: "ue.test")

    func plane(rewrite: Bool) throws -> MediaPlane {
        let base = LoopbackSocket.freePort(span: 4)
        var logger = Logger(label: "agw-msrp-test")
        logger.logLevel = .critical
        return try MediaPlane(configuration: MediaPlaneConfiguration(portRange: base...(base + 3), tlsVerifyTimeout: .seconds(3),
                                                                     connectTimeout: .seconds(2), msrpPathRewrite: rewrite),
                              group: testGroup, logger: logger)
    }

    struct Exchange {
        var atCore: String
        var atUE: String
        var sentByUE: String
        var sentByCore: String
        var accessPort: Int
        var corePort: Int
        var coreLocalPort: Int
        var stats: MediaPlaneStatistics
    }

    /// UE (TLS) sends a SEND addressed as the ALG told it (To-Path = the gateway's access URI with the core's
    /// session-id); the core answers 200 OK addressed as it was told (To-Path = the gateway's core URI).
    func exchange(rewrite: Bool, msrpProtos: Bool = true) async throws -> Exchange {
        let plane = try plane(rewrite: rewrite)
        let coreListener = LoopbackSocket.tcpListener()
        let access = key("access"), core = key("core")
        let la = try await plane.allocate(MediaAllocation(key: access, transport: .tls, bindHost: "127.0.0.1", setup: .passive,
                                                          wantsFingerprint: true, msrp: msrpProtos))
        let lc = try await plane.allocate(MediaAllocation(key: core, transport: .tcp, bindHost: "127.0.0.1", setup: .active, msrp: msrpProtos))
        try await plane.configure(access, remote: MediaRemote(host: "127.0.0.1", port: 9, setup: .active, fingerprint: ue.fingerprint,
                                                              msrpPath: "msrps://127.0.0.1:50000/u8kd2;tcp"), establishTLS: nil)
        try await plane.configure(core, remote: MediaRemote(host: "127.0.0.1", port: coreListener.localPort, setup: .passive), establishTLS: nil)
        try await plane.interconnect(access, core, mode: .proxy)
        let uePeer = try await tlsConnect(port: la.port, config: ueTLS(ue, server: false), expectGateway: la.fingerprint)
        let coreSock = try #require(await coreListener.acceptPeer(timeout: 5))
        let ueSend = msrpSend("u1x2", to: "msrps://127.0.0.1:\(la.port)/kjh34;tcp", from: "msrps://127.0.0.1:50000/u8kd2;tcp", body: "hello core")
        try await uePeer.send(ueSend)
        let atCore = await coreSock.readUntil("-------u1x2$\r\n")
        let coreOK = msrpOK("u1x2", to: "msrp://127.0.0.1:\(lc.port)/u8kd2;tcp", from: "msrp://127.0.0.1:\(coreListener.localPort)/kjh34;tcp")
        coreSock.write(coreOK)
        _ = await uePeer.buffer.waitFor("-------u1x2$\r\n")
        let stats = await plane.statistics()
        try? await uePeer.channel.close()
        await plane.shutdown()
        return Exchange(atCore: atCore, atUE: String(decoding: uePeer.buffer.data, as: UTF8.self), sentByUE: ueSend, sentByCore: coreOK,
                        accessPort: la.port, corePort: coreListener.localPort, coreLocalPort: lc.port, stats: stats)
    }

    @Test("On: the core sees To-Path = its own URI (Remote address/port) and From-Path = the gateway's core URI; the UE sees To-Path = its a=path (Remote a=path) and From-Path = the gateway's access URI (msrps); session-ids kept")
    func rewrittenWhenOn() async throws {
        let x = try await exchange(rewrite: true)
        #expect(x.atCore.contains("To-Path: msrp://127.0.0.1:\(x.corePort)/kjh34;tcp\r\n"), "\(x.atCore)")
        #expect(x.atCore.contains("From-Path: msrp://127.0.0.1:\(x.coreLocalPort)/u8kd2;tcp\r\n"), "\(x.atCore)")
        #expect(x.atCore.contains("hello core\r\n-------u1x2$\r\n"), "\(x.atCore)")
        #expect(x.atUE.contains("To-Path: msrps://127.0.0.1:50000/u8kd2;tcp\r\n"), "\(x.atUE)")
        #expect(x.atUE.contains("From-Path: msrps://127.0.0.1:\(x.accessPort)/kjh34;tcp\r\n"), "\(x.atUE)")
        #expect(x.stats.msrpMessagesRewritten == 2, "\(x.stats)")
    }

    @Test("Off (the default, seed 003): the relay is application-agnostic, every byte crosses untouched")
    func untouchedWhenOff() async throws {
        #expect(MediaPlaneConfiguration().msrpPathRewrite == false)
        let x = try await exchange(rewrite: false)
        #expect(x.atCore == x.sentByUE, "\(x.atCore)")
        #expect(x.atUE == x.sentByCore, "\(x.atUE)")
        #expect(x.stats.msrpMessagesRewritten == 0)
    }

    @Test("On, but the MGC reserved TCP / TCP/TLS (application-agnostic, CEMA: specs.md §6.3): untouched")
    func untouchedWhenAgnosticProtos() async throws {
        let x = try await exchange(rewrite: true, msrpProtos: false)
        #expect(x.atCore == x.sentByUE, "\(x.atCore)")
        #expect(x.atUE == x.sentByCore, "\(x.atUE)")
    }

    @Test("On: bytes that are not MSRP close the stream (both connections) and count a framing error; nothing reaches the core")
    func garbageClosesStream() async throws {
        let plane = try plane(rewrite: true)
        let coreListener = LoopbackSocket.tcpListener()
        let access = key("access"), core = key("core")
        let la = try await plane.allocate(MediaAllocation(key: access, transport: .tls, bindHost: "127.0.0.1", setup: .passive, wantsFingerprint: true, msrp: true))
        _ = try await plane.allocate(MediaAllocation(key: core, transport: .tcp, bindHost: "127.0.0.1", setup: .active, msrp: true))
        try await plane.configure(access, remote: MediaRemote(host: "127.0.0.1", port: 9, setup: .active, fingerprint: ue.fingerprint), establishTLS: nil)
        try await plane.configure(core, remote: MediaRemote(host: "127.0.0.1", port: coreListener.localPort, setup: .passive), establishTLS: nil)
        try await plane.interconnect(access, core, mode: .proxy)
        let uePeer = try await tlsConnect(port: la.port, config: ueTLS(ue, server: false), expectGateway: la.fingerprint)
        let coreSock = try #require(await coreListener.acceptPeer(timeout: 5))
        _ = await eventually(timeout: 5) { await plane.statistics().openConnections == 2 }
        try await uePeer.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await eventually(timeout: 5) { uePeer.buffer.isClosed }, "the UE's connection is closed")
        #expect(await coreSock.closedByPeer(timeout: 5), "the core's connection is closed")
        #expect(await plane.statistics().msrpFramingErrors == 1)
        await plane.shutdown()
    }
}
