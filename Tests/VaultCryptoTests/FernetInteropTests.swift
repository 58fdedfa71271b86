import Foundation
import Testing

@testable import VaultCrypto

/// Interop with Python's `cryptography.fernet`; skipped (or failed with MODELVAULT_REQUIRE_INTEROP=1) without it.
private enum FernetPeer {
    static func run(_ script: String, input: String = "") throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static var available: Bool {
        (try? run("import cryptography.fernet").status) == 0
    }

    static func skipOrFail() {
        if ProcessInfo.processInfo.environment["MODELVAULT_REQUIRE_INTEROP"] == "1" {
            Issue.record("python3 with cryptography is required (MODELVAULT_REQUIRE_INTEROP=1) but not installed")
        } else {
            FileHandle.standardError.write(Data("SKIPPED: python3 cryptography not installed\n".utf8))
        }
    }
}

@Test func fernetTokenFromPythonCryptographyDecrypts() throws {
    guard FernetPeer.available else { FernetPeer.skipOrFail(); return }
    // Python writes the key as a key file would hold it, then a token of 100 KB of patterned bytes.
    let script = """
        from cryptography.fernet import Fernet
        key = Fernet.generate_key()
        data = bytes((i * 7) % 256 for i in range(100000))
        print(key.decode())
        print(Fernet(key).encrypt(data).decode())
        """
    let result = try FernetPeer.run(script)
    try #require(result.status == 0)
    let lines = result.output.split(separator: "\n").map(String.init)
    try #require(lines.count == 2)
    let plaintext = try Fernet.decrypt(token: lines[1], key: FernetKey(base64URL: lines[0]), ttl: 600)
    #expect(plaintext == Data((0..<100_000).map { UInt8(($0 * 7) % 256) }))
}

@Test func fernetTokenWeMakeDecryptsInPython() throws {
    guard FernetPeer.available else { FernetPeer.skipOrFail(); return }
    let keyText = Fernet.encodeBase64URL((0..<32).map { UInt8($0 * 3) })
    let token = try Fernet.encrypt(Data("legacy model bytes".utf8), key: FernetKey(base64URL: keyText))
    let script = """
        import sys
        from cryptography.fernet import Fernet
        key, token = sys.stdin.read().split()
        sys.stdout.write(Fernet(key.encode()).decrypt(token.encode(), ttl=600).decode())
        """
    let result = try FernetPeer.run(script, input: keyText + "\n" + token + "\n")
    #expect(result.status == 0)
    #expect(result.output == "legacy model bytes")
}
