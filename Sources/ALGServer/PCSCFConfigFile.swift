// The one configuration file of `pcscf-alg` (YAML), its environment and command-line overrides, and
// `check-config`'s validation. Every key is in `PCSCFConfigFile.keys` (path, kind, meaning); the
// defaults are the embedded YAML (`PCSCFConfigFile.embeddedDefault`, equal to
// Fixtures/config/pcscf-alg.yaml). Layers, lowest first: embedded default < file < environment
// (`PCSCF_` + path upper-cased, `.`/`-` as `_`) < command line (`--set path=value` and the flags).
// Every bad key is reported with its reason (unknown key with a did-you-mean, wrong type, out of
// range, bad address/URI, missing TLS file); nothing throws before every key has been looked at.
import Foundation
import H248Client
import H248Codec
import IMSALG
import Logging
import NIOCore
import SDPRewrite
import SIPCore
import SIPProxy
import SIPTransaction
import SIPTransport
import Yams

/// A flattened configuration value: one scalar, or a list of scalars.
public enum PCSCFConfigValue: Sendable, Equatable, CustomStringConvertible {
    case scalar(String)
    case list([String])

    public var description: String {
        switch self {
        case .scalar(let s): return s
        case .list(let l): return "[" + l.joined(separator: ", ") + "]"
        }
    }
}

/// One bad key: its dotted path, where the value came from, and why it is refused.
public struct PCSCFConfigIssue: Sendable, Equatable, CustomStringConvertible {
    public var key: String
    public var source: String
    public var reason: String
    public init(key: String, source: String, reason: String) {
        self.key = key; self.source = source; self.reason = reason
    }
    public var description: String { "\(key): \(reason) [\(source)]" }
}

/// Everything the `pcscf` command needs once the configuration is valid.
public struct PCSCFRunSettings: Sendable {
    public var service: PCSCFServiceConfiguration
    public var shutdown: PCSCFShutdownSettings
    public var logLevel: Logger.Level
    public var jsonLogs: Bool
}

/// How SIGTERM/SIGINT end the server (Docs/configuration.md §Graceful shutdown).
public struct PCSCFShutdownSettings: Sendable, Equatable {
    public enum ServiceChange: String, Sendable, Equatable { case graceful, forced, none }
    /// Retry-After (RFC 3261 §20.33, seconds) of the 503 to new dialog-creating requests while draining.
    public var retryAfterSeconds: Int
    /// How long established dialogs may go on before the server stops anyway.
    public var drainTimeout: Duration
    /// ServiceChange on ROOT sent to the gateway at the end (H.248.1 §7.2.8).
    public var serviceChange: ServiceChange
    /// ServiceChangeReason code (H.248.1 §7.2.8.1: 909 MGC impending failure).
    public var serviceChangeReason: Int
    /// ServiceChangeDelay (Graceful only).
    public var serviceChangeDelay: Duration

    public init(retryAfterSeconds: Int = 30, drainTimeout: Duration = .seconds(30), serviceChange: ServiceChange = .graceful,
                serviceChangeReason: Int = 909, serviceChangeDelay: Duration = .zero) {
        self.retryAfterSeconds = retryAfterSeconds
        self.drainTimeout = drainTimeout
        self.serviceChange = serviceChange
        self.serviceChangeReason = serviceChangeReason
        self.serviceChangeDelay = serviceChangeDelay
    }
}

public struct PCSCFConfigFile: Sendable {
    /// What a key holds; each kind has its own check.
    public enum Kind: Sendable, Equatable {
        case text(allowEmpty: Bool)
        case host(allowEmpty: Bool)
        case bool
        case int(ClosedRange<Int>)
        case duration(ClosedRange<Duration>)
        case choice([String])
        case choiceList([String])
        case hostPortList
        case sipURIList(minimum: Int)
        case tokenList
        case iqAddress
        case filePath
        case ipList
        case packageItem
        case profileList

        var isList: Bool {
            switch self {
            case .choiceList, .hostPortList, .sipURIList, .tokenList, .ipList, .profileList: return true
            default: return false
            }
        }
    }

    public struct Key: Sendable {
        public let path: String
        public let kind: Kind
        public init(_ path: String, _ kind: Kind) { self.path = path; self.kind = kind }
        /// The environment variable overriding this key.
        public var environmentName: String { PCSCFConfigFile.environmentName(path) }
    }

    /// `PCSCF_` + path upper-cased, `.` and `-` as `_` (`sip.gm.udp` → `PCSCF_SIP_GM_UDP`).
    public static func environmentName(_ path: String) -> String {
        "PCSCF_" + path.uppercased().map { $0 == "." || $0 == "-" ? "_" : $0 }.map(String.init).joined()
    }

