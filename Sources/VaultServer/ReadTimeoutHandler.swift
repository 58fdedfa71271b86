import HummingbirdCore
import NIOCore

/// Closes a connection whose request head, or any request body, takes too long to arrive: a client that connects
/// and sends nothing (not even a TLS ClientHello), or trickles headers or a body a byte at a time, would otherwise
/// hold a connection for as long as it likes. It sits after the HTTP decoder, so it sees whole request parts. The
/// header deadline is armed again once a kept-alive connection's response has ended (review 3: it was armed only
/// for the first request, so the next head could be trickled for the whole idle timeout).
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
    /// Between a request's head and its end.
    private var readingRequest = false
    /// Requests whose response has not ended yet.
    private var pendingResponses = 0

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
            readingRequest = true
            pendingResponses += 1
            disarm()
            arm(context, after: bodyTimeout)
        case .body:
            break
        case .end:
            readingRequest = false
            disarm()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), pendingResponses > 0 {
            pendingResponses -= 1
            // The next request head on this connection gets the header timeout too, counted from the end of the
            // response (never while a request is being answered: a long inference must not be cut off).
            if pendingResponses == 0 && !readingRequest { arm(context, after: headerTimeout) }
        }
        context.write(data, promise: promise)
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
