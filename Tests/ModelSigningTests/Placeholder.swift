import Testing

@Test func placeholderModelSigningTests() {}
