import SDPCore
import Testing
@testable import H248Codec

/// Local/Remote SDP (H.248.1 §7.1.8) typed through SDPCore, with `$` wildcards.
@Suite("Local/Remote SDP")
struct SDPBlockTests {
    @Test("Step B Local/Remote parse through SDPCore in H.248 mode; `$` stays a wildcard (H.248.1 §7.1.8)")
    func typed() throws {
        let m = try H248Message(parsing: SpecExamples.stepB)
        guard case .request(let t)? = m.transactions.first,
              case .media(let media)? = t.actions.first?.commands.first?.descriptors.first,
              let stream = media.streams.first else { Issue.record("shape"); return }
        let local = try #require(try stream.local?.sessionDescription())
        let remote = try #require(try stream.remote?.sessionDescription())
        #expect(local.media.count == 1)
        #expect(remote.media.count == 1)
        // Re-emitting the typed SDP gives the same lines.
        #expect(SDPBlock(local).lines == stream.local?.lines)
        #expect(SDPBlock(remote).lines == stream.remote?.lines)
    }

    @Test("alternative session descriptions split on v= (H.248.1 §7.1.8)")
    func alternatives() throws {
        let b = SDPBlock(text: "\n  v=0\r\nc=IN IP4 $\r\nm=audio $ RTP/AVP 0\r\n\r\nv=0\nc=IN IP4 $\nm=audio $ RTP/AVP 8\n\n")
        #expect(b.alternatives.count == 2)
        #expect(try b.sessionDescriptions().count == 2)
        #expect(b.text == "v=0\nc=IN IP4 $\nm=audio $ RTP/AVP 0\nv=0\nc=IN IP4 $\nm=audio $ RTP/AVP 8\n")
    }

    @Test("a `}` inside SDP is escaped on encode and restored on decode (RFC 3525 B.2 octetString)")
    func braceEscape() throws {
        let msg = H248Message(version: 3, mid: .address("10.0.0.1", port: 2944), body: .transactions([
            .request(TransactionRequest(id: 1, actions: [ActionRequest(contextID: .id(1), commands: [
                CommandRequest(.modify, TerminationID("t1"), [.media(MediaDescriptor(streams: [
                    StreamDescriptor(id: 1, local: SDPBlock(lines: ["v=0", "a=x-odd:{a}"]))]))]),
            ])])),
        ]))
        for form in H248TextForm.allCases {
            let enc = msg.encoded(form)
            #expect(enc.contains("a=x-odd:{a\\}"))
            #expect(try H248Message(parsing: enc) == msg)
        }
    }
}
