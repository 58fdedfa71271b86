import ArgumentParser
import Foundation
import ModelScan
import Vault

/// `modelvault scan`: the model supply-chain scanner on local files; no vault needed.
struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Scan model files for code that runs on load and for malformed containers.",
        discussion: """
            Formats are recognised by content: pickle (protocols 0-5), PyTorch (zip, legacy, tar, TorchScript), \
            numpy .npy/.npz, joblib, Keras .keras and .h5, GGUF, safetensors and zip containers. Directories are \
            scanned recursively; symbolic links are never followed (a link is a failed scan).

            Exit codes: 0 no finding at or above the policy's threshold; 7 findings at or above it; 1 a file could \
            not be scanned; 2 usage error.
            """)

    @Argument(help: "Files or directories to scan.")
    var paths: [String]

    @Flag(help: "Print the findings as JSON.")
    var json = false

    @Flag(help: "Print the findings as SARIF 2.1.0.")
    var sarif = false

    @Option(help: "default: refuse high and critical; strict: refuse medium and above.")
    var policy: String = ScanPolicy.default.rawValue

    @Flag(help: "Also verify the CRC of every archive member (reads all the data).")
    var deep = false

    func validate() throws {
        if json && sarif { throw ValidationError("--json and --sarif are exclusive") }
        if ScanPolicy(rawValue: policy) == nil { throw ValidationError("--policy must be default or strict") }
    }

    func run() throws {
        let policy = ScanPolicy(rawValue: self.policy) ?? .default
        let scanner = ModelScanner(deep: deep)
        var reports: [ScanReport] = []
        var failures: [String: String] = [:]
        let files = Self.files(paths, failures: &failures)
        // Progress on stderr (a bar on a terminal, one summary line otherwise, nothing under --quiet): the bytes of
        // every file to scan, each file counted whole once its scan ends.
        let sizes = files.map { file -> Int64 in
            var status = stat()
            return lstat(file, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG ? Int64(status.st_size) : 0
        }
        let total = sizes.reduce(0, +)
        let reporter = ProgressReporter("scanning", summary: "scanned")
        var done: Int64 = 0
        reporter.report(ProgressEvent(done: 0, total: total, unit: .bytes))
        for (file, size) in zip(files, sizes) {
            do {
                let before = done
                reports.append(
                    try scanner.scan(path: file) { read, _ in
                        reporter.report(
                            ProgressEvent(done: before + min(Int64(clamping: read), size), total: total, unit: .bytes))
                    })
            } catch {
                failures[file] = String(describing: error)
            }
            done += size
            reporter.report(ProgressEvent(done: done, total: total, unit: .bytes))
        }
        reporter.finish()
        if json {
            FileHandle.standardOutput.write(
                try ScanReport.json(reports, policy: policy, failures: failures) + Data("\n".utf8))
        } else if sarif {
            FileHandle.standardOutput.write(try ScanReport.sarif(reports, policy: policy) + Data("\n".utf8))
        } else {
            for report in reports { print(report.text(policy: policy)) }
        }
        for (file, reason) in failures.sorted(by: { $0.key < $1.key }) {
            FileHandle.standardError.write(Data("modelvault: scan failed: \(file): \(reason)\n".utf8))
        }
        if !failures.isEmpty { throw ExitCode(ExitStatus.failure.rawValue) }
        if reports.contains(where: { !$0.refused(by: policy).isEmpty }) { throw ExitCode(ExitStatus.findings.rawValue) }
    }

    /// Regular files under `paths`, in order; symbolic links and unreadable paths become failures.
    private static func files(_ paths: [String], failures: inout [String: String]) -> [String] {
        var result: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            if attributes?[.type] as? FileAttributeType == .typeSymbolicLink {
                failures[path] = "refusing to follow symbolic link"
                continue
            }
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                result.append(path)  // the scanner reports missing or special files
                continue
            }
            let children = (try? FileManager.default.contentsOfDirectory(atPath: path).sorted()) ?? []
            result += files(children.map { (path as NSString).appendingPathComponent($0) }, failures: &failures)
        }
        return result
    }
}
