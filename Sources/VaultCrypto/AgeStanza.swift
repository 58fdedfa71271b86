public import Foundation

/// One recipient stanza of an age header: `-> type args...` and a body.
public struct AgeStanza: Sendable, Hashable {
    /// The arguments; the first is the stanza type (for example `X25519`).
    public var arguments: [String]
    /// The decoded body.
    public var body: Data

    /// Creates a stanza.
    public init(arguments: [String], body: Data) {
        self.arguments = arguments
        self.body = body
    }

    /// The stanza type (first argument).
    public var type: String { arguments.first ?? "" }

    /// The encoded form: argument line and body wrapped at 64 columns, ending with a short line.
    var encoded: [UInt8] {
        var output = Array("-> \(arguments.joined(separator: " "))\n".utf8)
        let body = StrictBase64.encode(self.body, padded: false)
        var offset = 0
        while true {
            let end = min(offset + 64, body.count)
            output += body[offset..<end]
            output.append(UInt8(ascii: "\n"))
            if end - offset < 64 { break }
            offset = end
        }
        return output
    }
}
