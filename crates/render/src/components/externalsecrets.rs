//! External Secrets Operator with one ClusterSecretStore, `platform`: the Secrets of the
//! `platform-secrets` namespace (SOPS-encrypted in Git, decrypted by Argo CD through KSOPS)
//! are what tenants' ExternalSecrets read, so a tenant gets a copy of a secret without
//! ever reading the namespace that holds them all. The spec names no external vault, so
//! the store is the cluster itself (ESO's Kubernetes provider).

use infraflux_spec::Platform;
use serde_json::json;

use crate::charts;
use crate::component::Component;

/// ESO's namespace.
pub const NAMESPACE: &str = "external-secrets";
/// Where the platform's shared secrets live.
pub const SECRETS_NAMESPACE: &str = "platform-secrets";
/// The store's name.
pub const STORE: &str = "platform";
/// The ServiceAccount the store reads with.
const READER: &str = "platform-secret-store";

/// ESO, then the store and its access (which use ESO's CRDs); none when off.
pub fn components(p: &Platform) -> Vec<Component> {
    if !p.spec.components.external_secrets.enabled {
        return Vec::new();
    }
    let mut eso = Component::new("external-secrets", NAMESPACE);
    eso.depends_on = vec!["cilium"];
    eso.provides = vec![
        "external-secrets.io/ClusterSecretStore",
        "external-secrets.io/SecretStore",
        "external-secrets.io/ExternalSecret",
        "external-secrets.io/ClusterExternalSecret",
        "external-secrets.io/PushSecret",
    ];
    eso.chart = Some((charts::EXTERNAL_SECRETS, json!({"installCRDs": true})));

    let mut store = Component::new("secret-store", NAMESPACE);
    store.uses = vec![
        "external-secrets.io/ClusterSecretStore",
        "cilium.io/CiliumNetworkPolicy",
    ];
    store.manifests = vec![
        // A namespace of Secrets only: no pod may run there or reach in.
        super::namespace(SECRETS_NAMESPACE, "restricted"),
        super::isolate(SECRETS_NAMESPACE, Vec::new(), Vec::new()),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": READER, "namespace": NAMESPACE}}),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "read-secrets", "namespace": SECRETS_NAMESPACE},
            "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": READER, "namespace": SECRETS_NAMESPACE},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-secrets"},
            "subjects": [{"kind": "ServiceAccount", "name": READER, "namespace": NAMESPACE}],
        }),
        // The provider checks its own permissions with a SelfSubjectRulesReview.
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": READER},
            "rules": [{"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectrulesreviews"], "verbs": ["create"]}],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": READER},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": READER},
            "subjects": [{"kind": "ServiceAccount", "name": READER, "namespace": NAMESPACE}],
        }),
        json!({
            "apiVersion": "external-secrets.io/v1",
            "kind": "ClusterSecretStore",
            "metadata": {"name": STORE},
            "spec": {"provider": {"kubernetes": {
                "remoteNamespace": SECRETS_NAMESPACE,
                "server": {"caProvider": {"type": "ConfigMap", "name": "kube-root-ca.crt", "key": "ca.crt", "namespace": NAMESPACE}},
                "auth": {"serviceAccount": {"name": READER, "namespace": NAMESPACE}},
            }}},
        }),
    ];
    vec![eso, store]
}
