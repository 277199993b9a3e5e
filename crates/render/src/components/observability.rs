//! What the platform watches: PrometheusRules for the failures its parts can have
//! (Cilium and Hubble drops, Tetragon events, etcd, Longhorn, certificates, nodes), and
//! Grafana dashboards for Cilium, Hubble and Tetragon as ConfigMaps the Grafana sidecar
//! loads (label `grafana_dashboard`).

use infraflux_spec::Platform;
use serde_json::{Value, json};

use crate::component::Component;
use crate::components::monitoring::NAMESPACE;

/// An alert: name, expression, for, severity, summary.
type Alert = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const CILIUM: &[Alert] = &[
    (
        "CiliumDropsHigh",
        "sum by (reason) (rate(cilium_drop_count_total[5m])) > 10",
        "10m",
        "warning",
        "Cilium drops more than 10 packets/s for reason {{ $labels.reason }}",
    ),
    (
        "CiliumAgentDown",
        "up{job=~\".*cilium-agent.*\"} == 0",
        "5m",
        "critical",
        "A Cilium agent is not scraped: its node's pods may have no network",
    ),
];
const HUBBLE: &[Alert] = &[(
    "HubbleDropsHigh",
    "sum by (reason) (rate(hubble_drop_total[5m])) > 10",
    "10m",
    "warning",
    "Hubble sees more than 10 dropped flows/s for reason {{ $labels.reason }}",
)];
const TETRAGON: &[Alert] = &[(
    "TetragonPolicyEvents",
    "sum by (namespace, pod) (rate(tetragon_events_total{type=\"PROCESS_KPROBE\"}[5m])) > 0",
    "1m",
    "warning",
    "A Tetragon tracing policy fired in {{ $labels.namespace }}/{{ $labels.pod }}",
)];
const ETCD: &[Alert] = &[
    (
        "EtcdNoLeader",
        "etcd_server_has_leader == 0",
        "1m",
        "critical",
        "An etcd member has no leader",
    ),
    (
        "EtcdDatabaseNearQuota",
        "etcd_mvcc_db_total_size_in_bytes / etcd_server_quota_backend_bytes > 0.8",
        "10m",
        "warning",
        "etcd's database is above 80% of its quota: defragment or raise the quota",
    ),
];
const LONGHORN: &[Alert] = &[
    (
        "LonghornVolumeDegraded",
        "longhorn_volume_robustness == 2",
        "10m",
        "warning",
        "Longhorn volume {{ $labels.volume }} is degraded (replicas missing)",
    ),
    (
        "LonghornVolumeFaulted",
        "longhorn_volume_robustness == 3",
        "1m",
        "critical",
        "Longhorn volume {{ $labels.volume }} is faulted",
    ),
];
const CERTIFICATES: &[Alert] = &[
    (
        "CertificateExpiresSoon",
        "certmanager_certificate_expiration_timestamp_seconds - time() < 7 * 86400",
        "1h",
        "warning",
        "Certificate {{ $labels.namespace }}/{{ $labels.name }} expires within 7 days",
    ),
    (
        "CertificateNotReady",
        "certmanager_certificate_ready_status{condition=\"False\"} == 1",
        "15m",
        "warning",
        "Certificate {{ $labels.namespace }}/{{ $labels.name }} is not ready",
    ),
];
const NODES: &[Alert] = &[(
    "NodeNotReady",
    "kube_node_status_condition{condition=\"Ready\",status=\"true\"} == 0",
    "5m",
    "critical",
    "Node {{ $labels.node }} is not ready",
)];

fn group(name: &str, alerts: &[Alert]) -> Value {
    let rules: Vec<Value> = alerts
        .iter()
        .map(|(alert, expr, r#for, severity, summary)| {
            json!({"alert": alert, "expr": expr, "for": r#for,
                "labels": {"severity": severity}, "annotations": {"summary": summary}})
        })
        .collect();
    json!({"name": name, "rules": rules})
}

