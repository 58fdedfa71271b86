import ArgumentParser
import Foundation
import Vault

/// `modelvault data`: encrypted, versioned datasets.
struct DataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Encrypted, versioned datasets: add, list, show, get.",
        subcommands: [DataAdd.self, DataList.self, DataShow.self, DataGet.self])
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

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        let vault = try await options.open()
        let urls = files.map { URL(filePath: $0, relativeTo: .currentDirectory()).absoluteURL }
        let info = try await vault.addDataset(name, files: urls, processed: processed, description: description)
        print(info.reference)
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
        for dataset in datasets {
            print("\(dataset.name)@\(dataset.latestVersion)  (\(dataset.versionCount) versions)")
        }
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

    func run() async throws {
        if try await options.whenRemote({ try await remote($0) }) { return }
        let reference = try DatasetReference(parsing: reference)
        let directory = URL(filePath: output, relativeTo: .currentDirectory()).absoluteURL
        let info = try await options.open().getDataset(reference, to: directory)
        print("\(info.reference) -> \(directory.path(percentEncoded: false)) (\(info.files.count) files)")
    }
}
