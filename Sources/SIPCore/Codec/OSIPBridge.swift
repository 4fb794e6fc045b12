// The only file that imports the libosip2 shim (Docs/architecture.md). No C pointer leaves it.
// Pitfalls designed around (platform-notes §1): parser_init exactly once, trace silenced before the
// first parse, osip_message_to_str never used to forward, every C tree freed (or, in the validation
// arena, dropped) in the scope that made it.
internal import CLibOSIP2
#if canImport(Glibc)
import Glibc
#endif

/// One-time initialisation of libosipparser2.
enum OSIP {
    /// `parser_init()` fills file-static tables without a lock: run it exactly once (a `static let` is
    /// initialised through swift_once) and silence the trace output first.
    private static let initResult: Int32 = {
        osip_trace_initialize_func(TRACE_LEVEL0, { _, _, _, _, _ in })
        return parser_init()
    }()

    /// The validation pass's per-thread arena hooks (`OSIPArena`), installed by the first `validate`
    /// call, not by `parser_init`: a process that never validates (the raw-libosip2 baselines of the
    /// benchmarks, `pcscf-alg sdp-rewrite`) keeps libosip2's plain malloc/realloc/free.
    private static let arenaHooksInstalled: Bool = {
        setArenaHooks()
        return true
    }()

    @inline(__always) static func initialise() {
        precondition(initResult == 0, "libosip2 parser_init failed")
    }

    @inline(__always) static func initialiseWithArena() {
        initialise()
        precondition(arenaHooksInstalled)
    }

    /// Installs the arena hooks. Blocks malloc'd before stay valid: the hooks free() every block that is
    /// not in an arena.
    static func setArenaHooks() {
        clibosip2_set_arena_hooks()
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

    /// Benchmarks only: runs `body` with libosip2's own malloc/realloc/free, so that `parseAndFree`
    /// inside it is the raw libosip2 parse (the arena hooks that `validate` installs would otherwise
    /// add a call and a thread-local lookup to each of its ≈ 250 allocations and frees). Only for a
    /// single-threaded process: no other thread may be inside `validate` meanwhile (the hooks are
    /// process-wide). `validate` called inside `body` parses with plain malloc as well.
    package static func withPlainAllocators<R>(_ body: () throws -> R) rethrows -> R {
        OSIP.initialise()
        // libosip2's own allocator pointer says whether to restore the hooks (none before the first validate).
        let hooked = clibosip2_has_allocators() != 0
        osip_set_allocators(nil, nil, nil)
        defer { if hooked { OSIP.setArenaHooks() } }
        return try body()
    }
}

extension LibOSIP2 {
    /// Validation pass used by `SIPParser.parse`: `osip_message_parse` on a copy libosip2 makes itself;
    /// the C tree is gone before returning, nothing but the verdict leaves this file. The message is
    /// never serialised with `osip_message_to_str` (it reorders headers, splits comma lists,
    /// re-capitalises names: platform-notes §1.6); forwarding splices our own bytes.
    /// The C tree lives in a per-thread arena (`OSIPArena`) and is dropped with it, so the check costs
    /// libosip2's parse without a malloc and a free per node; the verdict is libosip2's own
    /// (`LibOSIP2ArenaTests` compares it with `parseAndFree` on every fixture and their prefixes).
    static func validate(_ bytes: UnsafeRawBufferPointer) -> Bool {
        OSIP.initialiseWithArena()
        guard let base = bytes.baseAddress, bytes.count > 0 else { return false }
        // No hooks (inside `withPlainAllocators`): the arena would not see the blocks, so plain malloc too.
        guard clibosip2_has_allocators() != 0, let arena = OSIPArena.current(), arena.pointee.active == 0 else { return parseAndFree(bytes) }
        arena.pointee.active = 1
        arena.pointee.used = 0
        arena.pointee.spilled = 0
        defer { arena.pointee.active = 0; arena.pointee.used = 0 }
        var message: UnsafeMutablePointer<osip_message_t>? = nil
        guard osip_message_init(&message) == 0, let message else { return false }
        let ok = osip_message_parse(message, base.assumingMemoryBound(to: CChar.self), bytes.count) == 0
        // Blocks that spilled to malloc must be freed; arena blocks go when the arena is reset.
        if arena.pointee.spilled != 0 { osip_message_free(message) }
        return ok
    }
}

/// The per-thread arena of the validation pass. A full `osip_message_parse` allocates a C tree of ~100
/// small blocks and `osip_message_free` walks and frees it again: malloc and free were about half of the
/// check's cost. While `LibOSIP2.validate` runs, the allocators given to `osip_set_allocators` bump-allocate
/// from this thread's buffer; the tree is dropped by resetting it. libosip2's code (so its verdict) is
/// unchanged. Outside that scope, or once the buffer is full, they are malloc/realloc/free, and a block
/// that is not in the buffer is always freed with free().
enum OSIPArena {
    /// Bytes of each thread's buffer: an IMS INVITE with SDP needs ~10 KiB of tree; a message whose tree is
    /// larger spills to malloc (correct, slower).
    static let capacity = 256 * 1024

    /// The state and the hooks are C (`clibosip2_arena_t`, `clibosip2_arena_malloc` ... in shim.h).
    typealias State = clibosip2_arena_t

    /// The key of each thread's `State` (freed with its buffer when the thread exits).
    static let key: pthread_key_t? = {
        var key = pthread_key_t()
        let created = pthread_key_create(&key) { pointer in
            guard let pointer else { return }
            let state = pointer.assumingMemoryBound(to: State.self)
            free(state.pointee.base)
            state.deinitialize(count: 1)
            free(pointer)
        }
        return created == 0 ? key : nil
    }()

    /// This thread's state, made on first use; nil if it cannot be made (validation then uses malloc).
    static func current() -> UnsafeMutablePointer<State>? {
        if let state = clibosip2_arena_slot().pointee { return state }
        guard let key else { return nil }
        guard let buffer = malloc(capacity) else { return nil }
        guard let raw = malloc(MemoryLayout<State>.stride) else { free(buffer); return nil }
        let state = raw.bindMemory(to: State.self, capacity: 1)
        state.initialize(to: State(base: buffer.assumingMemoryBound(to: UInt8.self), capacity: capacity, used: 0, active: 0, spilled: 0))
        guard pthread_setspecific(key, raw) == 0 else {
            state.deinitialize(count: 1); free(raw); free(buffer); return nil
        }
        clibosip2_arena_slot().pointee = state
        return state
    }
}
