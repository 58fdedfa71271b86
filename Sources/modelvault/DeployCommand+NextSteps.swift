import Deployment
import Foundation

/// What `deploy` prints after writing the artifacts (issue #20): the commands that come next, with this
/// deployment's names filled in, so the operator does not have to read the manifests to find them.
extension DeployCommand {
    static func nextSteps(for spec: DeploymentSpec, in directory: String, newIdentity: Bool = true) -> String {
        let namespace = spec.kubernetes.namespace
        let kubernetes = "\(directory)/kubernetes"
        let image = "\(spec.image.name):\(spec.image.tag)"
        let uid = spec.image.uid
        var identity =
            newIdentity
            ? "kubectl -n \(namespace) create secret generic \(spec.identitySecretName)"
                + " --from-file=identity=\(directory)/secrets/identity && rm \(directory)/secrets/identity"
            : "(the deployment identity is unchanged: keep the Secret \(spec.identitySecretName))"
        if newIdentity, spec.bundleSerial ?? 1 > 1 {
            // A rotated identity replaces the Secret's value.
            identity =
                "kubectl -n \(namespace) create secret generic \(spec.identitySecretName)"
                + " --from-file=identity=\(directory)/secrets/identity --dry-run=client -o yaml | kubectl apply -f - && rm \(directory)/secrets/identity"
        }
        if let audit = spec.auditSecretName {
            // The pod's audit token: a principal whose only role is audit-writer (run by an admin).
            identity +=
                "\n       modelvault user add \(spec.deploymentName)-pod --role audit-writer"
                + "\n       modelvault token create \(spec.deploymentName)-pod --expires 90d -o audit-token"
                + "\n       kubectl -n \(namespace) create secret generic \(audit) --from-file=token=audit-token"
                + " --from-file=ca.crt=vault-ca.pem && rm audit-token"
        }
        // A helper pod that passes the namespace's `restricted` Pod Security Standard, running as the server's
        // user so the copied files belong to it.
        let helperPod =
            #"{"spec":{"securityContext":{"runAsNonRoot":true,"runAsUser":\#(uid),"runAsGroup":\#(uid),"#
            + #""fsGroup":\#(uid),"seccompProfile":{"type":"RuntimeDefault"}},"volumes":[{"name":"vault","#
            + #""persistentVolumeClaim":{"claimName":"'"$claim"'"}}],"containers":[{"name":"bundle-copy","#
            + #""image":"busybox:1.36","command":["sleep","600"],"securityContext":{"#
            + #""allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}},"#
            + #""volumeMounts":[{"name":"vault","mountPath":"/data"}]}]}}"#
        return """
            next steps:
              1. build the image, from the root of the ModelVault source tree, and push it to a registry the
                 cluster pulls from (for kind or minikube, a local registry such as localhost:5001):
                   docker build -f \(directory)/Dockerfile -t \(image) .
                   docker push \(image)
                 the Deployment names the image by the digest the push prints (rerun deploy with --image-digest
                 sha256:...), and its imagePullPolicy: Always then fetches exactly those bytes or reuses a cached
                 copy of the same digest; an image only loaded into the nodes has no registry digest to pin
              2. create the namespace and the secrets (their values never go into the manifests):
                   kubectl apply -f \(kubernetes)/namespace.yaml
                   kubectl -n \(namespace) create secret tls \(spec.kubernetes.tlsSecretName) --cert=server.pem --key=server.key
                   \(identity)
              3. copy the serving bundle (never the vault) onto its volume before the first start (a helper pod):
                   kubectl apply -f \(kubernetes)/persistentvolumeclaim.yaml
                   claim=$(kubectl -n \(namespace) get -f \(kubernetes)/persistentvolumeclaim.yaml -o jsonpath='{.metadata.name}')
                   kubectl -n \(namespace) run bundle-copy --image=busybox:1.36 --restart=Never --overrides='\(helperPod)'
                   kubectl -n \(namespace) wait --for=condition=Ready pod/bundle-copy
                   kubectl -n \(namespace) exec bundle-copy -- mkdir -p /data/bundle /data/audit
                   tar -C \(directory)/bundle -cf - . | kubectl -n \(namespace) exec -i bundle-copy -- tar -C /data/bundle -xf -
                   kubectl -n \(namespace) delete pod bundle-copy
              4. deploy, and watch it become ready (deployment.yaml needs the image digest:
                 rerun deploy with --image-digest sha256:... after pushing the image if it is missing):
                   kubectl apply -k \(kubernetes)
                   kubectl -n \(namespace) get pods -w
            """
    }
}
