// Covers: RFC 3261 §18.3 (stream framing by the empty line and Content-Length, compact `l:`),
// §7.5 (CRLF before a message), RFC 5626 §3.5.1 (CRLFCRLF ping → CRLF pong), SIPParseLimits bounds
// (513 for oversize head/body, 400 for missing/invalid Content-Length). Drip-fed and coalesced input.
import Foundation
import Testing
@testable import SIPCore

private func frames(_ chunks: [[UInt8]], limits: SIPParseLimits = .default) throws -> [SIPStreamFramer.Frame] {
    var f = SIPStreamFramer(limits: limits)
    var out: [SIPStreamFramer.Frame] = []
    for c in chunks {
        f.append(c)
        while let fr = try f.next() { out.append(fr) }
    }
    return out
}

/// Fixtures that parse and carry a Content-Length equal to their body: the stream-valid set.
private let streamCases: [String] = Fixtures.sipCases.filter { name in
    guard case .success(let m) = Fixtures.parse(Fixtures.bytes(name)) else { return false }
    return m.contentLength != nil && m.bytes.count == Fixtures.bytes(name).count
}

@Suite("SIPStreamFramer (RFC 3261 §18.3, RFC 5626 §3.5.1)")
struct SIPStreamFramerTests {
    @Test("RFC 3261 §18.3: drip-fed byte by byte, each fixture comes out whole and parses", arguments: streamCases)
    func dripFeed(_ name: String) throws {
        let bytes = Fixtures.bytes(name)
        let got = try frames(bytes.map { [$0] })
        #expect(got == [.message(bytes)])
    }

    @Test("several messages and keep-alives in one read, and split at every offset")
    func coalescedAndSplit() throws {
        let a = Fixtures.bytes("ims/invite-msrp-bfcp"), b = Fixtures.bytes("ims/register-200"), c = Fixtures.bytes("torture/wsinv")
        let ping: [UInt8] = [13, 10, 13, 10], pong: [UInt8] = [13, 10]
        let stream = ping + a + b + pong + c + ping
        let expected: [SIPStreamFramer.Frame] = [.ping, .message(a), .message(b), .pong, .message(c), .ping]
        #expect(try frames([stream]) == expected)
        #expect(try frames(stream.map { [$0] }) == expected)
        for cut in stride(from: 1, to: stream.count, by: 97) {
            #expect(try frames([Array(stream[..<cut]), Array(stream[cut...])]) == expected, "split at \(cut)")
        }
    }

    @Test("RFC 5626 §3.5.1: a lone CRLF waits for the next byte (it may be half a ping)")
    func pingPongAmbiguity() throws {
        var f = SIPStreamFramer()
        f.append([13, 10])
        #expect(try f.next() == nil)
        f.append([13])
        #expect(try f.next() == nil)
        f.append([10])
        #expect(try f.next() == .ping)
        #expect(SIPStreamFramer.pong == [13, 10])
    }

    @Test("RFC 3261 §18.3: a stream message without Content-Length is a fatal 400")
    func missingContentLength() throws {
        let m = Array("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\r\n".utf8)
        let e = try #require(throws: SIPParseError.self) { _ = try frames([m]) }
        #expect(e.code == .badContentLength && e.disposition == .badRequest)
    }

    @Test("limits: header block over maxHeaderBlockBytes → 513 without waiting for the end; body over maxBodyBytes → 513")
    func limits() throws {
        var big = Array("INVITE sip:a@b SIP/2.0\r\nSubject: ".utf8)
        big += [UInt8](repeating: UInt8(ascii: "x"), count: SIPParseLimits.maxHeaderBlockBytes)
        let e = try #require(throws: SIPParseError.self) { _ = try frames([big]) }
        #expect(e.code == .headerBlockTooLarge && e.disposition == .messageTooLarge)
        let body = Array("MESSAGE sip:a@b SIP/2.0\r\nl: 99999\r\n\r\n".utf8)
        let e2 = try #require(throws: SIPParseError.self) { _ = try frames([body]) }
        #expect(e2.code == .bodyTooLarge && e2.disposition == .messageTooLarge)
        let resp = Array("SIP/2.0 200 OK\r\nContent-Length: 1x\r\n\r\n".utf8)
        let e3 = try #require(throws: SIPParseError.self) { _ = try frames([resp]) }
        #expect(e3.disposition == .drop, "a malformed response is dropped, never answered")
        var f = SIPStreamFramer()
        f.append(resp)
        _ = try? f.next()
        #expect(f.failed)
        #expect(throws: SIPParseError.self) { _ = try f.next() }
    }

    @Test("compact `l:` and conflicting Content-Length values (RFC 4475 §3.3.9)")
    func compactAndConflicting() throws {
        let ok = Array("MESSAGE sip:a@b SIP/2.0\r\nl:  5 \r\n\r\nhello".utf8)
        #expect(try frames([ok + ok]) == [.message(ok), .message(ok)])
        let e = try #require(throws: SIPParseError.self) { _ = try frames([Fixtures.bytes("torture/mcl01")]) }
        #expect(e.code == .badContentLength)
    }

    @Test("buffer stays bounded while many messages stream through")
    func bufferBounded() throws {
        let a = Fixtures.bytes("ims/bye")
        var f = SIPStreamFramer()
        for _ in 0..<1000 {
            f.append(a)
            #expect(try f.next() == .message(a))
        }
        #expect(f.bufferedCount == 0)
    }
}
