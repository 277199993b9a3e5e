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

/// Where workload clusters' Prometheus agents write: the last address of the
/// LoadBalancer pools, on the management cluster's `prometheus-remote-write` Service.
/// None without workload clusters or pools.
pub fn remote_write_address(p: &Platform) -> Option<std::net::Ipv4Addr> {
    if p.spec.clusters.is_empty() || !p.spec.components.monitoring.enabled {
        return None;
    }
    p.spec.network.load_balancer.pools.last().map(|r| r.end)
}

/// The port of the management Prometheus's remote-write receiver.
pub const REMOTE_WRITE_PORT: u16 = 9090;

/// The Service in front of the management Prometheus's remote-write receiver: a
/// LoadBalancer at [`remote_write_address`] that only the node network may reach.
fn remote_write_service(p: &Platform, address: std::net::Ipv4Addr) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "prometheus-remote-write",
            "namespace": NAMESPACE,
            "annotations": {"lbipam.cilium.io/ips": address.to_string()},
        },
        "spec": {
            "type": "LoadBalancer",
            // The workload clusters' nodes are in the node network; nothing else writes.
            "loadBalancerSourceRanges": [p.spec.network.node_cidr.to_string()],
            // The pods the Prometheus operator runs for the chart's Prometheus.
            "selector": {
                "app.kubernetes.io/name": "prometheus",
                "operator.prometheus.io/name": "kube-prometheus-stack-prometheus",
            },
            "ports": [{"name": "http-web", "port": REMOTE_WRITE_PORT, "targetPort": 9090, "protocol": "TCP"}],
        },
    })
}

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
    let mut v = json!({
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
    });
    if remote_write_address(p).is_some() {
        // The workload clusters' agents write here (see `remote_write_service`).
        v["prometheus"]["prometheusSpec"]["enableRemoteWriteReceiver"] = json!(true);
    }
    v
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
    if let Some(address) = remote_write_address(p) {
        c.manifests.push(remote_write_service(p, address));
    }
    Some(c)
}
