//! Known-good and known-bad manifests against the upstream schemas in `../shared/upstream/`:
//! the standalone-strict Kubernetes schemas (through their `index.json`) and the CRD
//! schemas (kubeconform's CRD layout). Every bad document asserts its path and line:column.

mod common;

use common::{Files, upstream, upstream_locations};
use infraflux_validate::{Options, Status, Validator};

fn validator(strict: bool) -> Validator<Files> {
    let options = Options {
        locations: upstream_locations(),
        kubernetes_version: "1.33.0".into(),
        strict,
        ..Options::default()
    };
    Validator::new(options, Files)
}

/// One valid document of every CRD group in the upstream set, and core kinds.
const GOOD: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app.kubernetes.io/name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27.3
          ports: [{containerPort: 80}]
          resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {memory: 64Mi}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data: {a: "1"}
---
apiVersion: addons.cluster.x-k8s.io/v1beta1
kind: ClusterResourceSet
metadata: {name: crs}
spec:
  clusterSelector: {matchLabels: {cni: cilium}}
  resources: [{kind: ConfigMap, name: cilium}]
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: cilium, namespace: argocd, annotations: {argocd.argoproj.io/sync-wave: "-10"}}
spec:
  project: default
  source: {repoURL: https://helm.cilium.io, chart: cilium, targetRevision: 1.18.4}
  destination: {server: https://kubernetes.default.svc, namespace: kube-system}
---
apiVersion: bootstrap.cluster.x-k8s.io/v1alpha3
kind: TalosConfig
metadata: {name: tc}
spec: {generateType: controlplane}
---
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {name: selfsigned}
spec: {selfSigned: {}}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: allow-dns}
spec:
  endpointSelector: {}
  egress:
    - toEndpoints: [{matchLabels: {k8s-app: kube-dns}}]
      toPorts: [{ports: [{port: "53", protocol: UDP}]}]
---
apiVersion: cluster.x-k8s.io/v1beta1
kind: Cluster
metadata: {name: w1}
spec:
  clusterNetwork: {pods: {cidrBlocks: [10.244.0.0/16]}}
---
apiVersion: controlplane.cluster.x-k8s.io/v1alpha3
kind: TalosControlPlane
metadata: {name: w1-cp}
spec:
  version: v1.33.0
  replicas: 3
  infrastructureTemplate: {kind: ProxmoxMachineTemplate, apiVersion: infrastructure.cluster.x-k8s.io/v1alpha1, name: cp}
  controlPlaneConfig: {controlplane: {generateType: controlplane}}
---
apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata: {name: vault}
spec: {provider: {fake: {data: [{key: a, value: b}]}}}
---
apiVersion: externaldns.k8s.io/v1alpha1
kind: DNSEndpoint
metadata: {name: e}
spec: {endpoints: [{dnsName: a.example.com, recordType: A, targets: [10.0.0.1]}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: cilium}
spec: {controllerName: io.cilium/gateway-controller}
---
apiVersion: infrastructure.cluster.x-k8s.io/v1alpha1
kind: ProxmoxCluster
metadata: {name: w1}
spec:
  controlPlaneEndpoint: {host: 10.0.0.10, port: 6443}
  ipv4Config: {addresses: [10.0.0.20-10.0.0.30], prefix: 24, gateway: 10.0.0.1, metric: 100}
  dnsServers: [10.0.0.1]
---
apiVersion: ipam.cluster.x-k8s.io/v1alpha2
kind: InClusterIPPool
metadata: {name: p}
spec: {addresses: [10.0.0.40-10.0.0.50], prefix: 24, gateway: 10.0.0.1}
---
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [app.yaml]
---
apiVersion: longhorn.io/v1beta2
kind: RecurringJob
metadata: {name: backup, namespace: longhorn-system}
spec: {cron: "0 3 * * *", task: backup, retain: 7, concurrency: 1}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: m}
spec: {selector: {matchLabels: {app: web}}, endpoints: [{port: http}]}
---
apiVersion: operator.cluster.x-k8s.io/v1alpha2
kind: InfrastructureProvider
metadata: {name: proxmox}
spec: {version: v0.9.0}
---
apiVersion: talos.dev/v1alpha1
kind: ServiceAccount
metadata: {name: backup}
spec: {roles: ["os:etcd:backup"]}
"#;

#[test]
fn good_documents_of_every_group_are_valid() {
    let results = validator(true).validate_text("good.yaml", GOOD);
    let groups: std::collections::BTreeSet<String> = results
        .iter()
        .filter_map(|r| r.api_version.as_deref())
        .filter_map(|a| a.rsplit_once('/').map(|(g, _)| g.to_string()))
        .collect();
    let upstream_groups: std::collections::BTreeSet<String> =
        std::fs::read_dir(upstream().join("crds"))
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().unwrap().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
    let missing: Vec<_> = upstream_groups.difference(&groups).collect();
    assert!(missing.is_empty(), "no document for {missing:?}");
    for r in &results {
        assert_eq!(r.status, Status::Valid, "{r:#?}");
    }
    assert_eq!(results.len(), GOOD.matches("\nkind: ").count());
}

/// (document, expected path, line, column, a word of the message)
const BAD: &[(&str, &str, usize, usize, &str)] = &[
    (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replicas: two\n  selector: {matchLabels: {a: b}}\n  template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}\n",
        "spec.replicas",
        5,
        13,
        "integer",
    ),
    (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  nmae: typo\n",
        "metadata.nmae",
        5,
        3,
        "nmae",
    ),
    (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers:\n        - name: c\n          image: i\n          ports:\n            - containerPort: http\n",
        "spec.template.spec.containers[0].ports[0].containerPort",
        13,
        30,
        "integer",
    ),
    (
        "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p}\nspec:\n  endpointSelector: {}\n  egress:\n    - toPorts: [{ports: [{port: \"53\", protocol: SCTPX}]}]\n",
        "spec.egress[0].toPorts[0].ports[0].protocol",
        7,
        49,
        "SCTPX",
    ),
    (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\nspec:\n  project: default\n  destination: {server: https://kubernetes.default.svc}\n  sources: notalist\n",
        "spec.sources",
        7,
        12,
        "array",
    ),
];

#[test]
fn bad_documents_name_the_field_at_its_line_and_column() {
    let v = validator(true);
    for (text, path, line, column, word) in BAD {
        // Behind two other documents, so lines are counted across the stream.
        let stream = format!(
            "# lead\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ok}}\n---\n{text}"
        );
        let shift = 6;
        let results = v.validate_text("bad.yaml", &stream);
        assert_eq!(results.len(), 2, "{text}");
        assert_eq!(results[0].status, Status::Valid);
        let r = &results[1];
        assert_eq!(r.status, Status::Invalid, "{text}");
        let f = r
            .findings
            .iter()
            .find(|f| f.path == *path)
            .unwrap_or_else(|| panic!("no finding at {path}: {:#?}", r.findings));
        assert_eq!((f.line, f.column), (line + shift, *column), "{path}: {f:?}");
        assert!(f.message.contains(word), "{path}: {}", f.message);
    }
}

#[test]
fn missing_schemas_broken_yaml_and_kind_lists_are_never_silent() {
    let v = validator(true);
    let text = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n---\nkind: ConfigMap\n";
    let r = v.validate_text("x.yaml", text);
    assert_eq!(
        r.iter().map(|r| r.status).collect::<Vec<_>>(),
        [Status::Error, Status::Error, Status::Error]
    );
    assert!(
        r[0].findings[0]
            .message
            .contains("no schema for example.com/v1/Widget")
    );
    assert_eq!(r[1].findings[0].line, 7, "{:?}", r[1].findings);
    assert!(r[2].findings[0].message.contains("apiVersion"));
    let options = Options {
        ignore_missing_schemas: true,
        skip: vec!["ConfigMap".into()],
        reject: vec!["example.com/v1/Gadget".into()],
        ..Options::default()
    };
    let v = Validator::new(options, Files);
    let r = v.validate_text(
        "y.yaml",
        "apiVersion: example.com/v1\nkind: Widget\n---\napiVersion: v1\nkind: ConfigMap\n---\napiVersion: example.com/v1\nkind: Gadget\n",
    );
    assert_eq!(
        r.iter().map(|r| r.status).collect::<Vec<_>>(),
        [Status::Skipped, Status::Skipped, Status::Invalid]
    );
}

#[test]
fn strict_mode_rejects_duplicate_keys() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  k: one\n  k: two\n";
    assert_eq!(
        validator(false).validate_text("d.yaml", text)[0].status,
        Status::Valid
    );
    let strict = validator(true).validate_text("d.yaml", text);
    assert_eq!(strict[0].status, Status::Error);
    assert_eq!(strict[0].findings[0].line, 6, "{:?}", strict[0].findings);
}

