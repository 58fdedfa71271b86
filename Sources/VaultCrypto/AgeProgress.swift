#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Progress within one file: the parallel age pipeline tells the observer bound here how many plaintext bytes it
/// has sealed or opened (and written), one segment (1 MiB) at a time, so a progress bar moves through a single
/// large file instead of jumping from 0% to 100%.
///
/// Bound to the calling thread for the duration of a synchronous body (the file APIs of `Age` are synchronous and
/// read the observer once, on that thread, when a pipeline run starts), so no file API changes its signature.
public enum AgeProgress {
    private final class Box {
        let observer: @Sendable (Int) -> Void
        init(_ observer: @escaping @Sendable (Int) -> Void) { self.observer = observer }
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "cannot create the progress key")
        return key
    }()

    /// Runs `body` with `observer` hearing the plaintext bytes of every pipeline run it starts on this thread.
    public static func withObserver<Result>(
        _ observer: (@Sendable (Int) -> Void)?, _ body: () throws -> Result
    ) rethrows -> Result {
        guard let observer else { return try body() }
        let box = Unmanaged.passRetained(Box(observer))
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, box.toOpaque())
        defer {
            pthread_setspecific(key, previous)
            box.release()
        }
        return try body()
    }

    /// The observer bound to the calling thread, if any.
    static var observer: (@Sendable (Int) -> Void)? {
        guard let raw = pthread_getspecific(key) else { return nil }
        return Unmanaged<Box>.fromOpaque(raw).takeUnretainedValue().observer
    }
}
