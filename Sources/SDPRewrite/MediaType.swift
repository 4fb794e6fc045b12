// The media type of an m= line (RFC 8866 §5.14: "audio", "video", "text", "application", "message",
// "image"; other tokens are passed through), as the rewrite keeps and reports it per stream.

/// An m= media type. The registered names are enum cases (compared and copied without touching a
/// String); any other token is kept as it came, in `.other`, so nothing from the wire is lost.
public struct MediaType: RawRepresentable, Sendable, Codable, Equatable, Hashable, CustomStringConvertible,
                         ExpressibleByStringLiteral, KnownNameToken {
    /// A single-payload enum: the named cases are String's spare bit patterns (the value is 16 bytes).
    @usableFromInline
    enum Storage: Sendable, Hashable, NameStorage {
        case audio, video, text, application, message, image
        /// A token that is not one of the names above (never their spelling: `init(rawValue:)` maps
        /// those to their case, so equality of two values is equality of their texts).
        case other(String)
    }

    @usableFromInline
    var storage: Storage

    @inlinable
    init(_ storage: Storage) { self.storage = storage }

    public init(rawValue: String) { self.init(text: rawValue) }

    public init(stringLiteral value: String) { self.init(text: value) }

    /// The registered name spelled exactly (case-sensitively) by `b`, if any.
    static func known(_ b: UnsafeBufferPointer<UInt8>) -> Storage? {
        @inline(__always) func eq(_ lit: StaticString) -> Bool { spells(b, lit) }
        switch b.count {
        case 4: if eq("text") { return .text }
        case 5:
            if eq("audio") { return .audio }
            if eq("video") { return .video }
            if eq("image") { return .image }
        case 7: if eq("message") { return .message }
        case 11: if eq("application") { return .application }
        default: break
        }
        return nil
    }

    public var rawValue: String {
        switch storage {
        case .audio: return "audio"
        case .video: return "video"
        case .text: return "text"
        case .application: return "application"
        case .message: return "message"
        case .image: return "image"
        case .other(let s): return s
        }
    }

    public var description: String { rawValue }

    /// True for the empty token (a placeholder stream that never had an m= line).
    public var isEmpty: Bool {
        if case .other(let s) = storage { return s.isEmpty }
        return false
    }

    @inlinable public static var audio: MediaType { MediaType(.audio) }
    @inlinable public static var video: MediaType { MediaType(.video) }
    @inlinable public static var text: MediaType { MediaType(.text) }
    @inlinable public static var application: MediaType { MediaType(.application) }
    @inlinable public static var message: MediaType { MediaType(.message) }
    @inlinable public static var image: MediaType { MediaType(.image) }
    // Codable: the standard library's RawRepresentable-with-String default (one string, its rawValue).
}

/// A name type whose registered spellings are enum cases of its `Storage` and any other text is kept
/// as it came (`GatewayTransport`, `MediaType`): equality stays equality of the texts, a registered name
/// costs no String.
protocol KnownNameToken: RawRepresentable where RawValue == String {
    associatedtype Storage: NameStorage
    init(_ storage: Storage)
    /// The registered name spelled exactly (case-sensitively) by the bytes, if any.
    static func known(_ b: UnsafeBufferPointer<UInt8>) -> Storage?
}

/// The storage of a `KnownNameToken`: its `other(String)` case holds any text that is not a registered name.
protocol NameStorage {
    static func other(_ text: String) -> Self
}

extension KnownNameToken {
    /// The name spelled by `bytes` (an m= field): a registered name without allocating, else its text.
    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.init(Self.known(bytes) ?? Storage.other(String(decoding: bytes, as: UTF8.self)))
    }

    /// The name spelled by `text`; a registered spelling maps to its case.
    init(text: String) {
        var copy = text
        self.init(copy.withUTF8 { Self.known($0) } ?? Storage.other(text))
    }
}

/// True when `b` is exactly the bytes of `lit` (a case-sensitive token match for the name types'
/// `known(_:)` tables).
@inline(__always)
func spells(_ b: UnsafeBufferPointer<UInt8>, _ lit: StaticString) -> Bool {
    guard lit.utf8CodeUnitCount == b.count else { return false }
    let p = lit.utf8Start
    for k in 0..<b.count where b[k] != p[k] { return false }
    return true
}
