import Foundation
public import VaultCrypto

/// A model version ready to be streamed re-wrapped for one recipient, with nothing written anywhere (the server's
/// download, #14): the signed manifest and signature bundle as checked, then each stored file as a new header and
/// its unchanged payload.
///
/// Its signature, manifest and catalog entry were checked when it was made. Each file is checked when it is opened
/// (``open(_:)``, before any byte of it is sent), so a stored file swapped for another (say one re-wrapped from
/// another model: anyone can encrypt to the vault's recipient) never has its file key wrapped for the caller:
/// - for a receiver that decrypts the files itself and checks them against the signed manifest (the CLI's decrypting
///   pull, which needs `model.pull`), a file whose header the vault recorded as it wrote it (`blob_headers`) must
///   have that very header, which with the vault's identities fixes the file key, and a payload of the length its
///   signed size gives; the payload is not read here: the receiver authenticates it chunk by chunk and compares its
///   digest;
/// - for such a receiver, a file without a record (written before it existed, or re-wrapped by a rotation) has its
///   payload decrypted in memory and the plaintext's digest compared with the signed one;
/// - for a receiver that does not decrypt now (a re-wrap for a deployment or another key), the payload is copied into
///   a private file first, that copy is decrypted and checked and it is what is sent, and a recorded header is
///   required too. Whoever may pull a model knows its file keys, so with write access to the vault directory they
///   could put any payload under a recorded header, or rewrite the stored payload after the check: only a check of
///   the very bytes sent keeps it out of a re-wrap handed on unchecked (reviews of the recorded headers).
///
/// What is sent afterwards is read from the file (or copy) that was opened, under the key that was checked
/// (`AgeRewrappedSource`).
public struct RewrappedVersionStream: Sendable {
    /// One file of the stream, in the order it is sent.
    public struct Entry: Sendable {
        /// Its path in the pulled layout: `.modelvault/manifest.json`, `.modelvault/model.sig`, or `PATH.age`.
        public let path: String
        /// The bytes it takes in the stream.
        public let size: Int
        fileprivate let stored: StoredFile?
        fileprivate let contents: Data?
    }

    /// What one entry sends: a head held in memory, then a body read by offset.
    public struct Source: Sendable {
        /// The bytes sent first: a small file's contents, or a re-wrapped file's new header.
        public let head: [UInt8]
        /// The rest, read as it is sent; nil for a file held in memory.
        public let body: AgeRewrappedSource?
        /// The entry's bytes: head and body.
        public var size: Int { head.count + (body?.payloadCount ?? 0) }
    }

    /// The version streamed.
    public let name: String
    /// Its number.
    public let version: Int
    /// The files in the order they are sent: the signed manifest and signature bundle first (so a receiver checks
    /// them before it decrypts anything), then the model files by path.
    public let entries: [Entry]
    /// Whether opening the files decrypts every payload and checks its digest: only then does a complete stream count
    /// as a verification of the version.
    public let checksPayloads: Bool
    fileprivate let opener: @Sendable (StoredFile) throws -> Source
    /// Runs once the stream ended, with its error if it failed (the session records the verification and audits
    /// a failure there).
    var completion: @Sendable ((any Error)?) async -> Void = { _ in }

    /// Opens `entry` to be sent; blocking (a model file is decrypted in memory and checked first). Throws a
    /// `VaultError` naming the file when it does not decrypt or does not match its signed digest.
    public func open(_ entry: Entry) throws -> Source {
        if let contents = entry.contents { return Source(head: Array(contents), body: nil) }
        let source = try opener(entry.stored!)
        guard source.size == entry.size else {
            throw VaultError(.tampered, "\(entry.path) of \(name)@\(version) changed while it was pulled")
        }
        return source
    }

    /// Tells the vault the stream is over: `error` is nil when every byte was sent.
    public func finish(_ error: (any Error)?) async { await completion(error) }
}

extension Vault {
    /// Plans a streamed re-wrapped pull of a version for `recipient` (an age public key): checks the version's
    /// signature, manifest and catalog entry and sizes every entry from the stored headers; no file is decrypted
    /// yet (``RewrappedVersionStream/open(_:)`` checks each file before sending it). `checkedByReceiver`: the receiver
    /// decrypts the files and checks them against the signed manifest, so a file with a recorded header needs only its
    /// header and length checked here.
    func rewrappedStream(
        _ reference: ModelReference, for recipient: String, checkedByReceiver: Bool = false
    ) throws -> RewrappedVersionStream {
        let (target, checked, identities) = try rewrapSource(reference, for: recipient)
        let suite = self.suite
        let layout = self.layout
        var entries = try Self.signatureFiles(of: checked).sorted { $0.key < $1.key }.map { path, data in
            RewrappedVersionStream.Entry(path: path, size: data.count, stored: nil, contents: data)
        }
        for file in checked.files.sorted(by: { $0.path < $1.path }) {
            let size: Int
            do {
                size = try suite.rewrappedSize(ofFileAt: layout.url(file.blobPath), using: identities, for: [target])
            } catch {
                throw Self.undecryptable(file, checked, error)
            }
            entries.append(.init(path: file.path + ".age", size: size, stored: file, contents: nil))
        }
        return RewrappedVersionStream(
            name: checked.row.name, version: checked.row.version, entries: entries,
            checksPayloads: !checkedByReceiver || checked.files.allSatisfy { $0.headerSHA256 == nil },
            opener: { file in
                let url = layout.url(file.blobPath)
                let opened: (source: AgeRewrappedSource, digest: FileDigest)
                do {
                    if checkedByReceiver, let header = file.headerSHA256,
                        let source = try suite.openRewrapped(
                            at: url, using: identities, for: [target], requiringHeaderSHA256: header)
                    {
                        // A payload cut short or grown (no key needed for either) is refused before its header leaves.
                        guard source.payloadCount == Age.sealedPayloadSize(ofPlaintext: file.size) else {
                            throw VaultError(
                                .tampered,
                                "\(file.path) of \(checked.row.name)@\(checked.row.version): the stored file's length "
                                    + "does not match its signed size (changed outside the vault)")
                        }
                        return RewrappedVersionStream.Source(head: source.header, body: source)
                    }
                    opened =
                        checkedByReceiver
                        ? try suite.openRewrapped(at: url, using: identities, for: [target])
                        : try suite.openRewrappedCopy(
                            at: url, using: identities, for: [target], requiringHeaderSHA256: file.headerSHA256)
                } catch let error as AgeError where error == .headerMismatch {
                    throw VaultError(
                        .tampered,
                        "\(file.path) of \(checked.row.name)@\(checked.row.version): the stored file's header is not "
                            + "the one the vault wrote (replaced outside the vault)")
                } catch let error as VaultError {
                    throw error
                } catch {
                    throw Self.undecryptable(file, checked, error)
                }
                // Checked before the header that wraps this file key for the caller leaves.
                try Self.check(opened.digest, of: file, checked)
                return RewrappedVersionStream.Source(head: opened.source.header, body: opened.source)
            })
    }
}
