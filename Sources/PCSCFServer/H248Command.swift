import ArgumentParser
import Foundation
import H248Codec

/// `pcscf-alg h248 …`: H.248 (Megaco) text tools for lab engineers reading Iq traces.
struct H248Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "h248",
        abstract: "H.248 (Megaco) text tools.",
        subcommands: [H248DecodeCommand.self]
    )
}

/// `pcscf-alg h248 decode [--compact|--pretty|--json] < msg`
struct H248DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode one H.248 text message (pretty or compact tokens) from stdin and re-encode or dump it.",
        discussion: """
        Reads one message from standard input. Prints it re-encoded in pretty form (default), compact
        form (--compact), or the decoded model as JSON (--json). A malformed message prints the
        H.248.8 error code a reply would carry, with line and column, and exits with status 1.
        """
    )

    enum Output: String, EnumerableFlag {
        case pretty, compact, json
    }

    @Flag(help: "Output form.")
    var output: Output = .pretty

    func run() throws {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        let text = String(decoding: data, as: UTF8.self)
        let message: H248Message
        do {
            message = try H248TextParser().parse(bytes: Array(data))
        } catch {
            FileHandle.standardError.write(Data(Self.describe(error, in: text).utf8))
            throw ExitCode(1)
        }
        switch output {
        case .pretty: print(message.encoded(.pretty))
        case .compact: print(message.encoded(.compact))
        case .json:
            let json = try JSONEncoder().encode(message)
            // Synthesized Codable wraps unlabeled enum payloads as {"_0": …}; unwrap them for readability.
            let tree = Self.unwrap(try JSONSerialization.jsonObject(with: json))
            let out = try JSONSerialization.data(withJSONObject: tree,
                                                 options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: out, as: UTF8.self))
        }
    }

    static func unwrap(_ v: Any) -> Any {
        if let d = v as? [String: Any] {
            if d.count == 1, let inner = d["_0"] { return unwrap(inner) }
            return d.mapValues(unwrap)
        }
        if let a = v as? [Any] { return a.map(unwrap) }
        return v
    }

    /// `error 443 (line 4, column 5): unknown command 'Frobnicate'` plus the line and a caret.
    static func describe(_ e: H248ParseError, in text: String) -> String {
        var s = "error \(e.code.rawValue) (line \(e.line), column \(e.column)): \(e.reason)\n"
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if e.line >= 1 && e.line <= lines.count {
            let l = lines[e.line - 1].replacingOccurrences(of: "\r", with: "")
            // Keep tabs in the caret line so the caret sits under the column on any tab width.
            let pad = l.prefix(max(0, e.column - 1)).map { $0 == "\t" ? "\t" : " " }.joined()
            s += "  \(l)\n  " + pad + "^\n"
        }
        return s
    }
}
