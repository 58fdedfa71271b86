import Testing

@testable import VaultServer

@Suite struct GatewayMiddlewareTests {
    @Test func millisecondsHaveTwoDecimals() {
        #expect(GatewayMiddleware.milliseconds(.microseconds(1_234_567)) == "1234.56")
        #expect(GatewayMiddleware.milliseconds(.milliseconds(5)) == "5.00")
        #expect(GatewayMiddleware.milliseconds(.microseconds(70)) == "0.07")
        #expect(GatewayMiddleware.milliseconds(.seconds(2) + .microseconds(100)) == "2000.10")
    }

    @Test func bearerTokenNeedsTheSchemeAndAValue() {
        #expect(GatewayMiddleware.bearerToken("Bearer abc") == "abc")
        #expect(GatewayMiddleware.bearerToken("bearer  abc ") == "abc")
        #expect(GatewayMiddleware.bearerToken("Basic abc") == nil)
        #expect(GatewayMiddleware.bearerToken("Bearer   ") == nil)
        #expect(GatewayMiddleware.bearerToken(nil) == nil)
    }
}
