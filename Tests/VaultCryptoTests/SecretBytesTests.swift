import Testing

@testable import VaultCrypto

@Suite struct SecretBytesTests {
    @Test func bytesAreZeroedWhenTheOwnerEnds() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 16)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0xA5)
        var released = false
        do {
            let secret = SecretBytes(adopting: buffer, release: { _ in released = true })
            #expect(secret.withUnsafeBytes { Array($0) } == Array(repeating: 0xA5, count: 64))
        }
        #expect(released)
        #expect(Array(buffer) == Array(repeating: 0, count: 64))
    }

    @Test func copyingKeepsTheBytesAndLendsThemOut() {
        let secret = SecretBytes(copying: [1, 2, 3, 4])
        #expect(secret.count == 4)
        #expect(secret.withUnsafeBytes { $0.reduce(0) { $0 + Int($1) } } == 10)
    }

    @Test func aFailingInitializerLeavesNothingBehind() {
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            _ = try SecretBytes(count: 32) { buffer in
                buffer.initializeMemory(as: UInt8.self, repeating: 0xFF)
                throw Refused()
            }
        }
    }
}

@Suite struct SecretTextTests {
    @Test func theTextIsZeroedWhenTheLastReferenceEnds() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 25, alignment: 16)
        defer { buffer.deallocate() }
        _ = buffer.initializeMemory(as: UInt8.self, from: Array("AGE-SECRET-KEY-1QQQQQQQQQ".utf8))
        var released = false
        do {
            let secret = SecretText(adopting: buffer, release: { _ in released = true })
            let shared = secret
            #expect(shared.withText { $0 } == "AGE-SECRET-KEY-1QQQQQQQQQ")
        }
        #expect(released)
        #expect(Array(buffer) == Array(repeating: 0, count: 25))
    }

    @Test func textRoundTripsThroughTheOwner() {
        let pem = "-----BEGIN PRIVATE KEY-----\nMIG\u{e9}\n-----END PRIVATE KEY-----\n"
        #expect(SecretText(pem).text == pem)
    }
}
