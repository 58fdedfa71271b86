/// CRC-32 (IEEE 802.3, reflected), as zip stores it; slicing-by-8 so `--deep` keeps up with the disk.
struct CRC32 {
    private static let tables: [[UInt32]] = {
        var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for index in 0..<256 {
            var crc = UInt32(index)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            tables[0][index] = crc
        }
        for index in 0..<256 {
            for slice in 1..<8 {
                let previous = tables[slice - 1][index]
                tables[slice][index] = (previous >> 8) ^ tables[0][Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    private var state: UInt32 = 0xFFFF_FFFF

    /// The checksum of everything fed so far.
    var value: UInt32 { state ^ 0xFFFF_FFFF }

    mutating func update(_ bytes: [UInt8]) {
        let tables = Self.tables
        var crc = state
        tables[0].withUnsafeBufferPointer { t0 in
            tables[1].withUnsafeBufferPointer { t1 in
                tables[2].withUnsafeBufferPointer { t2 in
                    tables[3].withUnsafeBufferPointer { t3 in
                        tables[4].withUnsafeBufferPointer { t4 in
                            tables[5].withUnsafeBufferPointer { t5 in
                                tables[6].withUnsafeBufferPointer { t6 in
                                    tables[7].withUnsafeBufferPointer { t7 in
                                        bytes.withUnsafeBufferPointer { input in
                                            var index = 0
                                            let count = input.count
                                            while index + 8 <= count {
                                                let low =
                                                    crc
                                                    ^ (UInt32(input[index]) | UInt32(input[index + 1]) << 8
                                                        | UInt32(input[index + 2]) << 16 | UInt32(input[index + 3])
                                                        << 24)
                                                crc =
                                                    t7[Int(low & 0xFF)] ^ t6[Int((low >> 8) & 0xFF)]
                                                    ^ t5[Int((low >> 16) & 0xFF)] ^ t4[Int(low >> 24)]
                                                    ^ t3[Int(input[index + 4])] ^ t2[Int(input[index + 5])]
                                                    ^ t1[Int(input[index + 6])] ^ t0[Int(input[index + 7])]
                                                index += 8
                                            }
                                            while index < count {
                                                crc = (crc >> 8) ^ t0[Int((crc ^ UInt32(input[index])) & 0xFF)]
                                                index += 1
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        state = crc
    }

    /// The checksum of `bytes`.
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.value
    }
}
