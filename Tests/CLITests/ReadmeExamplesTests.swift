import Foundation
import TestSupport
import Testing

/// Issue #20: every runnable example of the README (its ```` ```sh ```` blocks) runs, in order, as written, in an
/// empty temporary directory, against the built binary. ```` ```console ````, ```` ```text ```` and
/// ```` ```python ```` blocks are only shown; an untagged fence fails the test, so every new block says which it is.
@Suite struct ReadmeExamplesTests {
    /// A fenced block of the README: its tag and its lines, with their 1-based line numbers in the file.
    struct Block {
        var line: Int
        var tag: String
        var lines: [(number: Int, text: String)]
    }

    /// Tags of blocks that are only shown.
    static let shownTags: Set<String> = ["console", "text", "python"]

    /// What cannot run on these machines, and nothing else: the runner puts a stand-in for each on `PATH` that
    /// records the call and succeeds. CI accepts exactly this list (`theSkipListIsExactlyWhatCannotRunHere`).
    static let skipList: [(command: String, reason: String)] = [
        (
            "docker",
            "no container engine on these machines; `docker inspect` answers a placeholder digest so that the "
                + "commands taking an image digest run"
        ),
        ("kubectl", "no Kubernetes cluster on these machines"),
        ("swift run -c release ModelVaultBenchmarks", "the benchmarks move 1 GiB files for minutes"),
    ]

    /// Commands the runner maps rather than runs: `swift run -c release modelvault ARGS` is the built binary, and
    /// the test does not run `swift build` (the binary is built) or `swift test` (it is running under it).
    static let swiftStub = """
        #!/bin/sh
        log() { printf '%s\\t%s\\n' "$README_LINE" "$*" >> "$README_STUB_LOG"; }
        case "$*" in
          "run -c release modelvault"*) shift 4; exec modelvault "$@" ;;
          "run -c release ModelVaultBenchmarks"*) log "swift run -c release ModelVaultBenchmarks"; exit 0 ;;
          build*|test*) log "swift $1"; exit 0 ;;
          *) echo "README runner: no stand-in for: swift $*" >&2; exit 127 ;;
        esac
        """

    static let recordingStub = """
        #!/bin/sh
        printf '%s\\t%s\\n' "$README_LINE" "$(basename "$0")" >> "$README_STUB_LOG"
        if [ "$(basename "$0")" = docker ] && [ "$1" = inspect ]; then
          for image; do :; done
          printf '%s@sha256:%064d\\n' "${image%:*}" 0
        fi
        exit 0
        """

    static func readme() throws -> String {
        try String(contentsOf: ModelVaultBinary.packageRoot.appending(path: "README.md"), encoding: .utf8)
    }