/// A small dashboard: one time-series panel per (title, query).
fn dashboard(uid: &str, title: &str, panels: &[(&str, &str)]) -> Value {
    let panels: Vec<Value> = panels
        .iter()
        .enumerate()
        .map(|(i, (title, expr))| {
            json!({
                "id": i + 1,
                "type": "timeseries",
                "title": title,
                "datasource": {"type": "prometheus", "uid": "prometheus"},
                "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i / 2) * 8},
                "targets": [{"refId": "A", "expr": expr}],
            })
        })
        .collect();
    json!({
        "uid": uid,
        "title": title,
        "tags": ["infraflux"],
        "schemaVersion": 39,
        "time": {"from": "now-6h", "to": "now"},
        "panels": panels,
    })
}

fn dashboard_configmap(name: &str, dashboard: &Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": format!("dashboard-{name}"), "namespace": NAMESPACE, "labels": {"grafana_dashboard": "1"}},
        "data": {format!("{name}.json"): serde_json::to_string_pretty(dashboard).expect("JSON")},
    })
}

/// The component; None when monitoring is off.
pub fn component(p: &Platform) -> Option<Component> {
    let comps = &p.spec.components;
    if !comps.monitoring.enabled {
        return None;
    }
    let mut groups = vec![
        group("cilium", CILIUM),
        group("etcd", ETCD),
        group("nodes", NODES),
    ];
    if p.spec.cilium.hubble.enabled {
        groups.push(group("hubble", HUBBLE));
    }
    if comps.tetragon.enabled {
        groups.push(group("tetragon", TETRAGON));
    }
    if comps.longhorn.enabled {
        groups.push(group("longhorn", LONGHORN));
    }
    if comps.cert_manager.enabled {
        groups.push(group("certificates", CERTIFICATES));
    }
    let mut c = Component::new("observability", NAMESPACE);
    c.uses = vec!["monitoring.coreos.com/PrometheusRule"];
    c.manifests.push(json!({
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "platform", "namespace": NAMESPACE},
        "spec": {"groups": groups},
    }));
    let mut dashboards = vec![(
        "cilium",
        dashboard(
            "infraflux-cilium",
            "Cilium",
            &[
                (
                    "Drops by reason",
                    "sum by (reason) (rate(cilium_drop_count_total[5m]))",
                ),
                (
                    "Forwarded packets",
                    "sum by (direction) (rate(cilium_forward_count_total[5m]))",
                ),
                ("Endpoints", "sum(cilium_endpoint_state)"),
                (
                    "Agent memory",
                    "sum by (pod) (container_memory_working_set_bytes{container=\"cilium-agent\"})",
                ),
            ],
        ),
    )];
    if p.spec.cilium.hubble.enabled {
        dashboards.push((
            "hubble",
            dashboard(
                "infraflux-hubble",
                "Hubble",
                &[
                    (
                        "Flows by verdict",
                        "sum by (verdict) (rate(hubble_flows_processed_total[5m]))",
                    ),
                    (
                        "Drops by reason",
                        "sum by (reason) (rate(hubble_drop_total[5m]))",
                    ),
                    (
                        "DNS queries",
                        "sum by (qtypes) (rate(hubble_dns_queries_total[5m]))",
                    ),
                    (
                        "TCP flags",
                        "sum by (flag) (rate(hubble_tcp_flags_total[5m]))",
                    ),
                ],
            ),
        ));
    }
    if comps.tetragon.enabled {
        dashboards.push((
            "tetragon",
            dashboard("infraflux-tetragon", "Tetragon", &[
                ("Events by type", "sum by (type) (rate(tetragon_events_total[5m]))"),
                ("Policy events by pod", "sum by (namespace, pod) (rate(tetragon_events_total{type=\"PROCESS_KPROBE\"}[5m]))"),
            ]),
        ));
    }
    c.manifests
        .extend(dashboards.iter().map(|(n, d)| dashboard_configmap(n, d)));
    Some(c)
}
