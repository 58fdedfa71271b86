import AccessControl
import AuditLog
import Homomorphic
import MLCore
import Vault
import VaultClient
import VaultCrypto

/// The CLI's exit codes (ARCHITECTURE.md, "CLI conventions"): one per kind of failure a script branches on.
enum ExitStatus: Int32, CaseIterable {
    /// The command did what it says.
    case success = 0
    /// It failed for a reason none of the codes below names (I/O, a peer, the scan itself).
    case failure = 1
    /// Bad flags or arguments (ArgumentParser's validation).
    case usage = 2
    /// No valid credentials, or the role does not allow the action.
    case denied = 3
    /// The vault, version, alias, dataset, principal or file does not exist.
    case notFound = 4
    /// The input is malformed or out of range (a CSV, a name, a model file, options).
    case invalidInput = 5
    /// A signature, digest, authenticated record or the audit log failed verification.
    case integrity = 6
    /// The scanner found something at or above the policy's threshold.
    case findings = 7

    /// The code for an error a command threw.
    static func code(for error: any Error) -> ExitStatus {
        switch error {
        case let error as AccessControlError:
            if error.isDenial { return .denied }
            switch error {
            case .invalidToken, .expiredToken, .revokedToken: return .denied
            default: return .invalidInput
            }
        case let error as CLIError:
            return error.status
        case let error as VaultClientError:
            switch error.kind {
            case .denied: return .denied
            case .notFound: return .notFound
            case .invalidInput: return .invalidInput
            case .integrity: return .integrity
            case .findings: return .findings
            case .insecure: return .usage
            case .failure: return .failure
            }
        case let error as VaultError:
            return code(for: error.code)
        case let error as AgeError:
            switch error.kind {
            case .noIdentityMatched: return .denied
            case .headerMAC, .payload: return .integrity
            case .armor, .header, .invalidKey, .invalidRequest: return .invalidInput
            case .io, .output: return .failure
            }
        case is MLError:
            return .invalidInput
        case let error as HEError where error.isInputOutOfRange:
            return .invalidInput
        case let error as AuditLogError:
            // An index past the log's end names nothing (as the server's 404 does); anything else is damage.
            return error == .indexOutOfRange ? .notFound : .integrity
        default:
            return .failure
        }
    }

    private static func code(for code: VaultError.Code) -> ExitStatus {
        switch code {
        case .vaultNotFound, .notFound: .notFound
        case .wrongPassphrase, .identityMismatch: .denied
        case .invalidName, .invalidReference, .invalidPath, .duplicateFile, .emptyInput, .unreadableInput,
            .invalidMetrics, .invalidRecipient, .outputExists, .vaultExists, .weakPassphrase:
            .invalidInput
        case .signatureInvalid, .publisherSignatureInvalid, .digestMismatch, .decryptionFailed, .tampered:
            .integrity
        case .scanRefused: .findings
        default: .failure
        }
    }
}
