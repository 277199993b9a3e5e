//! The platform components, one module each. A component turns the model into a
//! [`Component`](crate::component::Component): its dependencies, the CRDs it brings and
//! uses, its chart and values, and its extra manifests.

use infraflux_spec::Platform;

use crate::component::Component;

pub mod argocd;
pub mod capi;
pub mod certmanager;
pub mod cilium;
pub mod etcdbackup;
pub mod externaldns;
pub mod externalsecrets;
pub mod gateway;
pub mod longhorn;
pub mod monitoring;
pub mod observability;
pub mod tenancy;
pub mod tetragon;
pub mod workloads;

/// Every component the platform has, in no particular order (the graph orders them).
pub fn all(p: &Platform) -> Vec<Component> {
    let mut list = vec![
        argocd::component(p),
        cilium::component(p),
        cilium::config(p),
    ];
    list.extend(cilium::gateway_api_crds(p));
    list.extend(certmanager::components(p));
    list.extend(capi::components(p));
    list.extend(etcdbackup::component(p));
    list.extend(externaldns::component(p));
    list.extend(externalsecrets::components(p));
    list.extend(gateway::component(p));
    list.extend(longhorn::component(p));
    list.extend(monitoring::component(p));
    list.extend(observability::component(p));
    list.extend(cilium::monitoring(p));
    list.push(tenancy::component(p));
    list.extend(tetragon::components(p));
    list.extend(workloads::component(p));
    list
}

/// A default-deny CiliumNetworkPolicy for a platform namespace with the allow-list every
/// namespace needs (its own pods, DNS to kube-dns) plus `ingress` and `egress` rules of its
/// own: the pods are isolated and only what is listed passes.
pub(crate) fn isolate(
    namespace: &str,
    ingress: Vec<serde_json::Value>,
    egress: Vec<serde_json::Value>,
) -> serde_json::Value {
    use serde_json::json;
    let mut ingress_rules = vec![json!({"fromEndpoints": [{}]})];
    ingress_rules.extend(ingress);
    let mut egress_rules = vec![
        json!({"toEndpoints": [{}]}),
        json!({
            "toEndpoints": [{"matchLabels": {
                "k8s:io.kubernetes.pod.namespace": "kube-system",
                "k8s-app": "kube-dns",
            }}],
            "toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}], "rules": {"dns": [{"matchPattern": "*"}]}}],
        }),
    ];
    egress_rules.extend(egress);
    json!({
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": namespace},
        "spec": {"endpointSelector": {}, "ingress": ingress_rules, "egress": egress_rules},
    })
}

/// A Namespace enforcing (and auditing and warning at) a Pod Security level.
pub(crate) fn namespace(name: &str, level: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {
            "pod-security.kubernetes.io/enforce": level,
            "pod-security.kubernetes.io/audit": level,
            "pod-security.kubernetes.io/warn": level,
        }},
    })
}