/// Patterns written for Go's RE2 in upstream CRDs (`(?i)` in CAPMox tags and Prometheus
/// rules, `\PC` in Cilium policies) are enforced: a value they accept is valid, one they
/// reject is invalid at its field.
#[test]
fn go_style_patterns_of_upstream_crds_are_enforced() {
    let v = validator(true);
    let cases = [
        (
            "apiVersion: infrastructure.cluster.x-k8s.io/v1alpha1\nkind: ProxmoxMachine\nmetadata: {name: m}\nspec:\n  tags: [Prod_1, edge]\n",
            "apiVersion: infrastructure.cluster.x-k8s.io/v1alpha1\nkind: ProxmoxMachine\nmetadata: {name: m}\nspec:\n  tags: [Prod_1, -edge]\n",
            ("spec.tags[1]", 5, 18),
        ),
        (
            "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: r}\nspec:\n  groups:\n    - name: g\n      partial_response_strategy: WARN\n",
            "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: r}\nspec:\n  groups:\n    - name: g\n      partial_response_strategy: sometimes\n",
            ("spec.groups[0].partial_response_strategy", 7, 34),
        ),
        (
            "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p}\nspec:\n  endpointSelector: {}\n  egress: [{toEndpoints: [{}]}]\n  log: {value: \"audit me\"}\n",
            "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p}\nspec:\n  endpointSelector: {}\n  egress: [{toEndpoints: [{}]}]\n  log: {value: \"bell \\a\"}\n",
            ("spec.log.value", 7, 16),
        ),
    ];
    for (good, bad, (path, line, column)) in cases {
        let r = &v.validate_text("good.yaml", good)[0];
        assert_eq!(r.status, Status::Valid, "{good}: {:?}", r.findings);
        let r = &v.validate_text("bad.yaml", bad)[0];
        assert_eq!(r.status, Status::Invalid, "{bad}");
        let f = &r.findings[0];
        assert_eq!(
            (f.path.as_str(), f.line, f.column),
            (path, line, column),
            "{f:?}"
        );
        assert!(f.message.contains("does not match"), "{}", f.message);
    }
}

/// A schema whose pattern does not compile makes its documents errors, never a pass.
#[test]
fn a_pattern_that_does_not_compile_is_never_a_pass() {
    struct Broken;
    impl infraflux_validate::SchemaSource for Broken {
        fn read(&self, _path: &str) -> Result<Option<String>, String> {
            Ok(Some(
                r#"{"type": "object", "properties": {"data": {"type": "string", "pattern": "(unclosed"}}}"#.into(),
            ))
        }
    }
    let options = Options {
        locations: vec![infraflux_validate::schemas::parse_location("/schemas", None).unwrap()],
        ..Options::default()
    };
    let v = Validator::new(options, Broken);
    let r = &v.validate_text("x.yaml", "apiVersion: v1\nkind: Thing\ndata: anything\n")[0];
    assert_eq!(r.status, Status::Error, "{r:?}");
    assert!(
        r.findings[0].message.contains("does not compile"),
        "{}",
        r.findings[0].message
    );
}
