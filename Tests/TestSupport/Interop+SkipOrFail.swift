import Foundation
public import Testing

extension Interop {
    /// Ends the calling test when `peer` is missing: a failure when interop is required
    /// (`MODELVAULT_REQUIRE_INTEROP=1`, as in CI), otherwise a skip that the test run shows
    /// (`➜ Test … was cancelled: "<peer> not installed"`), never a silent pass.
    public static func skipOrFail(_ peer: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Never {
        if required {
            throw MissingPeer(description: "\(peer) is required (MODELVAULT_REQUIRE_INTEROP=1) but not installed")
        }
        try Test.cancel("\(peer) not installed", sourceLocation: sourceLocation)
    }

    /// A peer that CI requires and this machine lacks.
    public struct MissingPeer: Error, CustomStringConvertible {
        public let description: String
    }
}
