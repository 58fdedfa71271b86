import ArgumentParser

/// Examples for every command's `--help` (issue #20, point 11: "help has no examples"), kept in one table so that
/// the commands' files stay as they are; a command whose own discussion already has `Examples:` keeps its own.
/// `FlagVocabularyCLITests.everyCommandsHelpHasAnExampleAndJSON` walks every help page and checks each has one.
enum CommandExamples {
    /// Command path (subcommand names joined by spaces; "" for `modelvault` itself) → example command lines.
    static let table: [String: [String]] = [
        "": ["modelvault demo", "modelvault model list --json", "modelvault help model push"],
        "keygen": ["modelvault keygen -o me.key", "modelvault keygen -y me.key"],
        "encrypt": [
            #"modelvault encrypt -r "$(modelvault keygen -y me.key)" -o data.csv.age data.csv"#,
            "modelvault encrypt -p -o notes.txt.age notes.txt",
        ],
        "decrypt": ["modelvault decrypt -i me.key -o data.csv data.csv.age"],
        "sign": ["modelvault sign model/ --private-key signer.pem --signature model.sig"],
        "verify": ["modelvault verify model/ --public-key signer.pub.pem --signature model.sig"],
        "init": [
            "modelvault init -o admin.token", "modelvault init --vault /srv/vault --token-expires 30d -o admin.token",
        ],
        "user cert": ["modelvault user cert add ci-runner ci-runner.pem", "modelvault user cert list"],
        "user cert add": [
            "modelvault user cert add ci-runner ci-runner.pem", "modelvault user cert add ci-runner ci.pem --json",
        ],
        "user cert list": ["modelvault user cert list", "modelvault user cert list --json"],
        "user cert remove": [
            "modelvault user cert remove ci-runner.pem", "modelvault user cert remove SHA256-FROM-LIST",
        ],
        "vault": ["modelvault vault check", "modelvault vault passphrase change"],
        "vault check": ["modelvault vault check", "modelvault vault check --vault /srv/vault"],
        "vault passphrase": ["modelvault vault passphrase change"],
        "data": ["modelvault data add breast-cancer breast_cancer.csv", "modelvault data list --json"],
        "data add": ["modelvault data add breast-cancer breast_cancer.csv", "modelvault data add images train/ test/"],
        "data list": ["modelvault data list", "modelvault data list --json"],
        "data show": ["modelvault data show breast-cancer", "modelvault data show breast-cancer@2 --json"],
        "data get": ["modelvault data get breast-cancer@1 -o data/"],
        "model": ["modelvault model push classifier model/", "modelvault model alias classifier@3 production"],
        "model push": [
            "modelvault model push classifier model/ --dataset breast-cancer@1",
            "modelvault model push fraud model.onnx --signature model.sig --public-key publisher.pem",
        ],
        "model list": ["modelvault model list", "modelvault model list --json"],
        "model show": ["modelvault model show classifier:production", "modelvault model show classifier@2 --json"],
        "model pull": [
            "modelvault model pull classifier:production -o classifier/",
            #"modelvault model pull classifier@2 -o wrapped/ --to "$(modelvault keygen -y me.key)""#,
        ],
        "model verify": ["modelvault model verify classifier@2"],
        "model import-fernet": [
            "modelvault model import-fernet legacy model.enc --key model_encryption_key.txt --delete-originals"
        ],
        "model scan": ["modelvault model scan classifier@2", "modelvault model scan --all --json"],
        "keys": ["modelvault keys list", "modelvault keys rotate"],
        "keys list": ["modelvault keys list", "modelvault keys list --files --json"],
        "keys rotate": [
            "modelvault keys rotate", "modelvault keys rotate --reencrypt --new-passphrase-file new.txt --json",
        ],
        "keys export-identity": ["modelvault keys export-identity -o identity.txt"],
        "user": ["modelvault user add alice --role data-scientist", "modelvault user list"],
        "user add": [
            "modelvault user add alice --role data-scientist",
            "modelvault user add ci --role ml-engineer --scope model:fraud --service",
        ],
        "user list": ["modelvault user list", "modelvault user list --json"],
        "user remove": ["modelvault user remove alice"],
        "user bootstrap": ["modelvault user bootstrap --break-glass --expires 24h -o admin.token"],
        "role": ["modelvault role grant alice ml-engineer", "modelvault role revoke alice ml-engineer"],
        "role grant": ["modelvault role grant alice ml-engineer --scope model:fraud"],
        "role revoke": ["modelvault role revoke alice ml-engineer --scope model:fraud"],
        "token": ["modelvault token create alice --expires 30d -o alice.token", "modelvault token list"],
        "token create": [
            "modelvault token create alice --expires 30d -o alice.token",
            "modelvault token create ci --expires 7d --json",
        ],
        "token list": ["modelvault token list", "modelvault token list --json"],
        "whoami": ["modelvault whoami", "MODELVAULT_SERVER=https://vault.example:8443 modelvault whoami --json"],
        "token revoke": ["modelvault token revoke 3f2a9c"],
        "audit": ["modelvault audit verify", "modelvault audit tail -n 20"],
        "audit verify": ["modelvault audit verify", "modelvault audit verify --trusted 2026-12-03.note --json"],
        "audit checkpoint": ["modelvault audit checkpoint -o 2026-12-03.note"],
        "audit prove": ["modelvault audit prove 42 > entry-42.proof"],
        "audit verify-proof": ["modelvault audit verify-proof entry-42.proof --verifier-key verifier.vkey --json"],
        "audit export": ["modelvault audit export --format csv --since 24h -o audit.csv"],
        "audit tail": ["modelvault audit tail -n 20", "modelvault audit tail -n 100 --json"],
        "audit witness": ["modelvault audit witness list"],
        "audit witness add": [
            "modelvault audit witness add https://witness.example:8444 --key witness.vkey --ca ca.pem"
        ],
        "audit witness list": ["modelvault audit witness list", "modelvault audit witness list --json"],
        "audit witness remove": ["modelvault audit witness remove --key witness.vkey"],
        "report": ["modelvault report", "modelvault report --format html -o report.html"],
        "train": [
            "modelvault train classifier --dataset breast-cancer --label benign --model logistic",
            "modelvault train digits --dataset digits --label digit --model cnn --epochs 20 --seed 7",
        ],
        "evaluate": [
            "modelvault evaluate classifier:production --dataset breast-cancer --label benign",
            "modelvault evaluate classifier@1 --dataset breast-cancer --label benign --holdout --json",
        ],
        "predict": ["modelvault predict classifier:production --input rows.csv -o predictions.csv"],
        "he": ["modelvault he keygen -o keys/", "modelvault he params"],
        "he params": ["modelvault he params"],
        "he keygen": ["modelvault he keygen -o keys/", "modelvault he keygen -o keys/ --params n8192-d2"],
        "he decrypt": ["modelvault he decrypt --keys keys/ result.bin -o private-predictions.csv"],
        "deploy": [
            "modelvault deploy classifier -o deploy/ --builder-image swift@sha256:... --runtime-image cc@sha256:...",
            "modelvault deploy classifier -o deploy/ --image-digest sha256:... --builder-image ... --runtime-image ...",
        ],
        "serve": [
            "modelvault serve --self-signed --cert-out server.pem",
            "modelvault serve --tls-cert server.pem --tls-key server.key --port 8443",
        ],
        "scan": ["modelvault scan model.pt", "modelvault scan models/ --policy strict --sarif > scan.sarif"],
        "convert": ["modelvault convert pytorch_model.bin -o model.safetensors"],
        "version": ["modelvault version", "modelvault version --json"],
        "witness": ["modelvault witness serve --state witness-state/ --log-key vault/audit/verifier.vkey"],
        "witness serve": [
            "modelvault witness serve --state witness-state/ --log-key vault/audit/verifier.vkey --tls-cert witness.pem --tls-key witness.key"
        ],
    ]

    /// The `Examples:` section to add to a help page for `arguments` (the command line that asked for help), or
    /// nil when the page has examples already or the table has none.
    static func section(forHelp help: String, arguments: [String]) -> String? {
        guard !help.contains("Examples:"), let lines = table[path(of: arguments)] else { return nil }
        return "Examples:\n" + lines.map { "  " + $0 }.joined(separator: "\n")
    }

    /// The subcommand path the arguments name (`help model push` and `model push --help` alike).
    static func path(of arguments: [String]) -> String {
        var command: any ParsableCommand.Type = ModelVaultCommand.self
        var names: [String] = []
        for argument in arguments.drop(while: { $0 == "help" }) {
            guard
                let next = command.configuration.subcommands.first(where: {
                    ($0.configuration.commandName ?? $0._commandName) == argument
                })
            else { break }
            names.append(argument)
            command = next
        }
        return names.joined(separator: " ")
    }
}
