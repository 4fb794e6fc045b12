// SIP messages and SDP bodies of the ALG unit tests, as files under Fixtures/alg/ (LF line ends in the
// files; CRLF on the wire, as the tests pass them on).
import ALGTestSupport
import Foundation
import SIPCore

enum ALGFixture {
    /// The file `Fixtures/alg/<path>` with LF line ends.
    static func text(_ path: String) throws -> String {
        let raw = try String(contentsOf: TestRepository.url("Fixtures/alg/\(path)"), encoding: .utf8)
        return raw.replacingOccurrences(of: "\r\n", with: "\n")
    }

    /// A SIP message file (headers only, `Content-Length: 0`; a body is passed to the hook separately).
    static func message(_ path: String) throws -> SIPMessage {
        var t = try text(path)
        while t.hasSuffix("\n") { t.removeLast() }
        return try HookFx.parse(t + "\n\n")
    }

    /// An SDP body file with CRLF line ends. An unreadable file gives a text no SDP parser accepts,
    /// naming the file, so every test that uses it fails (for the `static let` bodies, which cannot throw).
    static func body(_ path: String) -> String {
        guard let t = try? text(path) else { return "unreadable fixture Fixtures/alg/\(path)" }
        return t.replacingOccurrences(of: "\n", with: "\r\n")
    }
}
