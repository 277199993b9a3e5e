//! kube-prometheus-stack: Prometheus, Alertmanager, Grafana and the Prometheus operator,
//! whose chart installs the `monitoring.coreos.com` CRDs.

use infraflux_spec::Platform;
use serde_json::{Value, json};

use crate::charts;
use crate::component::Component;

/// The monitoring namespace.
pub const NAMESPACE: &str = "monitoring";

/// The CRD kinds the chart installs.
pub const CRDS: &[&str] = &[
    "monitoring.coreos.com/Alertmanager",
    "monitoring.coreos.com/AlertmanagerConfig",
    "monitoring.coreos.com/PodMonitor",
    "monitoring.coreos.com/Probe",
    "monitoring.coreos.com/Prometheus",
    "monitoring.coreos.com/PrometheusAgent",
    "monitoring.coreos.com/PrometheusRule",
    "monitoring.coreos.com/ScrapeConfig",
    "monitoring.coreos.com/ServiceMonitor",
    "monitoring.coreos.com/ThanosRuler",
];

/// The chart's values.
pub fn values(p: &Platform) -> Value {
    let m = &p.spec.components.monitoring;
    let mut volume = json!({
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": format!("{}Gi", m.storage_gib)}},
    });
    if p.spec.components.longhorn.enabled {
        volume["storageClassName"] = json!("longhorn");
    }
    json!({
        "crds": {"enabled": true},
        "prometheus": {"prometheusSpec": {
            "retention": m.retention,
            "storageSpec": {"volumeClaimTemplate": {"spec": volume}},
            // Every ServiceMonitor, PodMonitor and rule in the cluster, not only the chart's.
            "serviceMonitorSelectorNilUsesHelmValues": false,
            "podMonitorSelectorNilUsesHelmValues": false,
            "ruleSelectorNilUsesHelmValues": false,
        }},
        "grafana": {
            "enabled": true,
            // Dashboards are ConfigMaps with this label, in any namespace.
            "sidecar": {"dashboards": {"enabled": true, "label": "grafana_dashboard", "searchNamespace": "ALL"}},
        },
        // Without kube-proxy there is nothing to scrape there.
        "kubeProxy": {"enabled": !p.spec.cilium.kube_proxy_replacement},
    })
}

/// The component; None when monitoring is off.
pub fn component(p: &Platform) -> Option<Component> {
    if !p.spec.components.monitoring.enabled {
        return None;
    }
    let mut c = Component::new("kube-prometheus-stack", NAMESPACE);
    c.depends_on = vec!["cilium"];
    if p.spec.components.longhorn.enabled {
        c.depends_on.push("longhorn");
    }
    c.provides = CRDS.to_vec();
    c.chart = Some((charts::KUBE_PROMETHEUS_STACK, values(p)));
    Some(c)
}
