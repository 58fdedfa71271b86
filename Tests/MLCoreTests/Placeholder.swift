import Testing

@Test func placeholderMLCoreTests() {}
