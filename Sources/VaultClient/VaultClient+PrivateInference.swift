import AsyncHTTPClient
public import Foundation
import NIOCore
import NIOHTTP1

/// The private-inference route, `POST /v1/models/{model}/private-infer`: the caller's evaluation keys and
/// encrypted rows in (`MVHE-PIR1`), the encrypted scores out. The server sees no plaintext and no secret key.
extension VaultClient {
    /// What `GET /v1/models/{model}` says about a model for private inference: its versions and aliases, and the
    /// versions this server serves (default first: the one the private-inference route evaluates).
    public struct ServedModelDetail: Sendable, Decodable {
        /// The model's version numbers, as strings.
        public var versions: [String]
        /// Alias name → version.
        public var aliases: [String: String]
        /// The versions being served, default first; empty when the server serves none of them.
        public var served: [ServedVersion]

        /// One served version, as its OIP metadata describes it.
        public struct ServedVersion: Sendable, Decodable {
            /// The served version (one element).
            public var versions: [String]
            /// The classes, in the order of the model's scores; nil when the model names none.
            public var classNames: [String]?

            enum CodingKeys: String, CodingKey { case versions, parameters }
            enum ParameterKeys: String, CodingKey { case classNames = "class_names" }

            public init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                versions = try container.decode([String].self, forKey: .versions)
                let parameters = try? container.nestedContainer(keyedBy: ParameterKeys.self, forKey: .parameters)
                classNames = try parameters?.decodeIfPresent([String].self, forKey: .classNames)
            }
        }

        private struct Version: Decodable { var version: String }
        enum CodingKeys: String, CodingKey { case versions, aliases, served }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            versions = try container.decode([Version].self, forKey: .versions).map(\.version)
            aliases = try container.decode([String: String].self, forKey: .aliases)
            served = try container.decodeIfPresent([ServedVersion].self, forKey: .served) ?? []
        }
    }

    /// `GET /v1/models/{model}` with the `served` versions.
    public func servedModel(_ name: String) async throws -> ServedModelDetail {
        try await decode(ServedModelDetail.self, .GET, Self.path("", "v1", "models", name))
    }

    /// `POST /v1/models/{model}/private-infer`: sends a serialised private-inference request (`MVHE-PIR1`) and
    /// returns the serialised encrypted scores. The server checks `model.private-infer` and its own policy.
    public func privateInfer(_ name: String, request body: [UInt8]) async throws -> Data {
        let path = Self.path("", "v1", "models", name, "private-infer")
        var request = HTTPClientRequest(url: configuration.server.absoluteString + path)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.token)")
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await execute(request)
        do {
            return Data(buffer: try await response.body.collect(upTo: configuration.maxResponseBytes))
        } catch {
            throw VaultClientError(.failure, "the server's private-inference answer was cut off or too large")
        }
    }
}
