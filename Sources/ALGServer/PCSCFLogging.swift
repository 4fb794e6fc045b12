// Logging of the server: swift-log with a text handler (stderr) or a JSON handler (one object per
// line, `logging.format: json`). The line formats themselves are ProxyRuntime.ProxyLogFormat (SIP)
// and IqTransactionLog (Iq); identities are redacted above debug there.
import Foundation
import Logging

/// Writes one JSON object per log record: `{"ts":…,"level":…,"label":…,"msg":…,"source":…, metadata…}`.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (String) -> Void

    /// - Parameter write: receives each line without its newline (default: stderr).
    public init(label: String, level: Logger.Level = .info, write: (@Sendable (String) -> Void)? = nil) {
        self.label = label
        self.logLevel = level
        self.write = write ?? JSONLogHandler.standardError
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: String] = [:]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        for (k, v) in merged { object[k] = "\(v)" }
        object["ts"] = JSONLogHandler.timestamp()
        object["level"] = event.level.rawValue
        object["label"] = label
        object["msg"] = "\(event.message)"
        object["source"] = event.source
        write(JSONLogHandler.encode(object))
    }

    /// Sorted keys, so the lines are stable (tests, diffs).
    public static func encode(_ object: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(object) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    static func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }

    private static let lock = NSLock()
    @Sendable static func standardError(_ line: String) {
        lock.lock(); defer { lock.unlock() }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

public enum PCSCFLogging {
    /// Bootstraps swift-log once for the process: text (StreamLogHandler, stderr) or JSON lines.
    public static func bootstrap(level: Logger.Level, json: Bool) {
        LoggingSystem.bootstrap { label in
            if json { return JSONLogHandler(label: label, level: level) }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
