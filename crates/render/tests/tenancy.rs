//! Tenant namespaces: Pod Security level, default deny with the needed allow-list, quota.

use infraflux_render::components::tenancy;
use serde_json::json;
use std::path::Path;

#[test]
fn tenants_get_their_level_isolation_and_quota() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/homelab.yaml");
    let p = infraflux_spec::load(&path).unwrap().platform;
    let c = tenancy::component(&p);
    let find = |kind: &str, ns: Option<&str>| {
        c.manifests
            .iter()
            .find(|m| m["kind"] == kind && m["metadata"]["namespace"].as_str() == ns)
            .unwrap_or_else(|| panic!("no {kind} in {ns:?}"))
    };
    let spec = &p.spec.tenancy.namespaces[0];
    assert_eq!(spec.name, "apps");
    let ns = c
        .manifests
        .iter()
        .find(|m| m["kind"] == "Namespace")
        .unwrap();
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    let quota = find("ResourceQuota", Some("apps"));
    assert_eq!(
        quota["spec"]["hard"],
        json!({"requests.cpu": "8", "requests.memory": "16Gi", "pods": "100"})
    );
    let deny = find("CiliumNetworkPolicy", Some("apps"));
    assert_eq!(deny["spec"]["endpointSelector"], json!({}));
    let rules = deny["spec"].to_string();
    for needed in [
        "\"fromEntities\":[\"ingress\"]",
        "\"k8s-app\":\"kube-dns\"",
        "\"toEndpoints\":[{}]",
        "\"fromEndpoints\":[{}]",
    ] {
        assert!(rules.contains(needed), "{needed} missing from {rules}");
    }
    let ccnp = find("CiliumClusterwideNetworkPolicy", None);
    assert_eq!(
        ccnp["spec"]["ingress"],
        json!([{"fromEntities": ["cluster"]}])
    );
}