    static let day: Duration = .seconds(86_400)
    static let mediasecNames = ["msrp-tls", "bfcp-tls", "sdes-srtp"]
    static let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// Every key of the file (Docs/configuration.md has one row per key).
    public static let keys: [Key] = [
        Key("sip.domain", .host(allowEmpty: false)),
        Key("sip.gm.udp", .hostPortList), Key("sip.gm.tcp", .hostPortList), Key("sip.gm.tls", .hostPortList),
        Key("sip.gm.tls_certificate", .filePath), Key("sip.gm.tls_private_key", .filePath),
        Key("sip.mw.udp", .hostPortList), Key("sip.mw.tcp", .hostPortList), Key("sip.mw.tls", .hostPortList),
        Key("sip.mw.tls_certificate", .filePath), Key("sip.mw.tls_private_key", .filePath),
        Key("sip.advertised_host", .host(allowEmpty: true)),
        Key("sip.core_next_hops", .sipURIList(minimum: 1)),
        Key("sip.proxy_require_supported", .tokenList),
        Key("sip.tls_verify", .choice(["full", "none"])),
        Key("sip.timers.t1", .duration(.milliseconds(1)...Self.day)),
        Key("sip.timers.t2", .duration(.milliseconds(1)...Self.day)),
        Key("sip.timers.t4", .duration(.milliseconds(1)...Self.day)),
        Key("sip.timers.timer_d", .duration(TransactionTimers.minimumTimerDUnreliable...Self.day)),
        Key("sip.timers.timer_c", .duration((TransactionTimers.timerCFloor + .milliseconds(1))...Self.day)),
        Key("sip.limits.max_transactions", .int(1...10_000_000)),
        Key("sip.limits.max_connections", .int(1...1_000_000)),
        Key("sip.limits.udp_max_message_bytes", .int(1...SIPTransportLimits.udpMaxDatagramBytes)),
        Key("sip.limits.idle_timeout", .duration(.seconds(1)...Self.day)),
        Key("sip.limits.max_message_bytes", .int(256...65_535)),
        Key("sip.limits.max_header_block_bytes", .int(256...65_535)),
        Key("sip.limits.max_body_bytes", .int(0...65_535)),
        Key("sip.limits.max_header_fields", .int(8...4_096)),

        Key("pcscf.mediasec", .choiceList(Self.mediasecNames + ["none"])),
        Key("pcscf.announce_mediasec_only_when_ue_indicated", .bool),
        Key("pcscf.mediasec_in_401", .bool), Key("pcscf.mediasec_in_200", .bool),
        Key("pcscf.strip_mediasec_option_tag_towards_core", .bool),
        Key("pcscf.record_route", .bool),
        Key("pcscf.local_aliases", .tokenList),
        Key("pcscf.reject_unregistered", .bool),
        Key("pcscf.unregistered_status", .int(400...699)),
        Key("pcscf.terminating_no_binding_status", .int(400...699)),
        Key("pcscf.enforce_service_route", .bool),
        Key("pcscf.charging_vector", .bool),
        Key("pcscf.icid_generated_at", .text(allowEmpty: true)),
        Key("pcscf.orig_ioi", .text(allowEmpty: true)),
        Key("pcscf.visited_network_id", .text(allowEmpty: true)),
        Key("pcscf.visited_network_id_on_originating", .bool),
        Key("pcscf.strip_charging_towards_ue", .bool),
        Key("pcscf.extra_untrusted_headers", .tokenList),
        Key("pcscf.fallback_expires", .int(1...Int(UInt32.max))),
        Key("pcscf.registration_sweep", .duration(.milliseconds(10)...Self.day)),
        Key("pcscf.dns_refresh", .duration(.seconds(1)...Self.day)),
        Key("pcscf.next_hop_hold_down", .duration(.zero...Self.day)),

        Key("iq.enabled", .bool),
        Key("iq.listen", .iqAddress),
        Key("iq.gateway_allow_list", .ipList),
        Key("iq.encoding", .choice(["pretty", "compact"])),
        Key("iq.version_min", .int(1...3)), Key("iq.version_max", .int(1...3)),
        Key("iq.profile_policy", .choice(["acceptAny", "requireAccepted"])),
        Key("iq.accepted_profiles", .profileList),
        Key("iq.wait_for_gateway", .duration(.zero...Self.day)),
        Key("iq.keep_alive_interval", .duration(.zero...Self.day)),
        Key("iq.keep_alive_failures", .int(1...100)),
        Key("iq.timers.long_timer", .duration(.milliseconds(10)...Self.day)),
        Key("iq.timers.normal_mg_execution_time", .duration(.zero...Self.day)),
        Key("iq.timers.normal_mgc_execution_time", .duration(.zero...Self.day)),
        Key("iq.timers.mg_provisional_response_timer", .duration(.milliseconds(1)...Self.day)),
        Key("iq.timers.mgc_provisional_response_timer", .duration(.milliseconds(1)...Self.day)),
        Key("iq.timers.mg_originated_pending_limit", .int(0...10_000)),
        Key("iq.timers.mgc_originated_pending_limit", .int(0...10_000)),
        Key("iq.timers.initial_round_trip_time", .duration(.zero...Self.day)),
        Key("iq.timers.min_retransmission_timeout", .duration(.milliseconds(1)...Self.day)),
        Key("iq.timers.max_retransmission_timeout", .duration(.milliseconds(1)...Self.day)),
        Key("iq.timers.response_ack_delay", .duration(.zero...Self.day)),
        Key("iq.tokens.heartbeat_event", .packageItem),
        Key("iq.tokens.heartbeat_timer_parameter", .text(allowEmpty: false)),
        Key("iq.tokens.inactivity_event", .packageItem),
        Key("iq.tokens.inactivity_timer_parameter", .text(allowEmpty: false)),
        Key("iq.tokens.latch_property", .packageItem),
        Key("iq.tokens.realm_property", .packageItem),
        Key("iq.tokens.tcp_establish_signal", .packageItem),
        Key("iq.tokens.tcp_establish_failure_event", .packageItem),
        Key("iq.tokens.tls_establish_signal", .packageItem),
        Key("iq.tokens.tls_establish_failure_event", .packageItem),
        Key("iq.tokens.interlinkage_property", .packageItem),
        Key("iq.tokens.profile_name", .text(allowEmpty: false)),
        Key("iq.tokens.profile_version", .int(1...255)),
        Key("iq.mapping.access_realm", .text(allowEmpty: false)),
        Key("iq.mapping.core_realm", .text(allowEmpty: false)),
        Key("iq.mapping.heartbeat_seconds", .int(1...86_400)),
        Key("iq.mapping.latch_access", .bool),

        Key("alg.setup_timeout", .duration(.seconds(1)...Self.day)),
        Key("alg.policy.tcp_handling", .choice(["proxyInterlinkage", "proxyExplicitConnect", "merge"])),
        Key("alg.policy.msrp_tls_role", .choice(["tcpActiveIsClient", "offererIsClient"])),
        Key("alg.policy.bfcp_tls_role", .choice(["tcpActiveIsClient", "offererIsClient"])),
        Key("alg.policy.cema_absent", .choice(["rewritePath", "leavePath"])),
        Key("alg.policy.rewrite_path_scheme_under_cema", .bool),
        Key("alg.policy.requested_without_registration", .choice(["e2e", "reject"])),
        Key("alg.policy.require_ue_registration_indication", .bool),
        Key("alg.policy.anchor_e2e", .bool),
        Key("alg.policy.anchor_plain_tcp", .bool),
        Key("alg.policy.anchor_rtp", .bool),
        Key("alg.policy.unknown_protocol", .choice(["passThrough", "reject"])),
        Key("alg.policy.bfcp_application_aware", .bool),
        Key("alg.policy.msrp_agnostic_access_transport", .choice(["TCP/TLS/MSRP", "TCP/TLS"])),
        Key("alg.policy.indicate_applied_in_answer", .bool),
        Key("alg.policy.rewrite_origin_address", .bool),
        Key("alg.policy.bandwidth.adjust_as", .bool),
        Key("alg.policy.bandwidth.adjust_tias", .bool),
        Key("alg.policy.bandwidth.msrp_record_plaintext_bytes", .int(1...16_384)),
        Key("alg.policy.bandwidth.bfcp_record_plaintext_bytes", .int(1...16_384)),
        Key("alg.policy.bandwidth.record_overhead_bytes", .int(0...1_024)),
        Key("alg.policy.bandwidth.minimum_as_change_kbps", .int(0...1_000_000)),

        Key("shutdown.retry_after", .int(0...86_400)),
        Key("shutdown.drain_timeout", .duration(.zero...Self.day)),
        Key("shutdown.service_change", .choice(["graceful", "forced", "none"])),
        Key("shutdown.service_change_reason", .int(900...999)),
        Key("shutdown.service_change_delay", .duration(.zero...Self.day)),

        Key("logging.level", .choice(Self.levels)),
        Key("logging.format", .choice(["text", "json"])),
    ]

