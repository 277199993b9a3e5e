//! Shared by the render tests: the rendered tree judged by upstream's schemas, the chart
//! schemas and defaults, and every policy rule.

use std::path::{Path, PathBuf};

use infraflux_render::tree::{OWNED, Tree};
use infraflux_validate::{DocResult, Files, Input, Options, Policy, Status, Validator, schemas};

/// `../shared/upstream`.
pub fn upstream() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/upstream")
}

/// Every document of the tree, validated strictly against Kubernetes v1.33 (standalone
/// strict) and the upstream CRDs, with the Helm values of every Application checked
/// against the upstream chart files, and every policy rule on. Missing schemas are errors.
pub fn validate(tree: &Tree) -> Vec<DocResult> {
    let k8s = upstream().join("kubernetes/v1.33.0-standalone-strict");
    let index = std::fs::read_to_string(k8s.join("index.json")).unwrap();
    let crds = format!(
        "{}/crds/{{{{.Group}}}}/{{{{.ResourceKind}}}}_{{{{.ResourceAPIVersion}}}}.json",
        upstream().display()
    );
    let options = Options {
        locations: vec![
            schemas::parse_location(k8s.to_str().unwrap(), Some(&index)).unwrap(),
            schemas::parse_location(&crds, None).unwrap(),
        ],
        kubernetes_version: "1.33.0".into(),
        strict: true,
        policy: Policy::all(),
        chart_schemas: Some(upstream().join("helm-values").display().to_string()),
        ..Options::default()
    };
    let inputs: Vec<Input> = tree
        .texts()
        .into_iter()
        .filter(|(p, _)| p != OWNED)
        .map(|(p, t)| Input::text(&p, &t))
        .collect();
    Validator::new(options, Files).validate(inputs).results
}

/// Fails with every problem: a document that is not valid, or any finding.
pub fn assert_clean(results: &[DocResult]) {
    let problems: Vec<String> = results
        .iter()
        .filter(|r| r.status != Status::Valid || !r.findings.is_empty())
        .map(|r| {
            format!(
                "{}:{} {:?} {:?}: {:?} {:#?}",
                r.file, r.line, r.kind, r.name, r.status, r.findings
            )
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
