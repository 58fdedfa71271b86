import Testing

@Test func placeholderAuditLogTests() {}
