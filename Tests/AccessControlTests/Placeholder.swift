import Testing

@Test func placeholderAccessControlTests() {}
