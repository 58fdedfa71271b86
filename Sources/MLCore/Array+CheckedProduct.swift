extension Array where Element == Int {
    /// The product of the elements, or `nil` when one is negative or the product passes `limit` (or overflows).
    ///
    /// Shapes and sizes arrive in untrusted files and requests: `reduce(1, *)` on them traps on overflow, which
    /// crashed every reader of a hostile `model_config.json`.
    func checkedProduct(limit: Int = .max) -> Int? {
        var product = 1
        for value in self {
            guard value >= 0 else { return nil }
            let (next, overflow) = product.multipliedReportingOverflow(by: value)
            guard !overflow, next <= limit else { return nil }
            product = next
        }
        return product
    }
}
