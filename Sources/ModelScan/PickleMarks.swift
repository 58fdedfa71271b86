/// The pickle interpreter's marks: the stack positions MARK recorded, newest last, kept as runs of equal positions.
///
/// Python keeps one list entry per MARK, without bound. Consecutive marks with nothing pushed between them share a
/// position, so a run costs one entry here: bytes of 0x28 (a joblib array's data read as opcodes) stay modelled
/// however many there are, and distinct positions are bounded by the stack's own bound.
struct PickleMarks {
    private var positions: [Int] = []
    private var counts: [Int] = []

    /// The number of distinct runs held.
    var runs: Int { positions.count }

    /// Whether no mark is held.
    var isEmpty: Bool { positions.isEmpty }

    /// The newest mark's stack position.
    var last: Int? { positions.last }

    /// Records a mark at stack position `position`.
    mutating func append(_ position: Int) {
        if positions.last == position {
            counts[counts.count - 1] += 1
        } else {
            positions.append(position)
            counts.append(1)
        }
    }

    /// Removes and returns the newest mark's position.
    mutating func popLast() -> Int? {
        guard let position = positions.last else { return nil }
        if counts[counts.count - 1] > 1 {
            counts[counts.count - 1] -= 1
        } else {
            positions.removeLast()
            counts.removeLast()
        }
        return position
    }

    /// Forgets every mark.
    mutating func removeAll() {
        positions.removeAll()
        counts.removeAll()
    }
}
