import Testing
@testable import H248Codec

/// Parser behaviour: layout, case, comments, malformed input (RFC 3525 B.2/B.3, H.248.8 codes).
@Suite("H.248 text parser")
struct ParserTests {
    @Test("tokens are case-insensitive and long/short forms mix (RFC 3525 B.3)")
    func mixedTokens() throws {
        let a = try H248Message(parsing: "megaco/2 <mg.example.net>:2944 transaction=7{c=${add=\u{24}{m{st=1{o{mode=sendreceive}}}}}}")
        let b = try H248Message(parsing: "!/2 <mg.example.net>:2944 T=7{Context=${A=${Media{Stream=1{LocalControl{MO=SR}}}}}}")
        #expect(a == b)
        #expect(a.mid == .domain("mg.example.net", port: 2944))
    }

    @Test("comments, blank lines before } in Local, CRLF and tabs are accepted (RFC 3525 B.3 COMMENT, LWSP)")
    func layout() throws {
        let text = "MEGACO/1 [10.0.0.1]:2944 ; sender\r\n"
            + "Transaction = 3 { ; first\r\n\tContext = 1 {\r\n\t\tModify = t1 {\r\n\t\t\tMedia {\r\n"
            + "\t\t\t\tLocal {\r\nv=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n\r\n\t\t\t\t}\r\n"
            + "\t\t\t}\r\n\t\t}\r\n\t}\r\n}\r\n"
        let m = try H248Message(parsing: text)
        guard case .request(let t)? = m.transactions.first,
              case .media(let media)? = t.actions.first?.commands.first?.descriptors.first else {
            Issue.record("shape"); return
        }
        #expect(media.streams.first?.id == nil)  // single-stream shorthand
        #expect(media.streams.first?.local?.lines == ["v=0", "c=IN IP4 10.0.0.1", "m=audio 4000 RTP/AVP 0"])
    }

    @Test("piggybacked transactions, Pending, ImmAckRequired and ranged TransactionResponseAck (H.248.1 §8.2)")
    func piggyback() throws {
        let text = """
        !/3 [192.0.2.200]:2944
        PN=5001{} P=5002{IA,C=77{A=ip/acc/1}} K{5001-5003,5007}
        P=5004{ER=430{"Unknown TerminationID"}}
        """
        let m = try H248Message(parsing: text)
        #expect(m.transactions.count == 4)
        #expect(m.transactions[0] == .pending(5001))
        guard case .reply(let r) = m.transactions[1] else { Issue.record("reply"); return }
        #expect(r.immAckRequired)
        #expect(m.transactions[2] == .responseAck([AckRange(5001, 5003), AckRange(5007)]))
        #expect(m.transactions[3] == .reply(TransactionReply(id: 5004, result: .error(ErrorDescriptor(code: 430, text: "Unknown TerminationID")))))
        for form in H248TextForm.allCases {
            #expect(try H248Message(parsing: m.encoded(form)) == m)
        }
    }

    @Test("ContextID and TerminationID forms: $, -, *, numbers, ROOT, partial wildcards (H.248.1 §6.1.1, §6.2)")
    func ids() throws {
        let m = try H248Message(parsing: "!/3 [::1]:2944 T=9{C=*{S=ip/acc/*},C=-{AV=root{AT{}}},C=4294967295{MV=$}}")
        #expect(m.mid == .address("::1", port: 2944))
        guard case .request(let t)? = m.transactions.first else { Issue.record("shape"); return }
        #expect(t.actions.map(\.contextID) == [.all, .null, .id(4_294_967_295)])
        #expect(t.actions[0].commands[0].terminationID.isWildcarded)
        #expect(t.actions[1].commands[0].terminationID.isRoot)
        #expect(t.actions[1].commands[0].descriptors == [.audit(AuditDescriptor())])
        #expect(t.actions[2].commands[0].terminationID.isChoose)
    }

