//! The policy rules (IF001–IF008) and the Helm values checks (IF009, IF010) on a small
//! GitOps tree: every rule fires where it should, at its line:column, and nowhere else; the
//! charts are upstream's (`../shared/upstream/helm-values/`).

mod common;

use common::{Files, upstream, upstream_locations};
use infraflux_validate::{Input, Options, Policy, Severity, Status, Validator};

const APPS: &str = r#"apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: cert-manager
  annotations: {argocd.argoproj.io/sync-wave: "1"}
spec:
  project: platform
  sources:
    - repoURL: https://charts.jetstack.io
      chart: cert-manager
      targetRevision: v1.16.0
      helm:
        valuesObject:
          crds: {enabled: true}
          replicaCont: 2
        valueFiles: [$values/platform/cert-manager/values.yaml]
    - {repoURL: "https://git.example/platform.git", ref: values}
  destination: {server: "https://kubernetes.default.svc", namespace: cert-manager}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: issuers
  annotations: {argocd.argoproj.io/sync-wave: "1"}
spec:
  project: platform
  source: {repoURL: "https://git.example/platform.git", path: platform/issuers}
  destination: {server: "https://kubernetes.default.svc", namespace: cert-manager}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: issuers-later
  annotations: {argocd.argoproj.io/sync-wave: "2"}
spec:
  project: platform
  source: {repoURL: "https://git.example/platform.git", path: platform/issuers-later}
  destination: {server: "https://kubernetes.default.svc", namespace: cert-manager}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
spec:
  project: platform
  source: {repoURL: "https://git.example/platform.git", path: platform/web}
  destination: {server: "https://kubernetes.default.svc", namespace: web}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: cilium
  annotations: {argocd.argoproj.io/sync-wave: "0"}
spec:
  project: platform
  source:
    repoURL: https://helm.cilium.io
    chart: cilium
    targetRevision: 1.18.0
    helm:
      values: |
        hubble:
          relay:
            enabled: sure
            enable: true
  destination: {server: "https://kubernetes.default.svc", namespace: kube-system}
"#;

const CERT_MANAGER_VALUES: &str = "replicaCount: 1\nwebhook:\n  timeoutSecond: 10\n";

const ISSUER: &str = "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: selfsigned\nspec:\n  selfSigned: {}\n";

const ISSUER_SKIPPING: &str = "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: skipping\n  annotations:\n    argocd.argoproj.io/sync-options: Prune=false,SkipDryRunOnMissingResource=true\nspec:\n  selfSigned: {}\n";

const WEB: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: web
---
apiVersion: v1
kind: Namespace
metadata:
  name: secure
  labels: {pod-security.kubernetes.io/enforce: restricted}
---
apiVersion: v1
kind: Namespace
metadata:
  name: typo
  labels: {pod-security.kubernetes.io/enforce: strict}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: default-deny, namespace: secure}
spec:
  endpointSelector: {}
  ingress: [{}]
  egress: [{}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: typo}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: web}
stringData: {password: hunter2}
---
apiVersion: v1
kind: Secret
metadata: {name: token, namespace: web, annotations: {kubernetes.io/service-account.name: web}}
type: kubernetes.io/service-account-token
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx
          resources: {requests: {cpu: 10m}}
---
apiVersion: v1
kind: LimitRange
metadata: {name: defaults, namespace: secure}
spec:
  limits:
    - type: Container
      default: {memory: 256Mi}
      defaultRequest: {cpu: 50m}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: secure}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: registry.example:5000/api:1.4.2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
"#;

/// A SOPS-encrypted Secret (values and metadata as sops writes them).
const ENCRYPTED_SECRET: &str = r#"apiVersion: v1
kind: Secret
metadata:
    name: db
    namespace: web
stringData:
    password: ENC[AES256_GCM,data:mGdVbg==,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]
