//! The platform baseline on every workload cluster (Cilium, cert-manager, the policies
//! and tenants, monitoring agents): ApplicationSets whose cluster
//! generator selects the clusters registered in Argo CD with the label
//! `infraflux.dev/workload: "true"`, merged (by cluster name) with the per-cluster values
//! the spec knows: pod CIDR, API VIP and Cilium cluster ID.

use infraflux_spec::Platform;
use serde_json::{Value, json};

use crate::charts;
use crate::component::{ARGOCD_NAMESPACE, Component, PROJECT, Source};
use crate::components::{certmanager, cilium, monitoring};
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

/// The values of the monitoring agents on a workload cluster: kube-prometheus-stack with
/// node-exporter and kube-state-metrics, and Prometheus in agent mode writing everything
/// to the management Prometheus, labelled with the cluster's name. No Grafana, no
/// Alertmanager, no rules: those run on the management cluster.
pub fn monitoring_values(p: &Platform, address: std::net::Ipv4Addr) -> Value {
    json!({
        "crds": {"enabled": true},
        "defaultRules": {"create": false},
        "alertmanager": {"enabled": false},
        "grafana": {"enabled": false},
        "kubeProxy": {"enabled": !p.spec.cilium.kube_proxy_replacement},
        "prometheus": {
            "agentMode": true,
            "prometheusSpec": {
                "externalLabels": {"cluster": "{{name}}"},
                "remoteWrite": [{"url": format!("http://{address}:{}/api/v1/write", monitoring::REMOTE_WRITE_PORT)}],
                "serviceMonitorSelectorNilUsesHelmValues": false,
                "podMonitorSelectorNilUsesHelmValues": false,
            },
        },
    })
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
    // The cluster-wide policies and the tenants, as on the management cluster. Cilium's
    // CRDs arrive with Cilium's own ApplicationSet: until then the dry run waits.
    let mut policies = application_set(
        "policies",
        p,
        json!({
            "repoURL": p.spec.git.repo_url,
            "targetRevision": p.spec.git.revision,
            "path": Source::of(p).dir("components/tenancy"),
        }),
        "kube-system",
    );
    policies["spec"]["template"]["spec"]["syncPolicy"]["syncOptions"]
        .as_array_mut()
        .expect("the template has sync options")
        .push("SkipDryRunOnMissingResource=true".into());
    c.manifests.push(policies);
    if let Some(address) = monitoring::remote_write_address(p) {
        c.manifests.push(application_set(
            "monitoring",
            p,
            chart(
                &charts::KUBE_PROMETHEUS_STACK,
                json!({"releaseName": "kube-prometheus-stack", "valuesObject": monitoring_values(p, address)}),
            ),
            monitoring::NAMESPACE,
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