    @Test("context attributes: Priority, Emergency, Topology (H.248.1 §7.1.18, §6.1.x)")
    func contextAttributes() throws {
        let m = try H248Message(parsing: "!/2 mgc1 T=2{C=5{PR=3,EG,TP{t1,t2,OW,t2,t1,IS},MF=t1}}")
        #expect(m.mid == .device("mgc1"))
        guard case .request(let t)? = m.transactions.first else { Issue.record("shape"); return }
        let a = try #require(t.actions.first?.attributes)
        #expect(a.priority == 3)
        #expect(a.emergency == true)
        #expect(a.topology == [TopologyTriple(TerminationID("t1"), TerminationID("t2"), .oneway),
                               TopologyTriple(TerminationID("t2"), TerminationID("t1"), .isolate)])
    }

    @Test("signals with parameters and SignalList, statistics, packages, audit items (H.248.1 §7.1.11, §7.1.15)")
    func descriptors() throws {
        let text = """
        MEGACO/2 [10.0.0.2]:2944
        Transaction = 11 { Context = 1 { Modify = t1 { Signals { al/ri { SignalType = TimeOut, Duration = 300,
          NotifyCompletion = { TO, IBE }, KeepActive, Stream = 1, cad # 5 },
          SignalList = 4 { tlsbsc/establish, an/apf { an = [1:4] } } } } } }
        MEGACO/2 [10.0.0.2]:2944
        """
        // second header is garbage after the body: must be rejected
        #expect(throws: H248ParseError.self) { try H248Message(parsing: text) }
        let ok = String(text.split(separator: "\n").dropLast().joined(separator: "\n"))
        let m = try H248Message(parsing: ok)
        guard case .request(let t)? = m.transactions.first,
              case .signals(let sg)? = t.actions.first?.commands.first?.descriptors.first else { Issue.record("shape"); return }
        guard case .signal(let s) = sg.items[0], case .list(let id, let sigs) = sg.items[1] else { Issue.record("items"); return }
        #expect(s.type == .timeOut && s.duration == 300 && s.keepActive && s.streamID == 1)
        #expect(s.notifyCompletion == [.timeOut, .interruptedByEvent])
        #expect(s.parameters == [PropertyParm("cad", .notEqual, .single(.token("5")))])
        #expect(id == 4 && sigs.count == 2)
        #expect(sigs[1].parameters == [PropertyParm("an", .equal, .range(.token("1"), .token("4")))])
        for form in H248TextForm.allCases { #expect(try H248Message(parsing: m.encoded(form)) == m) }

        let reply = try H248Message(parsing: """
        !/3 [192.0.2.200]:2944 P=12{C=-{AV=ROOT{M{TS{SI=IV,BF=OFF}},PG{g-1,root-2,hangterm-1},SA{rtp/ps=1200,rtp/pr=12},E,SG}},
        C=77{S=ip/acc/4712{SA{tlstv/octs=3,rtp/ps=5}}}}
        """)
        guard case .reply(let r) = reply.transactions.first, case .actions(let acts) = r.result else { Issue.record("reply"); return }
        let ds = acts[0].replies[0].descriptors
        #expect(ds.count == 5)
        #expect(ds[1] == .packages([PackageVersion("g", 1), PackageVersion("root", 2), PackageVersion("hangterm", 1)]))
        #expect(ds[3] == .auditItem(.events))
        guard case .media(let md) = ds[0] else { Issue.record("media"); return }
        #expect(md.terminationState == TerminationStateDescriptor(serviceState: .inService, bufferLockStep: false))
        for form in H248TextForm.allCases { #expect(try H248Message(parsing: reply.encoded(form)) == reply) }
    }

    @Test("ServiceChange parameters: Method, Reason, Delay, Address, MgcIdToTry, timestamp, extension (H.248.1 §7.2.8)")
    func serviceChange() throws {
        let m = try H248Message(parsing: """
        !/3 [192.0.2.200]:2944 T=3{C=-{SC=ROOT{SV{MT=GR,RE=905,DL=30,AD=[192.0.2.201]:2946,MG=<mgc2.example>:2944,
        20250101T12000000,X-Vendor="a b",V=2}}}}
        """)
        guard case .request(let t)? = m.transactions.first,
              case .services(let sc)? = t.actions.first?.commands.first?.descriptors.first else { Issue.record("shape"); return }
        #expect(sc.method == .graceful)
        #expect(sc.reasonCode == 905)
        #expect(sc.delay == 30)
        #expect(sc.address == .mid(.address("192.0.2.201", port: 2946)))
        #expect(sc.mgcIdToTry == .domain("mgc2.example", port: 2944))
        #expect(sc.timestamp?.description == "20250101T12000000")
        #expect(sc.extensions == [PropertyParm("X-Vendor", quoted: "a b")])
        for form in H248TextForm.allCases { #expect(try H248Message(parsing: m.encoded(form)) == m) }
    }

    @Test("error-body message (RFC 3525 B.2 messageBody = errorDescriptor)")
    func errorBody() throws {
        let m = try H248Message(parsing: "MEGACO/1 [10.0.0.1]:2944 Error = 406 { \"Version Not Supported\" }")
        #expect(m.body == .error(ErrorDescriptor(code: 406, text: "Version Not Supported")))
    }

    /// Malformed inputs and the H.248.8 code the reply must carry (specs.md §11.5).
    static let malformed: [(String, UInt16, String)] = [
        ("", 400, "empty"),
        ("MEGACO/3", 400, "header only"),
        ("SIP/2.0 200 OK", 400, "not H.248"),
        ("MEGACO/x [1.2.3.4]:2944 T=1{C=1{S=a}}", 400, "bad version"),
        ("MEGACO/3 [1.2.3.4 T=1{C=1{S=a}}", 410, "unterminated mId"),
        ("MEGACO/3 [1.2.x.4]:2944 T=1{C=1{S=a}}", 410, "bad character in mId"),
        ("MEGACO/3 [1.2.3.4]:99999 T=1{C=1{S=a}}", 410, "port out of range"),
        ("MEGACO/3 [1.2.3.4]:2944 T=1{C=1{S=a}", 403, "transaction request not closed"),
        ("MEGACO/3 [1.2.3.4]:2944 T=1{}", 403, "transaction without actions"),
        ("MEGACO/3 [1.2.3.4]:2944 T=x{C=1{S=a}}", 403, "bad transaction id"),
        ("MEGACO/3 [1.2.3.4]:2944 T=1{C=1{S=a} C=2{S=b}}", 403, "missing comma between actions"),
        ("MEGACO/3 [1.2.3.4]:2944 T=1{C=abc{S=a}}", 410, "bad context id"),
        ("MEGACO/3 [1.2.3.4]:2944 T=1{C=1{}}", 422, "action without commands"),
        ("MEGACO/3 [1.2.3.4]:2944 T=1{C=1{Frobnicate=a}}", 443, "unknown command"),
        ("MEGACO/3 [1.2.3.4]:2944 T=1{C=1{A=a{Bogus{}}}}", 444, "unknown descriptor"),
        ("MEGACO/3 [1.2.3.4]:2944 T=1{C=1{S=a{M{}}}}", 447, "Media not legal in Subtract"),
        ("MEGACO/3 [1.2.3.4]:2944 T=1{C=1{A=a{E=1{x/y},E=2{x/z}}}}", 448, "Events twice"),
        ("MEGACO/3 [1.2.3.4]:2944 T=1{C=1{A=a{M{O{MO=Sideways}}}}}", 449, "unknown mode"),
        ("MEGACO/3 [1.2.3.4]:2944 T=1{C=1{A=a{M{L{v=0", 442, "unterminated Local"),
        ("MEGACO/3 [1.2.3.4]:2944 T=1{C=1{AV=ROOT}}", 442, "AuditValue without Audit"),
        ("MEGACO/3 [1.2.3.4]:2944 T=1{C=1{A=a{DM=d{(x)}}}}", 501, "DigitMap not implemented"),
        ("MEGACO/3 [1.2.3.4]:2944 T=1{C=1{N=a{OE=1{2025:x/y}}}}", 442, "bad timestamp"),
        ("MEGACO/3 [1.2.3.4]:2944 T=1{C=1{A=a{E=1{x/y{p=\"unterminated}}}}}", 442, "unterminated quoted string"),
        ("MEGACO/3 [1.2.3.4]:2944 P=1{C=1{A=a}} T=", 400, "truncated second transaction"),
        ("MEGACO/3 [1.2.3.4]:2944 K{5-3}", 400, "descending ack range"),
    ]

    @Test("malformed input gives the H.248.8 code (400/403/410/422/442/443/444/447/448/449/501)",
          arguments: 0..<25)
    func malformedCodes(index: Int) {
        let (text, code, why) = Self.malformed[index]
        do {
            let m = try H248Message(parsing: text)
            Issue.record("\(why): accepted as \(m)")
        } catch {
            #expect(error.code.rawValue == code, "\(why): \(error)")
            #expect(error.line >= 1 && error.column >= 1)
        }
    }

    @Test("errors name line and column")
    func position() {
        do {
            _ = try H248Message(parsing: "MEGACO/3 [1.2.3.4]:2944\nT=1{\n  C=1{\n    Frobnicate=a}}")
            Issue.record("accepted")
        } catch {
            #expect(error.line == 4)
            #expect(error.column == 5)
            #expect(error.code == .unknownCommand)
        }
    }

    @Test("limits: nesting depth, message size, list length are bounded (H248Limits)")
    func limits() {
        let deep = "MEGACO/3 [1.2.3.4]:2944 T=1{C=1{A=a{E=1{x/y{" + String(repeating: "p{", count: 40)
            + String(repeating: "}", count: 46)
        #expect(throws: H248ParseError.self) { try H248Message(parsing: deep) }
        var small = H248Limits()
        small.maxMessageBytes = 64
        #expect(throws: H248ParseError.self) {
            try H248TextParser(limits: small).parse(SpecExamples.stepA)
        }
        let many = "MEGACO/3 [1.2.3.4]:2944 T=1{C=1{" + Array(repeating: "S=a", count: 300).joined(separator: ",") + "}}"
        #expect(throws: H248ParseError.self) { try H248Message(parsing: many) }
        let longTok = "MEGACO/3 [1.2.3.4]:2944 T=1{C=1{S=" + String(repeating: "a", count: 300) + "}}"
        #expect(throws: H248ParseError.self) { try H248Message(parsing: longTok) }
    }

    @Test("truncations and byte flips of valid messages never trap (network input rule)")
    func fuzzish() {
        for (_, text) in SpecExamples.all {
            let bytes = Array(text.utf8)
            for cut in stride(from: 0, to: bytes.count, by: 7) {
                _ = try? H248TextParser().parse(bytes: Array(bytes[0..<cut]))
            }
            for pos in stride(from: 0, to: bytes.count, by: 5) {
                for v: UInt8 in [0, 0x7b, 0x7d, 0x2c, 0x3d, 0x22, 0xff, 0x3a, 0x5b] {
                    var b = bytes
                    b[pos] = v
                    _ = try? H248TextParser().parse(bytes: b)
                }
            }
        }
        #expect(Bool(true), "reached the end without a trap")
    }
}
