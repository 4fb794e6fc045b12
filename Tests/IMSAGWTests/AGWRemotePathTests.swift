// The MG side reads the peer's a=path from Remote (RFC 4975 §8.1) for application-aware MSRP (seed 003).

import H248Codec
import IMSAGW
import Testing

@Suite("AGWSDP.remote: a=path for application-aware MSRP (seed 003, RFC 4975 §8.1)")
struct AGWRemotePathTests {
    @Test("a=path URIs are kept in order (the last is the endpoint); absent a=path gives none; the last AGWSDP.maxPathURIs kept")
    func remotePath() throws {
        let withPath = SDPBlock(lines: ["v=0", "c=IN IP4 10.1.1.10", "m=message 50000 TCP/TLS/MSRP *",
                                        "a=path:msrps://relay.example:2855/r;tcp msrps://10.1.1.10:50000/u8kd2;tcp"])
        let (r, proto) = try AGWSDP.remote(withPath)
        #expect(proto == "TCP/TLS/MSRP")
        #expect(r.path == ["msrps://relay.example:2855/r;tcp", "msrps://10.1.1.10:50000/u8kd2;tcp"])
        let (plain, _) = try AGWSDP.remote(SDPBlock(lines: ["v=0", "c=IN IP4 10.1.1.10", "m=message 50000 TCP/MSRP *"]))
        #expect(plain.path.isEmpty)
        let many = (0..<40).map { "msrp://h\($0):1/s;tcp" }.joined(separator: " ")
        let (bounded, _) = try AGWSDP.remote(SDPBlock(lines: ["v=0", "c=IN IP4 10.1.1.10", "m=message 1 TCP/MSRP *", "a=path:" + many]))
        #expect(bounded.path.count == AGWSDP.maxPathURIs)
        #expect(bounded.path.last == "msrp://h39:1/s;tcp", "the endpoint (last URI) is kept")
    }
}
