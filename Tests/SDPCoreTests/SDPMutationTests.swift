import Testing
@testable import SDPCore

@Suite("SDPCore mutation keeps RFC 8866 §5 order and the input's terminators")
struct SDPMutationTests {
    static let base = "v=0\no=a 1 1 IN IP4 10.0.0.1\ns=-\nt=0 0\nm=message 5000 TCP/TLS/MSRP *\na=path:msrps://10.0.0.1:5000/x;tcp\na=setup:actpass\n"

    @Test("RFC 8866 §5.14: proto and port replaced in place, port count kept")
    func protoAndPort() throws {
        var sdp = try SessionDescription(parsing: "v=0\r\no=a 1 1 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\nm=audio 4000/2 RTP/AVP 0 8\r\n")
        sdp.media[0].setPort(.number(6000))
        sdp.media[0].setProto("RTP/SAVP")
        #expect(sdp.media[0].lines[0].value == "audio 6000/2 RTP/SAVP 0 8")
        #expect(sdp.media[0].mediaLine.portCount == 2)
    }

    @Test("RFC 8866 §5: inserted c= and b= go before a=, with LF endings like the input")
    func insertionOrder() throws {
        var sdp = try SessionDescription(parsing: Self.base)
        sdp.media[0].connection = ConnectionData(address: "192.0.2.1")
        sdp.media[0].setBandwidth(.applicationSpecific, 66)
        sdp.connection = ConnectionData(address: "2001:db8::5")
        #expect(sdp.media[0].lines.map(\.typeCharacter) == ["m", "c", "b", "a", "a"])
        #expect(sdp.lines.map(\.typeCharacter) == ["v", "o", "s", "c", "t"])
        let out = sdp.serialized()
        #expect(!out.contains("\r"))
        #expect(out.contains("c=IN IP6 2001:db8::5\n"))
        #expect(out.contains("m=message 5000 TCP/TLS/MSRP *\nc=IN IP4 192.0.2.1\nb=AS:66\n"))
        #expect(try SessionDescription(parsing: out) == sdp)
    }

    @Test("RFC 8866 §5: attributes appended before trailing blank lines and after a final line without terminator")
    func appendAtEnd() throws {
        var sdp = try SessionDescription(parsing: "v=0\r\no=a 1 1 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\nm=message 1 TCP/MSRP *\r\n\r\n")
        sdp.media[0].appendAttribute("3ge2ae", "applied")
        #expect(sdp.serialized().hasSuffix("a=3ge2ae:applied\r\n\r\n"))
        var noterm = try SessionDescription(parsing: "v=0\no=a 1 1 IN IP4 1.1.1.1\ns=-\nt=0 0\nm=message 1 TCP/MSRP *")
        noterm.media[0].appendAttribute("msrp-cema")
        #expect(noterm.serialized() == "v=0\no=a 1 1 IN IP4 1.1.1.1\ns=-\nt=0 0\nm=message 1 TCP/MSRP *\na=msrp-cema")
        #expect(noterm.serializedBytes() == Array(noterm.serialized().utf8))
    }

    @Test("RFC 8122 §5 / RFC 4145 §4: fingerprint removal, setup replacement, direction change")
    func attributeEdits() throws {
        var sdp = try SessionDescription(parsing: Self.base + "a=fingerprint:SHA-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33\na=fingerprint:sha-256 " + SDPFingerprintTests.sha256 + "\na=sendonly\n")
        #expect(try sdp.media[0].fingerprints().count == 2)
        #expect(sdp.media[0].removeFingerprints() == 2)
        sdp.media[0].setSetupRole(.active)
        sdp.media[0].setDirection(.recvonly)
        #expect(try sdp.media[0].setupRole() == .active)
        #expect(sdp.media[0].direction == .recvonly)
        #expect(sdp.media[0].lines.filter { $0.isAttribute("setup") }.count == 1)
    }

    @Test("RFC 4145 §4: an unknown a=setup role is a typed 488")
    func badSetup() throws {
        let sdp = try SessionDescription(parsing: Self.base.replacingOccurrences(of: "actpass", with: "sometimes"))
        #expect { try sdp.media[0].setupRole() } throws: { ($0 as? SDPError)?.code == .malformedSetup && ($0 as? SDPError)?.sipStatus == 488 }
    }
}
