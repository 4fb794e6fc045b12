import Testing
@testable import H248Codec

/// specs.md §10.5 Iq examples (TS 23.334 procedures in H.248.1 Annex B text form).
@Suite("specs §10.5 Iq examples")
struct SpecExampleTests {
    @Test("each §10.5 example decodes (H.248.1 Annex B)", arguments: SpecExamples.all.map(\.0))
    func decodes(name: String) throws {
        let text = try #require(SpecExamples.all.first { $0.0 == name }?.1)
        let m = try H248Message(parsing: text)
        #expect(m.version == 3)
        #expect(!m.transactions.isEmpty)
    }

    @Test("Step A: Reserve with Local $, Priority, LocalControl, hangterm/thb (TS 23.334 Reserve AGW Connection Point)")
    func stepAContent() throws {
        let m = try H248Message(parsing: SpecExamples.stepA)
        #expect(m.mid == .address("192.0.2.100", port: 2944))
        guard case .request(let t)? = m.transactions.first else { Issue.record("not a request"); return }
        #expect(t.id == 5001)
        let a = try #require(t.actions.first)
        #expect(a.contextID == .choose)
        #expect(a.attributes?.priority == 0)
        let add = try #require(a.commands.first)
        #expect(add.verb == .add)
        #expect(add.terminationID.isChoose)
        guard case .media(let media)? = add.descriptors.first else { Issue.record("no media"); return }
        let s = try #require(media.streams.first)
        #expect(s.id == 1)
        #expect(s.localControl?.mode == .inactive)
        #expect(s.localControl?.properties == [PropertyParm("ipdc/realm", quoted: "core")])
        #expect(s.local?.lines == ["v=0", "c=IN IP4 $", "m=message $ TCP -", "a=setup:actpass"])
        guard case .events(let ev)? = add.descriptors.last else { Issue.record("no events"); return }
        #expect(ev.requestID == 1)
        #expect(ev.events == [RequestedEvent("hangterm/thb", parameters: [PropertyParm("timerx", "60")])])
    }

    @Test("Step A pretty and the specs' compact form decode to equal models (TS 29.334 §5.9 NOTE 1)")
    func prettyCompactEqual() throws {
        #expect(try H248Message(parsing: SpecExamples.stepA) == H248Message(parsing: SpecExamples.stepACompact))
    }

    /// Hand-written compact forms of the other §10.5 examples (short tokens, H.248.1 Annex B.3).
    static let compactPairs: [(String, String)] = [
        (SpecExamples.teardown, "!/3 [192.0.2.100]:2944 T=5010{C=77{S=ip/acc/4712,S=ip/core/4711}}"),
        (SpecExamples.failureNotify,
         "!/3 [192.0.2.200]:2944\nT=9001{C=77{N=ip/acc/4712{OE=2{20250101T12000000:tlsbsc/estfail}}}}"),
        (SpecExamples.failureNotifyReply, "!/3 [192.0.2.100]:2944\nP=9001{C=77{N=ip/acc/4712}}"),
        (SpecExamples.registration,
         "!/3 [192.0.2.200]:2944\nT=1{C=-{SC=ROOT{SV{MT=RS,RE=\"901 Cold Boot\",V=3,PF=iqprofile/1}}}}"),
        (SpecExamples.registrationReply, "!/3 [192.0.2.100]:2944\nP=1{C=-{SC=ROOT{SV{V=3,PF=iqprofile/1}}}}"),
        (SpecExamples.inactivity, "!/3 [192.0.2.100]:2944\nT=5020{C=-{MF=ROOT{E=3{it/ito{mit=6000}}}}}"),
        (SpecExamples.stepC, """
        !/3 [192.0.2.100]:2944
        T=5003{C=77{MF=ip/core/4711{M{ST=1{O{MO=SR},R{
        v=0
        c=IN IP4 203.0.113.5
        m=message 7654 TCP -
        a=setup:active
        }}}},MF=ip/acc/4712{M{ST=1{O{MO=SR}}},SG{tlsbsc/establish}}}}
        """),
    ]

    @Test("hand-written compact forms of §10.5 examples equal the pretty ones", arguments: 0..<7)
    func handCompact(index: Int) throws {
        let (pretty, compact) = Self.compactPairs[index]
        #expect(try H248Message(parsing: pretty) == H248Message(parsing: compact))
    }

    @Test("registration: ServiceChange Restart 901 with Profile and Version (H.248.1 §7.2.8)")
    func registration() throws {
        let m = try H248Message(parsing: SpecExamples.registration)
        guard case .request(let t)? = m.transactions.first,
              let cmd = t.actions.first?.commands.first,
              case .services(let sc)? = cmd.descriptors.first else { Issue.record("shape"); return }
        #expect(t.actions.first?.contextID == .null)
        #expect(cmd.terminationID.isRoot)
        #expect(sc.method == .restart)
        #expect(sc.reasonCode == 901)
        #expect(sc.version == 3)
        #expect(sc.profile == ServiceChangeProfile(name: "iqprofile", version: 1))
    }

    @Test("failure Notify carries the observed event with its timestamp (H.248.1 §7.1.17)")
    func notifyTimestamp() throws {
        let m = try H248Message(parsing: SpecExamples.failureNotify)
        guard case .request(let t)? = m.transactions.first,
              case .observedEvents(let oe)? = t.actions.first?.commands.first?.descriptors.first else {
            Issue.record("shape"); return
        }
        #expect(oe.requestID == 2)
        #expect(oe.events.first?.timestamp?.description == "20250101T12000000")
        #expect(oe.events.first?.name == IqPackageTokens().tlsEstablishFailureEvent)
    }

    @Test("every §10.5 example round-trips through both encoder forms", arguments: SpecExamples.all.map(\.0))
    func roundTrip(name: String) throws {
        let text = try #require(SpecExamples.all.first { $0.0 == name }?.1)
        let m = try H248Message(parsing: text)
        for form in H248TextForm.allCases {
            let enc = m.encoded(form)
            let back = try H248Message(parsing: enc)
            #expect(back == m, "form \(form): \(enc)")
            // Encoding is stable: encode(decode(encode(m))) == encode(m).
            #expect(back.encoded(form) == enc)
        }
    }
}
