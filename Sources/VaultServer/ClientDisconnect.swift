import HummingbirdCore
import NIOCore

/// Watches a connection for its client going away, so that a long server-side ML job can stop (#14: "cancellable
/// when the client goes away").
///
/// Hummingbird neither cancels a route handler whose client left nor closes the channel when the client closes its
/// side: the server allows remote half-closure, so a departing client raises only the `inputClosed` user event,
/// and the close future waits for the response (the first attempt, which watched the close future, never fired).
/// This handler sits after the HTTP decoder and treats `inputClosed` or `channelInactive` as "the client left":
/// an HTTP/1.1 client that stops sending while awaiting a long job has given up on it (nginx reads it the same
/// way). It lives on the channel's event loop; ``ClientDisconnect/cancelling(on:_:)`` registers jobs with it.
final class ClientDisconnectHandler: ChannelInboundHandler, RemovableChannelHandler {
    // NIOHTTPTypes' request parts, named through HummingbirdCore; passed on untouched.
    typealias InboundIn = HTTPUserEventHandler.InboundIn
    typealias InboundOut = HTTPUserEventHandler.InboundIn

    private var clientLeft = false
    private var nextID = 0
    private var watchers: [Int: @Sendable () -> Void] = [:]

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { left() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        left()
        context.fireChannelInactive()
    }

    /// Calls `action` once when the client leaves (at once if it already has); returns an id for ``unwatch(_:)``.
    func watch(_ action: @escaping @Sendable () -> Void) -> Int? {
        guard !clientLeft else {
            action()
            return nil
        }
        nextID += 1
        watchers[nextID] = action
        return nextID
    }

    /// Forgets a finished job's action: a kept-alive connection serves many requests.
    func unwatch(_ id: Int) {
        watchers[id] = nil
    }

    private func left() {
        guard !clientLeft else { return }
        clientLeft = true
        let actions = watchers.values
        watchers.removeAll()
        for action in actions { action() }
    }
}

@available(*, unavailable)
extension ClientDisconnectHandler: Sendable {}

/// Runs a server-side job that stops when its client goes away.
enum ClientDisconnect {
    /// Runs `job` in a child task that is cancelled when the client of `channel` leaves (see
    /// ``ClientDisconnectHandler``) or when the calling task is cancelled. Without a channel (in process) or without
    /// the handler, `job` simply runs.
    static func cancelling<T: Sendable>(
        on channel: (any Channel)?, _ job: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        guard let channel else { return try await job() }
        let task = Task { try await job() }
        let id = try? await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: ClientDisconnectHandler.self).watch { task.cancel() }
        }.get()
        defer {
            if let id {
                channel.eventLoop.execute {
                    try? channel.pipeline.syncOperations.handler(type: ClientDisconnectHandler.self).unwatch(id)
                }
            }
        }
        return try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    }
}
