import ALGTestSupport
import Testing
@testable import SDPCore

@Suite("SDPCore parsing and serialising (RFC 8866)")
struct SDPParseTests {
    @Test("RFC 8866 §5: unchanged SDP serialises byte-identically", arguments: Repo.files("Fixtures/sdp/parse", ext: "sdp"))
    func roundTrip(file: String) throws {
        let text = Repo.text("Fixtures/sdp/parse/" + file)
        #expect(!text.isEmpty)
        let sdp = try SessionDescription(parsing: text)
        #expect(sdp.serialized() == text)
        #expect(Array(sdp.serialized().utf8) == Array(text.utf8))
        // The byte output (what goes into a message body) is the same bytes.
        #expect(sdp.serializedBytes() == Array(text.utf8))
    }

    @Test("RFC 8866 §5: malformed input gives the typed error named by the fixture", arguments: Repo.files("Fixtures/sdp/malformed", ext: "sdp"))
    func malformed(file: String) {
        let text = Repo.text("Fixtures/sdp/malformed/" + file)
        let expected = String(file.split(separator: "_", maxSplits: 1)[0])
        do {
            _ = try SessionDescription(parsing: text)
            Issue.record("\(file) parsed but should fail with \(expected)")
        } catch {
            #expect(error.code.rawValue == expected)
            #expect(error.sipStatus == 400 || error.sipStatus == 488)
        }
    }

    @Test("RFC 8866 §5: line order, unknown lines and terminators are kept")
    func keepsOrderAndUnknownLines() throws {
        let text = Repo.text("Fixtures/sdp/parse/rich_lf_noterm.sdp")
        let sdp = try SessionDescription(parsing: text)
        #expect(sdp.media.count == 3)
        #expect(sdp.lines.contains { $0.typeCharacter == "x" && $0.value == "unknown-line-kept" })
        #expect(sdp.lines.allSatisfy { $0.ending == .lf })
        #expect(sdp.media[2].lines.last?.ending == SDPLineEnding.none)
        #expect(sdp.media[1].lines.map(\.typeCharacter) == ["m", "a", "a", "a", "a", "a", "a", "a", "a"])
    }

    @Test("RFC 8866 §5.2/§5.7/§5.14/§5.8: typed o=, c=, m= and b=")
    func typedFields() throws {
        let sdp = try SessionDescription(parsing: Repo.text("Fixtures/sdp/parse/rich_lf_noterm.sdp"))
        let o = try #require(sdp.origin)
        #expect(o.username == "-" && o.sessionID == "1" && o.addressType == "IP6" && o.address == .literal("2001:db8::1"))
        #expect(sdp.connection?.address == .literal("2001:db8::1"))
        #expect(sdp.bandwidth(.conferenceTotal) == 512)
        let audio = sdp.media[0]
        let m = audio.mediaLine
        #expect(m.media == "audio" && m.port == .number(49170) && m.proto == "RTP/AVP" && m.formats == ["0", "8", "97"])
        #expect(audio.bandwidth(.applicationSpecific) == 64)
        #expect(audio.bandwidth(.transportIndependent) == 64000)
        #expect(audio.bandwidth(.rtcpSenders) == 800)
        #expect(audio.bandwidth(.rtcpReceivers) == 2400)
        #expect(sdp.media[2].isDisabled)
    }

    @Test("RFC 3605 §2.1, RFC 4568 §9.1, RFC 8866 §6.7: a=rtcp, a=crypto, direction")
    func rtpAttributes() throws {
        let sdp = try SessionDescription(parsing: Repo.text("Fixtures/sdp/parse/rich_lf_noterm.sdp"))
        let rtcp = try #require(try sdp.media[0].rtcp())
        #expect(rtcp.port == 49171 && rtcp.connection?.address == .literal("2001:db8::1"))
        let crypto = try sdp.media[0].cryptoAttributes()
        #expect(crypto.count == 1 && crypto[0].tag == 1 && crypto[0].suite == "AES_CM_128_HMAC_SHA1_80")
        #expect(sdp.media[0].direction == .sendonly)
        #expect(sdp.effectiveDirection(ofMedia: 1) == .sendrecv)
        #expect(sdp.effectiveDirection(ofMedia: 2) == .inactive)
    }

    @Test("RFC 8856 §5, RFC 4574 §4, RFC 4145 §4-5: BFCP and TCP attributes")
    func bfcpAttributes() throws {
        let sdp = try SessionDescription(parsing: Repo.text("Fixtures/sdp/parse/rich_lf_noterm.sdp"))
        let bfcp = sdp.media[1]
        #expect(try bfcp.floorControlRoles() == [.clientOnly, .serverOnly])
        #expect(bfcp.conferenceID == "4321" && bfcp.userID == "1234" && bfcp.label == "10")
        let ids = try bfcp.floorIDs()
        #expect(ids == [FloorID(id: "1", mediaStreamLabels: ["10"]), FloorID(id: "2", mediaStreamLabels: ["11", "12"])])
        #expect(try bfcp.setupRole() == .passive)
        #expect(try bfcp.connectionAttribute() == .existing)
    }

