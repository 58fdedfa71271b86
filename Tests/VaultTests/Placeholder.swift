import Testing

@Test func placeholderVaultTests() {}
