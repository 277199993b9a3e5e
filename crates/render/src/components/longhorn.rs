//! Longhorn distributed block storage: a privileged namespace (its instance managers
//! need host access), the default replica count, the backup target, and recurring
//! snapshot and backup jobs for every volume (the `default` group).
//!
//! Talos needs the iscsi-tools and util-linux-tools extensions and a kubelet mount of
//! `/var/lib/longhorn`; the spec's resolution adds both to the machine configs when
//! Longhorn is on (tested across files).

use infraflux_spec::Platform;
use serde_json::{Value, json};

use crate::charts;
use crate::component::Component;
use crate::secret::{Item, Sealed};

/// Longhorn's namespace.
pub const NAMESPACE: &str = "longhorn-system";

/// The chart's values.
pub fn values(p: &Platform) -> Value {
    let l = &p.spec.components.longhorn;
    let mut v = json!({
        "defaultSettings": {"defaultReplicaCount": l.replicas},
        "persistence": {"defaultClass": true, "defaultClassReplicaCount": l.replicas},
    });
    if let Some(target) = &l.backup_target {
        v["defaultBackupStore"] = json!({"backupTarget": target});
        if backup_credentials(p).is_some() {
            v["defaultBackupStore"]["backupTargetCredentialSecret"] = json!(BACKUP_SECRET);
        }
    }
    v
}

/// The Secret with the backup target's credentials.
pub const BACKUP_SECRET: &str = "longhorn-backup-credentials";

/// The backup target's credentials Secret, with the variables Longhorn's backup store
/// reads for the target's scheme (longhorn/backupstore `types`), each from a field of
/// the mapping the source holds; None without credentials or for NFS, which has none.
fn backup_credentials(p: &Platform) -> Option<Sealed> {
    let l = &p.spec.components.longhorn;
    let source = l.backup_credentials.as_ref()?;
    let scheme = l.backup_target.as_deref()?.split_once("://")?.0;
    let fields: &[(&str, &'static str)] = match scheme {
        "s3" => &[
            ("AWS_ACCESS_KEY_ID", "accessKeyID"),
            ("AWS_SECRET_ACCESS_KEY", "secretAccessKey"),
        ],
        "cifs" => &[("CIFS_USERNAME", "username"), ("CIFS_PASSWORD", "password")],
        "azblob" => &[
            ("AZBLOB_ACCOUNT_NAME", "accountName"),
            ("AZBLOB_ACCOUNT_KEY", "accountKey"),
        ],
        _ => return None,
    };
    Some(
        fields
            .iter()
            .fold(Sealed::new(NAMESPACE, BACKUP_SECRET), |s, (var, field)| {
                s.with(*var, Item::field(source, field))
            }),
    )
}

/// The component; None when Longhorn is off.
pub fn component(p: &Platform) -> Option<Component> {
    let l = &p.spec.components.longhorn;
    if !l.enabled {
        return None;
    }
    let mut c = Component::new("longhorn", NAMESPACE);
    c.depends_on = vec!["cilium"];
    c.provides = vec![
        "longhorn.io/RecurringJob",
        "longhorn.io/Volume",
        "longhorn.io/BackupTarget",
        "longhorn.io/Setting",
    ];
    c.chart = Some((charts::LONGHORN, values(p)));
    c.secrets.extend(backup_credentials(p));
    c.manifests.push(super::namespace(NAMESPACE, "privileged"));
    // Instance managers, CSI and the manager talk among themselves and to the nodes; the
    // API server calls its webhooks; Prometheus scrapes it; backups go out to the target.
    c.uses = vec!["cilium.io/CiliumNetworkPolicy"];
    c.manifests.push(super::isolate(
        NAMESPACE,
        vec![
            json!({"fromEntities": ["host", "remote-node", "kube-apiserver"]}),
            json!({"fromEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "monitoring"}}]}),
        ],
        vec![
            json!({"toEntities": ["host", "remote-node", "kube-apiserver"]}),
            json!({"toEntities": ["world"]}),
        ],
    ));
    let job = |name: &str, task: &str, cron: &str, retain: u32| {
        json!({
            "apiVersion": "longhorn.io/v1beta2",
            "kind": "RecurringJob",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"name": name, "task": task, "cron": cron, "retain": retain, "concurrency": 1, "groups": ["default"]},
        })
    };
    let mut jobs = vec![job("snapshot-hourly", "snapshot", "0 * * * *", 24)];
    if l.backup_target.is_some() {
        jobs.push(job("backup-daily", "backup", "0 3 * * *", 14));
    }
    // The RecurringJob CRD comes with the chart in the same sync: let the dry run pass
    // before it exists, as the chart's CRDs are applied first within the Application.
    c.sync_options.push("SkipDryRunOnMissingResource=true");
    c.manifests.extend(jobs);
    Some(c)
}
