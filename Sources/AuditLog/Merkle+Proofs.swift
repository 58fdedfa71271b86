extension Merkle {
    /// The RFC 6962 inclusion proof (audit path) of leaf `index` in the tree of `leafHashes`.
    public static func inclusionProof(index: Int, in leafHashes: ArraySlice<TreeHash>) throws -> [TreeHash] {
        guard index >= 0, index < leafHashes.count else { throw AuditLogError.indexOutOfRange }
        return path(index, leafHashes)
    }

    /// The RFC 6962 consistency proof from the tree of the first `oldSize` leaves to the tree of `leafHashes`.
    public static func consistencyProof(
        from oldSize: Int, in leafHashes: ArraySlice<TreeHash>
    ) throws
        -> [TreeHash]
    {
        guard oldSize >= 0, oldSize <= leafHashes.count else { throw AuditLogError.indexOutOfRange }
        guard oldSize > 0, oldSize < leafHashes.count else { return [] }
        return subproof(oldSize, leafHashes, complete: true)
    }

    private static func path(_ index: Int, _ leaves: ArraySlice<TreeHash>) -> [TreeHash] {
        let n = leaves.count
        guard n > 1 else { return [] }
        let k = splitPoint(n)
        let start = leaves.startIndex
        if index < k {
            return path(index, leaves[start..<start + k]) + [root(of: leaves[(start + k)...])]
        }
        return path(index - k, leaves[(start + k)...]) + [root(of: leaves[start..<start + k])]
    }

    private static func subproof(_ m: Int, _ leaves: ArraySlice<TreeHash>, complete: Bool) -> [TreeHash] {
        let n = leaves.count
        if m == n { return complete ? [] : [root(of: leaves)] }
        let k = splitPoint(n)
        let start = leaves.startIndex
        if m <= k {
            return subproof(m, leaves[start..<start + k], complete: complete) + [root(of: leaves[(start + k)...])]
        }
        return subproof(m - k, leaves[(start + k)...], complete: false) + [root(of: leaves[start..<start + k])]
    }

    /// The root implied by an inclusion proof (RFC 9162 section 2.1.3.2), or `nil` if the proof is malformed.
    public static func rootFromInclusionProof(
        index: UInt64, treeSize: UInt64, leafHash: TreeHash, proof: [TreeHash]
    )
        -> TreeHash?
    {
        guard index < treeSize else { return nil }
        var fn = index
        var sn = treeSize - 1
        var node = leafHash
        for sibling in proof {
            guard sn != 0 else { return nil }
            if fn & 1 == 1 || fn == sn {
                node = nodeHash(sibling, node)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                node = nodeHash(node, sibling)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 ? node : nil
    }

    /// Whether `proof` shows leaf `index` with hash `leafHash` is in the tree of size `treeSize` with root `root`.
    public static func verifyInclusion(
        index: UInt64, treeSize: UInt64, leafHash: TreeHash, proof: [TreeHash],
        root: TreeHash
    ) -> Bool {
        rootFromInclusionProof(index: index, treeSize: treeSize, leafHash: leafHash, proof: proof) == root
    }

    /// Whether `proof` shows the tree (`oldSize`, `oldRoot`) is a prefix of (`newSize`, `newRoot`)
    /// (RFC 9162 section 2.1.4.2).
    public static func verifyConsistency(
        oldSize: UInt64, newSize: UInt64, oldRoot: TreeHash, newRoot: TreeHash,
        proof: [TreeHash]
    ) -> Bool {
        guard oldSize <= newSize else { return false }
        if oldSize == newSize { return proof.isEmpty && oldRoot == newRoot }
        if oldSize == 0 { return proof.isEmpty }
        guard !proof.isEmpty else { return false }
        var path = proof[...]
        // When the old tree is a perfect subtree, its root is the implicit first node of the proof.
        if oldSize & (oldSize - 1) == 0 { path = [oldRoot] + path }
        var fn = oldSize - 1
        var sn = newSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var oldNode = path.first!
        var newNode = oldNode
        for sibling in path.dropFirst() {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                oldNode = nodeHash(sibling, oldNode)
                newNode = nodeHash(sibling, newNode)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                newNode = nodeHash(newNode, sibling)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && oldNode == oldRoot && newNode == newRoot
    }
}

extension Merkle {
    /// The RFC 6962 consistency proof from the tree of `old` (a compact range: the perfect-subtree roots of the first
    /// `old.size` leaves) to that tree with `newLeaves` appended. Needs only the new leaves and O(log n) old hashes,
    /// so a log submitting to a witness reads what was appended since the witness's size, not the whole log.
    /// Returns `nil` if the proof would need an old node the compact range does not hold (it never does).
    static func consistencyProof(from old: CompactRange, appending newLeaves: ArraySlice<TreeHash>) -> [TreeHash]? {
        let m = Int(old.size)
        let n = m + newLeaves.count
        guard m > 0, m < n else { return [] }
        // The compact range's nodes by start position: one perfect subtree per set bit of m, largest first.
        var nodes: [Int: (size: Int, hash: TreeHash)] = [:]
        var start = 0
        var hashes = old.hashes[...]
        for bit in stride(from: Int.bitWidth - 1, through: 0, by: -1) where m & (1 << bit) != 0 {
            guard let hash = hashes.popFirst() else { return nil }
            nodes[start] = (1 << bit, hash)
            start += 1 << bit
        }
        let base = newLeaves.startIndex
        func root(_ a: Int, _ b: Int) -> TreeHash? {
            if a >= m { return Merkle.root(of: newLeaves[(base + a - m)..<(base + b - m)]) }
            if let node = nodes[a], node.size == b - a { return node.hash }
            guard b > m else { return nil }
            let k = splitPoint(b - a)
            guard let left = root(a, a + k), let right = root(a + k, b) else { return nil }
            return nodeHash(left, right)
        }
        // RFC 6962 section 2.1.2 SUBPROOF over the leaf range a..<b.
        func subproof(_ m: Int, _ a: Int, _ b: Int, complete: Bool) -> [TreeHash]? {
            if m == b - a {
                guard !complete else { return [] }
                return root(a, b).map { [$0] }
            }
            let k = splitPoint(b - a)
            if m <= k {
                guard let rest = subproof(m, a, a + k, complete: complete), let right = root(a + k, b) else {
                    return nil
                }
                return rest + [right]
            }
            guard let rest = subproof(m - k, a + k, b, complete: false), let left = root(a, a + k) else { return nil }
            return rest + [left]
        }
        return subproof(m, 0, n, complete: true)
    }
}
