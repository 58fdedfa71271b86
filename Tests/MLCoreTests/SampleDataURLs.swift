import Foundation
import SampleData

/// The shipped data sets.
enum SampleDataURLs {
    static var breastCancer: URL { SampleData.breastCancerCSV }
    static var digits: URL { SampleData.digitsCSV }
}
