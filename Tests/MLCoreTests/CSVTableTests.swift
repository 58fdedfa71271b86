import Foundation
import Testing

@testable import MLCore

@Test func csvParsesQuotesCRLFAndBlankLines() throws {
    let text = "a,\"b, quoted\",label\r\n1,2,\"say \"\"hi\"\"\"\r\n\r\n3,4,\"two\nlines\"\r\n"
    let table = try CSVTable.parse(Data(text.utf8))
    #expect(table.header == ["a", "b, quoted", "label"])
    #expect(table.rows == [["1", "2", "say \"hi\""], ["3", "4", "two\nlines"]])
    // Writing and re-reading gives the same table.
    #expect(try CSVTable.parse(Data(table.text().utf8)) == table)
}

@Test func csvErrorsNameRowAndColumnButNotTheValue() throws {
    let secret = "TOPSECRET"
    let data = Data("x,y,label\n1,2,a\n3,\(secret),b\n".utf8)
    let error = #expect(throws: MLError.self) { try Dataset.csv(data, label: "label") }
    #expect(error?.description.contains("row 2, column 'y'") == true)
    #expect(error?.description.contains(secret) == false)

    let ragged = #expect(throws: MLError.self) { try CSVTable.parse(Data("a,b\n1,2\n3\n".utf8)) }
    #expect(ragged?.description.contains("row 2 has 1 fields") == true)
    #expect(throws: MLError.self) { try CSVTable.parse(Data("a,b\n\"1,2\n".utf8)) }
    #expect(throws: MLError.self) { try CSVTable.parse(Data("a,b\n\"1\"x,2\n".utf8)) }
    #expect(throws: MLError.self) { try CSVTable.parse(Data("a,a\n1,2\n".utf8)) }
    #expect(throws: MLError.self) { try CSVTable.parse(Data()) }
    #expect(throws: MLError.self) { try Dataset.csv(Data("a,b\n1,2\n".utf8), label: "missing") }
    #expect(throws: MLError.self) { try Dataset.csv(Data("a,b\nnan,2\n".utf8), label: "b") }
}

@Test func numericLabelsAreOrderedByValueAndStringLabelsAlphabetically() throws {
    let numeric = try Dataset.csv(Data("f,digit\n1,10\n2,2\n3,2.0\n4,0\n".utf8), label: "digit")
    #expect(numeric.labelNames == ["0", "2", "10"])
    #expect(numeric.labels == [2, 1, 1, 0])
    let text = try Dataset.csv(Data("f,kind\n1,setosa\n2,\"versi, color\"\n3,setosa\n".utf8), label: "kind")
    #expect(text.labelNames == ["setosa", "versi, color"])
    #expect(text.labels == [0, 1, 0])
    #expect(text.featureNames == ["f"])
}

@Test func stratifiedSplitKeepsClassProportionsAndIsSeeded() throws {
    let data = try Dataset.csv(Data(contentsOf: SampleDataURLs.breastCancer), label: "benign")
    #expect(data.count == 569)
    #expect(data.featureNames.count == 30)
    let (train, test) = try data.stratifiedSplit(fraction: 0.2, seed: 42)
    #expect(train.count + test.count == 569)
    #expect(abs(test.count - 114) <= 1)
    let share = { (d: Dataset) in Double(d.labels.filter { $0 == 1 }.count) / Double(d.count) }
    #expect(abs(share(train) - share(test)) < 0.02)
    let again = try data.stratifiedSplit(fraction: 0.2, seed: 42)
    #expect(again.test == test)
    #expect(try data.stratifiedSplit(fraction: 0.2, seed: 43).test != test)
}

@Test func standardizationIsFittedOnTheGivenRows() {
    let features = Tensor(shape: [4, 2], scalars: [1, 5, 3, 5, 5, 5, 7, 5])
    let standardization = Standardization(fitting: features)
    #expect(standardization.mean == [4, 5])
    #expect(abs(standardization.std[0] - Float(5).squareRoot()) < 1e-6)
    #expect(standardization.std[1] == 1)  // constant column
    let applied = standardization.apply(to: features)
    #expect(abs(applied.scalars[0] + 3 / Float(5).squareRoot()) < 1e-6)
    #expect(applied.scalars[1] == 0)
}
