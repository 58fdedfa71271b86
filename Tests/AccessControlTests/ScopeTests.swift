import Foundation
import Testing

@testable import AccessControl

@Suite struct ScopeTests {
    @Test func parsesTheScopeSyntax() throws {
        #expect(try Scope("global") == .global)
        #expect(try Scope("model:fraud") == .model("fraud"))
        #expect(try Scope("dataset:claims-2024") == .dataset("claims-2024"))
        for bad in ["", "model:", "model", "team:x", "model:a b", "dataset:a:b"] {
            #expect(throws: AccessControlError.invalidScope, "\(bad)") { try Scope(bad) }
        }
    }

    @Test func roundTripsThroughTextAndJSON() throws {
        for scope in [Scope.global, .model("m"), .dataset("d")] {
            #expect(try Scope(scope.description) == scope)
            let binding = RoleBinding(role: .devops, scope: scope)
            let decoded = try JSONDecoder().decode(RoleBinding.self, from: JSONEncoder().encode(binding))
            #expect(decoded == binding)
        }
        #expect(RoleBinding(role: .devops, scope: .model("m")).description == "devops@model:m")
    }
}
