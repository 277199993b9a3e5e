//! The platform baseline on every workload cluster: ApplicationSets whose cluster
//! generator selects the clusters registered in Argo CD with the label
//! `infraflux.dev/workload: "true"`, merged (by cluster name) with the per-cluster values
//! the spec knows: pod CIDR, API VIP and Cilium cluster ID.

use infraflux_spec::Platform;
use serde_json::{Value, json};

use crate::charts;
use crate::component::{ARGOCD_NAMESPACE, Component, PROJECT};
use crate::components::{certmanager, cilium};
use crate::emit;

/// The label of workload clusters' Argo CD cluster Secrets.
pub const WORKLOAD_LABEL: &str = "infraflux.dev/workload";

/// Cilium cluster IDs: the management cluster's, then the workload clusters' in order.
pub fn cluster_id(p: &Platform, index: usize) -> u32 {
    p.spec.cilium.cluster_mesh.cluster_id + 1 + index as u32
}

/// A stand-in number for the cluster ID in Cilium's values text, replaced by the template
/// reference: the chart wants an integer, and a template in a structured value would be
/// a string.
const ID_SENTINEL: u32 = 987_654_321;

/// Cilium's values for a workload cluster, as Helm values text with the per-cluster
/// parameters as ApplicationSet template references.
pub fn cilium_values(p: &Platform) -> String {
    let mut v = cilium::values(p);
    v["cluster"] = json!({"name": "{{name}}", "id": ID_SENTINEL});
    if v.get("ipv4NativeRoutingCIDR").is_some() {
        v["ipv4NativeRoutingCIDR"] = json!("{{values.podCIDR}}");
    }
    emit::document(&v).replace(&ID_SENTINEL.to_string(), "{{values.clusterID}}")
}

fn application_set(name: &str, p: &Platform, source: Value, namespace: &str) -> Value {
    let elements: Vec<Value> = p
        .spec
        .clusters
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "name": c.name,
                "values.podCIDR": super::capi::pod_cidr(p, c),
                "values.vip": c.endpoint.vip.to_string(),
                "values.clusterID": cluster_id(p, i).to_string(),
            })
        })
        .collect();
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": format!("workload-{name}"), "namespace": ARGOCD_NAMESPACE},
        "spec": {
            "generators": [{"merge": {
                "mergeKeys": ["name"],
                "generators": [
                    {"clusters": {"selector": {"matchLabels": {WORKLOAD_LABEL: "true"}}}},
                    {"list": {"elements": elements}},
                ],
            }}],
            "template": {
                "metadata": {"name": format!("{{{{name}}}}-{name}")},
                "spec": {
                    "project": PROJECT,
                    "source": source,
                    "destination": {"server": "{{server}}", "namespace": namespace},
                    "syncPolicy": {
                        "automated": {"prune": true, "selfHeal": true},
                        "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
                    },
                },
            },
        },
    })
}

/// The component; None without workload clusters.
pub fn component(p: &Platform) -> Option<Component> {
    if p.spec.clusters.is_empty() {
        return None;
    }
    let mut c = Component::new("workload-baseline", ARGOCD_NAMESPACE);
    c.uses = vec!["argoproj.io/ApplicationSet"];
    let chart = |chart: &charts::Chart, helm: Value| json!({"repoURL": chart.repo, "chart": chart.name, "targetRevision": chart.version, "helm": helm});
    c.manifests.push(application_set(
        "cilium",
        p,
        chart(
            &charts::CILIUM,
            json!({"releaseName": "cilium", "values": cilium_values(p)}),
        ),
        cilium::NAMESPACE,
    ));
    if p.spec.components.cert_manager.enabled {
        c.manifests.push(application_set(
            "cert-manager",
            p,
            chart(
                &charts::CERT_MANAGER,
                json!({"releaseName": "cert-manager", "valuesObject": certmanager::values(p)}),
            ),
            certmanager::NAMESPACE,
        ));
    }
    // Workload clusters' API servers, for the AppProject.
    c.remote_destinations = p
        .spec
        .clusters
        .iter()
        .map(|cl| format!("https://{}:6443", cl.endpoint.vip))
        .collect();
    Some(c)
}
