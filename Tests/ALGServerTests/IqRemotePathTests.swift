// Application-aware MSRP (seed 003; TS 23.334 §5.19; specs.md §6.2-6.3): without a=msrp-cema the ALG
// rewrites a=path and reserves TCP/MSRP towards the core; the AGW then needs the peer's own a=path to
// rewrite To-Path towards it, so the Remote descriptor carries it (Docs/ims-agw.md "Application-aware MSRP").

import ALGServer
import ALGTestSupport
import Foundation
import H248Codec
import SDPRewrite
import Testing

@Suite("Iq Remote carries the peer's a=path on application-aware MSRP streams (seed 003)")
struct IqRemotePathTests {
    @Test("Fixture 14 (no CEMA, rewritePath): the UE's a=path is in the access Remote; fixture 01 (CEMA): no a=path in any Remote")
    func remotePathOnlyWhenApplicationAware() throws {
        let mapping = IqGatewayMapping()
        let aware = try MappingFixtures.request("14-cema-absent-path-rewrite")
        let stream = try #require(aware.streams.first)
        let access = try #require(stream.access)
        #expect(access.remotePath == "msrps://10.1.1.10:50000/u8kd2;tcp")
        let r = try mapping.reserve(access, side: .access, stream: stream)
        #expect(try #require(r.remote).lines.contains("a=path:msrps://10.1.1.10:50000/u8kd2;tcp"))

        let agnostic = try MappingFixtures.request("01-spec-9.1-msrp-originating-offer")
        for s in agnostic.streams {
            for (side, term) in [(IqTerminationSide.access, s.access), (.core, s.core)] {
                guard let term else { continue }
                #expect(term.remotePath == nil)
                let r = try mapping.reserve(term, side: side, stream: s)
                #expect(!(r.remote?.lines ?? []).contains { $0.hasPrefix("a=path:") })
            }
        }
    }
}
