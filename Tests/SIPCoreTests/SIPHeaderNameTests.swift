// Covers: RFC 3261 §7.3.1 (names are case-insensitive), §7.3.3 (compact forms), SIPParseLimits
// validation, typed views (TS 24.229 / RFC 3329 mediasec, RFC 7315 P-headers, RFC 3581 rport).
import Testing
@testable import SIPCore

@Suite("Header names, limits and typed views")
struct SIPHeaderNameTests {
    @Test("RFC 3261 §7.3.1: every known name classifies in any case; compact letters map to their header",
          arguments: SIPHeaderName.allCases.filter { $0 != .other })
    func classification(_ name: SIPHeaderName) {
        #expect(SIPHeaderName(text: name.canonical) == name)
        #expect(SIPHeaderName(text: name.canonical.uppercased()) == name)
        #expect(SIPHeaderName(text: name.canonical.lowercased()) == name)
        if let c = name.compact {
            #expect(SIPHeaderName(text: String(UnicodeScalar(c))) == name)
            #expect(SIPHeaderName(text: String(UnicodeScalar(c)).uppercased()) == name)
        }
    }

    @Test("unknown and near-miss names are .other")
    func other() {
        for n in ["X-Via", "Vias", "Call_ID", "q", "Content-Lengthx", "P-Asserted-Identit"] { #expect(SIPHeaderName(text: n) == .other) }
    }

    @Test("SIPParseLimits.validate rejects inconsistent bounds; default is valid")
    func limits() throws {
        try SIPParseLimits.default.validate()
        #expect(throws: SIPParseError.self) {
            try SIPParseLimits(maxMessageBytes: 100, maxHeaderBlockBytes: 200, maxBodyBytes: 10, maxHeaderFields: 5).validate()
        }
    }

    @Test("smaller configured limits give 513 (RFC 3261 §21.5.14)")
    func configuredLimits() {
        let msg = Fixtures.bytes("ims/invite-msrp-bfcp")
        let small = SIPParseLimits(maxMessageBytes: 4000, maxHeaderBlockBytes: 4000, maxBodyBytes: 100, maxHeaderFields: 10)
        #expect(throws: SIPParseError.self) { try SIPParser.parse(msg, limits: small) }
        do { _ = try SIPParser.parse(msg, limits: small) } catch { #expect(error.disposition == .messageTooLarge) }
    }

    @Test("RFC 3329 / mediasec: Security-Verify mechanisms with parameters")
    func securityMechanisms() throws {
        let m = try SIPParser.parse(Fixtures.bytes("ims/register-protected"))
        let v = m.securityVerify
        #expect(v.map(\.name) == ["ipsec-3gpp", "msrp-tls", "bfcp-tls"])
        #expect(v.map(\.mediasec) == [false, true, true])
        #expect(v[0].parameters["spi-c"] == "3333" && v[0].parameters["port-s"] == "5068" && v[0].preference == "0.1")
        #expect(m.securityClient.filter(\.mediasec).count == 2)
    }

    @Test("RFC 3581 / RFC 3261 §18.2.1: rport and received on Via; RFC 7315 P-headers")
    func viaAndPHeaders() throws {
        let r = try SIPParser.parse(Fixtures.bytes("ims/register-401"))
        #expect(r.topVia?.rport == .value(5060) && r.topVia?.received == "2001:db8:10::5")
        let i = try SIPParser.parse(Fixtures.bytes("ims/invite-msrp-bfcp"))
        #expect(i.topVia?.rport == .requested && i.topVia?.port == 5064 && i.topVia?.host == "[2001:db8:10::5]")
        #expect(i.pAccessNetworkInfo.first?.parameters["utran-cell-id-3gpp"] == "0010100010019B01")
        let ok = try SIPParser.parse(Fixtures.bytes("ims/invite-200"))
        #expect(ok.pChargingVector?["orig-ioi"] == "home1.net")
        #expect(ok.pChargingVector?["icid-value"] == "AyretyU0dm+6O2IrT5tAFrbHLso=")
    }

    @Test("SIPSamples.imsInvite equals Fixtures/sip/ims/invite-msrp-bfcp.sip (demo and benchmark use the fixture)")
    func sampleMatchesFixture() {
        #expect(Array(SIPSamples.imsInvite.utf8) == Fixtures.bytes("ims/invite-msrp-bfcp"))
    }
}