    @Test("RFC 4975 §8.1, RFC 6714 §4, TS 24.229 §7.5.2: MSRP path, CEMA, accept-types, 3ge2ae")
    func msrpAttributes() throws {
        let sdp = try SessionDescription(parsing: Repo.text("Fixtures/sdp/parse/msrp_offer_crlf.sdp"))
        let m = sdp.media[0]
        #expect(m.msrpPath == ["msrps://10.1.1.10:50000/u8kd2;tcp"])
        #expect(m.hasMSRPCEMA)
        #expect(m.acceptTypes == ["message/cpim", "application/im-iscomposing+xml"])
        #expect(m.e2aeIndicator == .requested)
        #expect(try m.setupRole() == .actpass)
        let fp = try m.fingerprints()
        #expect(fp.count == 1 && fp[0].hash == .sha256 && fp[0].bytes.count == 32 && fp[0].bytes[0] == 0x4A)
    }

    @Test("H.248.1 §7.1.8: Local/Remote SDP with $ and - and without v= parses in H.248 mode only")
    func h248Wildcards() throws {
        let text = "c=IN IP4 $\r\nm=message $ TCP/MSRP *\r\na=setup:actpass\r\n"
        #expect(throws: SDPError.self) { try SessionDescription(parsing: text) }
        let sdp = try SessionDescription(parsing: text, allowH248Wildcards: true)
        #expect(sdp.connection?.address == .wildcard(.choose))
        #expect(sdp.media[0].port == .wildcard(.choose))
        #expect(sdp.serialized() == text)
        let dash = try SessionDescription(parsing: "v=0\nc=IN IP4 -\nm=message - TCP -\n", allowH248Wildcards: true)
        #expect(dash.media[0].port == .wildcard(.unspecified))
        #expect(dash.media[0].proto == "TCP")
        #expect(dash.connection?.address == .wildcard(.unspecified))
    }

    @Test("SDPLimits: too many lines and too long lines are rejected with 400")
    func bounds() {
        var many = "v=0\r\no=a 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n"
        for _ in 0..<SDPLimits.maxLines { many += "a=x\r\n" }
        #expect { try SessionDescription(parsing: many) } throws: { ($0 as? SDPError)?.code == .tooManyLines && ($0 as? SDPError)?.sipStatus == 400 }
        let long = "v=0\r\no=a 1 1 IN IP4 1.2.3.4\r\ns=" + String(repeating: "x", count: SDPLimits.maxLineLength) + "\r\nt=0 0\r\n"
        #expect { try SessionDescription(parsing: long) } throws: { ($0 as? SDPError)?.code == .lineTooLong }
        let big = String(repeating: "a", count: SDPLimits.maxBytes + 1)
        #expect { try SessionDescription(parsing: big) } throws: { ($0 as? SDPError)?.code == .inputTooLarge }
        #expect { try SessionDescription(parsing: "") } throws: { ($0 as? SDPError)?.code == .emptyInput }
    }

    @Test("House rule: arbitrary mutations of valid SDP never trap (deterministic fuzz)")
    func fuzzNeverTraps() {
        let seeds = Repo.files("Fixtures/sdp/parse", ext: "sdp").map { Array(Repo.text("Fixtures/sdp/parse/" + $0).utf8) }
        var rng = SplitMix64(seed: 0x5D9C0DE)
        let alphabet: [UInt8] = Array(" \r\n=:/$-0123456789amcvbo".utf8) + [0xFF, 0x00]
        var parsed = 0
        for _ in 0..<3000 {
            var bytes = seeds[Int(rng.next() % UInt64(seeds.count))]
            for _ in 0..<(1 + Int(rng.next() % 6)) where !bytes.isEmpty {
                let pos = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[pos] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: bytes.remove(at: pos)
                default: bytes.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: pos)
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            if let sdp = try? SessionDescription(parsing: text) {
                parsed += 1
                #expect(sdp.serialized() == text)
                for m in sdp.media { _ = try? m.fingerprints(); _ = m.mediaLine; _ = try? m.rtcp() }
            }
            _ = try? SessionDescription(parsing: text, allowH248Wildcards: true)
        }
        #expect(parsed > 0)
    }
}


/// Every prefix and every suffix of every fixture (cut at any byte) is parsed without a trap: either it
/// parses and serialises back to its own bytes (RFC 8866 §5: lines are kept as they are), or it fails
/// with a typed error mapped to 400/488 whose line number lies inside the input.
@Suite("SDPCore parses every prefix and suffix of every fixture without a trap (RFC 8866 §5, SDPLimits)")
struct SDPPrefixSuffixTests {
    static var fixtures: [String] {
        Repo.files("Fixtures/sdp/parse", ext: "sdp").map { "Fixtures/sdp/parse/" + $0 }
            + Repo.files("Fixtures/sdp/malformed", ext: "sdp").map { "Fixtures/sdp/malformed/" + $0 }
    }

    @Test("RFC 8866 §5: every byte prefix and suffix parses to itself or to a typed error", arguments: fixtures)
    func prefixesAndSuffixes(path: String) {
        let bytes = Array(Repo.text(path).utf8)
        #expect(!bytes.isEmpty)
        var parsed = 0, failed = 0
        for k in 0...bytes.count {
            for piece in [Array(bytes[..<k]), Array(bytes[k...])] {
                let text = String(decoding: piece, as: UTF8.self)
                let lines = text.utf8.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
                for options in [SDPParseOptions.standard, .h248] {
                    do {
                        let sdp = try SessionDescription(parsing: text, options: options)
                        #expect(sdp.serializedBytes() == Array(text.utf8), "\(path) cut at \(k)")
                        parsed += 1
                    } catch {
                        #expect(error.sipStatus == 400 || error.sipStatus == 488)
                        #expect(error.line >= 0 && error.line <= lines, "\(path) cut at \(k): \(error)")
                        failed += 1
                    }
                }
            }
        }
        #expect(parsed + failed == 4 * (bytes.count + 1))
    }
}
