public import Foundation

/// The public UCI data sets shipped with ModelVault for the demo, tests and benchmarks.
public enum SampleData {
    /// Wisconsin diagnostic breast cancer: 569 rows, 30 numeric features, label column `benign`.
    public static var breastCancerCSV: URL { url(named: "breast_cancer") }

    /// Optical digits: 1797 8x8 images (64 features, values 0...16), label column `digit`.
    public static var digitsCSV: URL { url(named: "digits") }

    private static func url(named name: String) -> URL {
        guard let url = Bundle.module.url(forResource: name, withExtension: "csv", subdirectory: "Resources") else {
            fatalError("SampleData resource \(name).csv is missing from the bundle")
        }
        return url
    }
}