    /// The fenced blocks; an unclosed or untagged fence is an error naming its line.
    static func blocks(of text: String) throws -> [Block] {
        var blocks: [Block] = []
        var open: Block?
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("```") else {
                open?.lines.append((index + 1, String(line)))
                continue
            }
            if let block = open {
                blocks.append(block)
                open = nil
            } else {
                let tag = String(trimmed.dropFirst(3)).trimmingCharacters(in: .whitespaces)
                guard tag == "sh" || shownTags.contains(tag) else {
                    throw ReadmeError(
                        "README line \(index + 1): a fence must say sh (runnable) or one of "
                            + "\(shownTags.sorted().joined(separator: ", ")) (shown), not '\(tag)'")
                }
                open = Block(line: index + 1, tag: tag, lines: [])
            }
        }
        if let open { throw ReadmeError("README line \(open.line): the fence is never closed") }
        return blocks
    }

    struct ReadmeError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// One shell script for every `sh` block in order (variables carry over, as in the reader's shell). Before each
    /// command it records the command's README line; it stops at the first command that fails.
    static func script(for blocks: [Block], skippingLines skipped: Set<Int>) -> String {
        var script = """
            set -o pipefail
            README_LINE=0
            finish() { status=$?; trap - EXIT; jobs -p | xargs -r kill 2>/dev/null; wait 2>/dev/null
              printf '%s %s\\n' "$README_LINE" "$status" > "$README_STATUS"; exit "$status"; }
            trap finish EXIT

            """
        for block in blocks where block.tag == "sh" {
            var pending: (number: Int, text: String)?
            for (number, text) in block.lines {
                let joined = pending.map { ($0.number, $0.text + "\n" + text) } ?? (number, text)
                if text.hasSuffix("\\") {
                    pending = joined
                    continue
                }
                pending = nil
                guard !joined.1.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
                if skipped.contains(joined.0) { continue }
                script += "export README_LINE=\(joined.0)\n\(joined.1)\n"
                // `a && b` does not stop a `set -e` shell when `a` fails: check every line's status instead.
                let code = joined.1.split(separator: "#", maxSplits: 1).first.map(String.init) ?? ""
                let last = code.trimmingCharacters(in: .whitespaces)
                let opensCompound = ["do", "then", "else", "{", "(", "|", "&&", "||", "in"].contains {
                    last.hasSuffix(" " + $0) || last == $0
                }
                if !opensCompound { script += "status=$?; [ \"$status\" -eq 0 ] || exit \"$status\"\n" }
            }
        }
        return script
    }

    @Test func everyFenceIsTaggedAndTheSkipListIsExactlyWhatCannotRunHere() throws {
        let blocks = try Self.blocks(of: try Self.readme())
        #expect(blocks.contains { $0.tag == "sh" })
        // The only kinds of command allowed not to run: container engine, cluster, 1 GiB benchmarks.
        #expect(Self.skipList.map(\.command) == ["docker", "kubectl", "swift run -c release ModelVaultBenchmarks"])
        #expect(Self.skipList.allSatisfy { !$0.reason.isEmpty })
    }

    static let linesSkippedLocally: Set<Int> = Set(
        (ProcessInfo.processInfo.environment["MODELVAULT_README_SKIP_LINES"] ?? "").split(separator: ",")
            .compactMap { Int($0) })

    /// Runs every `sh` block. It needs the optimised build (the quick start runs the demo, which trains a CNN);
    /// `MODELVAULT_README_SKIP_LINES=17` (the demo's line) runs the rest in a debug build, and then fails, naming the lines it left out.
    @Test(
        .enabled(
            if: TestBuild.isOptimized || !linesSkippedLocally.isEmpty,
            Comment(
                rawValue: "the README's quick start runs the demo, which needs an optimised build: "
                    + "swift test -c release -Xswiftc -enable-testing")),
        .timeLimit(.minutes(30))
    )
    func theReadmesRunnableExamplesRunInOrder() throws {
        try ModelVaultBinary.requireBuilt()
        for peer in ["age", "curl"] where !Interop.available(peer) { try Interop.skipOrFail(peer) }
        let blocks = try Self.blocks(of: try Self.readme())
        let directory = try TemporaryDirectory()
        let work = directory.url.appending(path: "work")
        let bin = directory.url.appending(path: "bin")
        for made in [work, bin] { try FileManager.default.createDirectory(at: made, withIntermediateDirectories: true) }
        try FileManager.default.createSymbolicLink(
            at: bin.appending(path: "modelvault"), withDestinationURL: ModelVaultBinary.url)
        try Data(Self.swiftStub.utf8).write(to: bin.appending(path: "swift"))
        for entry in Self.skipList where !entry.command.hasPrefix("swift") {
            try Data(Self.recordingStub.utf8).write(to: bin.appending(path: entry.command))
        }
        for stub in try FileManager.default.contentsOfDirectory(atPath: bin.path) where stub != "modelvault" {
            try FileManager.default.setAttributes(
                [.posixPermissions: 0o755], ofItemAtPath: bin.appending(path: stub).path)
        }
        let script = directory.url.appending(path: "readme.sh")
        try Data(Self.script(for: blocks, skippingLines: Self.linesSkippedLocally).utf8).write(to: script)
        let stubLog = directory.url.appending(path: "stubs.log")
        let status = directory.url.appending(path: "status")
        var environment = ProcessInfo.processInfo.environment
        for key in environment.keys where key.hasPrefix("MODELVAULT_") { environment[key] = nil }
        environment["PATH"] = bin.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["README_STUB_LOG"] = stubLog.path
        environment["README_STATUS"] = status.path
        environment["HOME"] = directory.url.path
        // A private high-water-mark directory: the README's vault must not touch the developer's state.
        environment["MODELVAULT_STATE_DIR"] = directory.url.appending(path: "state").path
        // What `read -rs MODELVAULT_PASSPHRASE` reads, as if typed.
        let typed = Data("readme runner passphrase 7\n".utf8)
        let result = try ChildProcess(
            URL(fileURLWithPath: "/bin/bash"), [script.path], input: typed, in: work, environment: environment,
            mergesErrors: true
        ).run()

        let finished = (try? String(contentsOf: status, encoding: .utf8))?.split(separator: " ") ?? []
        let line = finished.first.flatMap { Int($0) } ?? 0
        let command = blocks.flatMap(\.lines).first { $0.number == line }?.text ?? "?"
        let block = blocks.last { $0.line < line }?.line ?? 0
        #expect(
            result.status == 0,
            """
            README line \(line) (the block at line \(block)) failed with status \(result.status): \(command)
            \(result.stdout.split(separator: "\n").suffix(25).joined(separator: "\n"))
            """)

        // Every stand-in used is on the skip list, and every entry stood in for something (no stale entries).
        let calls = ((try? String(contentsOf: stubLog, encoding: .utf8)) ?? "").split(separator: "\n")
            .map { $0.split(separator: "\t", maxSplits: 1).map(String.init) }
        let used = Set(calls.compactMap { $0.last?.split(separator: " ").first.map(String.init) })
        let builtIn: Set<String> = ["swift"]
        for entry in Self.skipList {
            let name = entry.command.split(separator: " ").first.map(String.init) ?? entry.command
            #expect(
                calls.contains { $0.last?.hasPrefix(entry.command) == true || $0.last == name },
                "skip-list entry '\(entry.command)' stood in for no README command: remove it")
        }
        #expect(
            used.isSubset(of: Set(Self.skipList.map { String($0.command.split(separator: " ")[0]) }).union(builtIn)))
        #expect(
            Self.linesSkippedLocally.isEmpty,
            "README lines \(Self.linesSkippedLocally.sorted()) were not run (MODELVAULT_README_SKIP_LINES): a local run only"
        )
    }
}
