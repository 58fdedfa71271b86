public import Foundation

/// The body of a C2SP tlog-witness `add-checkpoint` request: `old <size>`, up to 63 base64 consistency-proof lines,
/// an empty line, then the signed checkpoint note.
public struct AddCheckpointRequest: Sendable, Equatable {
    /// The size of the latest checkpoint the witness cosigned for this log (0 at first).
    public var oldSize: UInt64
    /// An RFC 6962 consistency proof from `oldSize` to the checkpoint's size (empty when `oldSize` is 0).
    public var proof: [TreeHash]
    /// The signed checkpoint note.
    public var checkpoint: String

    /// The most proof lines a client may send.
    public static let maxProofLines = 63

    /// Creates a request.
    public init(oldSize: UInt64, proof: [TreeHash], checkpoint: String) {
        self.oldSize = oldSize
        self.proof = proof
        self.checkpoint = checkpoint
    }

    /// The request body as sent.
    public var body: Data {
        var text = "old \(oldSize)\n"
        for hash in proof { text += hash.base64 + "\n" }
        return Data((text + "\n" + checkpoint).utf8)
    }

    /// Parses a request body; throws `invalidProof` naming nothing secret when it is not framed as the spec says.
    public init(body: Data) throws {
        guard let text = String(data: body, encoding: .utf8), let blank = text.range(of: "\n\n") else {
            throw AuditLogError.invalidProof
        }
        let head = text[..<blank.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = head.first, first.hasPrefix("old ") else { throw AuditLogError.invalidProof }
        let digits = first.dropFirst(4)
        guard let size = UInt64(digits), String(size) == digits, head.count - 1 <= Self.maxProofLines else {
            throw AuditLogError.invalidProof
        }
        let proof = try head.dropFirst().map { line in
            guard let hash = TreeHash(base64: String(line)), hash.base64 == line else {
                throw AuditLogError.invalidProof
            }
            return hash
        }
        let checkpoint = String(text[blank.upperBound...])
        guard checkpoint.hasSuffix("\n") else { throw AuditLogError.invalidProof }
        self.init(oldSize: size, proof: proof, checkpoint: checkpoint)
    }
}
