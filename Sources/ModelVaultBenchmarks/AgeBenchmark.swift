import Foundation
import VaultCrypto

#if canImport(Glibc)
import Glibc
#endif

/// Encrypts and decrypts a 1 GiB file with `modelvault` and with `age` in the same run, with `cp` as the I/O
/// floor. Every tool runs as a child process, so wall time and peak RSS (ru_maxrss from wait4) compare fairly.
enum AgeBenchmark {
    struct Measurement {
        let seconds: Double
        let peakRSSKiB: Int
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static let size = 1 << 30

    static func run() async throws {
        let executableDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let modelvault = executableDirectory.appendingPathComponent("modelvault").path
        guard FileManager.default.isExecutableFile(atPath: modelvault) else {
            print("age: build the CLI first: swift build -c release --product modelvault")
            return
        }
        let age = ["/usr/bin/age", "/usr/local/bin/age"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("age-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

        let identity = AgeX25519Identity.generate()
        let recipient = identity.recipient.encoded
        try AtomicFile.write(
            Data("\(identity.encoded)\n".utf8), to: URL(fileURLWithPath: path("key.txt")), permissions: 0o600)
        try writePlaintext(to: path("plain.bin"))
        sync()

        // Every tool writes its output through a shell redirection (no fsync, like `age -o` and `cp`); the extra
        // `-o` rows show modelvault's atomic output (temp file, fsync, rename), which forces the data to disk.
        func quoted(_ arguments: [String]) -> String { arguments.map { "'\($0)'" }.joined(separator: " ") }
        func shell(_ arguments: [String], output: String) throws -> Measurement {
            sync()
            return try measure(["/bin/sh", "-c", "exec \(quoted(arguments)) > '\(output)'"])
        }
        var rows: [(String, String, Measurement)] = []
        sync()
        rows.append(("cp", "copy", try measure(["/bin/cp", path("plain.bin"), path("copy.bin")])))
        try? FileManager.default.removeItem(atPath: path("copy.bin"))
        var ageEncrypt: Measurement?
        var ageDecrypt: Measurement?
        if let age {
            ageEncrypt = try shell([age, "-r", recipient, path("plain.bin")], output: path("age.age"))
            rows.append(("age", "encrypt", ageEncrypt!))
            ageDecrypt = try shell([age, "-d", "-i", path("key.txt"), path("age.age")], output: path("age.out"))
            rows.append(("age", "decrypt", ageDecrypt!))
            try check(path("age.out"), equals: path("plain.bin"))
            try? FileManager.default.removeItem(atPath: path("age.out"))
            try? FileManager.default.removeItem(atPath: path("age.age"))
        } else {
            print("age: SKIPPED: age not installed")
        }
        rows.append(
            (
                "modelvault", "encrypt",
                try shell([modelvault, "encrypt", "-r", recipient, path("plain.bin")], output: path("mv.age"))
            ))
        rows.append(
            (
                "modelvault", "decrypt",
                try shell([modelvault, "decrypt", "-i", path("key.txt"), path("mv.age")], output: path("mv.out"))
            ))
        try check(path("mv.out"), equals: path("plain.bin"))
        try? FileManager.default.removeItem(atPath: path("mv.out"))
        sync()
        rows.append(
            (
                "modelvault", "decrypt -o",
                try measure([modelvault, "decrypt", "-i", path("key.txt"), "-o", path("mv.out"), path("mv.age")])
            ))
        try? FileManager.default.removeItem(atPath: path("mv.out"))
        sync()
        rows.append(
            (
                "modelvault", "encrypt -o",
                try measure([modelvault, "encrypt", "-r", recipient, "-o", path("mv2.age"), path("plain.bin")])
            ))

        print("1 GiB file, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        // posix_spawn shares the parent's address space until exec, so Linux folds the parent's high-water RSS
        // into every child's ru_maxrss: the cp row shows that floor.
        print("peak RSS includes the spawning process's floor (see the cp row)")
        print("tool        operation     wall s    MB/s   peak RSS MiB   speed vs age")
        for (tool, operation, measurement) in rows {
            let throughput = Double(size) / 1_000_000 / measurement.seconds
            var ratio = ""
            let peer = operation.hasPrefix("encrypt") ? ageEncrypt : operation.hasPrefix("decrypt") ? ageDecrypt : nil
            if let peer, tool == "modelvault" { ratio = String(format: "%.2fx", peer.seconds / measurement.seconds) }
            print(
                tool.padding(toLength: 12, withPad: " ", startingAt: 0)
                    + operation.padding(toLength: 12, withPad: " ", startingAt: 0)
                    + String(
                        format: "%8.2f %8.0f %14.1f", measurement.seconds, throughput,
                        Double(measurement.peakRSSKiB) / 1024)
                    + "   " + ratio)
        }
    }

    /// Writes `size` bytes of pseudo-random data in 1 MiB blocks.
    static func writePlaintext(to path: String) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var generator = SystemRandomNumberGenerator()
        var block = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for index in 0..<(size >> 20) {
            block[index % block.count] &+= 1
            try handle.write(contentsOf: block)
        }
    }

    /// Runs a command as a child process and returns its wall time and peak RSS.
    static func measure(_ command: [String]) throws -> Measurement {
        var pid: pid_t = 0
        let arguments = command.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        let start = DispatchTime.now()
        guard posix_spawn(&pid, command[0], nil, nil, arguments, environ) == 0 else {
            throw Failure("cannot start \(command[0])")
        }
        var status: Int32 = 0
        var usage = rusage()
        guard wait4(pid, &status, 0, &usage) == pid else { throw Failure("wait4 failed") }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        guard status == 0 else { throw Failure("\(command[0]) failed with status \(status)") }
        return Measurement(seconds: seconds, peakRSSKiB: usage.ru_maxrss)
    }

    /// Compares two files block by block.
    static func check(_ path: String, equals expected: String) throws {
        let first = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        let second = try FileHandle(forReadingFrom: URL(fileURLWithPath: expected))
        defer {
            try? first.close()
            try? second.close()
        }
        while true {
            let left = try first.read(upToCount: 1 << 20) ?? Data()
            let right = try second.read(upToCount: 1 << 20) ?? Data()
            guard left == right else { throw Failure("decrypted output differs from the plaintext") }
            if left.isEmpty { return }
        }
    }
}
