// Covers RFC 1006 §6 TPKT framing as used by H.248.1 Annex D.2 (H.248 over TCP):
//  - header = version 3, reserved 0, 16-bit big-endian length including the 4-octet header;
//  - streaming decode: drip-fed bytes, several packets in one read, split headers;
//  - bounds and typed errors: bad version, length below header+1, length above the bound;
//  - encoder refuses payloads above 65531 octets (533 when it is a reply).
import Testing
@testable import H248Client

private let register = Array("MEGACO/3 [127.0.0.1]:2944\nTransaction = 1 {\n  Context = - {\n    ServiceChange = ROOT { Services { Method = Restart, Reason = \"901 Cold Boot\" } } } }\n".utf8)
private let reply = Array("!/3 [127.0.0.1]:2945 P=1{C=-{SC=ROOT{SV{}}}}".utf8)

@Suite("TPKT framing (RFC 1006 §6, H.248.1 Annex D.2)")
struct TPKTFramerTests {
    @Test("RFC 1006 §6: header is version 3, reserved 0, big-endian length including the 4-octet header")
    func encodeHeader() throws {
        let frame = try TPKT.encode(reply)
        #expect(frame.count == reply.count + 4)
        #expect(frame[0] == 3)
        #expect(frame[1] == 0)
        #expect(Int(frame[2]) << 8 | Int(frame[3]) == reply.count + 4)
        #expect(Array(frame[4...]) == reply)
    }

    @Test("RFC 1006 §6: a 300-octet payload encodes its length high byte first")
    func encodeBigEndian() throws {
        let payload = [UInt8](repeating: 0x41, count: 300)
        let frame = try TPKT.encode(payload)
        #expect(frame[2] == 0x01)
        #expect(frame[3] == 0x30)  // 304 = 0x0130
    }

    @Test("RFC 1006 §6: 16-bit length: 65531-octet payload fits, 65532 is refused with 533")
    func encodeMaximum() throws {
        let fits = try TPKT.encode([UInt8](repeating: 0x20, count: TPKT.maximumPayloadLength))
        #expect(fits[2] == 0xFF && fits[3] == 0xFF)
        #expect(throws: H248ClientError.self) { try TPKT.encode([UInt8](repeating: 0x20, count: TPKT.maximumPayloadLength + 1)) }
        do {
            _ = try TPKT.encode([UInt8](repeating: 0x20, count: 70_000))
            Issue.record("expected messageTooLarge")
        } catch {
            #expect(error.code == .messageTooLarge)
            #expect(error.h248ErrorCode == 533)
        }
    }

