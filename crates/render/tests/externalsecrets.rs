//! External Secrets: one ClusterSecretStore reading the platform-secrets namespace with a
//! ServiceAccount that may read Secrets there and nowhere else.

use infraflux_render::components::externalsecrets;
use std::path::Path;

#[test]
fn the_store_reads_only_the_platform_secrets_namespace() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/homelab.yaml");
    let p = infraflux_spec::load(&path).unwrap().platform;
    let list = externalsecrets::components(&p);
    let m = &list[1].manifests;
    let store = m
        .iter()
        .find(|d| d["kind"] == "ClusterSecretStore")
        .unwrap();
    let k = &store["spec"]["provider"]["kubernetes"];
    assert_eq!(k["remoteNamespace"], externalsecrets::SECRETS_NAMESPACE);
    let reader = k["auth"]["serviceAccount"]["name"].as_str().unwrap();
    // The only Role granting Secret reads is in the secrets namespace, bound to the reader.
    let secret_roles: Vec<_> = m
        .iter()
        .filter(|d| matches!(d["kind"].as_str(), Some("Role" | "ClusterRole")))
        .filter(|d| d["rules"].to_string().contains("\"secrets\""))
        .collect();
    assert_eq!(secret_roles.len(), 1);
    assert_eq!(
        secret_roles[0]["metadata"]["namespace"],
        externalsecrets::SECRETS_NAMESPACE
    );
    let binding = m.iter().find(|d| d["kind"] == "RoleBinding").unwrap();
    assert_eq!(
        binding["roleRef"]["name"],
        secret_roles[0]["metadata"]["name"]
    );
    assert_eq!(binding["subjects"][0]["name"], reader);
    let rendered = infraflux_render::render(&p).unwrap();
    assert!(rendered.graph.wave("secret-store") > rendered.graph.wave("external-secrets"));
    let mut off = p.clone();
    off.spec.components.external_secrets.enabled = false;
    assert!(externalsecrets::components(&off).is_empty());
}
