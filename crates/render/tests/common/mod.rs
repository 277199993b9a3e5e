//! Shared by the render tests: the rendered tree judged by upstream's schemas, the chart
//! schemas and defaults, and every policy rule.

#![allow(dead_code)] // each test binary uses part of it

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use infraflux_render::secret::Sealed;
use infraflux_render::tree::{OWNED, Tree};
use infraflux_validate::{DocResult, Files, Input, Options, Policy, Status, Validator, schemas};

/// `../shared/upstream`.
pub fn upstream() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/upstream")
}

/// The platform of `examples/<name>.yaml`.
pub fn example(name: &str) -> infraflux_spec::Platform {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../examples/{name}.yaml"));
    infraflux_spec::load(&path).unwrap().platform
}

/// Schemas upstream does not publish, written here from upstream's source (see
/// `tests/schemas/SOURCES.md`).
pub fn local_schemas() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas")
}

/// The value a test seals for a Secret entry: never a real secret, easy to look for.
pub fn test_value(key: &str) -> String {
    format!("test-value-of-{key}")
}

/// The tree's texts with its Secrets encrypted as `infraflux render` encrypts them (for a
/// new test identity, values from [`test_value`]), and the identity that opens them.
pub fn texts_with_secrets(tree: &Tree) -> (BTreeMap<String, String>, age::x25519::Identity) {
    let id = age::x25519::Identity::generate();
    let recipients = vec![id.to_public().to_string()];
    let mut texts = tree.texts();
    for (path, sealed) in tree.sealed() {
        texts.insert(path.clone(), seal(sealed, &recipients));
    }
    (texts, id)
}

/// One Secret, encrypted for `recipients` with [`test_value`]s.
pub fn seal(sealed: &Sealed, recipients: &[String]) -> String {
    let digest = sealed.digest(recipients, &|s| format!("{s:?}"));
    let doc = sealed.document(&digest, &|_, field| test_value(field.unwrap_or("value")));
    Sealed::seal(&doc, recipients, None, time::OffsetDateTime::UNIX_EPOCH).unwrap()
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
    let local = format!(
        "{}/{{{{.Group}}}}/{{{{.ResourceKind}}}}_{{{{.ResourceAPIVersion}}}}.json",
        local_schemas().display()
    );
    let options = Options {
        locations: vec![
            schemas::parse_location(k8s.to_str().unwrap(), Some(&index)).unwrap(),
            schemas::parse_location(&crds, None).unwrap(),
            schemas::parse_location(&local, None).unwrap(),
        ],
        kubernetes_version: "1.33.0".into(),
        strict: true,
        policy: Policy::all(),
        chart_schemas: Some(upstream().join("helm-values").display().to_string()),
        ..Options::default()
    };
    let inputs: Vec<Input> = texts_with_secrets(tree)
        .0
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
