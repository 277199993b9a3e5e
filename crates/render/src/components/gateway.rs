//! The platform Gateway: one Cilium Gateway with a cert-manager certificate for the
//! platform UIs' host names, HTTP redirected to HTTPS, and a route per published UI.

use infraflux_spec::Platform;
use serde_json::{Value, json};

use crate::component::Component;
use crate::components::{certmanager, monitoring};

/// The Gateway's namespace.
pub const NAMESPACE: &str = "platform-gateway";
/// The Gateway's name.
pub const NAME: &str = "platform";
/// Grafana's Service, as kube-prometheus-stack names it for the release
/// `kube-prometheus-stack`.
const GRAFANA_SERVICE: &str = "kube-prometheus-stack-grafana";

/// The published UIs: (name, host, namespace, Service, port).
fn uis(p: &Platform) -> Vec<(&'static str, String, &'static str, &'static str, u16)> {
    let mut out = Vec::new();
    let m = &p.spec.components.monitoring;
    if m.enabled
        && let Some(host) = &m.grafana.host
    {
        out.push((
            "grafana",
            host.clone(),
            monitoring::NAMESPACE,
            GRAFANA_SERVICE,
            80,
        ));
    }
    out
}

/// The component; None without Gateway API, cert-manager or a UI to publish.
pub fn component(p: &Platform) -> Option<Component> {
    let uis = uis(p);
    if !p.spec.cilium.gateway_api || !p.spec.components.cert_manager.enabled || uis.is_empty() {
        return None;
    }
    let hosts: Vec<&str> = uis.iter().map(|u| u.1.as_str()).collect();
    let route_namespaces: Vec<&str> = {
        let mut n: Vec<&str> = uis.iter().map(|u| u.2).collect();
        n.sort_unstable();
        n.dedup();
        n
    };
    // Only the namespaces of the published UIs may attach routes to the platform Gateway.
    let allowed = json!({"namespaces": {"from": "Selector", "selector": {"matchExpressions": [{
        "key": "kubernetes.io/metadata.name", "operator": "In", "values": route_namespaces,
    }]}}});
    let listeners: Vec<Value> = hosts
        .iter()
        .enumerate()
        .flat_map(|(i, host)| {
            [
                json!({"name": format!("http-{i}"), "hostname": host, "port": 80, "protocol": "HTTP",
                    "allowedRoutes": {"namespaces": {"from": "Same"}}}),
                json!({"name": format!("https-{i}"), "hostname": host, "port": 443, "protocol": "HTTPS",
                    "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "platform-gateway-tls"}]},
                    "allowedRoutes": allowed}),
            ]
        })
        .collect();
    let mut c = Component::new("platform-gateway", NAMESPACE);
    c.uses = vec![
        "gateway.networking.k8s.io/Gateway",
        "gateway.networking.k8s.io/HTTPRoute",
        "cert-manager.io/Certificate",
        "cert-manager.io/ClusterIssuer",
    ];
    c.depends_on = vec!["cilium", "cluster-issuers"];
    c.manifests.push(json!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "platform-gateway", "namespace": NAMESPACE},
        "spec": {
            "secretName": "platform-gateway-tls",
            "dnsNames": hosts,
            "issuerRef": {"name": certmanager::default_issuer(p), "kind": "ClusterIssuer", "group": "cert-manager.io"},
        },
    }));
    c.manifests.push(json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "spec": {"gatewayClassName": "cilium", "listeners": listeners},
    }));
    // Plain HTTP only redirects.
    c.manifests.push(json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "https-redirect", "namespace": NAMESPACE},
        "spec": {
            "parentRefs": (0..hosts.len()).map(|i| json!({"name": NAME, "sectionName": format!("http-{i}")})).collect::<Vec<_>>(),
            "hostnames": hosts,
            "rules": [{"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}],
        },
    }));
    for (i, (name, host, namespace, service, port)) in uis.iter().enumerate() {
        c.manifests.push(json!({
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "parentRefs": [{"name": NAME, "namespace": NAMESPACE, "sectionName": format!("https-{i}")}],
                "hostnames": [host],
                "rules": [{"backendRefs": [{"name": service, "port": port}]}],
            },
        }));
    }
    Some(c)
}
