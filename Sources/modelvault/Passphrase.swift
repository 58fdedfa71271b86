import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where a passphrase comes from: `--passphrase-file`, then `MODELVAULT_PASSPHRASE`, then the terminal.
struct PassphraseOptions: ParsableArguments {
    @Option(name: .customLong("passphrase-file"), help: "Read the passphrase from the first line of FILE.")
    var passphraseFile: String?

    /// Reads the passphrase; `confirm` asks twice on a terminal (used when creating something).
    func read(prompt: String = "Passphrase: ", confirm: Bool = false) throws -> String {
        if let path = passphraseFile {
            guard let text = String(data: try CLIFiles.read(path, what: "passphrase file"), encoding: .utf8) else {
                throw CLIError("the passphrase file \(path) is not UTF-8 text", status: .invalidInput)
            }
            let line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let passphrase = String(line.hasSuffix("\r") ? line.dropLast() : line)
            guard !passphrase.isEmpty else { throw CLIError("the passphrase file is empty") }
            return passphrase
        }
        if let value = environmentPassphrase, !value.isEmpty {
            return value
        }
        let first = try Terminal.readSecret(prompt: prompt)
        guard !first.isEmpty else { throw CLIError("an empty passphrase was given") }
        if confirm {
            let second = try Terminal.readSecret(prompt: "Confirm passphrase: ")
            guard first == second else { throw CLIError("the passphrases do not match") }
        }
        return first
    }
}

/// `MODELVAULT_PASSPHRASE`, read once, then overwritten in place and removed from the environment.
///
/// `unsetenv` alone only unlinks the variable: its bytes stay in the process's initial environment block,
/// which `/proc/PID/environ` shows for the process's whole life. `getenv` points into that block, so the
/// bytes are zeroed there first. Read lazily (thread-safe global initialisation), so later reads still see it.
let environmentPassphrase: String? = {
    let name = "MODELVAULT_PASSPHRASE"
    guard let pointer = getenv(name) else { return nil }
    let value = String(cString: pointer)
    memset(pointer, 0, strlen(pointer))
    unsetenv(name)
    return value
}()

/// Reads secrets from the controlling terminal without echo.
enum Terminal {
    static func readSecret(prompt: String) throws -> String {
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY)
        guard fd >= 0 else {
            throw CLIError(
                "no terminal to ask for a passphrase: set MODELVAULT_PASSPHRASE or use --passphrase-file")
        }
        defer { close(fd) }
        var original = termios()
        tcgetattr(fd, &original)
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(fd, TCSAFLUSH, &silent)
        defer {
            tcsetattr(fd, TCSAFLUSH, &original)
            _ = write(fd, "\n", 1)
        }
        _ = prompt.withCString { write(fd, $0, strlen($0)) }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1, byte != UInt8(ascii: "\n") {
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A command-line failure with a fixed, secret-free message and the exit status it maps to.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    let status: ExitStatus
    init(_ description: String, status: ExitStatus = .failure) {
        self.description = description
        self.status = status
    }
}