    static let keyIndex: [String: Key] = Dictionary(uniqueKeysWithValues: keys.map { ($0.path, $0) })
    static let sections: Set<String> = {
        var s: Set<String> = []
        for k in keys {
            var parts = k.path.split(separator: ".").dropLast()
            while !parts.isEmpty { s.insert(parts.joined(separator: ".")); parts = parts.dropLast() }
        }
        return s
    }()

    /// The merged values (every key present once the embedded default is the bottom layer).
    public private(set) var values: [String: PCSCFConfigValue] = [:]
    /// Where each value came from: `default`, the file name, `env PCSCF_…`, `--set`.
    public private(set) var sources: [String: String] = [:]
    /// Problems found while merging (unknown keys, wrong shapes, YAML syntax).
    public private(set) var mergeIssues: [PCSCFConfigIssue] = []

    public init() {}

    // MARK: Loading

    /// Embedded default, then `file` (if any), then `environment` (`PCSCF_*`), then `overrides`
    /// (`path=value`, command line). Issues are collected, not thrown: see `validate()`.
    public static func load(file: String?, environment: [String: String] = [:], overrides: [String] = []) -> PCSCFConfigFile {
        var c = PCSCFConfigFile()
        c.merge(yaml: embeddedDefault, source: "default")
        if let file {
            if let data = FileManager.default.contents(atPath: file) {
                c.merge(yaml: String(decoding: data, as: UTF8.self), source: file)
            } else {
                c.mergeIssues.append(PCSCFConfigIssue(key: "(file)", source: file, reason: "cannot read \(file)"))
            }
        }
        c.merge(environment: environment)
        for o in overrides { c.merge(override: o, source: "--set") }
        return c
    }

