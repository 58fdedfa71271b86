import Foundation
import Testing

@testable import ModelScan

/// Scanner review 55: CPython takes a pickled `date`, `datetime` or `time` state as it is, checking only the month;
/// year 0 made `weekday()` -1 and `ctime()` read `DayNames[-1]` (SIGSEGV under all four loaders). A state is now read
/// and checked as the constructor checks the fields (`pickle.datetime-state`).
@Suite struct ModelScannerReview55AttackTests {
    /// What `pickle.dumps` writes for real values at protocols 0, 2 and 4: text escapes, `_codecs.encode` and bytes.
    static let real: [(String, String)] = [
        (
            "date2024 protocol 0",
            "Y2RhdGV0aW1lCmRhdGUKcDAKKGNfY29kZWNzCmVuY29kZQpwMQooVgfoAh0KcDIKVmxhdGluMQpwMwp0cDQKUnA1CnRwNgpS"
                + "cDcKLg=="
        ),
        (
            "datetimeFold protocol 0",
            "Y2RhdGV0aW1lCmRhdGV0aW1lCnAwCihjX2NvZGVjcwplbmNvZGUKcDEKKFYH6AsDAR5cdTAwMDAPQj8KcDIKVmxhdGluMQpw"
                + "Mwp0cDQKUnA1CnRwNgpScDcKLg=="
        ),
        (
            "timeLate protocol 0",
            "Y2RhdGV0aW1lCnRpbWUKcDAKKGNfY29kZWNzCmVuY29kZQpwMQooVhc7Ow9CPwpwMgpWbGF0aW4xCnAzCnRwNApScDUKdHA2"
                + "ClJwNwou"
        ),
        (
            "datetimeUTC protocol 0",
            "Y2RhdGV0aW1lCmRhdGV0aW1lCnAwCihjX2NvZGVjcwplbmNvZGUKcDEKKFYH6gwFFFx1MDAwMFx1MDAwMFx1MDAwMFx1MDAw"
                + "MFx1MDAwMApwMgpWbGF0aW4xCnAzCnRwNApScDUKY2RhdGV0aW1lCnRpbWV6b25lCnA2CihjZGF0ZXRpbWUKdGltZWRlbHRh"
                + "CnA3CihJMApJMApJMAp0cDgKUnA5CnRwMTAKUnAxMQp0cDEyClJwMTMKLg=="
        ),
        (
            "date2024 protocol 2",
            "gAJjZGF0ZXRpbWUKZGF0ZQpxAGNfY29kZWNzCmVuY29kZQpxAVgFAAAAB8OoAh1xAlgGAAAAbGF0aW4xcQOGcQRScQWFcQZS"
                + "cQcu"
        ),
        (
            "datetimeFold protocol 2",
            "gAJjZGF0ZXRpbWUKZGF0ZXRpbWUKcQBjX2NvZGVjcwplbmNvZGUKcQFYCwAAAAfDqAsDAR4AD0I/cQJYBgAAAGxhdGluMXED"
                + "hnEEUnEFhXEGUnEHLg=="
        ),
        (
            "timeLate protocol 2",
            "gAJjZGF0ZXRpbWUKdGltZQpxAGNfY29kZWNzCmVuY29kZQpxAVgGAAAAFzs7D0I/cQJYBgAAAGxhdGluMXEDhnEEUnEFhXEG"
                + "UnEHLg=="
        ),
        (
            "datetimeUTC protocol 2",
            "gAJjZGF0ZXRpbWUKZGF0ZXRpbWUKcQBjX2NvZGVjcwplbmNvZGUKcQFYCwAAAAfDqgwFFAAAAAAAcQJYBgAAAGxhdGluMXED"
                + "hnEEUnEFY2RhdGV0aW1lCnRpbWV6b25lCnEGY2RhdGV0aW1lCnRpbWVkZWx0YQpxB0sASwBLAIdxCFJxCYVxClJxC4ZxDFJx"
                + "DS4="
        ),
        ("date2024 protocol 4", "gASVIAAAAAAAAACMCGRhdGV0aW1llIwEZGF0ZZSTlEMEB+gCHZSFlFKULg=="),
        ("datetimeFold protocol 4", "gASVKgAAAAAAAACMCGRhdGV0aW1llIwIZGF0ZXRpbWWUk5RDCgfoiwMBHgAPQj+UhZRSlC4="),
        ("timeLate protocol 4", "gASVIgAAAAAAAACMCGRhdGV0aW1llIwEdGltZZSTlEMGlzs7D0I/lIWUUpQu"),
        (
            "datetimeUTC protocol 4",
            "gASVVwAAAAAAAACMCGRhdGV0aW1llIwIZGF0ZXRpbWWUk5RDCgfqDAUUAAAAAACUaACMCHRpbWV6b25llJOUaACMCXRpbWVk"
                + "ZWx0YZSTlEsASwBLAIeUUpSFlFKUhpRSlC4="
        ),
    ]
    /// The same forms with a field out of range: year 0, 30 February, hour 24, a microsecond of 1,000,000, month 0.
    static let outOfRange: [(String, String)] = [
        (
            "dateYear0 protocol 0",
            "Y2RhdGV0aW1lCmRhdGUKcDAKKGNfY29kZWNzCmVuY29kZQpwMQooVlx1MDAwMFx1MDAwMAEBCnAyClZsYXRpbjEKcDMKdHA0"
                + "ClJwNQp0cDYKUnA3Ci4="
        ),
        (
            "dateFeb30 protocol 0",
            "Y2RhdGV0aW1lCmRhdGUKcDAKKGNfY29kZWNzCmVuY29kZQpwMQooVgfoAh4KcDIKVmxhdGluMQpwMwp0cDQKUnA1CnRwNgpS"
                + "cDcKLg=="
        ),
        (
            "datetimeHour24 protocol 0",
            "Y2RhdGV0aW1lCmRhdGV0aW1lCnAwCihjX2NvZGVjcwplbmNvZGUKcDEKKFYH6AEBGFx1MDAwMFx1MDAwMFx1MDAwMFx1MDAw"
                + "MFx1MDAwMApwMgpWbGF0aW4xCnAzCnRwNApScDUKdHA2ClJwNwou"
        ),
        (
            "timeMicro protocol 0",
            "Y2RhdGV0aW1lCnRpbWUKcDAKKGNfY29kZWNzCmVuY29kZQpwMQooVgFcdTAwMDBcdTAwMDAPQkAKcDIKVmxhdGluMQpwMwp0"
                + "cDQKUnA1CnRwNgpScDcKLg=="
        ),
        (
            "dateMonth0 protocol 0",
            "Y2RhdGV0aW1lCmRhdGUKcDAKKGNfY29kZWNzCmVuY29kZQpwMQooVgfoXHUwMDAwAQpwMgpWbGF0aW4xCnAzCnRwNApScDUK"
                + "dHA2ClJwNwou"
        ),
        (
            "dateYear0 protocol 2",
            "gAJjZGF0ZXRpbWUKZGF0ZQpxAGNfY29kZWNzCmVuY29kZQpxAVgEAAAAAAABAXECWAYAAABsYXRpbjFxA4ZxBFJxBYVxBlJx"
                + "By4="
        ),
        (
            "dateFeb30 protocol 2",
            "gAJjZGF0ZXRpbWUKZGF0ZQpxAGNfY29kZWNzCmVuY29kZQpxAVgFAAAAB8OoAh5xAlgGAAAAbGF0aW4xcQOGcQRScQWFcQZS"
                + "cQcu"
        ),
        (
            "datetimeHour24 protocol 2",
            "gAJjZGF0ZXRpbWUKZGF0ZXRpbWUKcQBjX2NvZGVjcwplbmNvZGUKcQFYCwAAAAfDqAEBGAAAAAAAcQJYBgAAAGxhdGluMXED"
                + "hnEEUnEFhXEGUnEHLg=="
        ),
        (
            "timeMicro protocol 2",
            "gAJjZGF0ZXRpbWUKdGltZQpxAGNfY29kZWNzCmVuY29kZQpxAVgGAAAAAQAAD0JAcQJYBgAAAGxhdGluMXEDhnEEUnEFhXEG"
                + "UnEHLg=="
        ),
        (
            "dateMonth0 protocol 2",
            "gAJjZGF0ZXRpbWUKZGF0ZQpxAGNfY29kZWNzCmVuY29kZQpxAVgFAAAAB8OoAAFxAlgGAAAAbGF0aW4xcQOGcQRScQWFcQZS"
                + "cQcu"
        ),
        ("dateYear0 protocol 4", "gASVIAAAAAAAAACMCGRhdGV0aW1llIwEZGF0ZZSTlEMEAAABAZSFlFKULg=="),
        ("dateFeb30 protocol 4", "gASVIAAAAAAAAACMCGRhdGV0aW1llIwEZGF0ZZSTlEMEB+gCHpSFlFKULg=="),
        ("datetimeHour24 protocol 4", "gASVKgAAAAAAAACMCGRhdGV0aW1llIwIZGF0ZXRpbWWUk5RDCgfoAQEYAAAAAACUhZRSlC4="),
        ("timeMicro protocol 4", "gASVIgAAAAAAAACMCGRhdGV0aW1llIwEdGltZZSTlEMGAQAAD0JAlIWUUpQu"),
        ("dateMonth0 protocol 4", "gASVIAAAAAAAAACMCGRhdGV0aW1llIwEZGF0ZZSTlEMEB+gAAZSFlFKULg=="),
    ]

