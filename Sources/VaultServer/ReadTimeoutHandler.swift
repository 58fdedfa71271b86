import HummingbirdCore
import NIOCore

/// Closes a connection whose first request head, or any request body, takes too long to arrive: a client that
/// connects and sends nothing (not even a TLS ClientHello), or trickles headers or a body a byte at a time, would
/// otherwise hold a connection for as long as it likes. It sits after the HTTP decoder, so it sees whole request
/// parts; between requests on a kept-alive connection Hummingbird's idle timeout applies.
final class ReadTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    // NIOHTTPTypes' request and response parts, named through HummingbirdCore (which re-exports neither).
    typealias InboundIn = HTTPUserEventHandler.InboundIn
    typealias InboundOut = HTTPUserEventHandler.InboundIn
    typealias OutboundIn = HTTPUserEventHandler.OutboundIn
    typealias OutboundOut = HTTPUserEventHandler.OutboundIn

    private let headerTimeout: TimeAmount
    private let bodyTimeout: TimeAmount
    private var deadline: Scheduled<Void>?
    private var sawFirstHead = false

    init(headerTimeout: Duration, bodyTimeout: Duration) {
        self.headerTimeout = Self.amount(headerTimeout)
        self.bodyTimeout = Self.amount(bodyTimeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, after: headerTimeout) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if !sawFirstHead { arm(context, after: headerTimeout) }
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            sawFirstHead = true
            disarm()
            arm(context, after: bodyTimeout)
        case .body:
            break
        case .end:
            disarm()
        }
        context.fireChannelRead(data)
    }

    private func arm(_ context: ChannelHandlerContext, after delay: TimeAmount) {
        guard deadline == nil else { return }
        let loop = context.eventLoop.assumeIsolatedUnsafeUnchecked()
        deadline = loop.scheduleTask(in: delay) { [weak self] in
            self?.deadline = nil
            context.close(promise: nil)
        }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }

    private static func amount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        let (nanos, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return .nanoseconds(overflow ? .max : nanos.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue)
    }
}

@available(*, unavailable)
extension ReadTimeoutHandler: Sendable {}
