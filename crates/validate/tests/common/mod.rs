//! Shared by the validate tests: the upstream data and schemas read from files.

use std::path::{Path, PathBuf};

pub use infraflux_validate::Files;
use infraflux_validate::schemas;

/// `../shared/upstream`.
pub fn upstream() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/upstream")
}

/// The upstream schema locations: the standalone-strict Kubernetes v1.33.0 schemas (through
/// their `index.json`) and the CRD schemas in kubeconform's CRD layout.
#[allow(dead_code)]
pub fn upstream_locations() -> Vec<schemas::Location> {
    let k8s = upstream().join("kubernetes/v1.33.0-standalone-strict");
    let index = std::fs::read_to_string(k8s.join("index.json")).unwrap();
    let crds = format!(
        "{}/crds/{{{{.Group}}}}/{{{{.ResourceKind}}}}_{{{{.ResourceAPIVersion}}}}.json",
        upstream().display()
    );
    vec![
        schemas::parse_location(k8s.to_str().unwrap(), Some(&index)).unwrap(),
        schemas::parse_location(&crds, None).unwrap(),
    ]
}
