/// A YAML value as the deployment artifacts need it: block mappings (ordered), block sequences and scalars.
///
/// The manifests are written by hand rather than through a YAML library so that the output is deterministic
/// (keys in the order Kubernetes documentation uses) and every scalar is quoted exactly when YAML 1.1 or 1.2
/// could read it as something other than the string it is.
enum YAMLValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case sequence([YAMLValue])
    case mapping([YAMLPair])

    /// A mapping from ordered key-value pairs.
    static func map(_ pairs: KeyValuePairs<String, YAMLValue>) -> YAMLValue {
        .mapping(pairs.map { YAMLPair(key: $0.key, value: $0.value) })
    }

    /// A mapping of string values, sorted by key so that the output does not depend on dictionary order.
    static func labels(_ labels: [String: String]) -> YAMLValue {
        .mapping(labels.sorted { $0.key < $1.key }.map { YAMLPair(key: $0.key, value: .string($0.value)) })
    }
}

/// One entry of a YAML mapping.
struct YAMLPair: Sendable, Equatable {
    var key: String
    var value: YAMLValue
}

extension YAMLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .int(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension YAMLValue: ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    init(arrayLiteral elements: YAMLValue...) { self = .sequence(elements) }
    init(dictionaryLiteral elements: (String, YAMLValue)...) {
        self = .mapping(elements.map { YAMLPair(key: $0.0, value: $0.1) })
    }
}
