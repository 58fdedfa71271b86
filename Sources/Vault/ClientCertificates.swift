public import AccessControl
public import Foundation
import GRDB

/// A client certificate that authenticates a principal over mutual TLS (`modelvault user cert add`), named by
/// the SHA-256 of its SubjectPublicKeyInfo: whoever proves possession of that key in a TLS handshake the server
/// verified against its client CA is this principal, with no bearer token.
///
/// Kept as an authenticated `trust_pins` row (`client-certificate.<hash>`), like a witness pin, so someone who can
/// write the vault directory cannot plant, change or revive a mapping without the catalog refusing the row or its
/// state root.
public struct ClientCertificateMapping: Sendable, Equatable, Codable {
    /// SHA-256 of the certificate's DER SubjectPublicKeyInfo, lowercase hex (64 characters).
    public var spkiSHA256: String
    /// The principal the certificate authenticates.
    public var principal: String
    /// The certificate's subject, for people reading `user cert list` (not used to authenticate).
    public var subject: String?
    /// After this the mapping authenticates nobody (the certificate's own expiry, or an earlier one).
    public var notAfter: Date?
    /// When the mapping was added.
    public var addedAt: Date

    /// Creates a mapping after checking that `spkiSHA256` is a SHA-256 in lowercase hex.
    public init(
        spkiSHA256: String, principal: String, subject: String? = nil, notAfter: Date? = nil, addedAt: Date = Date()
    ) throws {
        let hash = spkiSHA256.lowercased()
        guard hash.utf8.count == 64, hash.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw VaultError(
                .invalidName, "a client certificate is named by the SHA-256 of its public key (64 hex digits)")
        }
        if let subject, subject.utf8.count > 1024 || subject.contains(where: { $0.isNewline }) {
            throw VaultError(.invalidName, "the certificate subject is too long or spans lines")
        }
        self.spkiSHA256 = hash
        self.principal = principal
        self.subject = subject
        self.notAfter = notAfter.map { Date(timeIntervalSince1970: $0.timeIntervalSince1970.rounded(.down)) }
        self.addedAt = Date(timeIntervalSince1970: addedAt.timeIntervalSince1970.rounded(.down))
    }

    /// Whether the mapping still authenticates at `now`.
    public func isUsable(at now: Date = Date()) -> Bool { notAfter.map { now < $0 } ?? true }

    var pinName: String { ClientCertificatePins.prefix + spkiSHA256 }
}

enum ClientCertificatePins {
    static let prefix = "client-certificate."

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    static func all(_ db: Database) throws -> [ClientCertificateMapping] {
        try TrustPin.clientCertificatePins(db).map { pin in try decode(name: pin.name, value: pin.value) }
    }

    static func find(_ spkiSHA256: String, _ db: Database) throws -> ClientCertificateMapping? {
        let name = prefix + spkiSHA256
        guard let value = try TrustPin.value(named: name, db) else { return nil }
        return try decode(name: name, value: value)
    }

    private static func decode(name: String, value: String) throws -> ClientCertificateMapping {
        guard let mapping = try? decoder.decode(ClientCertificateMapping.self, from: Data(value.utf8)),
            mapping.pinName == name
        else { throw VaultError(.tampered, "trust_pins[name=\(name)]: not a client certificate mapping") }
        return mapping
    }

    static func set(_ mapping: ClientCertificateMapping, _ db: Database) throws {
        try TrustPin.set(named: mapping.pinName, to: String(decoding: try encoder.encode(mapping), as: UTF8.self), db)
    }

    static func remove(_ spkiSHA256: String, _ db: Database) throws -> Bool {
        try TrustPin.remove(named: prefix + spkiSHA256, db)
    }

    /// Drops every mapping of `principal` (it was removed: a later principal of the same name gets none of them).
    static func removeAll(of principal: String, _ db: Database) throws {
        for mapping in try all(db) where mapping.principal == principal { _ = try remove(mapping.spkiSHA256, db) }
    }
}

extension VaultAccess {
    /// The caller a verified client certificate authenticates, named by the SHA-256 of its SubjectPublicKeyInfo
    /// (lowercase hex), recording nothing (the server audits each request itself).
    ///
    /// Deny by default: a certificate with no mapping, a mapping past its `notAfter`, a mapping for a removed
    /// principal, or a catalog that fails authentication (a planted row) authenticates nobody.
    ///
    /// - Throws: `AccessControlError.invalidToken` when the certificate authenticates nobody.
    public func caller(presentingCertificateSPKI spkiSHA256: String, now: Date = Date()) throws -> Caller {
        let hash = spkiSHA256.lowercased()
        let found = try vault.catalog.read { db -> (ClientCertificateMapping, [RoleBinding])? in
            guard let mapping = try ClientCertificatePins.find(hash, db),
                let id = try AccessCatalog.principalID(mapping.principal, db)
            else { return nil }
            return (mapping, try AccessCatalog.bindings(ofPrincipal: id, db))
        }
        guard let (mapping, bindings) = found, mapping.isUsable(at: now) else {
            throw AccessControlError.invalidToken
        }
        return Caller(principal: mapping.principal, bindings: bindings, tokenID: "")
    }
}

extension VaultSession {
    /// `user.manage`: maps a client certificate (by its public key's SHA-256) to an existing principal; replaces an
    /// earlier mapping of the same key.
    public func addClientCertificate(_ mapping: ClientCertificateMapping) async throws {
        try await perform(.userManage, on: .global, resource: "principal:\(mapping.principal)") {
            try vault.catalog.write { db in
                _ = try AccessCatalog.requirePrincipal(mapping.principal, db)
                try ClientCertificatePins.set(mapping, db)
            }
        }
    }

    /// `user.list`: every client certificate mapping.
    public func clientCertificates() async throws -> [ClientCertificateMapping] {
        try await perform(.userList, on: .global, resource: "principals") {
            try vault.catalog.read { db in try ClientCertificatePins.all(db) }
        }
    }

    /// `user.manage`: removes the mapping of the certificate whose public key hashes to `spkiSHA256`; from then on
    /// that certificate authenticates nobody.
    public func removeClientCertificate(spkiSHA256: String) async throws {
        try await perform(.userManage, on: .global, resource: "client-certificate") {
            try vault.catalog.write { db in
                guard try ClientCertificatePins.remove(spkiSHA256.lowercased(), db) else {
                    throw VaultError(.notFound, "no client certificate mapping for that public key")
                }
            }
        }
    }
}
