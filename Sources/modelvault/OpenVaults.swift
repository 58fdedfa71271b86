import Foundation
import Synchronization
import Vault

/// Every `VaultAccess` a CLI run opened, so that each exit path (success, error, SIGINT, SIGTERM) closes it: closing
/// signs a final checkpoint over every entry the run appended, so no run leaves an unsigned tail.
///
/// `modelvault serve` closes its own access when the server stops; it does not register here.
enum OpenVaults {
    private static let opened = Mutex<[VaultAccess]>([])
    private static let signalSources = Mutex<[any DispatchSourceSignal]>([])

    /// Keeps `access` to be closed at exit and, on the first registration, takes over SIGINT and SIGTERM.
    static func register(_ access: VaultAccess) -> VaultAccess {
        let first = opened.withLock { list in
            list.append(access)
            return list.count == 1
        }
        if first { installSignalHandlers() }
        return access
    }

    /// Closes every registered access (each signs its final checkpoint) and returns the first failure.
    static func closeAll() async -> (any Error)? {
        let all = opened.withLock { list in
            defer { list = [] }
            return list
        }
        var failure: (any Error)?
        for access in all {
            do {
                try await access.close()
            } catch {
                failure = failure ?? error
            }
        }
        return failure
    }

    /// On SIGINT or SIGTERM: close (final checkpoint), then exit 130 or 143 as the shell expects.
    private static func installSignalHandlers() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            // Made inside the lock so the source never leaves it (dispatch sources are not Sendable).
            signalSources.withLock { sources in
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler {
                    Task {
                        if let error = await closeAll() {
                            FileHandle.standardError.write(
                                Data("modelvault: error: final audit checkpoint: \(String(describing: error))\n".utf8))
                        }
                        Foundation.exit(128 + signalNumber)
                    }
                }
                source.resume()
                sources.append(source)
            }
        }
    }
}
