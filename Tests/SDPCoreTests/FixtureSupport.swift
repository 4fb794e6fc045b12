import ALGTestSupport
import Foundation

/// Repository root located from this file (house rule: tests find fixtures via #filePath).
enum Repo {
    static let root = TestRepository.root

    static func files(_ folder: String, ext: String) -> [String] {
        let dir = root.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix("." + ext) }.sorted()
    }

    static func text(_ path: String) -> String {
        (try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)) ?? ""
    }
}
