// Covers H.248.4 SCTP framing as far as a kernel without SCTP allows (platform-notes §6):
//  - PPID 7 (IANA H.248), network byte order for sctp_sendmsg;
//  - boundary-preserving pass-through, bounded reassembly of partial deliveries (no MSG_EOR);
//  - wrong PPID refused; EPROTONOSUPPORT / ESOCKTNOSUPPORT classified as "SCTP unavailable" with a
//    message naming the cause. No socket is opened here.
import Testing
@testable import H248Client

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("SCTP framing (H.248.4, PPID 7)")
struct SCTPSupportTests {
    let message = Array("MEGACO/3 [10.0.0.1]:2944 T=7{C=-{AV=ROOT{AT{}}}}".utf8)

    @Test("IANA: H.248 PPID is 7, sent in network byte order; default ports 2944/2945")
    func constants() {
        #expect(SCTPSupport.h248PayloadProtocolIdentifier == 7)
        #expect(SCTPSupport.h248PayloadProtocolIdentifierNetworkOrder == UInt32(7).bigEndian)
        #expect(SCTPSupport.defaultTextPort == 2944)
        #expect(SCTPSupport.defaultBinaryPort == 2945)
    }

    @Test("H.248.4: one H.248 message = one SCTP user message, unchanged, PPID 7")
    func passThrough() throws {
        var framer = SCTPMessageFramer()
        let out = try framer.encode(message)
        #expect(out.payload == message)
        #expect(out.payloadProtocolIdentifier == 7)
        #expect(out.unordered == false)
        #expect(try framer.decode(SCTPInboundChunk(payload: message, payloadProtocolIdentifier: 7)) == message)
    }

    @Test("H.248.4: partial deliveries (no MSG_EOR) are reassembled into one message")
    func partialDelivery() throws {
        var framer = SCTPMessageFramer()
        #expect(try framer.decode(SCTPInboundChunk(payload: Array(message.prefix(10)), payloadProtocolIdentifier: 7, endOfRecord: false)) == nil)
        #expect(try framer.decode(SCTPInboundChunk(payload: Array(message.dropFirst(10)), payloadProtocolIdentifier: 7, endOfRecord: true)) == message)
    }

    @Test("H.248.4: a PPID other than 7 (or unspecified 0) is refused")
    func wrongPPID() throws {
        var framer = SCTPMessageFramer()
        do {
            _ = try framer.decode(SCTPInboundChunk(payload: message, payloadProtocolIdentifier: 46))
            Issue.record("expected sctpWrongPayloadProtocol")
        } catch {
            #expect(error.code == .sctpWrongPayloadProtocol)
        }
        #expect(try framer.decode(SCTPInboundChunk(payload: message, payloadProtocolIdentifier: 0)) == message)
    }

    @Test("SCTP bound: reassembly stops at maximumMessageSize")
    func reassemblyBound() throws {
        var framer = SCTPMessageFramer(maximumMessageSize: 64)
        _ = try framer.decode(SCTPInboundChunk(payload: [UInt8](repeating: 1, count: 40), payloadProtocolIdentifier: 7, endOfRecord: false))
        #expect(throws: H248ClientError.self) {
            try framer.decode(SCTPInboundChunk(payload: [UInt8](repeating: 1, count: 40), payloadProtocolIdentifier: 7, endOfRecord: false))
        }
        #expect(throws: H248ClientError.self) { try framer.encode([UInt8](repeating: 1, count: 65)) }
    }

    @Test("platform-notes §6: EPROTONOSUPPORT and ESOCKTNOSUPPORT mean SCTP unavailable, with the cause named",
          arguments: [(EPROTONOSUPPORT, "EPROTONOSUPPORT"), (ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT")])
    func unavailable(errno code: Int32, name: String) {
        let error = SCTPSupport.classifySocketError(errno: code)
        #expect(error.code == .sctpUnavailable)
        #expect(error.diagnostics.contains("not available on this kernel"))
        #expect(error.diagnostics.contains(name))
        #expect(SCTPSupport.isSCTPUnavailable(errno: code))
    }

    @Test("Other socket() errors are not mistaken for a missing SCTP")
    func otherErrno() {
        let error = SCTPSupport.classifySocketError(errno: EMFILE)
        #expect(error.code == .sctpSocketFailed)
        #expect(!SCTPSupport.isSCTPUnavailable(errno: EACCES))
    }
}
