//! Components become Argo CD Applications with derived sync waves, under an AppProject and
//! a root Application whose directory holds exactly the child Applications.

mod common;

use infraflux_render::charts;
use infraflux_render::component::{APPS_DIR, Component, Source, assemble};
use infraflux_render::tree::Tree;
use serde_json::json;

fn source() -> Source {
    Source {
        repo_url: "https://git.example.com/platform.git".into(),
        revision: "main".into(),
        path: "clusters/home".into(),
    }
}

fn components() -> Vec<Component> {
    let mut cm = Component::new("cert-manager", "cert-manager");
    cm.provides = vec![
        "cert-manager.io/ClusterIssuer",
        "cert-manager.io/Certificate",
    ];
    cm.chart = Some((charts::CERT_MANAGER, json!({"crds": {"enabled": true}})));
    let mut issuers = Component::new("issuers", "cert-manager");
    issuers.uses = vec!["cert-manager.io/ClusterIssuer"];
    issuers.manifests = vec![json!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": {"name": "selfsigned"},
        "spec": {"selfSigned": {}},
    })];
    let mut argocd = Component::new("argo-cd", "argocd");
    argocd.chart = Some((
        charts::ARGO_CD,
        json!({"configs": {"params": {"server.insecure": true}}}),
    ));
    vec![argocd, cm, issuers]
}

#[test]
fn applications_carry_derived_waves_and_validate_upstream() {
    let mut tree = Tree::default();
    let graph = assemble(&components(), &source(), &mut tree).unwrap();
    assert_eq!(graph.wave("issuers"), Some(1));
    let files = tree.files();
    let issuers = &files["apps/issuers.yaml"].documents[0];
    assert_eq!(
        issuers["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"],
        "1"
    );
    assert_eq!(
        issuers["spec"]["sources"][0]["path"],
        "clusters/home/components/issuers"
    );
    assert!(files.contains_key("components/issuers/clusterissuer-selfsigned.yaml"));
    let project = &files["projects/platform.yaml"].documents[0];
    assert_eq!(
        project["spec"]["sourceRepos"],
        json!([
            "https://argoproj.github.io/argo-helm",
            "https://charts.jetstack.io",
            "https://git.example.com/platform.git"
        ])
    );
    common::assert_clean(&common::validate(&tree));
}

/// Argo CD reads a directory non-recursively: the root's directory must hold only
/// Applications, and every component's Application must be there.
#[test]
fn the_root_directory_holds_exactly_the_child_applications() {
    let mut tree = Tree::default();
    let list = components();
    assemble(&list, &source(), &mut tree).unwrap();
    let root = &tree.files()[&format!("{APPS_DIR}/root.yaml")].documents[0];
    assert_eq!(root["spec"]["sources"][0]["path"], "clusters/home/apps");
    let mut children = Vec::new();
    for (path, file) in tree.files() {
        let Some(rest) = path.strip_prefix("apps/") else {
            continue;
        };
        assert!(
            !rest.contains('/'),
            "{path}: nested under the root directory"
        );
        for d in &file.documents {
            assert!(
                matches!(d["kind"].as_str(), Some("Application" | "ApplicationSet")),
                "{path} holds a {}",
                d["kind"]
            );
            children.push(d["metadata"]["name"].as_str().unwrap().to_string());
        }
    }
    for c in &list {
        assert!(
            children.contains(&c.name.to_string()),
            "{} is not reachable from the root",
            c.name
        );
    }
}
