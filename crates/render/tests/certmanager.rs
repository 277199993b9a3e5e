//! cert-manager: the platform CA chain and Let's Encrypt production and staging with DNS-01.

use infraflux_render::components::certmanager;
use serde_json::json;
use std::path::Path;

#[test]
fn issuers_follow_the_acme_settings() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/homelab.yaml");
    let p = infraflux_spec::load(&path).unwrap().platform;
    let list = certmanager::components(&p);
    let issuers = &list[1].manifests;
    let named = |n: &str| {
        issuers
            .iter()
            .find(|m| m["metadata"]["name"] == n)
            .unwrap_or_else(|| panic!("no {n}"))
    };
    // The CA certificate is signed by the self-signed issuer; the CA issuer uses its secret.
    let ca = named("platform-ca");
    assert_eq!(ca["spec"]["isCA"], true);
    assert_eq!(ca["spec"]["issuerRef"]["name"], "selfsigned");
    assert_eq!(
        named(certmanager::INTERNAL_ISSUER)["spec"]["ca"]["secretName"],
        ca["spec"]["secretName"]
    );
    let acme = p.spec.components.cert_manager.acme.as_ref().unwrap();
    for (name, host) in [
        ("letsencrypt-production", "acme-v02"),
        ("letsencrypt-staging", "acme-staging-v02"),
    ] {
        let issuer = &named(name)["spec"]["acme"];
        assert_eq!(issuer["email"], json!(acme.email));
        assert!(issuer["server"].as_str().unwrap().contains(host));
        assert_eq!(
            issuer["solvers"][0]["dns01"],
            json!({"cloudflare": {"apiTokenSecretRef": {"name": certmanager::DNS_TOKEN_SECRET, "key": "token"}}})
        );
    }
    assert_eq!(certmanager::default_issuer(&p), "letsencrypt-production");
    let rendered = infraflux_render::render(&p).unwrap();
    assert!(rendered.graph.wave("cluster-issuers") > rendered.graph.wave("cert-manager"));

    let mut internal = p.clone();
    internal.spec.components.cert_manager.acme = None;
    let list = certmanager::components(&internal);
    assert_eq!(list[1].manifests.len(), 3, "only the CA chain without ACME");
    assert_eq!(
        certmanager::default_issuer(&internal),
        certmanager::INTERNAL_ISSUER
    );
}
