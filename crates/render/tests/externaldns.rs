//! external-dns: the spec's provider and domains, records from routes, Ingresses and
//! LoadBalancer Services, never deleting records it does not own.

use infraflux_render::components::externaldns;
use serde_json::json;
use std::path::Path;

#[test]
fn provider_domains_and_sources_follow_the_spec() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/homelab.yaml");
    let p = infraflux_spec::load(&path).unwrap().platform;
    let c = externaldns::component(&p).expect("the homelab runs external-dns");
    let (_, v) = c.chart.as_ref().unwrap();
    assert_eq!(v["provider"], json!({"name": "cloudflare"}));
    assert_eq!(v["domainFilters"], json!(["example.com"]));
    assert_eq!(
        v["sources"],
        json!([
            "service",
            "ingress",
            "gateway-httproute",
            "gateway-grpcroute"
        ])
    );
    assert_eq!(v["policy"], "upsert-only");
    assert_eq!(v["txtOwnerId"], json!(p.metadata.name));
    assert_eq!(v["env"][0]["name"], "CF_API_TOKEN");
    let rendered = infraflux_render::render(&p).unwrap();
    assert!(rendered.graph.wave("external-dns") > rendered.graph.wave("gateway-api-crds"));
    let mut off = p.clone();
    off.spec.components.external_dns.enabled = false;
    assert!(externaldns::component(&off).is_none());
}
