import ArgumentParser
import Foundation
import SampleData
import Vault
import VaultCrypto

/// `modelvault data`: encrypted, versioned datasets.
struct DataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Encrypted, versioned datasets: add, list, show, get; the shipped samples.",
        subcommands: [DataAdd.self, DataList.self, DataShow.self, DataGet.self, DataSample.self])
}

/// `modelvault data sample NAME -o FILE`: the public UCI data sets the demo uses, so the README's examples have
/// data to work on without a clone of the source tree. Needs no vault.
struct DataSample: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample", abstract: "Write a shipped sample data set (CSV with a header) to a file.",
        discussion: """
            breast-cancer: 569 rows, 30 numeric features, label column `benign` (UCI Wisconsin diagnostic).
            digits: 1797 8x8 images, 64 features (0...16), label column `digit` (UCI optical digits).

            Examples:
              modelvault data sample breast-cancer -o breast_cancer.csv
              modelvault data sample digits -o digits.csv
            """)

    @Argument(help: "breast-cancer or digits.") var name: String
    @Option(name: .shortAndLong, help: "The CSV file to write (must not exist).") var output: String

    func run() async throws {
        let source: URL
        switch name {
        case "breast-cancer": source = SampleData.breastCancerCSV
        case "digits": source = SampleData.digitsCSV
        default: throw CLIError("unknown sample data set \(name) (breast-cancer or digits)", status: .usage)
        }
        let destination = URL(filePath: output, relativeTo: .currentDirectory()).absoluteURL
        guard !FileManager.default.fileExists(atPath: destination.path) else {
            throw CLIError("the output file \(output) already exists", status: .invalidInput)
        }
        try AtomicFile.write(try Data(contentsOf: source), to: destination)
        progress("wrote \(output) (\(name))")
    }
}

/// `modelvault data add NAME FILE...`.
struct DataAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Store files as a new dataset version; prints NAME@VERSION.")

    @OptionGroup var options: VaultOptions
    @Argument(help: "The dataset's name.") var name: String
    @Argument(help: "The files of the version.") var files: [String]
    @Flag(name: .long, help: "Store under data/processed instead of data/raw.") var processed = false
    @Option(name: .long, help: "A description of this version.") var description: String?
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        let vault = try await options.open()
        let urls = files.map { URL(filePath: $0, relativeTo: .currentDirectory()).absoluteURL }
        let info = try await ProgressReporter("encrypting", summary: "added").run {
            try await vault.addDataset(
                name, files: urls, processed: processed, description: description, progress: $0)
        }
        try printResult(json: json, ["reference": info.reference], text: info.reference)
    }
}

/// `modelvault data list`.
struct DataList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List datasets.")

    @OptionGroup var options: VaultOptions
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        if try await options.whenRemote({ try show(try await remoteDatasets($0)) }) { return }
        try show(try await options.open().datasets())
    }

    func show(_ datasets: [DatasetSummary]) throws {
        if json { return try printJSON(datasets) }
        printTable(
            ["NAME", "LATEST", "VERSIONS"],
            datasets.map { [$0.name, "\($0.latestVersion)", "\($0.versionCount)"] })
    }
}

/// `modelvault data show NAME[@V]`.
struct DataShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a dataset version.")

    @OptionGroup var options: VaultOptions
    @Argument(help: "NAME or NAME@VERSION.") var reference: String
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        let reference = try DatasetReference(parsing: reference)
        try show(try await options.open().dataset(reference))
    }

    func show(_ info: DatasetVersionInfo) throws {
        if json { return try printJSON(info) }
        print("dataset:     \(info.reference)")
        print("stored in:   data/\(info.processed ? "processed" : "raw")")
        if let description = info.description { print("description: \(description)") }
        print("digest:      sha256:\(info.digest)")
        print("created:     \(info.createdAt) by \(info.createdBy)")
        print("files:")
        for file in info.files {
            print("  \(file.path)  \(file.size) bytes  sha256:\(file.sha256)  key v\(file.keyVersion)")
        }
    }
}

/// `modelvault data get NAME[@V] -o DIR`.
struct DataGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Decrypt a dataset version into a new directory, checking digests.")

    @OptionGroup var options: VaultOptions
    @Argument(help: "NAME or NAME@VERSION.") var reference: String
    @Option(name: .shortAndLong, help: "The output directory (must not exist or be empty).") var output: String
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        let reference = try DatasetReference(parsing: reference)
        let directory = URL(filePath: output, relativeTo: .currentDirectory()).absoluteURL
        let vault = try await options.open()
        let info = try await ProgressReporter("decrypting", summary: "got").run {
            try await vault.getDataset(reference, to: directory, progress: $0)
        }
        try printPulled(json: json, info.reference, to: directory.path(percentEncoded: false), files: info.files.count)
    }
}
