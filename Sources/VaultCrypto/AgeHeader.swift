import Crypto
import Foundation

/// A parsed age v1 header: stanzas, the MAC, and the exact bytes the MAC covers.
struct AgeHeader {
    static let versionLine = Array("age-encryption.org/v1\n".utf8)
    static let maxLineLength = 16 * 1024
    /// ModelVault's documented bounds on a header (age's format sets none; `age` decrypts files to thousands of
    /// recipients): at most 65,536 stanzas and 16 MiB, far above any real recipient list (an X25519 stanza is about
    /// 120 bytes, a hybrid post-quantum one about 1.6 KiB), so a hostile header costs bounded memory and time.
    static let maxStanzas = 65_536
    static let maxHeaderBytes = 16 << 20

    var stanzas: [AgeStanza]
    var mac: [UInt8]
    /// The header bytes up to and including `---`.
    var macInput: [UInt8]

    /// Reads and parses a header from `reader`, leaving it at the first payload byte.
    static func read(from reader: ByteReader) throws -> AgeHeader {
        var raw: [UInt8] = []
        var consumed = 0
        func line() throws -> ArraySlice<UInt8> {
            guard let (line, terminated) = try reader.readLine(maxLength: maxLineLength) else {
                throw AgeError.header("unexpected end of header")
            }
            guard terminated else { throw AgeError.header("unterminated or overlong line") }
            consumed += line.count + 1
            guard consumed <= maxHeaderBytes else { throw AgeError.header("larger than 16 MiB (ModelVault's limit)") }
            return line
        }
        let first = try line()
        guard Array(first) + [10] == versionLine else {
            if first.starts(with: "age-encryption.org/".utf8) { throw AgeError.header("unsupported version") }
            throw AgeError.header("not an age file")
        }
        raw += versionLine
        var stanzas: [AgeStanza] = []
        while true {
            let current = try line()
            if current.starts(with: "---".utf8) {
                raw += "---".utf8
                guard current.count == 4 + 43, current[current.startIndex + 3] == UInt8(ascii: " "),
                    let mac = StrictBase64.decode(current.dropFirst(4), padded: false), mac.count == 32
                else { throw AgeError.header("malformed MAC line") }
                guard !stanzas.isEmpty else { throw AgeError.header("no recipient stanza") }
                return AgeHeader(stanzas: stanzas, mac: mac, macInput: raw)
            }
            guard current.starts(with: "-> ".utf8) else { throw AgeError.header("malformed stanza line") }
            raw += current
            raw.append(10)
            let arguments = current.dropFirst(3).split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
            guard !arguments.isEmpty,
                arguments.allSatisfy({ !$0.isEmpty && $0.allSatisfy { (0x21...0x7e).contains($0) } })
            else { throw AgeError.header("malformed stanza arguments") }
            var body: [UInt8] = []
            while true {
                let bodyLine = try line()
                raw += bodyLine
                raw.append(10)
                guard bodyLine.count <= 64, let decoded = StrictBase64.decode(bodyLine, padded: false) else {
                    throw AgeError.header("malformed stanza body")
                }
                body += decoded
                if bodyLine.count < 64 { break }
            }
            stanzas.append(
                AgeStanza(arguments: arguments.map { String(decoding: $0, as: UTF8.self) }, body: Data(body)))
            guard stanzas.count <= maxStanzas else {
                throw AgeError.header("more than 65,536 recipient stanzas (ModelVault's limit)")
            }
        }
    }

    /// Encodes a header for `stanzas`, MACed with `fileKey`.
    static func encode(stanzas: [AgeStanza], fileKey: SymmetricKey) -> [UInt8] {
        var output = versionLine
        for stanza in stanzas { output += stanza.encoded }
        output += "---".utf8
        let mac = computeMAC(over: output, fileKey: fileKey)
        output += " ".utf8
        output += StrictBase64.encode(mac, padded: false)
        output.append(10)
        return output
    }

    static func computeMAC(over bytes: [UInt8], fileKey: SymmetricKey) -> [UInt8] {
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: fileKey, salt: [UInt8](), info: Array("header".utf8), outputByteCount: 32)
        return Array(HMAC<SHA256>.authenticationCode(for: bytes, using: key))
    }

    /// Checks the MAC in constant time.
    func verifyMAC(fileKey: SymmetricKey) throws {
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: fileKey, salt: [UInt8](), info: Array("header".utf8), outputByteCount: 32)
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: macInput, using: key) else {
            throw AgeError.headerMAC
        }
    }

    /// Unwraps the file key with the first identity that recognises a stanza.
    func unwrapFileKey(using identities: [any AgeIdentity]) throws -> SymmetricKey {
        if stanzas.contains(where: { $0.type == "scrypt" }) && stanzas.count != 1 {
            throw AgeError.header("an scrypt stanza must be the only stanza")
        }
        for identity in identities {
            if let fileKey = try identity.unwrap(stanzas) { return fileKey }
        }
        throw AgeError.noMatch
    }
}
