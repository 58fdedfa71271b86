import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds a busy port before `serve` unlocks the vault and loads models (issue #20): the operator learns at once,
/// with the port named, instead of after a minute of decryption and with a raw errno.
enum PortCheck {
    /// Throws a `CLIError` naming `host:port` when no socket can bind there; port 0 always binds.
    static func requireFree(host: String, port: Int) throws {
        guard port != 0 else { return }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw CLIError("cannot resolve the address to bind, --host \(host)", status: .invalidInput)
        }
        defer { freeaddrinfo(list) }
        let descriptor = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard descriptor >= 0 else { return }  // Let the server report what it finds.
        defer { close(descriptor) }
        // As the server binds: a port in TIME_WAIT is free, one with a listener is not.
        var one: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if bind(descriptor, first.pointee.ai_addr, first.pointee.ai_addrlen) != 0 {
            let reason = errno == EADDRINUSE ? "already in use (another server?)" : String(cString: strerror(errno))
            throw CLIError("cannot listen on \(host):\(port): \(reason)", status: .failure)
        }
    }
}