    @Test("TPKT: an empty H.248 message is not framed")
    func encodeEmpty() {
        #expect(throws: H248ClientError(.emptyMessage, "TPKT: refusing to frame an empty H.248 message")) {
            try TPKT.encode([UInt8]())
        }
    }

    @Test("RFC 1006 §6: drip-fed one octet at a time yields each message exactly once, in order")
    func dripFeed() throws {
        let stream = try TPKT.encode(register) + TPKT.encode(reply)
        var decoder = TPKTDecoder()
        var out: [[UInt8]] = []
        for byte in stream {
            out += try decoder.feed([byte])
        }
        #expect(out == [register, reply])
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test("RFC 1006 §6: several packets coalesced in one read")
    func coalesced() throws {
        let stream = try TPKT.encode(register) + TPKT.encode(reply) + TPKT.encode(register)
        var decoder = TPKTDecoder()
        #expect(try decoder.feed(stream) == [register, reply, register])
    }

    @Test("RFC 1006 §6: every split point of a two-packet stream decodes the same", arguments: [1, 2, 3, 4, 5, 17, 100])
    func splitEverywhere(chunk: Int) throws {
        let stream = try TPKT.encode(register) + TPKT.encode(reply)
        var decoder = TPKTDecoder()
        var out: [[UInt8]] = []
        var i = 0
        while i < stream.count {
            out += try decoder.feed(stream[i..<min(i + chunk, stream.count)])
            i += chunk
        }
        #expect(out == [register, reply])
    }

    @Test("RFC 1006 §6: a packet split after the header waits for the rest (nil = need more)")
    func partialKeepsBuffered() throws {
        let frame = try TPKT.encode(reply)
        var decoder = TPKTDecoder()
        #expect(try decoder.feed(frame.prefix(10)).isEmpty)
        #expect(decoder.bufferedByteCount == 10)
        #expect(try decoder.feed(frame.dropFirst(10)) == [reply])
    }

    @Test("RFC 1006 §6: version other than 3 is a typed error and the stream stays failed")
    func badVersion() throws {
        var decoder = TPKTDecoder()
        var frame = try TPKT.encode(reply)
        frame[0] = 2
        #expect(throws: H248ClientError.self) { try decoder.feed(frame) }
        #expect(decoder.hasFailed)
        do {
            _ = try decoder.feed(try TPKT.encode(reply))
            Issue.record("a failed decoder must keep failing")
        } catch {
            #expect(error.code == .tpktBadVersion)
        }
    }

    @Test("RFC 1006 §6: reserved octet is ignored on receipt")
    func reservedIgnored() throws {
        var frame = try TPKT.encode(reply)
        frame[1] = 0x55
        var decoder = TPKTDecoder()
        #expect(try decoder.feed(frame) == [reply])
    }

    @Test("RFC 1006 §6: length below header + 1 is a bad length", arguments: [0, 1, 3, 4])
    func badLength(length: Int) {
        var decoder = TPKTDecoder()
        do {
            _ = try decoder.feed([3, 0, UInt8(length >> 8), UInt8(length & 0xFF), 0x41])
            Issue.record("expected tpktBadLength")
        } catch {
            #expect(error.code == .tpktBadLength)
        }
    }

    @Test("TPKT bound: a length above the configured maximum is refused before buffering it")
    func frameTooLarge() throws {
        var decoder = TPKTDecoder(maximumPacketLength: 1024)
        do {
            _ = try decoder.feed([3, 0, 0x04, 0x01])  // 1025
            Issue.record("expected tpktFrameTooLarge")
        } catch {
            #expect(error.code == .tpktFrameTooLarge)
        }
        #expect(decoder.bufferedByteCount == 0)
        var ok = TPKTDecoder(maximumPacketLength: 1024)
        let payload = [UInt8](repeating: 0x42, count: 1020)
        #expect(try ok.feed(try TPKT.encode(payload)) == [payload])
    }

    @Test("TPKT bound: a huge read never buffers more than one partial packet")
    func bufferBounded() throws {
        let frame = try TPKT.encode(reply)
        var stream: [UInt8] = []
        for _ in 0..<500 { stream += frame }
        stream += frame.prefix(7)
        var decoder = TPKTDecoder()
        let out = try decoder.feed(stream)
        #expect(out.count == 500)
        #expect(decoder.bufferedByteCount == 7)
    }

    @Test("RFC 1006 §6: splitting a three-packet stream at every single offset decodes the same")
    func everyTwoWaySplit() throws {
        let stream = try TPKT.encode(register) + TPKT.encode(reply) + TPKT.encode(reply)
        for cut in 0...stream.count {
            var decoder = TPKTDecoder()
            let out = try decoder.feed(stream[..<cut]) + decoder.feed(stream[cut...])
            #expect(out == [register, reply, reply], "cut at \(cut)")
        }
    }

    @Test("Network input never traps: arbitrary bytes either decode or throw a typed TPKT error")
    func garbageNeverTraps() {
        var state: UInt64 = 0x5EED
        for _ in 0..<300 {
            var bytes: [UInt8] = []
            let n = Int(state % 64) + 1
            for _ in 0..<n {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes.append(UInt8(truncatingIfNeeded: state >> 56))
            }
            // Make a third of the inputs start like a real header so the length paths run too.
            if state % 3 == 0 { bytes[0] = 3 }
            var decoder = TPKTDecoder(maximumPacketLength: 512)
            do {
                let frames = try decoder.feed(bytes)
                #expect(frames.allSatisfy { !$0.isEmpty && $0.count <= 508 })
                #expect(decoder.bufferedByteCount <= 512)
            } catch {
                #expect([.tpktBadVersion, .tpktBadLength, .tpktFrameTooLarge].contains(error.code))
            }
        }
    }
}
