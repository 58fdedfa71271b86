import Foundation
import Testing

@testable import ModelScan

/// The bypass of the twenty-second adversarial review of the scanner (2026-12-05): a trial reading that ended on a
/// joblib array the scanner cannot size (`joblib.array-unknown`) or a wrapper inside a frame that goes on
/// (`joblib.array-in-frame`) was taken as "not a pickle", so a joblib pickle without `PROTO` whose array bytes are
/// `0xFF` passed (alone, or in an HDF5 user block) while `joblib.load` ran the call after them. The files are kept
/// as raw DEFLATE; their payloads run `touch /nonexistent/review22-N`.
@Suite struct ModelScannerReview22AttackTests {
    /// 1: a wrapper with dtype `'d'`, which the scanner does not size.
    static let unsizedArray = ModelScannerReview20AttackTests.file(
        "LY47DsIwEERFu6egDAVJyA0QFUKioDBlZDsrYvBPtkPigoKCglOD81lpixk9zQy/GyYFy3WnbKyt4A+JcB7F3jkar45aiw4271dG"
            + "fMe4pN4Dn2jQDR0ZIL6lFuG0+hDjmkSTA5AmxOQt5Cwy0sCxLNPvIFwIldL0tVLUwpfM/VNeTaW4aYU61CwG9GkO+y1Xcmu8GMBH"
            + "H1ClxGA63q4LbTQOInk6FA6fAvuq2o4t+R8=")

    /// 2: a wrapper whose `BUILD` does not end its frame.
    static let arrayInFrame = ModelScannerReview20AttackTests.file(
        "LY47DsIwEESh3VNQQkESUtEiKoREQWHKyHYWMPgn2wFcUFBQcAAOwSnBJBlpixk9zc77M+jET4ZJwTLdKBsrK/hZImz+ZuEcjTtH"
            + "rUUHk8d9THzDuKTeA29p0DX9M0D8kVqE9fBJjKsTTZZA6hBT1pOdGZP9HFZFkW4GYUuolOZaKUUtvEg3oC2sqBQHrVCHisWAPu1h"
            + "xbcXt8aLG/joA6pUGUzDj6NcG403kTIdcocXgdeynJbpS/YD")

    /// 3: 1 in the 512-byte user block of an HDF5 file that h5py reads.
    static let hdf5UserBlock = ModelScannerReview20AttackTests.file(
        "7VNNS8NAFMwmLZQVwd7EU471YBtr71pspSJUqbJ6i5tksdF8LNnUNgcPHoT2n/hT/Fd1k90VmoMXL6IZCMO8N3lvyU7cx9gJfKcd"
            + "zUKa2dR3nwICx7noJwnObhNMKUng/utLC7GZ4waYMegWbhh5OPdAxKaYEngB3lCceNyNTiHy0ozXpFOIFvLguWXx5xCmE4SDIJ7b"
            + "YYgpXCGxv5hn48B/iEISpbaTpYTx4zhrCculMfMXkGUsJSGfmMYzd2p2ojgiC5/XorSTkGefzLvdgyO+pa1V+A6r0eBsG+7BQjQa"
            + "Wk3bEQ1dkPrwJtzU6v17yUDyUvK7ruqg6O3KelPOL/tuJsNh7l6XoPZYNcGN6sr+JUbD/lXOd1LLlGof+qZvXsrj6Id7gVYXs4DS"
            + "IskAiIKM5RcbvJ93muaxzOqJ1tvSemtD9Ou8mvd1XQciz2KeAVS0zdIJlr/qHq7Hl4P8j1b/oWlU2axQ4a/iEw==")

    @Test(arguments: [
        ("unsized array, .dat", unsizedArray, "f1.dat"), ("unsized array, no extension", unsizedArray, "model"),
        ("array in a frame", arrayInFrame, "f2.dat"), ("HDF5 user block", hdf5UserBlock, "model.h5"),
    ])
    func aTrialEndingOnAJoblibArrayFindingIsScannedAsAPickle(_ label: String, _ bytes: [UInt8], _ name: String) {
        #expect(bytes.count > 200, "\(label): the fixture inflates")
        let report = ModelScanner().scan(bytes: bytes, name: name)
        #expect(report.isRefusedByDefault, "\(label): \(report.findings)")
        #expect(report.findings.contains { $0.rule.hasPrefix("joblib.array") }, "\(label): \(report.findings)")
    }
}