    /// Adds one YAML document on top.
    public mutating func merge(yaml text: String, source: String) {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            mergeIssues.append(PCSCFConfigIssue(key: "(file)", source: source, reason: "not valid YAML: \(error)"))
            return
        }
        guard let node else { return }   // an empty file changes nothing
        guard case .mapping = node else {
            mergeIssues.append(PCSCFConfigIssue(key: "(file)", source: source, reason: "wrong type: the document must be a mapping of sections"))
            return
        }
        walk(node, path: "", source: source)
    }

    private mutating func walk(_ node: Node, path: String, source: String) {
        switch node {
        case .mapping(let m):
            if !path.isEmpty, let key = Self.keyIndex[path] {
                mergeIssues.append(PCSCFConfigIssue(key: path, source: source, reason: "wrong type: expected \(Self.expected(key.kind)), got a mapping"))
                return
            }
            if !path.isEmpty, !Self.sections.contains(path) {
                mergeIssues.append(unknown(path, source: source))
                return
            }
            for (k, v) in m {
                guard let name = k.scalar?.string else {
                    mergeIssues.append(PCSCFConfigIssue(key: path.isEmpty ? "(file)" : path, source: source, reason: "wrong type: a key that is not a plain name"))
                    continue
                }
                walk(v, path: path.isEmpty ? name : "\(path).\(name)", source: source)
            }
        case .sequence(let s):
            var items: [String] = []
            for item in s {
                guard let text = item.scalar?.string else {
                    mergeIssues.append(PCSCFConfigIssue(key: path, source: source, reason: "wrong type: list items must be plain values"))
                    return
                }
                items.append(text)
            }
            set(path, .list(items), source: source)
        case .scalar(let s):
            set(path, .scalar(s.string), source: source)
        case .alias:
            mergeIssues.append(PCSCFConfigIssue(key: path, source: source, reason: "YAML aliases are not supported"))
        }
    }

    private mutating func set(_ path: String, _ value: PCSCFConfigValue, source: String) {
        guard let key = Self.keyIndex[path] else {
            if Self.sections.contains(path) {
                mergeIssues.append(PCSCFConfigIssue(key: path, source: source, reason: "wrong type: \(path) is a section (a mapping of keys), got \(value)"))
            } else {
                mergeIssues.append(unknown(path, source: source))
            }
            return
        }
        var v = value
        switch (key.kind.isList, value) {
        case (true, .scalar(let s)):
            // A list key given one string: comma-separated (the environment and --set form).
            v = .list(s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        case (false, .list(let l)):
            mergeIssues.append(PCSCFConfigIssue(key: path, source: source, reason: "wrong type: expected \(Self.expected(key.kind)), got a list \(l)"))
            return
        default: break
        }
        values[path] = v
        sources[path] = source
    }

    private mutating func merge(environment: [String: String]) {
        let byEnv = Dictionary(uniqueKeysWithValues: Self.keys.map { ($0.environmentName, $0.path) })
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("PCSCF_") {
            guard let path = byEnv[name] else {
                let hint = Self.closest(name, among: Array(byEnv.keys)).map { " (did you mean \($0)?)" } ?? ""
                mergeIssues.append(PCSCFConfigIssue(key: name, source: "env", reason: "unknown environment variable\(hint)"))
                continue
            }
            set(path, .scalar(value), source: "env \(name)")
        }
    }

    /// One `path=value` command-line override.
    public mutating func merge(override text: String, source: String) {
        guard let eq = text.firstIndex(of: "=") else {
            mergeIssues.append(PCSCFConfigIssue(key: text, source: source, reason: "expected key.path=value"))
            return
        }
        let path = String(text[..<eq]).trimmingCharacters(in: .whitespaces)
        set(path, .scalar(String(text[text.index(after: eq)...])), source: source)
    }

    /// Sets a list key from the command line (the `--gm`/`--mw` flags).
    public mutating func setList(_ path: String, _ items: [String], source: String) { set(path, .list(items), source: source) }
    /// Sets a scalar key from the command line (the other flags).
    public mutating func setScalar(_ path: String, _ value: String, source: String) { set(path, .scalar(value), source: source) }

    private func unknown(_ path: String, source: String) -> PCSCFConfigIssue {
        let known = Self.keys.map(\.path) + Self.sections.sorted()
        // A typo of the whole path, else a known key or section with the same last name put elsewhere.
        let last = path.split(separator: ".").last.map(String.init) ?? path
        let suggestion = Self.closest(path, among: known) ?? known.first { $0.hasSuffix("." + last) }
        let hint = suggestion.map { " (did you mean \($0)?)" } ?? ""
        return PCSCFConfigIssue(key: path, source: source, reason: "unknown key\(hint)")
    }

    // MARK: Validation

    /// Every problem: the merge issues, then each key's own check, then the checks across keys.
    /// Empty = the configuration can run.
    public func validate() -> [PCSCFConfigIssue] {
        var issues = mergeIssues
        for key in Self.keys {
            guard let value = values[key.path] else {
                issues.append(PCSCFConfigIssue(key: key.path, source: "-", reason: "missing"))
                continue
            }
            if let reason = Self.check(value, key.kind) {
                issues.append(PCSCFConfigIssue(key: key.path, source: sources[key.path] ?? "-", reason: reason))
            }
        }
        return issues + crossChecks(skipping: Set(issues.map(\.key)))
    }

    /// Checks across keys; a check is skipped when one of its keys is already bad on its own.
    private func crossChecks(skipping bad: Set<String>) -> [PCSCFConfigIssue] {
        var issues: [PCSCFConfigIssue] = []
        func add(_ key: String, _ reason: String) { issues.append(PCSCFConfigIssue(key: key, source: sources[key] ?? "-", reason: reason)) }
        func ok(_ prefix: String) -> Bool { !bad.contains { $0 == prefix || $0.hasPrefix(prefix + ".") } }
        for side in ["gm", "mw"] {
            if list("sip.\(side).udp").isEmpty && list("sip.\(side).tcp").isEmpty && list("sip.\(side).tls").isEmpty {
                add("sip.\(side)", "no listener: give at least one of udp, tcp, tls")
            }
            if ok("sip.\(side).tls") && !list("sip.\(side).tls").isEmpty {
                for f in ["tls_certificate", "tls_private_key"] where ok("sip.\(side).\(f)") && text("sip.\(side).\(f)").isEmpty {
                    add("sip.\(side).\(f)", "required by the tls listeners of sip.\(side).tls")
                }
            }
        }
        if ok("iq.version_min") && ok("iq.version_max") && int("iq.version_min") > int("iq.version_max") {
            add("iq.version_min", "out of range: greater than iq.version_max")
        }
        if ok("sip.timers") { do { try transactionTimers().validate() } catch { add("sip.timers", "\(error)") } }
        if ok("iq.timers") { do { try h248Timers().validate() } catch { add("iq.timers", "\(error)") } }
        return issues
    }

    /// Why `value` is not a valid `kind` (nil: valid).
    static func check(_ value: PCSCFConfigValue, _ kind: Kind) -> String? {
        switch (kind, value) {
        case (_, .list(let items)) where kind.isList:
            return checkList(items, kind)
        case (_, .scalar(let s)):
            return checkScalar(s, kind)
        default:
            return "wrong type: expected \(expected(kind))"
        }
    }

    private static func checkScalar(_ s: String, _ kind: Kind) -> String? {
        switch kind {
        case .text(let allowEmpty):
            return !allowEmpty && s.isEmpty ? "must not be empty" : nil
        case .host(let allowEmpty):
            if s.isEmpty { return allowEmpty ? nil : "must not be empty" }
            return isHost(s) ? nil : "bad address: '\(s)' is not a host name or IP address"
        case .bool:
            return parseBool(s) == nil ? "wrong type: expected true or false, got '\(s)'" : nil
        case .int(let range):
            guard let n = Int(s) else { return "wrong type: expected an integer, got '\(s)'" }
            return range.contains(n) ? nil : "out of range: \(n) not in \(range.lowerBound)...\(range.upperBound)"
        case .duration(let range):
            guard let d = parseDuration(s) else { return "wrong type: expected a duration with a unit (500ms, 4s, 3m, 1h), got '\(s)'" }
            return range.contains(d) ? nil : "out of range: \(s) not in \(format(range.lowerBound))...\(format(range.upperBound))"
        case .choice(let options):
            guard options.contains(s) else {
                let hint = closest(s, among: options).map { " (did you mean \($0)?)" } ?? ""
                return "out of range: '\(s)' is not one of \(options.joined(separator: ", "))\(hint)"
            }
            return nil
        case .iqAddress:
            do { _ = try H248ListenAddress(parsing: s) } catch { return "bad address: '\(s)' (expected udp:host:port, tcp:host:port or sctp:host:port)" }
            return nil
        case .filePath:
            if s.isEmpty { return nil }
            return FileManager.default.isReadableFile(atPath: s) ? nil : "TLS file missing: cannot read \(s)"
        case .packageItem:
            let parts = s.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(isTokenChar) }) else {
                return "wrong type: expected package/item (H.248.1 §B.2 pkgdName), got '\(s)'"
            }
            return nil
        default:
            return "wrong type: expected \(expected(kind))"
        }
    }

    private static func checkList(_ items: [String], _ kind: Kind) -> String? {
        var bad: [String] = []
        switch kind {
        case .hostPortList:
            for i in items where parseHostPort(i) == nil { bad.append("bad address: '\(i)' (expected host:port, port 0...65535)") }
        case .sipURIList(let minimum):
            if items.count < minimum { bad.append("needs at least \(minimum) URI") }
            for i in items where SIPURIParts(parsing: i) == nil { bad.append("bad URI: '\(i)' is not a sip/sips URI") }
        case .tokenList:
            for i in items where i.isEmpty || !i.allSatisfy({ isTokenChar($0) || $0 == ":" || $0 == "[" || $0 == "]" }) {
                bad.append("wrong type: '\(i)' is not a token")
            }
        case .choiceList(let options):
            for i in items where !options.contains(i) {
                let hint = closest(i, among: options).map { " (did you mean \($0)?)" } ?? ""
                bad.append("out of range: '\(i)' is not one of \(options.joined(separator: ", "))\(hint)")
            }
        case .ipList:
            for i in items where (try? SocketAddress(ipAddress: i, port: 0)) == nil { bad.append("bad address: '\(i)' is not an IP address") }
        case .profileList:
            for i in items where parseProfile(i) == nil { bad.append("wrong type: '\(i)' is not name/version") }
        default:
            bad.append("wrong type: expected \(expected(kind))")
        }
        return bad.isEmpty ? nil : bad.joined(separator: "; ")
    }

    static func expected(_ kind: Kind) -> String {
        switch kind {
        case .text: return "a string"
        case .host: return "a host name or IP address"
        case .bool: return "true or false"
        case .int(let r): return "an integer in \(r.lowerBound)...\(r.upperBound)"
        case .duration: return "a duration (500ms, 4s, 3m, 1h)"
        case .choice(let o): return "one of \(o.joined(separator: ", "))"
        case .choiceList(let o): return "a list of \(o.joined(separator: ", "))"
        case .hostPortList: return "a list of host:port"
        case .sipURIList: return "a list of sip URIs"
        case .tokenList: return "a list of tokens"
        case .iqAddress: return "udp:host:port"
        case .filePath: return "a file path"
        case .ipList: return "a list of IP addresses"
        case .packageItem: return "package/item"
        case .profileList: return "a list of name/version"
        }
    }

    // MARK: Scalar parsing

    static func isTokenChar(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || "-_.!%*+`'~".contains(c))
    }

    static func isHost(_ s: String) -> Bool {
        if (try? SocketAddress(ipAddress: s, port: 0)) != nil { return true }
        let labels = s.split(separator: ".", omittingEmptySubsequences: false)
        return s.count <= 253 && labels.allSatisfy { l in
            !l.isEmpty && l.count <= 63 && l.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
                && l.first != "-" && l.last != "-"
        }
    }

    /// `host:port`, `[v6]:port`.
    static func parseHostPort(_ s: String) -> (host: String, port: Int)? {
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (0...65_535).contains(port) else { return nil }
        var host = String(s[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) } else if host.contains(":") { return nil }
        return isHost(host) ? (host, port) : nil
    }

    static func parseBool(_ s: String) -> Bool? {
        switch s.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: return nil
        }
    }

    static func parseDuration(_ s: String) -> Duration? {
        let t = s.trimmingCharacters(in: .whitespaces)
        if t == "0" { return .zero }
        for (unit, scale) in [("ms", Int64(1)), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)] where t.hasSuffix(unit) {
            let number = t.dropLast(unit.count)
            // "ms" also ends in "s": a unit only when the rest is a plain number.
            guard !number.isEmpty, number.allSatisfy(\.isNumber), let n = Int64(number) else { continue }
            let (ms, overflow) = n.multipliedReportingOverflow(by: scale)
            return overflow ? nil : .milliseconds(ms)
        }
        return nil
    }

    static func format(_ d: Duration) -> String {
        let ms = d.components.seconds * 1_000 + d.components.attoseconds / 1_000_000_000_000_000
        return ms % 1_000 == 0 ? "\(ms / 1_000)s" : "\(ms)ms"
    }

    static func parseProfile(_ s: String) -> H248ProfileID? {
        let parts = s.split(separator: "/")
        guard parts.count == 2, let v = Int(parts[1]), !parts[0].isEmpty else { return nil }
        return H248ProfileID(name: String(parts[0]), version: v)
    }

    /// The closest candidate by edit distance, when close enough to be a typo.
    static func closest(_ word: String, among candidates: [String]) -> String? {
        var best: (String, Int)?
        for c in candidates {
            let d = editDistance(word.lowercased(), c.lowercased())
            if d < (best?.1 ?? Int.max) { best = (c, d) }
        }
        guard let best, best.1 <= max(2, word.count / 4) else { return nil }
        return best.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }

    // MARK: Typed access (valid configurations only)

    func text(_ p: String) -> String { if case .scalar(let s) = values[p] { return s }; return "" }
    func list(_ p: String) -> [String] { if case .list(let l) = values[p] { return l }; return [] }
    func bool(_ p: String) -> Bool { Self.parseBool(text(p)) ?? false }
    func int(_ p: String) -> Int { Int(text(p)) ?? 0 }
    func duration(_ p: String) -> Duration { Self.parseDuration(text(p)) ?? .zero }
    func optional(_ p: String) -> String? { let s = text(p); return s.isEmpty ? nil : s }

    func transactionTimers() -> TransactionTimers {
        TransactionTimers(t1: duration("sip.timers.t1"), t2: duration("sip.timers.t2"), t4: duration("sip.timers.t4"),
                          timerDUnreliable: duration("sip.timers.timer_d"), timerC: duration("sip.timers.timer_c"))
    }

    func h248Timers() -> H248TransactionTimers {
        var t = H248TransactionTimers()
        t.longTimer = duration("iq.timers.long_timer")
        t.normalMGExecutionTime = duration("iq.timers.normal_mg_execution_time")
        t.normalMGCExecutionTime = duration("iq.timers.normal_mgc_execution_time")
        t.mgProvisionalResponseTimerValue = duration("iq.timers.mg_provisional_response_timer")
        t.mgcProvisionalResponseTimerValue = duration("iq.timers.mgc_provisional_response_timer")
        t.mgOriginatedPendingLimit = int("iq.timers.mg_originated_pending_limit")
        t.mgcOriginatedPendingLimit = int("iq.timers.mgc_originated_pending_limit")
        t.initialRoundTripTime = duration("iq.timers.initial_round_trip_time")
        t.minimumRetransmissionTimeout = duration("iq.timers.min_retransmission_timeout")
        t.maximumRetransmissionTimeout = duration("iq.timers.max_retransmission_timeout")
        return t
    }

    /// The run settings; throws the issues when the configuration is not valid.
    public func settings() throws(PCSCFConfigError) -> PCSCFRunSettings {
        let issues = validate()
        guard issues.isEmpty else { throw PCSCFConfigError(issues: issues) }

        var listeners: [SIPListenerConfiguration] = []
        for side in [SIPSide.gm, .mw] {
            let prefix = "sip.\(side.rawValue)"
            for (kind, name) in [(SIPTransportKind.udp, "udp"), (.tcp, "tcp"), (.tls, "tls")] {
                for item in list("\(prefix).\(name)") {
                    guard let hp = Self.parseHostPort(item) else { continue }
                    let tls = kind == .tls
                        ? SIPTLSServerSettings(certificateChainPath: text("\(prefix).tls_certificate"), privateKeyPath: text("\(prefix).tls_private_key"))
                        : nil
                    listeners.append(SIPListenerConfiguration(side: side, transport: kind, host: hp.host, port: hp.port, tls: tls))
                }
            }
        }

        var p = PCSCFConfiguration()
        let mediasec = list("pcscf.mediasec").filter { $0 != "none" }
        p.networkMediaSecurity = Set(mediasec.compactMap(MediaSecurityMechanism.init(rawValue:)))
        p.announceMediasecOnlyWhenUEIndicated = bool("pcscf.announce_mediasec_only_when_ue_indicated")
        p.mediasecIn401 = bool("pcscf.mediasec_in_401")
        p.mediasecIn200 = bool("pcscf.mediasec_in_200")
        p.stripMediasecOptionTagTowardsCore = bool("pcscf.strip_mediasec_option_tag_towards_core")
        p.recordRoute = bool("pcscf.record_route")
        p.localAliases = list("pcscf.local_aliases")
        p.rejectUnregistered = bool("pcscf.reject_unregistered")
        p.unregisteredStatus = int("pcscf.unregistered_status")
        p.terminatingNoBindingStatus = int("pcscf.terminating_no_binding_status")
        p.enforceServiceRoute = bool("pcscf.enforce_service_route")
        p.chargingVector = bool("pcscf.charging_vector")
        p.icidGeneratedAt = optional("pcscf.icid_generated_at")
        p.origIOI = optional("pcscf.orig_ioi")
        p.visitedNetworkID = optional("pcscf.visited_network_id")
        p.visitedNetworkIDOnOriginating = bool("pcscf.visited_network_id_on_originating")
        p.stripChargingTowardsUE = bool("pcscf.strip_charging_towards_ue")
        p.extraUntrustedHeaders = list("pcscf.extra_untrusted_headers")
        p.fallbackExpires = UInt32(clamping: int("pcscf.fallback_expires"))

        var limits = SIPParseLimits.default
        limits.maxMessageBytes = int("sip.limits.max_message_bytes")
        limits.maxHeaderBlockBytes = int("sip.limits.max_header_block_bytes")
        limits.maxBodyBytes = int("sip.limits.max_body_bytes")
        limits.maxHeaderFields = int("sip.limits.max_header_fields")
        let transportLimits = PCSCFTransportLimits(
            udpMaxMessageBytes: int("sip.limits.udp_max_message_bytes"), maxConnections: int("sip.limits.max_connections"),
            idleTimeout: duration("sip.limits.idle_timeout"), parseLimits: limits)

        var iq: PCSCFIqSettings?
        if bool("iq.enabled") {
            var policy = RewritePolicy()
            policy.tcpHandling = TCPHandlingMode(rawValue: text("alg.policy.tcp_handling")) ?? policy.tcpHandling
            policy.msrpTLSRole = TLSRoleRule(rawValue: text("alg.policy.msrp_tls_role")) ?? policy.msrpTLSRole
            policy.bfcpTLSRole = TLSRoleRule(rawValue: text("alg.policy.bfcp_tls_role")) ?? policy.bfcpTLSRole
            policy.cemaAbsent = RewritePolicy.CEMAAbsentBehaviour(rawValue: text("alg.policy.cema_absent")) ?? policy.cemaAbsent
            policy.rewritePathSchemeUnderCEMA = bool("alg.policy.rewrite_path_scheme_under_cema")
            policy.requestedWithoutRegistration = RewritePolicy.RequestedWithoutRegistration(
                rawValue: text("alg.policy.requested_without_registration")) ?? policy.requestedWithoutRegistration
            policy.requireUERegistrationIndication = bool("alg.policy.require_ue_registration_indication")
            policy.anchorE2E = bool("alg.policy.anchor_e2e")
            policy.anchorPlainTCP = bool("alg.policy.anchor_plain_tcp")
            policy.anchorRTP = bool("alg.policy.anchor_rtp")
            policy.unknownProtocol = RewritePolicy.UnknownProtocol(rawValue: text("alg.policy.unknown_protocol")) ?? policy.unknownProtocol
            policy.bfcpApplicationAware = bool("alg.policy.bfcp_application_aware")
            policy.msrpAgnosticAccessTransport = GatewayTransport(rawValue: text("alg.policy.msrp_agnostic_access_transport"))
            policy.indicateAppliedInAnswer = bool("alg.policy.indicate_applied_in_answer")
            policy.rewriteOriginAddress = bool("alg.policy.rewrite_origin_address")
            policy.bandwidth.adjustAS = bool("alg.policy.bandwidth.adjust_as")
            policy.bandwidth.adjustTIAS = bool("alg.policy.bandwidth.adjust_tias")
            policy.bandwidth.msrpRecordPlaintextBytes = UInt64(int("alg.policy.bandwidth.msrp_record_plaintext_bytes"))
            policy.bandwidth.bfcpRecordPlaintextBytes = UInt64(int("alg.policy.bandwidth.bfcp_record_plaintext_bytes"))
            policy.bandwidth.recordOverheadBytes = UInt64(int("alg.policy.bandwidth.record_overhead_bytes"))
            policy.bandwidth.minimumASChangeKbps = UInt64(int("alg.policy.bandwidth.minimum_as_change_kbps"))

            var association = PCSCFIqSettings.defaultAssociation
            association.supportedVersions = int("iq.version_min")...int("iq.version_max")
            association.profilePolicy = ProfilePolicy(rawValue: text("iq.profile_policy")) ?? .acceptAny
            association.acceptedProfiles = list("iq.accepted_profiles").compactMap(Self.parseProfile)
            let keepAlive = duration("iq.keep_alive_interval")
            association.keepAliveInterval = keepAlive > .zero ? keepAlive : nil
            association.keepAliveFailuresBeforeLoss = int("iq.keep_alive_failures")

            var tokens = IqPackageTokens()
            tokens.heartbeatEvent = text("iq.tokens.heartbeat_event")
            tokens.heartbeatTimerParameter = text("iq.tokens.heartbeat_timer_parameter")
            tokens.inactivityEvent = text("iq.tokens.inactivity_event")
            tokens.inactivityTimerParameter = text("iq.tokens.inactivity_timer_parameter")
            tokens.latchProperty = text("iq.tokens.latch_property")
            tokens.realmProperty = text("iq.tokens.realm_property")
            tokens.tcpEstablishSignal = text("iq.tokens.tcp_establish_signal")
            tokens.tcpEstablishFailureEvent = text("iq.tokens.tcp_establish_failure_event")
            tokens.tlsEstablishSignal = text("iq.tokens.tls_establish_signal")
            tokens.tlsEstablishFailureEvent = text("iq.tokens.tls_establish_failure_event")
            tokens.interlinkageProperty = text("iq.tokens.interlinkage_property")
            tokens.profileName = text("iq.tokens.profile_name")
            tokens.profileVersion = int("iq.tokens.profile_version")
            association.localProfile = H248ProfileID(name: tokens.profileName, version: tokens.profileVersion)
            var mapping = IqGatewayMapping()
            mapping.tokens = tokens
            mapping.accessRealm = text("iq.mapping.access_realm")
            mapping.coreRealm = text("iq.mapping.core_realm")
            mapping.heartbeatSeconds = UInt32(clamping: int("iq.mapping.heartbeat_seconds"))
            mapping.latchAccess = bool("iq.mapping.latch_access")

            let listen: H248ListenAddress
            do { listen = try H248ListenAddress(parsing: text("iq.listen")) } catch {
                throw PCSCFConfigError(issues: [PCSCFConfigIssue(key: "iq.listen", source: sources["iq.listen"] ?? "-", reason: "\(error)")])
            }
            let wait = duration("iq.wait_for_gateway")
            var settings = PCSCFIqSettings(
                listen: listen, form: text("iq.encoding") == "pretty" ? .pretty : .compact,
                waitForGateway: wait > .zero ? wait : nil, longTimer: duration("iq.timers.long_timer"),
                session: ALGSessionConfiguration(policy: policy, setupTimeout: duration("alg.setup_timeout")))
            settings.timers = h248Timers()
            settings.association = association
            settings.mapping = mapping
            settings.gatewayAllowList = list("iq.gateway_allow_list")
            settings.responseAckFlushDelay = duration("iq.timers.response_ack_delay")
            iq = settings
        }

        let service = PCSCFServiceConfiguration(
            pcscf: p, listeners: listeners, coreNextHops: list("sip.core_next_hops"), domain: text("sip.domain"),
            advertisedHost: optional("sip.advertised_host"), proxyRequireSupported: Set(list("sip.proxy_require_supported")),
            sweepInterval: duration("pcscf.registration_sweep"), dnsRefreshInterval: duration("pcscf.dns_refresh"),
            nextHopHoldDown: duration("pcscf.next_hop_hold_down"),
            transactions: TransactionLayerConfiguration(timers: transactionTimers(), maximumTransactions: int("sip.limits.max_transactions")),
            tlsClient: SIPTLSClientSettings(verify: SIPTLSClientSettings.Verify(rawValue: text("sip.tls_verify")) ?? .full),
            transportLimits: transportLimits, iq: iq)
        let shutdown = PCSCFShutdownSettings(
            retryAfterSeconds: int("shutdown.retry_after"), drainTimeout: duration("shutdown.drain_timeout"),
            serviceChange: PCSCFShutdownSettings.ServiceChange(rawValue: text("shutdown.service_change")) ?? .graceful,
            serviceChangeReason: int("shutdown.service_change_reason"), serviceChangeDelay: duration("shutdown.service_change_delay"))
        return PCSCFRunSettings(service: service, shutdown: shutdown,
                                logLevel: Logger.Level(rawValue: text("logging.level")) ?? .info,
                                jsonLogs: text("logging.format") == "json")
    }
}

/// The configuration is not valid: every issue, one per line.
public struct PCSCFConfigError: Error, Sendable, CustomStringConvertible {
    public var issues: [PCSCFConfigIssue]
    public init(issues: [PCSCFConfigIssue]) { self.issues = issues }
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}
