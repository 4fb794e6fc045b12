import Testing
@testable import SDPCore

/// One store per SDP (Docs/sdp.md §1): the session lines and every media section (RFC 8866 §5, §5.14) live in
/// one byte buffer and one record array; `table` and `media[k]` are windows over it. Editing one section must
/// leave every other section as it was, whatever the lines added or removed.
@Suite("SDPCore one store per SDP: sections are independent windows (RFC 8866 §5, §5.14)")
struct SDPStoreTests {
    static func sections(_ sdp: SessionDescription) -> [[SDPLine]] {
        [sdp.lines] + sdp.media.map(\.lines)
    }

    @Test("RFC 8866 §5.14: a line inserted into media k and removed again changes no other section, and the SDP serialises byte for byte",
          arguments: Repo.files("Fixtures/sdp/parse", ext: "sdp"))
    func insertAndRemoveInPlace(file: String) throws {
        let text = Repo.text("Fixtures/sdp/parse/" + file)
        let original = try SessionDescription(parsing: text)
        #expect(!original.media.isEmpty)
        for k in 0..<original.mediaCount {
            var sdp = original
            let before = Self.sections(sdp)
            sdp.media[k].table.insert(type: UInt8(ascii: "i"), value: "inserted", ending: .crlf, at: 1)
            var after = Self.sections(sdp)
            #expect(after[k + 1].count == before[k + 1].count + 1)
            #expect(after[k + 1][1].value == "inserted")
            after[k + 1].remove(at: 1)
            #expect(after == before)
            #expect(try SessionDescription(parsing: sdp.serialized()) == sdp)
            sdp.media[k].table.remove(at: 1)
            #expect(sdp.serializedBytes() == Array(text.utf8))
            #expect(sdp == original)
        }
    }

    @Test("RFC 8866 §5: lines added to the session level keep every media section in place",
          arguments: Repo.files("Fixtures/sdp/parse", ext: "sdp"))
    func sessionInsert(file: String) throws {
        var sdp = try SessionDescription(parsing: Repo.text("Fixtures/sdp/parse/" + file))
        let media = sdp.media.map(\.lines)
        sdp.appendAttribute("x-session", "1")
        sdp.setBandwidth(.applicationSpecific, 77)
        #expect(sdp.media.map(\.lines) == media)
        #expect(sdp.attributeValue("x-session") == "1")
        #expect(sdp.bandwidth(.applicationSpecific) == 77)
        #expect(try SessionDescription(parsing: sdp.serialized()) == sdp)
    }

    @Test("RFC 3264 §5.1: media descriptions appended, inserted and removed keep the session lines and the others' order")
    func listEdits() throws {
        let text = Repo.text("Fixtures/sdp/parse/rich_lf_noterm.sdp")
        var sdp = try SessionDescription(parsing: text)
        let session = sdp.lines
        let media = sdp.media.map(\.lines)
        #expect(media.count == 3)
        var extra = sdp.media[1]
        extra.setPort(.number(7000))
        sdp.media.insert(extra, at: 0)
        sdp.media.append(sdp.media[3])
        #expect(sdp.lines == session)
        #expect(sdp.mediaCount == 5)
        #expect(sdp.media[0].port == .number(7000))
        #expect(Array(sdp.media.map(\.lines)[1...3]) == media)
        #expect(sdp.media[4].lines == media[2])
        sdp.media.remove(at: 4)
        sdp.media.remove(at: 0)
        #expect(sdp.media.map(\.lines) == media)
        #expect(sdp.serialized() == text)
    }

    @Test("RFC 8866 §5.14: assigning one section to another copies its lines; withMedia reads what media[k] reads")
    func assignAndLend() throws {
        var sdp = try SessionDescription(parsing: Repo.text("Fixtures/sdp/parse/rich_lf_noterm.sdp"))
        let last = sdp.media[2].lines
        for k in 0..<sdp.mediaCount {
            let viaView = sdp.media[k].lines
            #expect(sdp.withMedia(k) { $0.lines } == viaView)
        }
        sdp.media[1] = sdp.media[0]
        #expect(sdp.media[1].lines == sdp.media[0].lines)
        #expect(sdp.media[2].lines == last)
        #expect(try SessionDescription(parsing: sdp.serialized()) == sdp)
    }

    @Test("A table from elsewhere assigned to `table` replaces the store: the media sections are dropped, nothing traps")
    func foreignTable() throws {
        var sdp = try SessionDescription(parsing: Repo.text("Fixtures/sdp/parse/msrp_offer_crlf.sdp"))
        sdp.table = SDPLineTable(lines: [SDPLine("v", "0"), SDPLine("s", "-")])
        #expect(sdp.media.isEmpty)
        #expect(sdp.mediaCount == 0)
        #expect(sdp.serialized() == "v=0\r\ns=-\r\n")
        sdp.media.append(MediaDescription(MediaLine(media: "audio", port: .number(4000), proto: "RTP/AVP", formats: ["0"])))
        #expect(sdp.serialized() == "v=0\r\ns=-\r\nm=audio 4000 RTP/AVP 0\r\n")
    }

    @Test("SessionDescription() is the empty description: no lines, no media, empty text; lines and media can be added (RFC 8866 §5)")
    func emptyDescription() throws {
        var sdp = SessionDescription()
        #expect(sdp == SessionDescription(table: SDPLineTable(), media: []))
        #expect(sdp.mediaCount == 0 && sdp.table.count == 0)
        #expect(sdp.serialized() == "" && sdp.serializedBytes().isEmpty)
        sdp.lines = try SessionDescription(parsing: "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n").lines
        sdp.media.append(MediaDescription(MediaLine(media: "audio", port: .number(4000), proto: "RTP/AVP", formats: ["0"])))
        #expect(sdp.serialized() == "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n")
        #expect(sdp.mediaCount == 1)
    }
}
