import ArgumentParser
import Foundation
import SIPCore

/// `pcscf-alg sip-demo [FILE]`: parse one SIP message (default: a built-in IMS INVITE), print the
/// decoded fields, then the bytes a proxy would forward after splicing in its Via and Record-Route and
/// decrementing Max-Forwards (RFC 3261 §16.6). Nothing else in the message changes.
struct SIPDemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sip-demo",
        abstract: "Parse a SIP message and show the proxy's byte-preserving forward splice.")

    @Argument(help: "File holding one SIP message (CRLF line ends). Default: a built-in IMS INVITE.")
    var file: String?

    @Option(help: "Via value the proxy inserts.")
    var via = "SIP/2.0/TCP pcscf.ims.mnc001.mcc001.3gppnetwork.org:5060;branch=z9hG4bK-pcscf-demo-1"

    @Option(help: "Record-Route value the proxy inserts.")
    var recordRoute = "<sip:pcscf.ims.mnc001.mcc001.3gppnetwork.org:5060;lr>"

    @Flag(help: "Also remove the top Route entry (when the proxy is that entry).")
    var removeTopRoute = false

    func run() throws {
        let input: [UInt8]
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read \(file)")
            }
            input = Array(data)
        } else {
            input = Array(SIPDemoCommand.builtInInvite.utf8)
        }
        let message: SIPMessage
        do {
            message = try SIPParser.parse(input)
        } catch {
            print("parse error: \(error.code) -> proxy answer: \(error.disposition)")
            print("detail: \(error.detail)")
            if let head = try? SIPParser.scan(input, lenientVersion: true),
               let response = SIPResponseBuilder.response(for: error, request: head, toTag: "pcscf-demo-tag", warningAgent: "pcscf.demo") {
                print("---- response the proxy sends ----")
                print(String(decoding: response, as: UTF8.self), terminator: "")
            }
            throw ExitCode(2)
        }
        print("---- decoded (\(message.bytes.count) bytes, \(message.headers.count) header lines) ----")
        for (k, v) in message.summary { print("\(k.padding(toLength: 24, withPad: " ", startingAt: 0)) \(v)") }
        guard message.isRequest else {
            var splice = SIPSplice(message)
            try? splice.removeTopVia()
            let out = splice.bytes()
            print("---- forwarded response (top Via removed, RFC 3261 §16.7): \(out.count) bytes ----")
            print(String(decoding: out, as: UTF8.self), terminator: "")
            return
        }
        var splice = SIPSplice(message)
        splice.insertTopVia(via)
        splice.insertRecordRoute(recordRoute)
        if removeTopRoute { try? splice.removeTopRoute() }
        do {
            try splice.decrementMaxForwards()
        } catch {
            print("forwarding refused: \(error.reason) -> \(error.disposition)")
            guard case .respond(let status, let reason) = error.disposition else { return }
            let response = SIPResponseBuilder.response(to: message, status: status, reason: reason, toTag: "pcscf-demo-tag",
                                                       warning: .init(code: 399, agent: "pcscf.demo", text: error.reason))
            print("---- response the proxy sends (RFC 3261 §16.3) ----")
            print(String(decoding: response, as: UTF8.self), terminator: "")
            return
        }
        let out = splice.bytes()
        print("---- forwarded (\(out.count) bytes; Via + Record-Route inserted, Max-Forwards decremented) ----")
        print(String(decoding: out, as: UTF8.self), terminator: "")
    }

    /// A VoLTE/RCS-style INVITE with TCP/TLS/MSRP and TCP/TLS/BFCP media (the same as
    /// Fixtures/sip/ims/invite-msrp-bfcp.sip and the benchmark message).
    static let builtInInvite = SIPSamples.imsInvite
}
