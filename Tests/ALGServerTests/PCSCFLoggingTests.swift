// Logging of the running P-CSCF: one Kamailio-style line per request and per final response, one
// per Iq transaction, identities redacted above debug, and the JSON handler (one object per line).
import ALGTestSupport
import Foundation
import H248Client
import H248Codec
import IMSALG
import Logging
import ProxyRuntime
import SDPRewrite
import SIPCore
import SIPTransport
import Testing
@testable import ALGServer

/// Keeps every record (level + message) of the loggers made from it.
final class CapturedLogs: @unchecked Sendable {
    private let lock = NSLock()
    private var records: [(Logger.Level, String)] = []
    func append(_ level: Logger.Level, _ message: String) { lock.lock(); records.append((level, message)); lock.unlock() }
    var all: [(level: Logger.Level, message: String)] { lock.lock(); defer { lock.unlock() }; return records.map { ($0.0, $0.1) } }
    var text: String { all.map(\.message).joined(separator: "\n") }

    func logger(level: Logger.Level) -> Logger {
        var l = Logger(label: "capture") { _ in CapturingLogHandler(sink: self, logLevel: level) }
        l.logLevel = level
        return l
    }
}

struct CapturingLogHandler: LogHandler {
    let sink: CapturedLogs
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) { sink.append(event.level, "\(event.message)") }
}

@Suite("pcscf-alg logging: request/response and Iq lines, identity redaction, JSON", .serialized)
struct PCSCFLoggingTests {
    static let register = """
    REGISTER sip:ims.test SIP/2.0
    Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-log1
    Max-Forwards: 70
    From: <sip:alice@ims.test>;tag=l1
    To: <sip:alice@ims.test>
    Call-ID: log-1
    CSeq: 1 REGISTER
    Contact: <sip:alice@127.0.0.1:5999;transport=tcp>
    P-Asserted-Identity: <sip:alice-secret@ims.test>
    Proxy-Require: x-unknown-ext
    Content-Length: 0


    """

    static func run(level: Logger.Level) async throws -> CapturedLogs {
        let logs = CapturedLogs()
        let settings = PCSCFServiceConfiguration(
            listeners: [SIPListenerConfiguration(side: .gm, transport: .tcp, host: "127.0.0.1", port: 0),
                        SIPListenerConfiguration(side: .mw, transport: .udp, host: "127.0.0.1", port: 0)],
            coreNextHops: ["sip:127.0.0.1:\(LoopbackSocket.freePort());lr"], domain: "pcscf.test")
        let service = try await PCSCFService.start(settings, logger: logs.logger(level: level))
        let gm = try #require(service.port(.gm, .tcp))
        let answer = await PCSCFServiceSocketTests.exchange(port: gm, register)
        #expect(answer.hasPrefix("SIP/2.0 420 "))
        _ = await eventually(timeout: 3) { logs.text.contains("RPL 420") }
        await service.shutdown()
        return logs
    }

