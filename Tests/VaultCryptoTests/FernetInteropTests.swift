import Foundation
import TestSupport
import Testing

@testable import VaultCrypto

// Interop with Python's `cryptography.fernet`; skipped (or failed with MODELVAULT_REQUIRE_INTEROP=1) without it.

@Test func fernetTokenFromPythonCryptographyDecrypts() throws {
    guard Interop.pythonCanImport("cryptography.fernet") else { try Interop.skipOrFail("python3 cryptography") }
    // Python writes the key as a key file would hold it, then a token of 100 KB of patterned bytes.
    let script = """
        from cryptography.fernet import Fernet
        key = Fernet.generate_key()
        data = bytes((i * 7) % 256 for i in range(100000))
        print(key.decode())
        print(Fernet(key).encrypt(data).decode())
        """
    let result = try ChildProcess.python(script).run()
    try #require(result.status == 0)
    let lines = result.stdout.split(separator: "\n").map(String.init)
    try #require(lines.count == 2)
    let plaintext = try Fernet.decrypt(token: lines[1], key: FernetKey(base64URL: lines[0]), ttl: 600)
    #expect(plaintext == Data((0..<100_000).map { UInt8(($0 * 7) % 256) }))
}

@Test func fernetTokenWeMakeDecryptsInPython() throws {
    guard Interop.pythonCanImport("cryptography.fernet") else { try Interop.skipOrFail("python3 cryptography") }
    let keyText = Fernet.encodeBase64URL((0..<32).map { UInt8($0 * 3) })
    let token = try Fernet.encrypt(Data("legacy model bytes".utf8), key: FernetKey(base64URL: keyText))
    let script = """
        import sys
        from cryptography.fernet import Fernet
        key, token = sys.stdin.read().split()
        sys.stdout.write(Fernet(key.encode()).decrypt(token.encode(), ttl=600).decode())
        """
    let result = try ChildProcess.python(script, input: Data((keyText + "\n" + token + "\n").utf8)).run()
    #expect(result.status == 0)
    #expect(result.stdout == "legacy model bytes")
}
