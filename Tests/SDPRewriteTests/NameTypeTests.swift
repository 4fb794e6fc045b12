import Foundation
import Testing
import SDPCore
@testable import SDPRewrite

/// `GatewayTransport` and `MediaType` keep the usual names as enum cases; these tests check that the text
/// of a name is what goes out (H.248 Local/Remote, the sdp-rewrite JSON) and that an unknown m= proto or
/// media type (RFC 8866 §5.14: other tokens are passed through) is kept as it came.
@Suite("Transport and media type names: enum cases render the same text; unknown tokens are kept (RFC 8866 §5.14)")
struct NameTypeTests {
    static let transports = ["TCP/TLS/MSRP", "TCP/TLS", "TCP/MSRP", "TCP/TLS/BFCP", "TCP/BFCP", "TCP", "RTP/AVP", "RTP/AVPF",
                             "RTP/SAVP", "RTP/SAVPF", "UDP/TLS/RTP/SAVP", "UDP/TLS/RTP/SAVPF",
                             "TCP/WS/MSRP", "tcp/msrp", "RTP/AVP/TCP", ""]
    static let mediaTypes = ["audio", "video", "text", "application", "message", "image", "Audio", "x-foo", ""]

    @Test("RFC 8866 §5.14: a transport name's rawValue, JSON and description are its text; equal texts are equal values",
          arguments: transports)
    func transportRoundTrip(_ text: String) throws {
        try Self.expectRendersItsText(GatewayTransport(rawValue: text), text)
    }

    @Test("The static names are the known spellings (seed 003/004 transports); an unknown proto is .other")
    func transportCases() {
        #expect(GatewayTransport(rawValue: "TCP/TLS/MSRP") == .tcpTLSMSRP)
        #expect(GatewayTransport(rawValue: "TCP") == .tcp)
        #expect(GatewayTransport(rawValue: "tcp") != .tcp)   // exact spelling, as before
        guard case .other(let s) = GatewayTransport(rawValue: "TCP/WS/MSRP").storage else { Issue.record("not .other"); return }
        #expect(s == "TCP/WS/MSRP")
    }

    @Test("RFC 8866 §5.14: a media type's rawValue, JSON and description are its token; other tokens are kept",
          arguments: mediaTypes)
    func mediaTypeRoundTrip(_ text: String) throws {
        let m = MediaType(rawValue: text)
        #expect(m.isEmpty == text.isEmpty)
        try Self.expectRendersItsText(m, text)
    }

    /// A name's rawValue, description and JSON are `text`; the value read from the bytes of `text` is
    /// equal to it, with the same hash; its JSON decodes back to it.
    static func expectRendersItsText<T: KnownNameToken & Codable & Hashable & CustomStringConvertible>(
        _ value: T, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(value.rawValue == text && value.description == text, sourceLocation: sourceLocation)
        let fromBytes = Array(text.utf8).withUnsafeBufferPointer { T(bytes: $0) }
        #expect(fromBytes == value && fromBytes.hashValue == value.hashValue, sourceLocation: sourceLocation)
        let json = try JSONEncoder().encode([value])
        #expect(json == (try JSONEncoder().encode([text])), sourceLocation: sourceLocation)
        #expect(try JSONDecoder().decode([T].self, from: json) == [value], sourceLocation: sourceLocation)
    }

    @Test("Media type literals and the static names agree")
    func mediaTypeCases() {
        #expect(MediaType.message == "message" && MediaType.audio.rawValue == "audio")
        #expect(MediaType(rawValue: "Audio") != .audio)
    }
}
