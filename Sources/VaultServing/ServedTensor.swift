import VaultServer

/// The server's tensor type. The module `VaultServer` also declares a type `VaultServer`, so
/// `VaultServer.Tensor` cannot be spelled where MLCore's `Tensor` is visible too; this file sees only one.
typealias ServedTensor = Tensor
