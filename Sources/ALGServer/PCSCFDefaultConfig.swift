// The embedded default configuration: byte-for-byte Fixtures/config/pcscf-alg.yaml (a test checks it).
// Regenerate after editing the fixture: scripts/embed-default-config.sh
extension PCSCFConfigFile {
    public static let embeddedDefault: String = #"""
# pcscf-alg configuration: every key with its default (Docs/configuration.md has one row per key).
# This file is byte-for-byte the embedded default (PCSCFConfigFile.embeddedDefault): running
# `pcscf-alg` with no file at all runs this loopback lab (Gm 127.0.0.1:5060, Mw 127.0.0.1:5070,
# S-CSCF sip:127.0.0.1:5080;lr, IMS-AGW registering on Iq udp 127.0.0.1:2944).
#
# Durations carry a unit: 500ms, 4s, 3m, 1h. Lists are YAML lists (or one comma-separated string).
# Environment override: PCSCF_ + the key path upper-cased, dots and dashes as underscores
#   sip.gm.udp -> PCSCF_SIP_GM_UDP="127.0.0.1:5060,10.0.0.1:5060"
# Command line override: --set sip.gm.udp=127.0.0.1:5060 (repeatable).
# Precedence: command line (--set and flags) > environment > file (--config) > embedded default.
# Check a file: pcscf-alg check-config FILE (names every bad key with its reason).

sip:
  domain: pcscf.ims.example          # P-CSCF domain: icid host, Warning agent, local alias
  gm:                                # Gm: listeners towards the UEs (host:port; port 0 = any)
    udp: ["127.0.0.1:5060"]
    tcp: ["127.0.0.1:5060"]
    tls: []
    tls_certificate: ""              # PEM certificate chain of the Gm tls listeners (required with tls)
    tls_private_key: ""              # PEM private key of the Gm tls listeners
  mw:                                # Mw: listeners towards the core
    udp: ["127.0.0.1:5070"]
    tcp: []
    tls: []
    tls_certificate: ""
    tls_private_key: ""
  advertised_host: ""                # host written into Path / Record-Route ("" = the first Mw listener's host)
  core_next_hops: ["sip:127.0.0.1:5080;lr"]   # I-CSCF/S-CSCF for REGISTER, failover order (RFC 3263 §4.3)
  proxy_require_supported: [mediasec, sec-agree]   # option tags accepted in Proxy-Require (RFC 3261 §16.3)
  tls_verify: full                   # outgoing TLS certificate check: full | none
  timers:                            # RFC 3261 §17 transaction timers
    t1: 500ms
    t2: 4s
    t4: 5s
    timer_d: 32s                     # >= 32 s (RFC 3261 §17.1.1.2)
    timer_c: 181s                    # > 3 min (RFC 3261 §16.6 step 11)
  limits:
    max_transactions: 65536          # live transactions; beyond: stateless 503
    max_connections: 10000           # open TCP/TLS connections
    udp_max_message_bytes: 1300      # larger requests go over TCP (RFC 3261 §18.1.1)
    idle_timeout: 300s               # idle stream connections are closed
    max_message_bytes: 65535         # one SIP message (larger: 513)
    max_header_block_bytes: 16384
    max_body_bytes: 49152
    max_header_fields: 256

pcscf:                               # TS 24.229 §5.2 behaviour
  mediasec: [msrp-tls, bfcp-tls]     # network media security announced with ;mediasec (msrp-tls, bfcp-tls, sdes-srtp)
  announce_mediasec_only_when_ue_indicated: true
  mediasec_in_401: true              # specs.md U7
  mediasec_in_200: true              # specs.md U7
  strip_mediasec_option_tag_towards_core: true
  record_route: true
  local_aliases: []                  # extra host[:port] naming this P-CSCF in Route
  reject_unregistered: true
  unregistered_status: 403
  terminating_no_binding_status: 404
  enforce_service_route: true
  charging_vector: true
  icid_generated_at: ""
  orig_ioi: ""
  visited_network_id: ""
  visited_network_id_on_originating: true
  strip_charging_towards_ue: true
  extra_untrusted_headers: []
  fallback_expires: 3600             # seconds, when the 200 to REGISTER carries no expiry
  registration_sweep: 1s             # expired bindings and stale ALG sessions are reaped this often
  dns_refresh: 60s                   # core next-hop names are resolved again this often
  next_hop_hold_down: 30s            # a failed core next hop is skipped this long

iq:                                  # the Iq interface to the IMS-AGW (H.248, TS 29.334)
  enabled: true                      # false: no IMS-ALG, SDP passes unchanged
  listen: udp:127.0.0.1:2944         # udp:host:port | tcp:host:port (TPKT) | sctp:host:port
  gateway_allow_list: []             # IP addresses allowed to register ([] = any)
  encoding: compact                  # pretty | compact (TS 29.334 §5.9 NOTE 2)
  version_min: 2                     # H.248.1 versions accepted (specs.md U2)
  version_max: 3
  profile_policy: acceptAny          # acceptAny | requireAccepted (unknown profile: 461)
  accepted_profiles: []              # name/version entries, e.g. [iqprofile/1]
  wait_for_gateway: 30s              # wait at start for the gateway's registration (offers get 503 until then)
  keep_alive_interval: 0s            # empty AuditValue on ROOT this often (0s = off)
  keep_alive_failures: 2             # audits timed out before the gateway counts as lost
  timers:                            # H.248.1 Annex D.1 and root package (Annex E.2)
    long_timer: 8s
    normal_mg_execution_time: 200ms
    normal_mgc_execution_time: 200ms
    mg_provisional_response_timer: 2s
    mgc_provisional_response_timer: 1s
    mg_originated_pending_limit: 10
    mgc_originated_pending_limit: 10
    initial_round_trip_time: 100ms
    min_retransmission_timeout: 500ms
    max_retransmission_timeout: 4s
    response_ack_delay: 100ms
  tokens:                            # package tokens (iq-tokens.md; [U] items configurable)
    heartbeat_event: hangterm/thb
    heartbeat_timer_parameter: timerx
    inactivity_event: it/ito
    inactivity_timer_parameter: mit
    latch_property: ipnapt/latch
    realm_property: ipdc/realm
    tcp_establish_signal: tcpbcc/establish
    tcp_establish_failure_event: tcpbcc/estfail
    tls_establish_signal: tlsbsc/establish
    tls_establish_failure_event: tlsbsc/estfail
    interlinkage_property: seplink/link
    profile_name: iqprofile          # ServiceChange Profile name (specs.md U1)
    profile_version: 1
  mapping:
    access_realm: access             # H.248.41 realm of the access (Gm) side
    core_realm: core
    heartbeat_seconds: 60            # H.248.36 hangterm/thb timerx
    latch_access: true               # H.248.37 latching on the access termination

alg:                                 # the e2ae policy (SDPRewrite.RewritePolicy) and sessions
  setup_timeout: 180s                # an unanswered session is reaped after this long
  policy:
    tcp_handling: proxyInterlinkage  # proxyInterlinkage | proxyExplicitConnect | merge
    msrp_tls_role: tcpActiveIsClient # tcpActiveIsClient | offererIsClient
    bfcp_tls_role: offererIsClient   # BFCP TLS-role rule (specs.md §5.3 [U])
    cema_absent: rewritePath         # rewritePath | leavePath
    rewrite_path_scheme_under_cema: false   # CEMA handling [U]
    requested_without_registration: e2e     # e2e | reject
    require_ue_registration_indication: true   # e2ae needs the UE's mediasec registration flag
    anchor_e2e: true
    anchor_plain_tcp: true
    anchor_rtp: true
    unknown_protocol: passThrough    # passThrough | reject
    bfcp_application_aware: false
    msrp_agnostic_access_transport: TCP/TLS/MSRP   # TCP/TLS/MSRP | TCP/TLS
    indicate_applied_in_answer: false   # specs.md U9
    rewrite_origin_address: true
    bandwidth:                       # bandwidth model (specs.md §12)
      adjust_as: true
      adjust_tias: true
      msrp_record_plaintext_bytes: 1024
      bfcp_record_plaintext_bytes: 64
      record_overhead_bytes: 29
      minimum_as_change_kbps: 1

shutdown:                            # SIGTERM / SIGINT
  retry_after: 30                    # seconds, Retry-After of the 503 to new dialog-creating requests
  drain_timeout: 30s                 # established dialogs may finish this long
  service_change: graceful           # graceful | forced | none: ServiceChange on ROOT to the gateway
  service_change_reason: 909         # H.248.1 §7.2.8.1: 909 MGC impending failure
  service_change_delay: 0s

logging:
  level: info                        # trace | debug | info | notice | warning | error | critical
  format: text                       # text | json (one JSON object per line)
"""#
}
