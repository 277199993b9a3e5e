//! Zero trust for tenants: each tenant namespace gets its Pod Security level, a
//! default-deny CiliumNetworkPolicy with the allow-list every pod needs (DNS to kube-dns,
//! its own namespace, traffic from Cilium's Ingress and Gateway proxy), a ResourceQuota
//! and the LimitRange defaults that let pods without requests run under it; and a
//! cluster-wide policy keeps the world away from `kube-system`.

use infraflux_spec::Platform;
use infraflux_spec::model::PodSecurity;
use serde_json::{Value, json};

use crate::component::Component;

/// Requests and limit a container gets when it states none, so that the quota admits it.
/// Small on purpose: workloads that need more say so.
const DEFAULT_CPU_REQUEST: &str = "100m";
const DEFAULT_MEMORY_REQUEST: &str = "128Mi";
const DEFAULT_MEMORY_LIMIT: &str = "512Mi";

/// The component: always there (kube-system's protection), with the tenants of the spec.
pub fn component(p: &Platform) -> Component {
    let mut c = Component::new("tenancy", "kube-system");
    c.depends_on = vec!["cilium"];
    c.uses = vec![
        "cilium.io/CiliumNetworkPolicy",
        "cilium.io/CiliumClusterwideNetworkPolicy",
    ];
    c.manifests.push(json!({
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumClusterwideNetworkPolicy",
        "metadata": {"name": "protect-kube-system"},
        // kube-system's pods accept traffic from inside the cluster only.
        "spec": {
            "endpointSelector": {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system"}},
            "ingress": [{"fromEntities": ["cluster"]}],
        },
    }));
    for ns in &p.spec.tenancy.namespaces {
        c.manifests
            .extend(tenant(&ns.name, ns.pod_security, ns.quota.as_ref()));
    }
    c
}

fn tenant(
    name: &str,
    level: PodSecurity,
    quota: Option<&infraflux_spec::model::Quota>,
) -> Vec<Value> {
    let level = match level {
        PodSecurity::Privileged => "privileged",
        PodSecurity::Baseline => "baseline",
        PodSecurity::Restricted => "restricted",
    };
    let mut out = vec![
        super::namespace(name, level),
        super::isolate(name, vec![json!({"fromEntities": ["ingress"]})], Vec::new()),
        json!({
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": {"name": "defaults", "namespace": name},
            "spec": {"limits": [{
                "type": "Container",
                "defaultRequest": {"cpu": DEFAULT_CPU_REQUEST, "memory": DEFAULT_MEMORY_REQUEST},
                "default": {"memory": DEFAULT_MEMORY_LIMIT},
            }]},
        }),
    ];
    if let Some(q) = quota {
        let mut hard = json!({
            "requests.cpu": q.cpu.to_string(),
            "requests.memory": q.memory.to_string(),
        });
        if let Some(pods) = q.pods {
            hard["pods"] = json!(pods.to_string());
        }
        out.push(json!({
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "quota", "namespace": name},
            "spec": {"hard": hard},
        }));
    }
    out
}
