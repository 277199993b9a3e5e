//! The same verdicts as an independent validator: `kubernetes-validate` (PyPI; scripts/
//! test.sh installs it) and infraflux judge every document of a generated corpus of more
//! than 300 documents, valid and invalid in several ways, and must agree on each.

use std::path::PathBuf;
use std::process::Command;

mod common;

use common::{Files, upstream};
use infraflux_validate::{Options, Status, Validator, schemas};

fn kubernetes_validate() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("kubernetes-validate"))
            .find(|p| p.is_file())
    });
    found.expect("kubernetes-validate is needed: run scripts/test.sh, which installs it (PyPI)")
}

/// (kind header and body with `NAME`, the kind's own type error as (from, to)).
const KINDS: &[(&str, (&str, &str))] = &[
    (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: NAME\n  labels: {app: web}\ndata:\n  key: value\n",
        ("key: value", "key: 1"),
    ),
    (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: NAME\n  labels: {app: web}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n          ports: [{containerPort: 80}]\n",
        ("replicas: 2", "replicas: two"),
    ),
    (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: NAME\n  labels: {app: web}\nspec:\n  selector: {app: web}\n  ports:\n    - port: 80\n      targetPort: 8080\n",
        ("- port: 80", "- port: [80]"),
    ),
    (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: NAME\n  labels: {app: web}\nspec:\n  containers:\n    - name: c\n      image: busybox:1.36\n      ports: [{containerPort: 8080}]\n",
        ("containerPort: 8080", "containerPort: http"),
    ),
    (
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: NAME\n  labels: {app: web}\nautomountServiceAccountToken: false\n",
        (
            "automountServiceAccountToken: false",
            "automountServiceAccountToken: maybe",
        ),
    ),
    (
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: NAME\n  labels: {app: web}\nspec:\n  backoffLimit: 3\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: j, image: busybox:1.36}]\n",
        ("backoffLimit: 3", "backoffLimit: three"),
    ),
    (
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: NAME\n  labels: {app: web}\nrules:\n  - apiGroups: [\"\"]\n    resources: [pods]\n    verbs: [get, list]\n",
        ("verbs: [get, list]", "verbs: get"),
    ),
    (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: NAME\n  labels: {app: web}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n",
        ("podSelector: {}", "podSelector: []"),
    ),
];

/// The corpus: every kind with every variant, several times over.
fn corpus() -> Vec<(String, bool)> {
    let mut docs = Vec::new();
    for round in 0..8 {
        for (k, (body, (from, to))) in KINDS.iter().enumerate() {
            let name = format!("r{round}-k{k}");
            let base = body.replace("NAME", &name);
            let labels = "\n  labels: {app: web}\n";
            let swap = |to: &str| base.replacen(labels, to, 1);
            let variants: [(String, bool); 5] = [
                (base.clone(), true),
                (
                    swap("\n  labels: {app: web, tier: back}\n  annotations: {note: hi}\n"),
                    true,
                ),
                (swap("\n  nmae: typo\n  labels: {app: web}\n"), false),
                (swap("\n  labels: {app: [web]}\n"), false),
                (base.replacen(from, to, 1), false),
            ];
            for (d, _) in &variants[1..] {
                assert_ne!(*d, base, "a variant of kind {k} changed nothing");
            }
            docs.extend(variants);
        }
    }
    // YAML 1.1 scalars, which Kubernetes tools (go-yaml v2) and kubernetes-validate
    // (PyYAML) both read as 1.1: `yes`/`on` are booleans, `0x10`, `0777`, `1_000` integers.
    let sa = |v: &str| {
        format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: sa}}\nautomountServiceAccountToken: {v}\n"
        )
    };
    let cm = |v: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm}}\ndata:\n  enabled: {v}\n")
    };
    let deploy = |v: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d}}\nspec:\n  replicas: {v}\n  selector: {{matchLabels: {{a: b}}}}\n  template: {{metadata: {{labels: {{a: b}}}}, spec: {{containers: [{{name: c, image: i}}]}}}}\n"
        )
    };
    docs.extend([
        (sa("on"), true),
        (sa("Off"), true),
        (sa("\"on\""), false),
        (cm("yes"), false),
        (cm("\"yes\""), true),
        (cm("NO"), false),
        (deploy("0x10"), true),
        (deploy("0777"), true),
        (deploy("1_000"), true),
        (deploy("\"3\""), false),
    ]);
    docs
}

#[test]
fn verdicts_match_kubernetes_validate_on_every_document() {
    let docs = corpus();
    assert!(docs.len() >= 300, "{} documents", docs.len());
    let stream: String = docs.iter().map(|(d, _)| format!("---\n{d}")).collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("corpus.yaml");
    std::fs::write(&file, &stream).unwrap();
    // Theirs: one line per document, in order.
    let out = Command::new(kubernetes_validate())
        .args(["-k", "1.33.0", "--strict", "--no-warn"])
        .arg(&file)
        .output()
        .unwrap();
    let theirs: Vec<bool> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            if l.starts_with("INFO") && l.contains(" passed for resource ") {
                Some(true)
            } else if l.starts_with("ERROR") {
                Some(false)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(
        theirs.len(),
        docs.len(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Ours, on the same schemas (kubernetes-validate's own v1.33.0, inlined).
    let k8s = upstream().join("kubernetes/v1.33.0-standalone-strict");
    let index = std::fs::read_to_string(k8s.join("index.json")).unwrap();
    let options = Options {
        locations: vec![schemas::parse_location(k8s.to_str().unwrap(), Some(&index)).unwrap()],
        strict: true,
        ..Options::default()
    };
    let ours: Vec<bool> = Validator::new(options, Files)
        .validate_text("corpus.yaml", &stream)
        .iter()
        .map(|r| {
            assert_ne!(r.status, Status::Error, "{r:?}");
            r.status == Status::Valid
        })
        .collect();
    assert_eq!(ours.len(), docs.len());
    let disagreements: Vec<String> = docs
        .iter()
        .zip(ours.iter().zip(&theirs))
        .filter(|(_, (o, t))| o != t)
        .map(|((d, _), (o, t))| format!("ours {o}, theirs {t}:\n{d}"))
        .collect();
    assert!(
        disagreements.is_empty(),
        "{}",
        disagreements.join("\n---\n")
    );
    // And the corpus discriminates: both valid and invalid documents, as designed.
    let expected: Vec<bool> = docs.iter().map(|(_, v)| *v).collect();
    assert_eq!(ours, expected);
}

/// The fast reader reads every document of the corpus (plain manifests), to the value the
/// event-based loader reads.
#[test]
fn the_fast_reader_reads_the_corpus_as_the_full_loader_does() {
    use infraflux_validate::yaml::{load_events, load_fast};
    let mut fast = 0;
    for (doc, _) in corpus() {
        let full = load_events(&doc, true).expect("corpus documents are YAML");
        if let Some(v) = load_fast(&doc) {
            assert_eq!(v, full, "{doc}");
            fast += 1;
        }
    }
    assert_eq!(
        fast,
        corpus().len(),
        "every corpus document takes the fast path"
    );
}
