//! Every file under `tests/fixtures/invalid/` holds one problem, and states on its first
//! line the one diagnostic it must produce:
//!
//! ```yaml
//! # expect: 23:11: error[duplicate-ip]: 192.168.10.51 is used twice: by node `a` and by node `b`
//! ```
//!
//! For an `error`, the spec must produce exactly that one error (warnings may come along);
//! for a `warning`, no error and exactly that one warning.

use std::collections::BTreeSet;
use std::path::Path;

use infraflux_spec::{Severity, Source, analyze};

/// Checks the spec semantics must cover; the corpus must exercise each at least once.
const REQUIRED_CODES: &[&str] = &[
    "yaml",
    "unknown-field",
    "unknown-value",
    "missing-field",
    "invalid-type",
    "duplicate-key",
    "invalid-secret-ref",
    "invalid-name",
    "duplicate-name",
    "outside-node-cidr",
    "reserved-address",
    "duplicate-ip",
    "overlapping-pools",
    "cidr-overlap",
    "invalid-range",
    "ip-pool-size",
    "control-plane-count",
    "single-control-plane",
    "unknown-proxmox-node",
    "unknown-size",
    "size-minimum",
    "bgp-asn",
    "bgp",
    "cilium-kube-proxy-replacement",
    "cilium-l7-proxy",
    "cilium-encryption",
    "hubble",
    "hubble-metric",
    "cluster-mesh",
    "version",
    "talos-version",
    "kubernetes-version",
    "longhorn-replicas",
    "age-recipient",
    "tls-insecure-with-pin",
    "tls-fingerprint",
    "proxmox-endpoint",
    "proxmox-token",
    "vlan",
    "patch",
    "patch-target",
    "cron",
    "duration",
    "quantity",
    "reserved-namespace",
    "external-dns",
    "etcd-backup",
    "label",
    "git-url",
    "cidr-host-bits",
    "vmid",
    "proxmox-nodes",
    "mtu",
];

#[test]
fn every_invalid_fixture_produces_exactly_its_expected_diagnostic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/invalid");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut covered = BTreeSet::new();
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let expected = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| {
                panic!("{name}: first line must be `# expect: L:C: severity[code]: message`")
            })
            .to_string();
        let severity = if expected.contains(": warning[") {
            Severity::Warning
        } else {
            Severity::Error
        };
        let analysis = analyze(&Source::new(name.clone(), text));
        let errors: Vec<_> = analysis
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .collect();
        let relevant: Vec<_> = match severity {
            Severity::Error => errors.clone(),
            Severity::Warning if errors.is_empty() => analysis
                .diagnostics
                .iter()
                .filter(|d| !d.is_error())
                .collect(),
            Severity::Warning => errors.clone(),
        };
        let got: Vec<String> = relevant
            .iter()
            .map(|d| {
                d.one_line(&name)
                    .trim_start_matches(&format!("{name}:"))
                    .to_string()
            })
            .collect();
        if got != [expected.clone()] {
            failures.push(format!(
                "{name}\n  expected: {expected}\n  got:      {got:#?}"
            ));
        }
        for d in relevant {
            assert!(
                d.location.is_some(),
                "{name}: the diagnostic has no location"
            );
            assert!(d.hint.is_some(), "{name}: `{}` has no hint", d.code);
            covered.insert(d.code);
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        files.len() >= 30,
        "the corpus has {} fixtures, at least 30 are required",
        files.len()
    );
    let missing: Vec<_> = REQUIRED_CODES
        .iter()
        .filter(|c| !covered.contains(**c))
        .collect();
    assert!(missing.is_empty(), "no fixture covers: {missing:?}");
}
