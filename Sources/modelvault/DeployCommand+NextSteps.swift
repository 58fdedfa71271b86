import Deployment
import Foundation

/// What `deploy` prints after writing the artifacts (issue #20): the commands that come next, with this
/// deployment's names filled in, so the operator does not have to read the manifests to find them.
extension DeployCommand {
    static func nextSteps(for spec: DeploymentSpec, in directory: String) -> String {
        let namespace = spec.kubernetes.namespace
        let kubernetes = "\(directory)/kubernetes"
        let image = "\(spec.image.name):\(spec.image.tag)"
        let uid = spec.image.uid
        let unlock: String
        switch spec.kubernetes.unlock {
        case .passphrase(let secret, let key):
            unlock =
                "kubectl -n \(namespace) create secret generic \(secret) --from-file=\(key)=passphrase.txt"
                + "   # passphrase.txt: the vault passphrase, one line"
        case .identityFile(let secret, let key):
            unlock =
                "kubectl -n \(namespace) create secret generic \(secret) --from-file=\(key)=identity.txt"
                + "   # from `modelvault keys export-identity -o identity.txt`"
        }
        // A helper pod that passes the namespace's `restricted` Pod Security Standard, running as the server's
        // user so the copied files belong to it.
        let helperPod =
            #"{"spec":{"securityContext":{"runAsNonRoot":true,"runAsUser":\#(uid),"runAsGroup":\#(uid),"#
            + #""fsGroup":\#(uid),"seccompProfile":{"type":"RuntimeDefault"}},"volumes":[{"name":"vault","#
            + #""persistentVolumeClaim":{"claimName":"'"$claim"'"}}],"containers":[{"name":"vault-copy","#
            + #""image":"busybox:1.36","command":["sleep","600"],"securityContext":{"#
            + #""allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}},"#
            + #""volumeMounts":[{"name":"vault","mountPath":"/vault"}]}]}}"#
        return """
            next steps:
              1. build the image, from the root of the ModelVault source tree:
                   docker build -f \(directory)/Dockerfile -t \(image) .
                 then push it to \(spec.image.name), or load it into the cluster (kind load docker-image \(image))
              2. create the namespace and the secrets (their values never go into the manifests):
                   kubectl apply -f \(kubernetes)/namespace.yaml
                   kubectl -n \(namespace) create secret tls \(spec.kubernetes.tlsSecretName) --cert=server.pem --key=server.key
                   \(unlock)
              3. copy the vault onto its volume before the first start (a helper pod, then removed):
                   kubectl apply -f \(kubernetes)/persistentvolumeclaim.yaml
                   claim=$(kubectl -n \(namespace) get -f \(kubernetes)/persistentvolumeclaim.yaml -o jsonpath='{.metadata.name}')
                   kubectl -n \(namespace) run vault-copy --image=busybox:1.36 --restart=Never --overrides='\(helperPod)'
                   kubectl -n \(namespace) wait --for=condition=Ready pod/vault-copy
                   tar -C vault -cf - . | kubectl -n \(namespace) exec -i vault-copy -- tar -C /vault -xf -
                   kubectl -n \(namespace) delete pod vault-copy
              4. deploy, and watch it become ready:
                   kubectl apply -k \(kubernetes)
                   kubectl -n \(namespace) get pods -w
            """
    }
}
