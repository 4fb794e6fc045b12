import Foundation
import SDPRewrite
import SIPCore
import SIPTransaction
import Testing
@testable import IMSALG

@Suite("Registration store and URI keys")
struct StoreTests {
    @Test("InMemoryRegistrationStore is bounded: a new contact beyond maxBindings is refused, a refresh is not")
    func bounded() async throws {
        let store = InMemoryRegistrationStore(maxBindings: 1)
        let b = RegistrationBinding(identities: ["sip:a@x"], contact: "sip:a@1.2.3.4:5060", flow: Fx.ueFlow, expiresAt: Fx.t0,
                                    serviceRoute: [], mediaSecurity: .none)
        try await store.upsert(b)
        try await store.upsert(b)
        var c = b
        c.contact = "sip:b@1.2.3.4:5070"
        await #expect(throws: RegistrationStoreError.full(limit: 1)) { try await store.upsert(c) }
        // The 200 is still relayed when the store refuses (the error is reported).
        var p = Fx.pcscf(store: store)
        let r = try await Fx.register(&p)
        #expect(r.storeError == .full(limit: 1))
        #expect(r.status == 200)
    }

    @Test("RegistrationBinding round-trips through JSON (for a shared store later)")
    func codable() throws {
        let b = RegistrationBinding(identities: ["sip:a@x", "tel:+1"], contact: "sip:a@[2001:db8::1]:5060", flow: Fx.ueFlow,
                                    expiresAt: Fx.t0 + .seconds(7), serviceRoute: ["<sip:s@x;lr>"],
                                    mediaSecurity: MediaSecurityFlags(ue: [.msrpTLS], network: [.bfcpTLS]), chargingFunctionAddresses: "ccf=a")
        let back = try JSONDecoder().decode(RegistrationBinding.self, from: try JSONEncoder().encode(b))
        #expect(back == b)
    }

    @Test("RFC 3261 §19.1.4 (simplified): URI keys ignore parameters, default the port and lower-case the host",
          arguments: [
            ("sip:alice@Example.COM", "sip:alice@example.com:5060;transport=tcp", true),
            ("sips:alice@example.com", "sips:alice@example.com:5061", true),
            ("sip:001@[2001:db8:10::5]:5064", "<sip:001@[2001:DB8:10::5]:5064;ob>", true),
            ("sip:alice@example.com", "sip:bob@example.com", false),
            ("sip:alice@example.com:5070", "sip:alice@example.com", false),
            ("tel:+1-555-000", "tel:+1555000;phone-context=x", true),
          ])
    func uriKeys(a: String, b: String, equal: Bool) {
        #expect((SIPURIKey(a) == SIPURIKey(b)) == equal)
        #expect(SIPURIKey(a) != nil)
    }

    @Test("Malformed URIs give no key (network input never traps)", arguments: ["", "sip:", "sip:[::1", "sip:a@b:99999", "http://x", "sip:a@b:x", String(repeating: "a", count: 5000)])
    func badURIs(text: String) {
        #expect(SIPURIKey(text) == nil)
    }
}

@Suite("PCSCFLimits")
struct LimitTests {
    @Test("Identities per binding are bounded by PCSCFLimits.maxIdentitiesPerBinding (network input never allocates without a bound)")
    func identitiesBounded() async throws {
        var p = Fx.pcscf()
        let many = (0..<70).map { "<sip:u\($0)@x.example>" }.joined(separator: ", ")
        let r = try await Fx.register(&p, responseEdits: [("P-Associated-URI: <sip:001010123456789@ims.mnc001.mcc001.3gppnetwork.org>",
                                                           "P-Associated-URI: \(many)")])
        let b = try #require(r.stored.first)
        #expect(b.identities.count == PCSCFLimits.maxIdentitiesPerBinding)
    }
}
