import Testing
@testable import H248Codec

/// specs.md §10.2/§10.3 `[U]` tokens are configuration (IqPackageTokens), not hard-wired.
@Suite("Iq package tokens")
struct IqTokensTests {
    @Test("defaults build the §10.5 Step A events and LocalControl (iq-tokens.md §4, §6)")
    func defaults() throws {
        let t = IqPackageTokens()
        let m = try H248Message(parsing: SpecExamples.stepA)
        guard case .request(let tr)? = m.transactions.first,
              case .events(let ev)? = tr.actions.first?.commands.first?.descriptors.last,
              case .media(let md)? = tr.actions.first?.commands.first?.descriptors.first else { Issue.record("shape"); return }
        #expect(ev.events.first == t.heartbeatEvent(timerSeconds: 60))
        #expect(md.streams.first?.localControl?.properties.first == t.realm("core"))
        #expect(t.profile == ServiceChangeProfile(name: "iqprofile", version: 1))
    }

    @Test("a configured [U] token changes what is encoded (TS 29.334 items UNKNOWN: configurable)")
    func configured() throws {
        var t = IqPackageTokens()
        t.tlsEstablishSignal = "tlsbsc/start"
        t.inactivityTimerParameter = "maxtime"
        let msg = H248Message(version: 3, mid: .address("192.0.2.100", port: 2944), body: .transactions([
            .request(TransactionRequest(id: 7, actions: [ActionRequest(contextID: .null, commands: [
                CommandRequest(.modify, .root, [.events(EventsDescriptor(requestID: 3, events: [t.inactivityEvent(maxInactivityTenMs: 12000)]))]),
                CommandRequest(.modify, TerminationID("ip/acc/1"), [.signals(SignalsDescriptor([.signal(Signal(t.tlsEstablishSignal))]))]),
            ])])),
        ]))
        let compact = msg.encoded(.compact)
        #expect(compact.contains("it/ito{maxtime=12000}"))
        #expect(compact.contains("SG{tlsbsc/start}"))
        #expect(try H248Message(parsing: compact) == msg)
    }
}
