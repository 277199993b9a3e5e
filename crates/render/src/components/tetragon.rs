//! Tetragon, eBPF runtime security: process credentials and namespaces in its events,
//! its metrics, and the TracingPolicies the spec names.
//!
//! The TracingPolicy CRD is registered by Tetragon's operator when it starts, so the
//! policies are their own component after Tetragon. Tetragon's ServiceMonitors are the
//! chart's own, so with monitoring on Tetragon comes after the monitoring stack (it is not
//! needed before).

use infraflux_spec::Platform;
use infraflux_spec::model::TetragonPolicy;
use serde_json::{Value, json};

use crate::charts;
use crate::component::Component;

/// Tetragon's namespace.
pub const NAMESPACE: &str = "kube-system";

/// The chart's values.
pub fn values(p: &Platform) -> Value {
    let monitoring = p.spec.components.monitoring.enabled;
    json!({
        "tetragon": {
            // Exec events carry the process's credentials and namespaces.
            "enableProcessCred": true,
            "enableProcessNs": true,
            "prometheus": {"enabled": true, "serviceMonitor": {"enabled": monitoring}},
        },
        "tetragonOperator": {"prometheus": {"enabled": true, "serviceMonitor": {"enabled": monitoring}}},
    })
}

/// Tetragon and its policies; none when Tetragon is off.
pub fn components(p: &Platform) -> Vec<Component> {
    let t = &p.spec.components.tetragon;
    if !t.enabled {
        return Vec::new();
    }
    let mut tetragon = Component::new("tetragon", NAMESPACE);
    tetragon.depends_on = vec!["cilium"];
    tetragon.provides = vec![
        "cilium.io/TracingPolicy",
        "cilium.io/TracingPolicyNamespaced",
    ];
    if p.spec.components.monitoring.enabled {
        tetragon.uses = vec!["monitoring.coreos.com/ServiceMonitor"];
    }
    tetragon.chart = Some((charts::TETRAGON, values(p)));
    let mut policies = Component::new("tetragon-policies", NAMESPACE);
    policies.uses = vec!["cilium.io/TracingPolicy"];
    policies.manifests = t.policies.iter().map(|k| policy(*k)).collect();
    let mut out = vec![tetragon];
    if !policies.manifests.is_empty() {
        out.push(policies);
    }
    out
}

/// Files whose reading or writing is worth an event: credentials of the node, of
/// Kubernetes and of Talos.
const SENSITIVE: &[&str] = &[
    "/etc/shadow",
    "/etc/sudoers",
    "/etc/ssh/",
    "/root/.ssh/",
    "/etc/kubernetes/",
    "/var/lib/kubelet/pki/",
    "/system/secrets/",
];

fn tracing_policy(name: &str, kprobes: Value) -> Value {
    json!({
        "apiVersion": "cilium.io/v1alpha1",
        "kind": "TracingPolicy",
        "metadata": {"name": name},
        "spec": {"kprobes": kprobes},
    })
}

/// One TracingPolicy, written after the hooks Tetragon's documentation uses for it.
fn policy(kind: TetragonPolicy) -> Value {
    match kind {
        // Every execution attempt, failed ones included (the LSM hook runs before the
        // kernel commits to the new program), with its result.
        TetragonPolicy::ProcessExec => tracing_policy(
            "process-exec",
            json!([{
                "call": "security_bprm_check",
                "syscall": false,
                "args": [{"index": 0, "type": "linux_binprm"}],
                "returnArg": {"index": 0, "type": "int"},
            }]),
        ),
        // Reads and writes of sensitive files, through the LSM hooks every access path
        // goes through: permission checks, memory maps and truncation.
        TetragonPolicy::SensitiveFiles => {
            let prefix = json!({"index": 0, "operator": "Prefix", "values": SENSITIVE});
            // An LSM hook whose first argument names the file, reported with its verdict.
            let hook = |call: &str, args: &[&str]| {
                let args: Vec<Value> = args
                    .iter()
                    .enumerate()
                    .map(|(i, t)| json!({"index": i, "type": t}))
                    .collect();
                json!({
                    "call": call,
                    "syscall": false,
                    "return": true,
                    "args": args,
                    "returnArg": {"index": 0, "type": "int"},
                    "returnArgAction": "Post",
                    "selectors": [{"matchArgs": [prefix]}],
                })
            };
            tracing_policy(
                "sensitive-files",
                json!([
                    hook("security_file_permission", &["file", "int"]),
                    hook("security_mmap_file", &["file", "uint32", "nop"]),
                    hook("security_path_truncate", &["path"]),
                ]),
            )
        }
        // New credentials installed in containers (setuid programs, capability gains,
        // user namespace changes): commit_creds is where every such change lands. Host
        // processes are left out, and events are rate-limited per process.
        TetragonPolicy::PrivilegedEscalation => tracing_policy(
            "privilege-escalation",
            json!([{
                "call": "commit_creds",
                "syscall": false,
                "args": [{"index": 0, "type": "cred"}],
                "selectors": [{
                    "matchNamespaces": [{"namespace": "Pid", "operator": "NotIn", "values": ["host_ns"]}],
                    "matchActions": [{"action": "Post", "rateLimit": "1m"}],
                }],
            }]),
        ),
    }
}
