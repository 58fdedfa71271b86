import Crypto
public import Foundation

/// RFC 6962 / RFC 9162 Merkle tree hashing: leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right).
public enum Merkle {
    /// The root of the empty tree: SHA-256 of the empty string.
    public static let emptyRoot = TreeHash(SHA256.hash(data: [UInt8]()))

    /// The leaf hash of `data`.
    public static func leafHash(_ data: some DataProtocol) -> TreeHash {
        var hasher = SHA256()
        hasher.update(data: [0x00] as [UInt8])
        hasher.update(data: data)
        return TreeHash(hasher.finalize())
    }

    /// The leaf hash of raw bytes in a buffer (the verifier's hot path).
    public static func leafHash(_ buffer: UnsafeRawBufferPointer) -> TreeHash {
        var hasher = SHA256()
        withUnsafeBytes(of: UInt8(0x00)) { hasher.update(bufferPointer: $0) }
        hasher.update(bufferPointer: buffer)
        return TreeHash(hasher.finalize())
    }

    /// The interior node hash of two children.
    public static func nodeHash(_ left: TreeHash, _ right: TreeHash) -> TreeHash {
        var hasher = SHA256()
        withUnsafeBytes(of: UInt8(0x01)) { hasher.update(bufferPointer: $0) }
        left.withBytes { hasher.update(bufferPointer: $0) }
        right.withBytes { hasher.update(bufferPointer: $0) }
        return TreeHash(hasher.finalize())
    }

    /// MTH(D[n]) of a list of leaf hashes (O(n) time, O(log n) memory).
    public static func root(of leafHashes: some Sequence<TreeHash>) -> TreeHash {
        var range = CompactRange()
        for leaf in leafHashes { range.append(leaf) }
        return range.root
    }

    /// The largest power of two strictly smaller than `n` (n > 1).
    static func splitPoint(_ n: Int) -> Int {
        precondition(n > 1)
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }
}

/// The right edge of a Merkle tree: the roots of its maximal perfect subtrees, largest first.
///
/// Appending a leaf is O(log n) and needs no other stored node; `root` folds the edge (RFC 6962 MTH).
public struct CompactRange: Sendable, Equatable {
    /// Number of leaves.
    public private(set) var size: UInt64 = 0
    /// Perfect-subtree roots, one per set bit of `size`, from the most significant bit down.
    public private(set) var hashes: [TreeHash] = []

    /// An empty tree.
    public init() {}

    /// Appends one leaf hash.
    public mutating func append(_ leaf: TreeHash) {
        var node = leaf
        var bits = size
        // Each trailing 1 bit of the old size is a perfect subtree of equal height to merge with.
        while bits & 1 == 1 {
            node = Merkle.nodeHash(hashes.removeLast(), node)
            bits >>= 1
        }
        hashes.append(node)
        size += 1
    }

    /// The tree head, MTH of all leaves so far.
    public var root: TreeHash {
        guard var node = hashes.last else { return Merkle.emptyRoot }
        for left in hashes.dropLast().reversed() { node = Merkle.nodeHash(left, node) }
        return node
    }
}
