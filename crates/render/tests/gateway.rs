//! The platform Gateway publishes Grafana on its host with a certificate from the default
//! issuer, and redirects plain HTTP.

use infraflux_render::components::{certmanager, gateway};
use serde_json::json;
use std::path::Path;

#[test]
fn grafana_is_published_over_https_with_the_default_issuer() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/homelab.yaml");
    let p = infraflux_spec::load(&path).unwrap().platform;
    let host = p.spec.components.monitoring.grafana.host.clone().unwrap();
    let c = gateway::component(&p).expect("the homelab publishes Grafana");
    let kind = |k: &str, name: &str| {
        c.manifests
            .iter()
            .find(|m| m["kind"] == k && m["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {k} {name}"))
    };
    let cert = kind("Certificate", "platform-gateway");
    assert_eq!(cert["spec"]["dnsNames"], json!([host]));
    assert_eq!(
        cert["spec"]["issuerRef"]["name"],
        certmanager::default_issuer(&p)
    );
    let gw = kind("Gateway", gateway::NAME);
    let https = &gw["spec"]["listeners"][1];
    assert_eq!(
        (https["protocol"].as_str(), https["hostname"].as_str()),
        (Some("HTTPS"), Some(host.as_str()))
    );
    assert_eq!(
        https["tls"]["certificateRefs"][0]["name"],
        cert["spec"]["secretName"]
    );
    let route = kind("HTTPRoute", "grafana");
    assert_eq!(route["metadata"]["namespace"], "monitoring");
    assert_eq!(
        route["spec"]["rules"][0]["backendRefs"][0],
        json!({"name": "kube-prometheus-stack-grafana", "port": 80})
    );
    assert_eq!(
        kind("HTTPRoute", "https-redirect")["spec"]["rules"][0]["filters"][0]["requestRedirect"]["scheme"],
        "https"
    );
    let mut none = p.clone();
    none.spec.components.monitoring.grafana.host = None;
    assert!(gateway::component(&none).is_none());
}
