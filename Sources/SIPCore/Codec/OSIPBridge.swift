// The only file that imports the libosip2 shim (Docs/architecture.md). No C pointer leaves it.
// Pitfalls designed around (platform-notes §1): parser_init exactly once, trace silenced before the
// first parse, osip_message_to_str never used to forward, every C tree freed in the scope that made it.
internal import CLibOSIP2

/// One-time initialisation of libosipparser2.
enum OSIP {
    /// `parser_init()` fills file-static tables without a lock: run it exactly once (a `static let` is
    /// initialised through swift_once) and silence the trace output first.
    private static let initResult: Int32 = {
        osip_trace_initialize_func(TRACE_LEVEL0, { _, _, _, _, _ in })
        return parser_init()
    }()

    @inline(__always) static func initialise() {
        precondition(initResult == 0, "libosip2 parser_init failed")
    }
}

/// Direct access to libosip2 for benchmarks and for validation tests. Values only cross the boundary.
public enum LibOSIP2 {
    /// Parses `bytes` with `osip_message_parse` and frees the tree: the raw-libosip2 baseline the
    /// benchmarks compare against. Returns true when libosip2 accepted the message.
    public static func parseAndFree(_ bytes: UnsafeRawBufferPointer) -> Bool {
        OSIP.initialise()
        guard let base = bytes.baseAddress, bytes.count > 0 else { return false }
        var message: UnsafeMutablePointer<osip_message_t>? = nil
        guard osip_message_init(&message) == 0, let message else { return false }
        defer { osip_message_free(message) }
        return osip_message_parse(message, base.assumingMemoryBound(to: CChar.self), bytes.count) == 0
    }

    /// True when libosip2's `sdp_message_parse` accepts `sdp` (used to check every SDP we emit).
    public static func acceptsSDP(_ sdp: String) -> Bool {
        OSIP.initialise()
        var message: UnsafeMutablePointer<sdp_message_t>? = nil
        guard sdp_message_init(&message) == 0, let message else { return false }
        defer { sdp_message_free(message) }
        return sdp.withCString { sdp_message_parse(message, $0) } == 0
    }
}

extension LibOSIP2 {
    /// Validation pass used by `SIPParser.parse`: `osip_message_parse` on a copy libosip2 makes itself;
    /// the C tree is freed before returning, nothing but the verdict leaves this file. The message is
    /// never serialised with `osip_message_to_str` (it reorders headers, splits comma lists,
    /// re-capitalises names: platform-notes §1.6); forwarding splices our own bytes.
    static func validate(_ bytes: UnsafeRawBufferPointer) -> Bool { parseAndFree(bytes) }
}
