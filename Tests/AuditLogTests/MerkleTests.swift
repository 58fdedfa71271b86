import Foundation
import Testing

@testable import AuditLog

/// RFC 6962 vectors from the certificate-transparency / transparency-dev test suites: eight leaves, the roots of
/// every prefix, and published inclusion and consistency proofs.
@Suite struct MerkleTests {
    static let leaves: [[UInt8]] = [
        [], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
        [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57], Array(0x60...0x6f),
    ]
    static let roots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ].map { TreeHash(hex: $0)! }
    /// (leaf index, tree size, path)
    static let inclusion: [(UInt64, UInt64, [String])] = [
        (0, 1, []),
        (
            0, 8,
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]
        ),
        (
            5, 8,
            [
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
        ),
        (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
        (
            1, 5,
            [
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ]
        ),
    ]
    /// (old size, new size, proof)
    static let consistency: [(UInt64, UInt64, [String])] = [
        (1, 1, []),
        (
            1, 8,
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]
        ),
        (
            6, 8,
            [
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
        ),
        (
            2, 5,
            [
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ]
        ),
        (
            6, 7,
            [
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
        ),
    ]

    var leafHashes: [TreeHash] { Self.leaves.map { Merkle.leafHash($0) } }

    @Test func emptyTreeRootIsSHA256OfNothing() {
        #expect(Merkle.emptyRoot.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(CompactRange().root == Merkle.emptyRoot)
    }

    @Test func rootsOfEveryPrefixMatchTheVectors() {
        var range = CompactRange()
        for (size, leaf) in leafHashes.enumerated() {
            range.append(leaf)
            #expect(range.root == Self.roots[size], "size \(size + 1)")
            #expect(Merkle.root(of: leafHashes.prefix(size + 1)) == Self.roots[size])
            #expect(range.hashes.count == (size + 1).nonzeroBitCount)
        }
    }

    @Test func inclusionProofsMatchTheVectorsAndVerify() throws {
        for (index, size, path) in Self.inclusion {
            let expected = path.map { TreeHash(hex: $0)! }
            let proof = try Merkle.inclusionProof(index: Int(index), in: leafHashes.prefix(Int(size)))
            #expect(proof == expected, "leaf \(index) of \(size)")
            #expect(
                Merkle.verifyInclusion(
                    index: index, treeSize: size, leafHash: leafHashes[Int(index)],
                    proof: proof, root: Self.roots[Int(size) - 1]))
        }
    }

    @Test func inclusionVerificationRejectsCorruptedProbes() {
        for (index, size, path) in Self.inclusion where !path.isEmpty {
            let proof = path.map { TreeHash(hex: $0)! }
            let root = Self.roots[Int(size) - 1]
            let leaf = leafHashes[Int(index)]
            var probes: [(UInt64, UInt64, TreeHash, [TreeHash], TreeHash)] = [
                (index &+ 1, size, leaf, proof, root), (index ^ 2, size, leaf, proof, root),
                (index, size * 2, leaf, proof, root), (index, size / 2, leaf, proof, root),
                (index, size, Merkle.leafHash([0x99]), proof, root), (index, size, leaf, proof, Merkle.emptyRoot),
                (index, size, leaf, proof + [root], root), (index, size, leaf, [root] + proof, root),
                (index, size, leaf, Array(proof.dropLast()), root),
            ]
            if index > 0 { probes.append((index - 1, size, leaf, proof, root)) }
            for position in proof.indices {
                var flipped = proof
                flipped[position] = flipped[position].flipping(8, at: 0)
                probes.append((index, size, leaf, flipped, root))
            }
            for (i, s, l, p, r) in probes {
                #expect(!Merkle.verifyInclusion(index: i, treeSize: s, leafHash: l, proof: p, root: r))
            }
        }
    }

    @Test func consistencyProofsMatchTheVectorsAndVerify() throws {
        for (old, new, path) in Self.consistency {
            let expected = path.map { TreeHash(hex: $0)! }
            let proof = try Merkle.consistencyProof(from: Int(old), in: leafHashes.prefix(Int(new)))
            #expect(proof == expected, "\(old) -> \(new)")
            #expect(
                Merkle.verifyConsistency(
                    oldSize: old, newSize: new, oldRoot: Self.roots[Int(old) - 1],
                    newRoot: Self.roots[Int(new) - 1], proof: proof))
        }
    }

    @Test func consistencyVerificationRejectsCorruptedProbes() {
        for (old, new, path) in Self.consistency where !path.isEmpty {
            let proof = path.map { TreeHash(hex: $0)! }
            let oldRoot = Self.roots[Int(old) - 1]
            let newRoot = Self.roots[Int(new) - 1]
            var probes: [(UInt64, UInt64, TreeHash, TreeHash, [TreeHash])] = [
                (old + 1, new, oldRoot, newRoot, proof), (old ^ 2, new, oldRoot, newRoot, proof),
                (old, new * 2, oldRoot, newRoot, proof), (old, new / 2, oldRoot, newRoot, proof),
                (old, new, Merkle.emptyRoot, newRoot, proof), (old, new, oldRoot, Merkle.emptyRoot, proof),
                (old, new, newRoot, oldRoot, proof), (old, new, oldRoot, newRoot, []),
                (old, new, oldRoot, newRoot, proof + [oldRoot]), (old, new, oldRoot, newRoot, [newRoot] + proof),
                (old, new, oldRoot, newRoot, Array(proof.dropLast())),
            ]
            if old > 1 { probes.append((old - 1, new, oldRoot, newRoot, proof)) }
            for position in proof.indices {
                var flipped = proof
                flipped[position] = flipped[position].flipping(16, at: 0)
                probes.append((old, new, oldRoot, newRoot, flipped))
            }
            for (o, n, r1, r2, p) in probes {
                #expect(!Merkle.verifyConsistency(oldSize: o, newSize: n, oldRoot: r1, newRoot: r2, proof: p))
            }
        }
    }

    @Test func consistencyEdgeCases() {
        let root = Self.roots[0]
        #expect(Merkle.verifyConsistency(oldSize: 0, newSize: 0, oldRoot: root, newRoot: root, proof: []))
        #expect(Merkle.verifyConsistency(oldSize: 0, newSize: 3, oldRoot: root, newRoot: Self.roots[2], proof: []))
        #expect(!Merkle.verifyConsistency(oldSize: 1, newSize: 1, oldRoot: root, newRoot: Self.roots[1], proof: []))
        #expect(!Merkle.verifyConsistency(oldSize: 2, newSize: 1, oldRoot: root, newRoot: root, proof: []))
        #expect(!Merkle.verifyConsistency(oldSize: 1, newSize: 1, oldRoot: root, newRoot: root, proof: [root]))
    }

    @Test func generatedProofsVerifyForEveryPairUpToSixtyFourLeaves() throws {
        let leaves = (0..<64).map { Merkle.leafHash(Array("leaf \($0)".utf8)) }
        let roots = (0...64).map { Merkle.root(of: leaves.prefix($0)) }
        for size in 1...64 {
            for index in 0..<size {
                let proof = try Merkle.inclusionProof(index: index, in: leaves.prefix(size))
                #expect(
                    Merkle.verifyInclusion(
                        index: UInt64(index), treeSize: UInt64(size), leafHash: leaves[index],
                        proof: proof, root: roots[size]))
            }
            for old in 0...size {
                let proof = try Merkle.consistencyProof(from: old, in: leaves.prefix(size))
                #expect(
                    Merkle.verifyConsistency(
                        oldSize: UInt64(old), newSize: UInt64(size), oldRoot: roots[old],
                        newRoot: roots[size], proof: proof))
            }
        }
    }
}