    @Test("At info: one REQ line and one RPL line (method, R-URI, From, source, Call-ID, status), identities redacted (user parts ***)")
    func infoLinesRedacted() async throws {
        let logs = try await Self.run(level: .info)
        let req = try #require(logs.all.first { $0.message.hasPrefix("REQ REGISTER") })
        #expect(req.level == .info)
        #expect(req.message.range(of: #"^REQ REGISTER ruri=sip:ims\.test from=sip:\*\*\*@ims\.test ftag=l1 ttag=- src=gm/tcp:127\.0\.0\.1:[0-9]+ cid=log-1$"#,
                                  options: .regularExpression) != nil, "\(req.message)")
        let rpl = try #require(logs.all.first { $0.message.hasPrefix("RPL ") })
        #expect(rpl.message.range(of: #"^RPL 420 REGISTER ruri=sip:ims\.test from=sip:\*\*\*@ims\.test ftag=l1 dst=gm/tcp:127\.0\.0\.1:[0-9]+ cid=log-1$"#,
                                  options: .regularExpression) != nil, "\(rpl.message)")
        #expect(logs.all.filter { $0.message.hasPrefix("REQ ") }.count == 1)
        #expect(logs.all.filter { $0.message.hasPrefix("RPL ") }.count == 1)
        #expect(!logs.text.contains("alice"), "an identity leaked at info:\n\(logs.text)")
    }

    @Test("At debug: the identities line shows From, To, P-Asserted-Identity and the R-URI in full")
    func debugShowsIdentities() async throws {
        let logs = try await Self.run(level: .debug)
        let line = try #require(logs.all.first { $0.message.hasPrefix("identities ") })
        #expect(line.level == .debug)
        #expect(line.message.contains("from=sip:alice@ims.test") && line.message.contains("to=sip:alice@ims.test"))
        #expect(line.message.contains("pai=sip:alice-secret@ims.test"))
        #expect(logs.text.contains("REQ REGISTER ruri=sip:ims.test from=sip:alice@ims.test"), "not redacted at debug")
    }

    @Test("redactUser: the user part of sip/sips URIs and the number of tel URIs become ***; host, port and parameters stay",
          arguments: [
              ("sip:alice@ims.test", "sip:***@ims.test"),
              ("sips:+331234;user=phone@ims.test:5061;transport=tls", "sips:***@ims.test:5061;transport=tls"),
              ("sip:bob:secret@10.0.0.1:5060", "sip:***@10.0.0.1:5060"),
              ("tel:+15551234;phone-context=ims.test", "tel:***;phone-context=ims.test"),
              ("sip:ims.test", "sip:ims.test"),
              ("sip:127.0.0.1:5060;lr", "sip:127.0.0.1:5060;lr"),
          ])
    func redaction(_ input: String, _ expected: String) {
        #expect(ProxyLogFormat.redactUser(input) == expected)
    }

    @Test("Iq transaction line: command, context, terminations, result and latency (one per transaction)")
    func iqLine() {
        let ok = IqMGCClient.logLine(.release(.terminations(context: "12", ids: ["ip/1"])), .success(MGCReply(contextID: "12")),
                                     latency: .milliseconds(3))
        #expect(ok == "iq Subtract ctx=12 term=ip/1 result=ok latency=3ms")
        let reserve = IqMGCClient.logLine(.release(.context("7")), .failure(.error(code: 502, text: "Not ready")), latency: .milliseconds(1_250))
        #expect(reserve == "iq Subtract ctx=7 term=- result=error:502 latency=1250ms")
        let timeout = IqMGCClient.logLine(.configure(context: "9", request: .init(), existing: []), .failure(.timeout), latency: .seconds(8))
        #expect(timeout == "iq Modify ctx=9 term=- result=timeout latency=8000ms")
    }

    @Test("Incoming Iq transaction line (issue 9 logging): a Notify from the IMS-AGW logs command, context, termination, observed event and the answer given (ok, or H.248.8 435 for a context never reserved); ServiceChange events are not Notify lines")
    func incomingIqLine() {
        let failure = IqEvent.notify(IqNotification(contextID: .id(3), terminationID: TerminationID("ip/5"),
                                                    observed: ObservedEventsDescriptor(requestID: 7, events: [ObservedEvent("tlsbsc/estfail")])))
        #expect(IqMGCClient.incomingLogLine(failure) == "iq Notify dir=in ctx=3 term=ip/5 event=tlsbsc/estfail result=ok")
        let orphan = IqEvent.notify(IqNotification(contextID: .id(9), terminationID: TerminationID("ip/orphan"),
                                                   observed: ObservedEventsDescriptor(requestID: 1, events: [ObservedEvent("hangterm/thb")]),
                                                   knownToClient: false))
        #expect(IqMGCClient.incomingLogLine(orphan) == "iq Notify dir=in ctx=9 term=ip/orphan event=hangterm/thb result=error:435")
        let root = IqEvent.notify(IqNotification(contextID: .null, terminationID: .root,
                                                 observed: ObservedEventsDescriptor(requestID: 2, events: [])))
        #expect(IqMGCClient.incomingLogLine(root) == "iq Notify dir=in ctx=- term=ROOT event=- result=ok")
        #expect(IqMGCClient.incomingLogLine(.association(.restored)) == nil)
    }

    @Test("JSON handler: one JSON object per line with ts, level, label, msg, source and metadata")
    func jsonLines() throws {
        let sink = CapturedLogs()
        var logger = Logger(label: "pcscf-alg.test") { label in JSONLogHandler(label: label, level: .info) { line in sink.append(.info, line) } }
        logger.logLevel = .info
        logger.info("REQ INVITE ruri=sip:***@ims.test", metadata: ["cid": "abc"])
        logger.debug("not written")
        logger.warning("quote \" and newline\nin a message")
        let got = sink.all.map(\.message)
        #expect(got.count == 2)
        for line in got {
            #expect(!line.contains("\n"), "one line per record")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
            #expect(object["label"] == "pcscf-alg.test" && object["ts"] != nil && object["source"] != nil)
        }
        let first = try #require(try JSONSerialization.jsonObject(with: Data(got[0].utf8)) as? [String: String])
        #expect(first["level"] == "info" && first["msg"] == "REQ INVITE ruri=sip:***@ims.test" && first["cid"] == "abc")
        let second = try #require(try JSONSerialization.jsonObject(with: Data(got[1].utf8)) as? [String: String])
        #expect(second["msg"] == "quote \" and newline\nin a message")
    }
}
