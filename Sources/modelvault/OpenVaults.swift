import Foundation
import Synchronization
import Vault
import VaultClient

/// Every `VaultAccess` a CLI run opened, so that each exit path (success, error, SIGINT, SIGTERM) closes it: closing
/// signs a final checkpoint over every entry the run appended, so no run leaves an unsigned tail.
///
/// `modelvault serve` closes its own access when the server stops; it does not register here.
enum OpenVaults {
    private static let opened = Mutex<[VaultAccess]>([])
    private static let signalSources = Mutex<[any DispatchSourceSignal]>([])

    /// Keeps `access` to be closed at exit and, on the first registration, takes over SIGINT and SIGTERM.
    static func register(_ access: VaultAccess) -> VaultAccess {
        opened.withLock { list in list.append(access) }
        takeOverSignals()
        return access
    }

    private static let handlersInstalled = Mutex<Bool>(false)

    /// Takes over SIGINT, SIGTERM, SIGHUP and SIGQUIT once: every remote command that downloads calls it too, so its staging directories (which may hold
    /// plaintext) are removed before the signal ends the run.
    static func takeOverSignals() {
        let first = handlersInstalled.withLock { installed in
            defer { installed = true }
            return !installed
        }
        if first { installSignalHandlers() }
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

    /// On SIGINT, SIGTERM, SIGHUP (a dropped terminal or ssh session) or SIGQUIT: remove pull staging directories,
    /// close (final checkpoint), then exit 128 + the signal's number (review 5, R2).
    private static func installSignalHandlers() {
        for signalNumber in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] {
            signal(signalNumber, SIG_IGN)
            // Made inside the lock so the source never leaves it (dispatch sources are not Sendable).
            signalSources.withLock { sources in
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler {
                    VaultClient.removeLiveStagingDirectories()
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
