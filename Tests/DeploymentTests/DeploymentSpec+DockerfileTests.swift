import Deployment
import Foundation
import Testing

@Suite struct DockerfileTests {
    /// The Dockerfile's instructions, with continuation lines joined and comments dropped.
    private func instructions(_ text: String) -> [(keyword: String, arguments: String)] {
        var joined: [String] = []
        var current = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if current.isEmpty && (trimmed.isEmpty || trimmed.hasPrefix("#")) { continue }
            if trimmed.hasSuffix("\\") {
                current += trimmed.dropLast() + " "
            } else {
                joined.append(current + trimmed)
                current = ""
            }
        }
        return joined.map { line in
            let keyword = line.prefix { !$0.isWhitespace }
            return (keyword.uppercased(), line.dropFirst(keyword.count).trimmingCharacters(in: .whitespaces))
        }
    }

    @Test func runsAsANumericNonRootUserOnBasesPinnedByTheGivenDigests() throws {
        let text = try #require(try DeploymentArtifacts(rendering: Fixtures.spec())["Dockerfile"])
        let steps = instructions(text)
        let froms = steps.filter { $0.keyword == "FROM" }.map(\.arguments)
        #expect(froms == [Fixtures.builderImage + " AS build", Fixtures.runtimeImage], "multi-stage, given digests")
        for from in froms {
            let reference = String(from.split(separator: " ")[0])
            #expect(reference.contains("@sha256:"), "\(reference) is pinned by digest")
        }
        // The last USER applies to the runtime image; it is numeric and not root.
        let users = steps.filter { $0.keyword == "USER" }.map(\.arguments)
        let user = try #require(users.last)
        let uid = try #require(Int(user.split(separator: ":")[0]))
        #expect(uid >= 10000)
        let lastFrom = try #require(steps.lastIndex { $0.keyword == "FROM" })
        let userIndex = try #require(steps.lastIndex { $0.keyword == "USER" })
        #expect(userIndex > lastFrom)
        #expect(steps[userIndex...].allSatisfy { $0.keyword != "RUN" }, "nothing runs as root after USER")
    }

    /// Issue #19: the runtime stage is distroless-style. Nothing runs in it (no RUN, no SHELL, no package manager,
    /// no shell healthcheck: Kubernetes probes over HTTPS); it only copies the built program in from the build stage.
    @Test func runtimeStageRunsNothingAndHasNoShell() throws {
        let text = try #require(try DeploymentArtifacts(rendering: Fixtures.spec())["Dockerfile"])
        let steps = instructions(text)
        let lastFrom = try #require(steps.lastIndex { $0.keyword == "FROM" })
        let runtime = steps[(lastFrom + 1)...]
        #expect(!runtime.contains { $0.keyword == "RUN" || $0.keyword == "SHELL" || $0.keyword == "ONBUILD" })
        for step in runtime where step.keyword == "COPY" {
            #expect(step.arguments.contains("--from=build"), "the runtime stage copies only from the build stage")
        }
        for step in runtime where ["HEALTHCHECK", "ENTRYPOINT", "CMD"].contains(step.keyword) {
            #expect(!step.arguments.contains("sh"), "\(step.keyword) uses no shell: \(step.arguments)")
            #expect(step.arguments == "NONE" || step.arguments.hasPrefix("["), "exec form: \(step.arguments)")
        }
        #expect(!text.contains("apt-get") && !text.contains("/bin/bash"))
        // The libraries the binary needs beyond the base's are copied next to it and found through its rpath.
        #expect(text.contains("-rpath"))
        for library in DeploymentSpec.bundledLibraries { #expect(text.contains(library)) }
        // The build stage records what the image was built from, for `modelvault version` and `GET /v2`.
        #expect(text.contains("version --json --record-resolved Package.resolved \\\n"))
        #expect(text.contains("> /staging/build-info.json"))
    }

    @Test func bakesInNoSecretsAndHasAHealthcheck() throws {
        let text = try #require(try DeploymentArtifacts(rendering: Fixtures.spec())["Dockerfile"])
        let steps = instructions(text)
        #expect(!steps.contains { $0.keyword == "ADD" })
        // The one build argument is the source commit (not a secret); nothing is baked into the environment.
        let arguments = steps.filter { $0.keyword == "ARG" || $0.keyword == "ENV" }
        #expect(arguments.map(\.arguments) == ["MODELVAULT_SOURCE_COMMIT=unknown"], "no build-time or baked-in secrets")
        #expect(arguments.allSatisfy { $0.keyword == "ARG" })
        // Only the package's sources go into the build stage and only the built program into the runtime stage.
        let sources = steps.filter { $0.keyword == "COPY" }.flatMap { copy in
            copy.arguments.split(separator: " ").filter { !$0.hasPrefix("--") }.dropLast().map(String.init)
        }
        #expect(sources == ["Package.*", "Sources", "Tests", "/staging/"])
        // Declared, and off: the image has no shell or HTTP client; Kubernetes probes the health routes over HTTPS.
        let healthcheck = try #require(steps.first { $0.keyword == "HEALTHCHECK" })
        #expect(healthcheck.arguments == "NONE")
        let entrypoint = try #require(steps.first { $0.keyword == "ENTRYPOINT" })
        #expect(entrypoint.arguments == "[\"/app/modelvault\"]")
        let command = try #require(steps.first { $0.keyword == "CMD" })
        #expect(command.arguments.hasPrefix("[\"serve\""))
        #expect(steps.contains { $0.keyword == "EXPOSE" && $0.arguments == "8443" })
    }

    @Test func commandIsAValidJSONArrayOfTheServeArguments() throws {
        let text = try #require(try DeploymentArtifacts(rendering: Fixtures.spec())["Dockerfile"])
        let command = try #require(instructions(text).first { $0.keyword == "CMD" })
        let array = try #require(try JSONSerialization.jsonObject(with: Data(command.arguments.utf8)) as? [String])
        #expect(array.first == "serve")
        #expect(array.contains("--bundle"), "serving-only from the bundle")
        // The Deployment runs the same arguments.
        let rendered = try Rendered.make(Fixtures.spec())
        defer { rendered.remove() }
        let container = try rendered.object("kubernetes/deployment.yaml")["spec"]["template"]["spec"]["containers"][0]
        #expect(container["args"].array.compactMap(\.string) == array)
    }

    /// Issue #19: the build records the source commit, given as a build argument (the tree is copied without .git).
    @Test func buildRecordsTheSourceCommit() throws {
        let text = try #require(try DeploymentArtifacts(rendering: Fixtures.spec())["Dockerfile"])
        #expect(text.contains("ARG MODELVAULT_SOURCE_COMMIT=unknown\n"))
        #expect(text.contains("--commit \"$MODELVAULT_SOURCE_COMMIT\" > /staging/build-info.json"))
        #expect(text.contains("--build-arg MODELVAULT_SOURCE_COMMIT=\"$(git rev-parse HEAD)\""))
    }
}
