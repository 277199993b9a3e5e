//! etcd backups the Talos way, as siderolabs/talos-backup does: a CronJob that asks the
//! Talos API (through Kubernetes, with a `talos.dev` ServiceAccount holding only the
//! `os:etcd:backup` role) for an etcd snapshot, encrypts it with age for the platform's
//! first recipient and uploads it to S3. No etcdctl, no host paths, no shell on nodes.
//! The machine configs allow exactly this role from exactly this namespace
//! (`kubernetesTalosAPIAccess`); a test checks the two files agree.

use infraflux_spec::Platform;
use infraflux_talos::machineconfig::{ETCD_BACKUP_NAMESPACE, ETCD_BACKUP_ROLE};
use serde_json::json;

use crate::component::Component;
use crate::secret::{Item, Sealed};

/// The talos-backup release.
pub const IMAGE: &str = "ghcr.io/siderolabs/talos-backup:v0.1.0-beta.2";
/// The Talos ServiceAccount, and the Secret Talos writes its credentials into.
pub const TALOS_ACCOUNT: &str = "talos-backup";
/// The Secret with the S3 access key (keys `accessKeyID`, `secretAccessKey`).
pub const S3_SECRET: &str = "etcd-backup-s3";

/// The component; None when etcd backups are off or have no S3 target.
pub fn component(p: &Platform) -> Option<Component> {
    let b = &p.spec.components.etcd_backup;
    let s3 = b.s3.as_ref().filter(|_| b.enabled)?;
    let ns = ETCD_BACKUP_NAMESPACE;
    let recipient = p.spec.secrets.age.recipients.first()?;
    let mut c = Component::new("etcd-backup", ns);
    c.depends_on = vec!["cilium"];
    c.uses = vec!["cilium.io/CiliumNetworkPolicy"];
    c.manifests.push(super::namespace(ns, "restricted"));
    // Out only: to the Talos API on the nodes (through the `talos` Service in `default`)
    // and to the S3 endpoint.
    c.manifests.push(super::isolate(
        ns,
        Vec::new(),
        vec![
            json!({"toEntities": ["host", "remote-node", "kube-apiserver"], "toPorts": [{"ports": [{"port": "50000", "protocol": "TCP"}]}]}),
            json!({"toEntities": ["world"], "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]}),
        ],
    ));
    // The Talos CRD exists on every Talos cluster with Kubernetes Talos API access on.
    c.manifests.push(json!({
        "apiVersion": "talos.dev/v1alpha1",
        "kind": "ServiceAccount",
        "metadata": {"name": TALOS_ACCOUNT, "namespace": ns},
        "spec": {"roles": [ETCD_BACKUP_ROLE]},
    }));
    c.secrets.push(
        Sealed::new(ns, S3_SECRET)
            .with("accessKeyID", Item::field(&s3.credentials, "accessKeyID"))
            .with(
                "secretAccessKey",
                Item::field(&s3.credentials, "secretAccessKey"),
            ),
    );
    let env_s3 = |name: &str, key: &str| json!({"name": name, "valueFrom": {"secretKeyRef": {"name": S3_SECRET, "key": key}}});
    let env = json!([
        env_s3("AWS_ACCESS_KEY_ID", "accessKeyID"),
        env_s3("AWS_SECRET_ACCESS_KEY", "secretAccessKey"),
        {"name": "AWS_REGION", "value": s3.region},
        {"name": "CUSTOM_S3_ENDPOINT", "value": s3.endpoint},
        {"name": "BUCKET", "value": s3.bucket},
        {"name": "CLUSTER_NAME", "value": p.metadata.name},
        {"name": "S3_PREFIX", "value": format!("{}/etcd", p.metadata.name)},
        {"name": "AGE_X25519_PUBLIC_KEY", "value": recipient},
        {"name": "ENABLE_COMPRESSION", "value": "true"},
    ]);
    c.manifests.push(json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "etcd-backup", "namespace": ns},
        "spec": {
            "schedule": b.schedule,
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {"spec": {"backoffLimit": 3, "template": {"spec": {
                "restartPolicy": "OnFailure",
                "automountServiceAccountToken": false,
                "containers": [{
                    "name": "talos-backup",
                    "image": IMAGE,
                    "command": ["/talos-backup"],
                    "workingDir": "/tmp",
                    "env": env,
                    "resources": {
                        "requests": {"cpu": "50m", "memory": "128Mi"},
                        "limits": {"cpu": "1", "memory": "512Mi"},
                    },
                    "securityContext": {
                        "runAsUser": 1000,
                        "runAsGroup": 1000,
                        "runAsNonRoot": true,
                        "allowPrivilegeEscalation": false,
                        "readOnlyRootFilesystem": true,
                        "capabilities": {"drop": ["ALL"]},
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "volumeMounts": [
                        {"name": "tmp", "mountPath": "/tmp"},
                        {"name": "talos-secrets", "mountPath": "/var/run/secrets/talos.dev"},
                    ],
                }],
                "volumes": [
                    {"name": "tmp", "emptyDir": {}},
                    {"name": "talos-secrets", "secret": {"secretName": TALOS_ACCOUNT}},
                ],
            }}}},
        },
    }));
    Some(c)
}