sops:
    age:
        - recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
          enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
            -----END AGE ENCRYPTED FILE-----
    lastmodified: "2026-11-24T10:00:00Z"
    mac: ENC[AES256_GCM,data:AAAA,iv:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str]
    encrypted_regex: ^(data|stringData)$
    version: 3.11.0
"#;

fn options(policy: Policy, root: &std::path::Path) -> Options {
    Options {
        locations: upstream_locations(),
        strict: true,
        policy,
        chart_schemas: Some(upstream().join("helm-values").display().to_string()),
        repo_root: Some(root.display().to_string()),
        ..Options::default()
    }
}

fn inputs() -> Vec<Input> {
    let mut secret = Input::text(
        "secrets/plain.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    );
    secret.sops_rule = Some(r"secrets/.*\.yaml$".into());
    let mut encrypted = Input::text("secrets/db.yaml", ENCRYPTED_SECRET);
    encrypted.sops_rule = Some(r"secrets/.*\.yaml$".into());
    vec![
        Input::text("apps/apps.yaml", APPS),
        Input::text("platform/cert-manager/values.yaml", CERT_MANAGER_VALUES),
        Input::text("platform/issuers/issuer.yaml", ISSUER),
        Input::text("platform/issuers/skipping.yaml", ISSUER_SKIPPING),
        Input::text("platform/issuers-later/issuer.yaml", ISSUER),
        Input::text("platform/web/web.yaml", WEB),
        secret,
        encrypted,
    ]
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let values = dir.path().join("platform/cert-manager");
    std::fs::create_dir_all(&values).unwrap();
    std::fs::write(values.join("values.yaml"), CERT_MANAGER_VALUES).unwrap();
    dir
}

/// (file, line, column, rule, severity) of every rule finding.
type Found = (String, usize, usize, &'static str, Severity);

fn run(policy: Policy) -> (Vec<Found>, Vec<infraflux_validate::DocResult>) {
    let dir = repo();
    let report = Validator::new(options(policy, dir.path()), Files).validate(inputs());
    let mut out = Vec::new();
    for r in &report.results {
        for f in &r.findings {
            let rule = f.rule.unwrap_or_else(|| panic!("a schema finding: {r:?}"));
            out.push((r.file.clone(), f.line, f.column, rule, f.severity));
        }
    }
    (out, report.results)
}

#[test]
fn every_rule_fires_where_it_should_and_nowhere_else() {
    use Severity::{Error, Warning};
    let (found, results) = run(Policy::all());
    let s = |f: &str| f.to_string();
    assert_eq!(
        found,
        [
            (s("apps/apps.yaml"), 15, 11, "IF009", Error),
            (s("apps/apps.yaml"), 42, 1, "IF006", Warning),
            (s("apps/apps.yaml"), 64, 22, "IF009", Error),
            (s("apps/apps.yaml"), 65, 13, "IF010", Warning),
            (s("platform/cert-manager/values.yaml"), 3, 3, "IF009", Error),
            (s("platform/issuers/issuer.yaml"), 2, 7, "IF007", Error),
            (s("platform/web/web.yaml"), 3, 1, "IF008", Warning),
            (s("platform/web/web.yaml"), 4, 9, "IF003", Warning),
            (s("platform/web/web.yaml"), 16, 48, "IF008", Warning),
            // The application `web` has no wave (0), nor has `cilium`, which brings cilium.io.
            (s("platform/web/web.yaml"), 19, 7, "IF007", Error),
            (s("platform/web/web.yaml"), 36, 1, "IF001", Error),
            (s("platform/web/web.yaml"), 52, 11, "IF004", Warning),
            (s("platform/web/web.yaml"), 53, 18, "IF005", Warning),
            (s("secrets/plain.yaml"), 1, 1, "IF002", Error),
        ]
    );
    // Messages say what to do.
    let message = |file: &str, rule: &str| {
        results
            .iter()
            .filter(|r| r.file == file)
            .flat_map(|r| &r.findings)
            .find(|f| f.rule == Some(rule))
            .unwrap()
            .message
            .clone()
    };
    assert!(message("apps/apps.yaml", "IF009").contains("did you mean `replicaCount`?"));
    assert!(
        message("platform/cert-manager/values.yaml", "IF009")
            .contains("did you mean `timeoutSeconds`?")
    );
    assert!(message("apps/apps.yaml", "IF010").contains("did you mean `enabled`?"));
    assert!(message("platform/issuers/issuer.yaml", "IF007").contains(
        "`issuers` at sync wave 1, but its CRD comes with Application `cert-manager` at wave 1"
    ));
    assert!(
        message("platform/web/web.yaml", "IF004")
            .contains("resources.requests.memory or resources.limits.memory")
    );
    // The encrypted Secret is schema-valid without its sops metadata and raises nothing.
    let db = results
        .iter()
        .find(|r| r.file == "secrets/db.yaml")
        .unwrap();
    assert_eq!((db.status, db.findings.len()), (Status::Valid, 0), "{db:?}");
    // The value file has one result, as values rather than as a manifest.
    let values: Vec<_> = results
        .iter()
        .filter(|r| r.file == "platform/cert-manager/values.yaml")
        .collect();
    assert_eq!(values.len(), 1);
    assert_eq!(
        values[0].name.as_deref(),
        Some("Helm values of cert-manager")
    );
    // Warnings leave a document valid; errors make it invalid.
    let web: Vec<_> = results
        .iter()
        .filter(|r| r.file == "platform/web/web.yaml")
        .map(|r| r.status)
        .collect();
    assert_eq!(web[0], Status::Valid);
    assert_eq!(web[5], Status::Invalid);
}

#[test]
fn rules_are_off_unless_asked_for_and_each_can_be_turned_off_or_changed() {
    let (found, _) = run(Policy::default());
    let rules: Vec<&str> = found.iter().map(|f| f.3).collect();
    assert_eq!(rules, ["IF009", "IF009", "IF010", "IF009"]);

    let mut policy = Policy::all();
    policy.set("IF003", None).unwrap();
    policy.set("if005", Some(Severity::Error)).unwrap();
    let (found, _) = run(policy.clone());
    assert!(!found.iter().any(|f| f.3 == "IF003"));
    assert!(
        found
            .iter()
            .any(|f| f.3 == "IF005" && f.4 == Severity::Error)
    );
    assert_eq!(
        policy.set("IF099", None).unwrap_err(),
        "unknown rule `IF099`; the rules are IF001, IF002, IF003, IF004, IF005, IF006, IF007, IF008, IF009, IF010"
    );
}

#[test]
fn a_missing_value_file_is_a_finding_on_the_application() {
    let dir = tempfile::tempdir().unwrap();
    let report = Validator::new(options(Policy::default(), dir.path()), Files)
        .validate([Input::text("apps/apps.yaml", APPS)]);
    let f = report.results[0]
        .findings
        .iter()
        .find(|f| f.message.contains("is not in the repository"))
        .expect("a finding for the missing value file");
    assert_eq!((f.line, f.column, f.rule), (16, 22, Some("IF009")));
}

#[test]
fn a_chart_without_schema_or_defaults_is_a_warning_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: x}\nspec:\n  project: p\n  source:\n    repoURL: https://charts.example\n    chart: nothing-known\n    targetRevision: 1.0.0\n    helm: {valuesObject: {a: 1}}\n  destination: {server: \"https://kubernetes.default.svc\"}\n";
    let report = Validator::new(options(Policy::default(), dir.path()), Files)
        .validate([Input::text("app.yaml", app)]);
    let r = &report.results[0];
    assert_eq!(r.status, Status::Valid);
    assert_eq!(r.findings.len(), 1);
    assert_eq!(r.findings[0].severity, Severity::Warning);
    assert!(
        r.findings[0]
            .message
            .contains("chart nothing-known has no values.schema.json or values.yaml")
    );
}
