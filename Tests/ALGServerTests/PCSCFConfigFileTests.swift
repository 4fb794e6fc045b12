// The YAML configuration of `pcscf-alg`: embedded default = Fixtures/config/pcscf-alg.yaml, the
// loopback lab it describes, the precedence of the layers (CLI > env > file > default), every bad
// fixture's keys named, Docs/configuration.md documenting every key, and `check-config` as a binary.
import ALGTestSupport
import Foundation
import H248Client
import SIPTransport
import Testing
@testable import ALGServer

@Suite("pcscf-alg configuration file (YAML, env and --set overrides, check-config)")
struct PCSCFConfigFileTests {
    static let fixture = TestRepository.url("Fixtures/config/pcscf-alg.yaml")
    static let badDirectory = TestRepository.url("Fixtures/config/bad")

    static var badFixtures: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: badDirectory.path)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
    }

    /// The `# expect: a, b` line of a bad fixture.
    static func expectedKeys(_ name: String) throws -> Set<String> {
        let text = try String(contentsOf: badDirectory.appendingPathComponent(name), encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("# expect:") })
        return Set(line.dropFirst("# expect:".count).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    }

    @Test("The shipped Fixtures/config/pcscf-alg.yaml is byte-for-byte the embedded default")
    func fixtureEqualsEmbeddedDefault() throws {
        let file = try String(contentsOf: Self.fixture, encoding: .utf8)
        // A Swift multi-line literal drops the newline before its closing delimiter.
        #expect(file == PCSCFConfigFile.embeddedDefault + "\n")
    }

    @Test("The embedded default sets every key, is valid, and runs the loopback lab (Gm udp+tcp 5060, Mw udp 5070, core 5080, Iq udp 2944)")
    func defaultIsTheLab() throws {
        let c = PCSCFConfigFile.load(file: nil)
        #expect(c.validate().isEmpty, "\(c.validate())")
        for key in PCSCFConfigFile.keys {
            #expect(c.values[key.path] != nil, "\(key.path) missing from the embedded default")
            #expect(c.sources[key.path] == "default")
        }
        #expect(c.values.count == PCSCFConfigFile.keys.count)
        let run = try c.settings()
        let listeners = run.service.listeners.map { "\($0.side.rawValue)=\($0.transport.rawValue.lowercased()):\($0.host):\($0.port)" }
        #expect(listeners == ["gm=udp:127.0.0.1:5060", "gm=tcp:127.0.0.1:5060", "mw=udp:127.0.0.1:5070"])
        #expect(run.service.coreNextHops == ["sip:127.0.0.1:5080;lr"])
        #expect(run.service.domain == "pcscf.ims.example")
        let iq = try #require(run.service.iq)
        #expect(iq.listen == H248ListenAddress(kind: .udp, host: "127.0.0.1", port: 2944))
        #expect(iq.form == .compact)
        #expect(iq.waitForGateway == .seconds(30))
        #expect(iq.longTimer == .seconds(8))
        #expect(iq.association.keepAliveInterval == nil)
        #expect(iq.session.policy == .default, "alg.policy defaults are RewritePolicy's")
        #expect(iq.mapping == IqGatewayMapping(), "iq.tokens / iq.mapping defaults are IqGatewayMapping's")
        #expect(run.service.transactions == .init())
        #expect(run.shutdown == PCSCFShutdownSettings())
        #expect(run.logLevel == .info && !run.jsonLogs)
    }

    @Test("Precedence: --set beats the environment, the environment beats the file, the file beats the default")
    func precedence() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pcscf-cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("p.yaml")
        try "sip:\n  domain: file.example\n  advertised_host: file.example\nshutdown:\n  retry_after: 5\n".write(to: file, atomically: true, encoding: .utf8)
        let env = ["PCSCF_SIP_DOMAIN": "env.example", "PCSCF_SHUTDOWN_RETRY_AFTER": "6", "PCSCF_SIP_GM_UDP": "127.0.0.1:7000, 127.0.0.2:7000",
                   "HOME": "/root"]
        let c = PCSCFConfigFile.load(file: file.path, environment: env, overrides: ["shutdown.retry_after=7"])
        #expect(c.validate().isEmpty, "\(c.validate())")
        #expect(c.text("sip.domain") == "env.example" && c.sources["sip.domain"] == "env PCSCF_SIP_DOMAIN")
        #expect(c.text("sip.advertised_host") == "file.example" && c.sources["sip.advertised_host"] == file.path)
        #expect(c.int("shutdown.retry_after") == 7 && c.sources["shutdown.retry_after"] == "--set")
        #expect(c.list("sip.gm.udp") == ["127.0.0.1:7000", "127.0.0.2:7000"], "a list from the environment is comma-separated")
        #expect(c.text("iq.listen") == "udp:127.0.0.1:2944" && c.sources["iq.listen"] == "default")
        #expect(try c.settings().shutdown.retryAfterSeconds == 7)
    }

    @Test("Environment names: PCSCF_ + path upper-cased with dots as underscores; an unknown PCSCF_ variable is reported with a did-you-mean")
    func environmentNames() {
        #expect(PCSCFConfigFile.environmentName("sip.gm.udp") == "PCSCF_SIP_GM_UDP")
        #expect(PCSCFConfigFile.environmentName("alg.policy.bandwidth.adjust_as") == "PCSCF_ALG_POLICY_BANDWIDTH_ADJUST_AS")
        #expect(Set(PCSCFConfigFile.keys.map(\.environmentName)).count == PCSCFConfigFile.keys.count, "no two keys share a variable")
        let issues = PCSCFConfigFile.load(file: nil, environment: ["PCSCF_IQ_ENCODNG": "pretty"]).validate()
        #expect(issues.map(\.key) == ["PCSCF_IQ_ENCODNG"])
        #expect(issues.first?.reason.contains("did you mean PCSCF_IQ_ENCODING?") == true)
    }

    @Test("Each bad fixture reports exactly the keys of its `# expect:` line", arguments: PCSCFConfigFileTests.badFixtures)
    func badFixture(_ name: String) throws {
        let path = Self.badDirectory.appendingPathComponent(name).path
        let issues = PCSCFConfigFile.load(file: path).validate()
        #expect(Set(issues.map(\.key)) == (try Self.expectedKeys(name)), "\(issues.map(\.description).joined(separator: "\n"))")
        #expect(issues.allSatisfy { !$0.reason.isEmpty })
        #expect(throws: PCSCFConfigError.self) { try PCSCFConfigFile.load(file: path).settings() }
    }

    @Test("Reasons name the kind of fault: unknown key with did-you-mean, wrong type, out of range, bad address/URI, TLS file missing")
    func reasons() throws {
        func reason(_ file: String, _ key: String) -> String {
            PCSCFConfigFile.load(file: Self.badDirectory.appendingPathComponent(file).path).validate().first { $0.key == key }?.reason ?? ""
        }
        #expect(reason("unknown-keys.yaml", "sip.domian") == "unknown key (did you mean sip.domain?)")
        #expect(reason("unknown-keys.yaml", "timers").hasSuffix(".timers?)"), "a section put at the wrong level is found by its name")
        #expect(reason("wrong-types.yaml", "sip.timers.t1").hasPrefix("wrong type"))
        #expect(reason("wrong-types.yaml", "logging").hasPrefix("wrong type"))
        #expect(reason("out-of-range.yaml", "pcscf.unregistered_status") == "out of range: 99 not in 400...699")
        #expect(reason("out-of-range.yaml", "iq.encoding").contains("did you mean pretty?"))
        #expect(reason("bad-addresses.yaml", "sip.core_next_hops").hasPrefix("bad URI"))
        #expect(reason("bad-addresses.yaml", "iq.gateway_allow_list") == "bad address: 'not-an-ip' is not an IP address")
        #expect(reason("tls-missing.yaml", "sip.gm.tls_certificate").hasPrefix("TLS file missing"))
    }

    @Test("Durations need a unit (ms, s, m, h); booleans accept true/false/yes/no/on/off")
    func scalarParsing() {
        #expect(PCSCFConfigFile.parseDuration("500ms") == .milliseconds(500))
        #expect(PCSCFConfigFile.parseDuration("4s") == .seconds(4))
        #expect(PCSCFConfigFile.parseDuration("3m") == .seconds(180))
        #expect(PCSCFConfigFile.parseDuration("1h") == .seconds(3600))
        #expect(PCSCFConfigFile.parseDuration("0") == .zero)
        #expect(PCSCFConfigFile.parseDuration("500") == nil)
        #expect(PCSCFConfigFile.parseDuration("4 s") == nil)
        #expect(PCSCFConfigFile.parseDuration("99999999999999999h") == nil, "overflow is refused, not trapped")
        #expect(PCSCFConfigFile.parseBool("on") == true && PCSCFConfigFile.parseBool("No") == false && PCSCFConfigFile.parseBool("2") == nil)
        #expect(PCSCFConfigFile.parseHostPort("[::1]:5060")! == ("::1", 5060))
        #expect(PCSCFConfigFile.parseHostPort("::1:5060") == nil)
    }

    @Test("Overrides reach the run settings: TLS listener with its files, e2ae policy, Iq tokens and allow-list, shutdown, JSON logs")
    func overridesReachSettings() throws {
        let cert = TestRepository.url("Fixtures/tls/cert.pem").path
        let key = TestRepository.url("Fixtures/tls/key.pem").path
        let c = PCSCFConfigFile.load(file: nil, overrides: [
            "sip.gm.tls=127.0.0.1:5061", "sip.gm.tls_certificate=\(cert)", "sip.gm.tls_private_key=\(key)",
            "alg.policy.bfcp_tls_role=tcpActiveIsClient", "alg.policy.require_ue_registration_indication=false",
            "alg.policy.rewrite_path_scheme_under_cema=true", "alg.policy.bandwidth.record_overhead_bytes=22",
            "iq.tokens.tls_establish_signal=tls/start", "iq.gateway_allow_list=127.0.0.1", "iq.encoding=pretty",
            "shutdown.service_change=forced", "shutdown.drain_timeout=2m", "logging.format=json", "logging.level=debug",
            "sip.timers.t1=250ms", "iq.keep_alive_interval=10s",
        ])
        let issues = c.validate()
        #expect(issues.isEmpty, "\(issues)")
        let run = try c.settings()
        let tls = try #require(run.service.listeners.first { $0.transport == .tls })
        #expect(tls.side == .gm && tls.port == 5061 && tls.tls?.certificateChainPath == cert)
        let iq = try #require(run.service.iq)
        #expect(iq.session.policy.bfcpTLSRole == .tcpActiveIsClient)
        #expect(!iq.session.policy.requireUERegistrationIndication && iq.session.policy.rewritePathSchemeUnderCEMA)
        #expect(iq.session.policy.bandwidth.recordOverheadBytes == 22)
        #expect(iq.mapping.tokens.tlsEstablishSignal == "tls/start")
        #expect(iq.gatewayAllowList == ["127.0.0.1"] && iq.form == .pretty)
        #expect(iq.association.keepAliveInterval == .seconds(10))
        #expect(run.shutdown.serviceChange == .forced && run.shutdown.drainTimeout == .seconds(120))
        #expect(run.jsonLogs && run.logLevel == .debug)
        #expect(run.service.transactions.timers.t1 == .milliseconds(250))
    }

    @Test("Docs/configuration.md documents every key with its environment variable")
    func everyKeyDocumented() throws {
        let doc = try String(contentsOf: TestRepository.url("Docs/configuration.md"), encoding: .utf8)
        for key in PCSCFConfigFile.keys {
            #expect(doc.contains("`\(key.path)`"), "\(key.path) is not documented")
            #expect(doc.contains("`\(key.environmentName)`"), "\(key.environmentName) is not documented")
        }
    }

    @Test("`pcscf-alg check-config` as a binary: exit 0 for the shipped file and the embedded default, exit 1 naming every bad key; PCSCF_* environment and --set applied")
    func checkConfigBinary() async throws {
        let binary = TestRepository.url(".build/debug/pcscf-alg").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            if LiveTool.isCI { Issue.record("\(binary) not built") } else { print("skipping: \(binary) not built") }
            return
        }
        let good = LiveProcess(binary, ["check-config", Self.fixture.path, "--ignore-environment"])
        try good.start()
        #expect(await good.wait(timeout: 20) == 0, "\(good.stdout)\(good.stderr)")
        #expect(good.stdout.contains("valid (\(PCSCFConfigFile.keys.count) keys)"))
        let embedded = LiveProcess(binary, ["check-config", "--ignore-environment"])
        try embedded.start()
        #expect(await embedded.wait(timeout: 20) == 0, "\(embedded.stdout)")
        let bad = LiveProcess(binary, ["check-config", Self.badDirectory.appendingPathComponent("out-of-range.yaml").path, "--ignore-environment"])
        try bad.start()
        #expect(await bad.wait(timeout: 20) == 1)
        for key in try Self.expectedKeys("out-of-range.yaml") { #expect(bad.stdout.contains("\(key): "), "\(key) not named: \(bad.stdout)") }
        #expect(bad.stdout.contains("6 bad key(s)"))
        // The environment layer reaches the binary (and --set wins over it).
        let env = LiveProcess(binary, ["check-config"])
        env.process.environment = ["PCSCF_IQ_ENCODING": "prety", "PCSCF_SIP_DOMAIN": "env.example"]
        try env.start()
        #expect(await env.wait(timeout: 20) == 1)
        #expect(env.stdout.contains("iq.encoding: out of range: 'prety' is not one of pretty, compact (did you mean pretty?) [env PCSCF_IQ_ENCODING]"), "\(env.stdout)")
        let fixed = LiveProcess(binary, ["check-config", "--set", "iq.encoding=pretty", "--print"])
        fixed.process.environment = ["PCSCF_IQ_ENCODING": "prety", "PCSCF_SIP_DOMAIN": "env.example"]
        try fixed.start()
        #expect(await fixed.wait(timeout: 20) == 0, "\(fixed.stdout)")
        #expect(fixed.stdout.contains("sip.domain = env.example  [env PCSCF_SIP_DOMAIN]"), "\(fixed.stdout)")
        #expect(fixed.stdout.contains("iq.encoding = pretty  [--set]"), "\(fixed.stdout)")
    }
}