    @Test func realDatesAndTimesPass() {
        for (name, encoded) in Self.real {
            let report = scan([UInt8](Data(base64Encoded: encoded)!))
            #expect(!report.has("pickle.datetime-state"), "\(name): \(report.findings)")
            #expect(!report.isRefusedByDefault, "\(name): \(report.findings)")
        }
    }

    @Test func aStateWithAFieldOutOfRangeIsRefused() {
        for (name, encoded) in Self.outOfRange {
            let report = scan([UInt8](Data(base64Encoded: encoded)!))
            #expect(report.has("pickle.datetime-state"), "\(name): \(report.findings)")
            #expect(report.isRefusedByDefault, "\(name)")
        }
    }

    /// A state the scanner cannot read (made by a call) is high; the field-wise form is the constructor's to check.
    @Test func anUnreadableStateIsHighAndTheFieldWiseFormPasses() {
        var unreadable = PickleAssembler(protocol: 2)
        unreadable.global("datetime", "date")
        unreadable.global("builtins", "bytearray")
        unreadable.binInt1(4)
        unreadable.tuple1()
        unreadable.reduce()
        unreadable.tuple1()
        unreadable.reduce()
        unreadable.stop()
        #expect(scan(unreadable.bytes).has("pickle.datetime-state"), "\(scan(unreadable.bytes).findings)")
        var fields = PickleAssembler(protocol: 2)
        fields.global("datetime", "date")
        fields.mark()
        fields.binInt(2024)
        fields.binInt1(2)
        fields.binInt1(29)
        fields.tuple()
        fields.reduce()
        fields.stop()
        #expect(!scan(fields.bytes).has("pickle.datetime-state"), "\(scan(fields.bytes).findings)")
    }
}
