/// The window attributes of a Conv or pooling node, read from the node's attribute table once at load
/// (`Node.window`) instead of hashed by name on every run. Only read here: `Kernels.Window` still checks them
/// against each run's input, with the same errors as before.
struct WindowAttributes: Sendable {
    var kernelShape: [Int]?
    var strides: [Int]?
    var dilations: [Int]?
    var pads: [Int]?
    var autoPad: String
    var ceil: Bool
    var countIncludePad: Bool
    var group: Int

    init(node: Node) {
        kernelShape = node.ints("kernel_shape")?.map { Int(clamping: $0) }
        strides = node.ints("strides")?.map { Int(clamping: $0) }
        dilations = node.ints("dilations")?.map { Int(clamping: $0) }
        pads = node.ints("pads")?.map { Int(clamping: $0) }
        autoPad = node.string("auto_pad", "NOTSET")
        ceil = node.int("ceil_mode", 0) != 0
        countIncludePad = node.int("count_include_pad", 0) != 0
        group = Int(clamping: node.int("group", 1))
    }
}

extension Node {
    /// The window attributes: read at load for Conv and the pools, from the table otherwise.
    var windowAttributes: WindowAttributes { window ?? WindowAttributes(node: self) }
}
