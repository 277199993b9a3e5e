//! Policy rules: what a schema cannot say about a GitOps tree. Each rule has a stable ID, a
//! default severity and one paragraph of documentation (`infraflux validate --explain ID`).
//!
//! Rules about one document run while it is validated; rules about several (a namespace and
//! its policies, an Application and the one providing its CRDs) collect [`Facts`] per
//! document and are decided once every document has been read ([`resolve`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use crate::{Finding, Locator, Severity};

/// One policy rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable identifier (`IF001`).
    pub id: &'static str,
    /// Short name.
    pub name: &'static str,
    /// Severity unless configured otherwise.
    pub severity: Severity,
    /// One paragraph: what, why, how to fix.
    pub explanation: &'static str,
}

const fn rule(
    id: &'static str,
    name: &'static str,
    severity: Severity,
    explanation: &'static str,
) -> Rule {
    Rule {
        id,
        name,
        severity,
        explanation,
    }
}

/// Every rule, by ID.
pub const RULES: &[Rule] = &[
    rule(
        "IF001",
        "plaintext-secret",
        Severity::Error,
        "A Secret with `data` or `stringData` in plain text in a GitOps tree: anyone who can read the repository, or its history, has the secret. Encrypt the file with `infraflux secrets encrypt -i FILE` (SOPS + age; Argo CD decrypts it in the cluster through KSOPS), or keep the value out of Git and let External Secrets create the Secret. A Secret without `data` and `stringData` (a service-account token Secret, for example) is fine, and so is a SOPS-encrypted one.",
    ),
    rule(
        "IF002",
        "sops-rule-not-encrypted",
        Severity::Error,
        "The file's path matches a creation rule's `path_regex` in `.sops.yaml`, so it is meant to be encrypted, but it is not a SOPS file. This is how secrets leak: a file created or edited with something other than `sops` or `infraflux secrets edit`, then committed. Encrypt it in place with `infraflux secrets encrypt -i FILE`, and rotate whatever it held if it was ever pushed. A rule without `path_regex` matches every file only to choose keys, so it does not count here.",
    ),
    rule(
        "IF003",
        "namespace-without-default-deny",
        Severity::Warning,
        "A Namespace with no default-deny network policy: until some policy selects a pod, Cilium (like any Kubernetes network plugin) lets all its traffic through. Accepted, among the validated files: a NetworkPolicy in the namespace with an empty `podSelector` and `policyTypes` Ingress and Egress; a CiliumNetworkPolicy in the namespace with an empty `endpointSelector` and both an ingress (`ingress` or `ingressDeny`) and an egress (`egress` or `egressDeny`) section, not switched off by `enableDefaultDeny`; or a CiliumClusterwideNetworkPolicy with an empty `endpointSelector`, likewise. Allow rules in the same policy are fine: the pods are isolated and only what is listed passes.",
    ),
    rule(
        "IF004",
        "workload-without-resources",
        Severity::Warning,
        "A container or init container of a Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job or CronJob without a CPU request, a memory request or a memory limit. Without requests the scheduler places pods blind and overcommits nodes; without a memory limit one leak takes the whole node down. A limit stands for the request it implies (Kubernetes copies it), and a LimitRange in the same namespace, among the validated files, whose `default`/`defaultRequest` give the missing values satisfies the rule.",
    ),
    rule(
        "IF005",
        "image-not-pinned",
        Severity::Warning,
        "A container image without a tag, or tagged `latest`: what runs changes without any change in Git, two nodes can run different code, and a rollback cannot go back. Pin a version tag, or better a digest (`image: repo/name:1.2.3@sha256:…`), and let a bot such as Renovate propose updates.",
    ),
    rule(
        "IF006",
        "application-without-sync-wave",
        Severity::Warning,
        "An Argo CD Application without the `argocd.argoproj.io/sync-wave` annotation. In an app-of-apps, children without a wave all sync in wave 0 in no dependable order: a custom resource can be applied before its CRD exists, a chart before the namespace and policies it needs. Give every Application a wave; `infraflux render` derives them from the dependency graph.",
    ),
    rule(
        "IF007",
        "custom-resource-before-its-crd",
        Severity::Error,
        "A custom resource in an Application whose sync wave is the same as, or earlier than, the wave of the Application that installs its CRD. Argo CD syncs waves in order and waits for each to be healthy, so on a fresh cluster the resource fails its dry run (`the server could not find the requested resource`) and the sync stops. Move its Application to a later wave or, when no order can work, annotate the resource with `argocd.argoproj.io/sync-options: SkipDryRunOnMissingResource=true`. Providers are the Applications whose source path holds a CustomResourceDefinition document, and those installing a chart known to ship CRDs (cilium, tetragon, cert-manager, kube-prometheus-stack, prometheus-operator-crds, longhorn, external-secrets, external-dns, cluster-api-operator; add more with `crdProviders` in the configuration). Argo CD's own kinds (argoproj.io) are exempt: Argo CD runs before any Application syncs.",
    ),
    rule(
        "IF008",
        "namespace-without-pod-security",
        Severity::Warning,
        "A Namespace without a valid `pod-security.kubernetes.io/enforce` label (`privileged`, `baseline` or `restricted`). Without it the cluster-wide default applies, which is `privileged` unless the admission configuration says otherwise, so any pod may run privileged there. Label every namespace, and make the exceptions (Longhorn, Cilium) explicit with `privileged`.",
    ),
    rule(
        "IF009",
        "helm-values-schema",
        Severity::Error,
        "Helm values given by an Application (`valuesObject`, `values`, or a value file in the tree) that the chart's `values.schema.json` rejects. Helm refuses to render them and the Application stays out of sync. Chart schemas are read from `--chart-schemas DIR`, as `DIR/<chart>/values.schema.json`; a chart with neither a schema nor a `values.yaml` there gets a warning saying its values were not checked.",
    ),
    rule(
        "IF010",
        "helm-values-unknown-key",
        Severity::Warning,
        "A Helm value that is not in the chart's default `values.yaml` (read from `--chart-schemas DIR/<chart>/values.yaml`). Helm ignores unknown keys without a word, so a typo (`hubble.relay.enable`) silently leaves a feature off. Keys under a map that is empty or null in the defaults (labels, annotations, extra environment) are free-form and not checked, and neither are subchart values the parent's `values.yaml` does not list.",
    ),
];

/// The rule with this ID.
pub fn rule_by_id(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id.eq_ignore_ascii_case(id))
}

/// The Helm values rules, on whenever chart schemas are given.
const HELM_RULES: [&str; 2] = ["IF009", "IF010"];

/// Which rules run, at which severity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    levels: BTreeMap<&'static str, Severity>,
    /// Charts that install CRDs: chart name → API groups (`cilium.io`) or group/Kind pairs
    /// (`cilium.io/TracingPolicy`), added to the built-in table.
    pub crd_providers: BTreeMap<String, Vec<String>>,
}

impl Default for Policy {
    /// The Helm values rules only: the policy rules are asked for (`--policy`).
    fn default() -> Self {
        let mut levels = BTreeMap::new();
        for r in RULES.iter().filter(|r| HELM_RULES.contains(&r.id)) {
            levels.insert(r.id, r.severity);
        }
        Policy {
            levels,
            crd_providers: BTreeMap::new(),
        }
    }
}

impl Policy {
    /// Every rule at its default severity.
    pub fn all() -> Self {
        Policy {
            levels: RULES.iter().map(|r| (r.id, r.severity)).collect(),
            crd_providers: BTreeMap::new(),
        }
    }

    /// Turns a rule off (`None`) or on at a severity.
    pub fn set(&mut self, id: &str, level: Option<Severity>) -> Result<(), String> {
        let Some(r) = rule_by_id(id) else {
            return Err(format!(
                "unknown rule `{id}`; the rules are {}",
                RULES.iter().map(|r| r.id).collect::<Vec<_>>().join(", ")
            ));
        };
        match level {
            Some(l) => self.levels.insert(r.id, l),
            None => self.levels.remove(r.id),
        };
        Ok(())
    }

    /// The severity of a rule, when it is on.
    pub fn level(&self, id: &str) -> Option<Severity> {
        self.levels.get(id).copied()
    }

    fn on(&self, id: &str) -> bool {
        self.levels.contains_key(id)
    }

    /// Whether any rule looks at documents one by one (the Helm rules look at values).
    fn per_document(&self) -> bool {
        self.levels.keys().any(|id| !HELM_RULES.contains(id))
    }

    /// Whether any rule needs facts from several documents.
    pub(crate) fn cross_document(&self) -> bool {
        ["IF003", "IF004", "IF007"].iter().any(|r| self.on(r))
    }

    /// A finding of rule `id` (which must be on).
    pub(crate) fn finding(&self, id: &'static str, at: &Finding, message: String) -> Finding {
        Finding {
            path: at.path.clone(),
            line: at.line,
            column: at.column,
            message,
            rule: Some(id),
            severity: self.level(id).unwrap_or(Severity::Error),
        }
    }
}

/// Built-in charts that ship CRDs: chart → groups or group/Kind.
const CHART_CRDS: &[(&str, &[&str])] = &[
    ("cilium", &["cilium.io"]),
    (
        "tetragon",
        &[
            "cilium.io/TracingPolicy",
            "cilium.io/TracingPolicyNamespaced",
            "cilium.io/PodInfo",
        ],
    ),
    ("cert-manager", &["cert-manager.io", "acme.cert-manager.io"]),
    ("kube-prometheus-stack", &["monitoring.coreos.com"]),
    ("prometheus-operator-crds", &["monitoring.coreos.com"]),
    ("longhorn", &["longhorn.io"]),
    (
        "external-secrets",
        &["external-secrets.io", "generators.external-secrets.io"],
    ),
    ("external-dns", &["externaldns.k8s.io"]),
    ("cluster-api-operator", &["operator.cluster.x-k8s.io"]),
];

/// What one document contributes to the rules about several documents.
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    /// The file's path in the repository.
    pub repo_path: Option<String>,
    /// A Namespace: its name and where to report it.
    pub namespace: Option<(String, Finding)>,
    /// A default-deny policy: for all namespaces (`None`) or one.
    pub deny: Option<Option<String>>,
    /// A LimitRange: its namespace and the container fields its defaults give.
    pub limit_range: Option<(Option<String>, Vec<&'static str>)>,
    /// Containers missing resource fields: namespace, missing fields, where.
    pub containers: Vec<(Option<String>, Vec<&'static str>, Finding)>,
    /// An Argo CD Application.
    pub app: Option<App>,
    /// A CustomResourceDefinition: group and kind.
    pub crd: Option<(String, String)>,
    /// A custom resource: group, kind, whether it skips the dry run, where.
    pub cr: Option<(String, String, bool, Finding)>,
}

/// An Argo CD Application, as the cross-document rules see it.
#[derive(Debug, Clone, Default)]
pub(crate) struct App {
    pub name: String,
    pub wave: i64,
    /// Source directories in the repository, and whether they are read recursively.
    pub dirs: Vec<(String, bool)>,
    /// Charts it installs.
    pub charts: Vec<String>,
    /// `SkipDryRunOnMissingResource=true` in its sync options.
    pub skip_dry_run: bool,
}

/// Groups whose kinds are built into Kubernetes (not custom resources).
fn builtin_group(group: &str) -> bool {
    group.is_empty()
        || !group.contains('.')
        || matches!(
            group,
            "admissionregistration.k8s.io"
                | "apiextensions.k8s.io"
                | "apiregistration.k8s.io"
                | "authentication.k8s.io"
                | "authorization.k8s.io"
                | "certificates.k8s.io"
                | "coordination.k8s.io"
                | "discovery.k8s.io"
                | "events.k8s.io"
                | "flowcontrol.apiserver.k8s.io"
                | "internal.apiserver.k8s.io"
                | "networking.k8s.io"
                | "node.k8s.io"
                | "rbac.authorization.k8s.io"
                | "resource.k8s.io"
                | "scheduling.k8s.io"
                | "storage.k8s.io"
                | "storagemigration.k8s.io"
        )
}

fn str_at<'v>(v: &'v Value, pointer: &str) -> Option<&'v str> {
    crate::pointer(v, pointer).and_then(Value::as_str)
}

/// Whether the sync options (an annotation's comma list, or a list) skip the dry run.
fn skips_dry_run(options: Option<&Value>) -> bool {
    let has = |s: &str| {
        s.split(',').any(|o| {
            o.trim()
                .eq_ignore_ascii_case("SkipDryRunOnMissingResource=true")
        })
    };
    match options {
        Some(Value::String(s)) => has(s),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).any(has),
        _ => false,
    }
}

/// The rules about one document: findings now, facts for later.
pub(crate) fn check_document(
    policy: &Policy,
    value: &Value,
    encrypted: bool,
    sops_rule: Option<&str>,
    at: &Locator<'_>,
) -> (Vec<Finding>, Facts) {
    let mut findings = Vec::new();
    let mut facts = Facts::default();
    if !policy.per_document() {
        return (findings, facts);
    }
    let api_version = str_at(value, "/apiVersion").unwrap_or_default();
    let kind = str_at(value, "/kind").unwrap_or_default();
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let namespace = str_at(value, "/metadata/namespace").map(str::to_string);
    let name = str_at(value, "/metadata/name").unwrap_or_default();

    if let Some(regex) = sops_rule
        && !encrypted
        && policy.on("IF002")
    {
        findings.push(policy.finding(
            "IF002",
            &at.document(),
            format!("this file matches the .sops.yaml rule `{regex}` but is not encrypted; encrypt it with `infraflux secrets encrypt -i`"),
        ));
    }

    if policy.on("IF001") && !encrypted && group.is_empty() && kind == "Secret" {
        for field in ["data", "stringData"] {
            if value
                .get(field)
                .and_then(Value::as_object)
                .is_some_and(|m| !m.is_empty())
            {
                findings.push(policy.finding(
                    "IF001",
                    &at.key(field),
                    format!("Secret `{name}` holds `{field}` in plain text; encrypt the file with SOPS (`infraflux secrets encrypt -i`) or use External Secrets"),
                ));
                break;
            }
        }
    }

    if group.is_empty() && kind == "Namespace" {
        let labels = crate::pointer(value, "/metadata/labels");
        if policy.on("IF008") {
            let level = labels
                .and_then(|l| l.get("pod-security.kubernetes.io/enforce"))
                .and_then(Value::as_str);
            match level {
                Some("privileged" | "baseline" | "restricted") => {}
                Some(other) => findings.push(policy.finding(
                    "IF008",
                    &at.at("metadata.labels[\"pod-security.kubernetes.io/enforce\"]"),
                    format!("`{other}` is not a Pod Security level; use privileged, baseline or restricted"),
                )),
                None => findings.push(policy.finding(
                    "IF008",
                    &at.key("metadata"),
                    format!("Namespace `{name}` has no `pod-security.kubernetes.io/enforce` label"),
                )),
            }
        }
        if policy.on("IF003") {
            facts.namespace = Some((name.to_string(), at.at("metadata.name")));
        }
    }

    if policy.on("IF003") {
        facts.deny = default_deny(group, kind, value, namespace.as_deref());
    }

    let pod_spec = match (group, kind) {
        ("", "Pod") => Some(("spec", value.get("spec"))),
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("", "ReplicationController")
        | ("batch", "Job") => Some((
            "spec.template.spec",
            crate::pointer(value, "/spec/template/spec"),
        )),
        ("batch", "CronJob") => Some((
            "spec.jobTemplate.spec.template.spec",
            crate::pointer(value, "/spec/jobTemplate/spec/template/spec"),
        )),
        _ => None,
    };
    if let Some((base, Some(spec))) = pod_spec {
        for list in ["initContainers", "containers"] {
            let Some(containers) = spec.get(list).and_then(Value::as_array) else {
                continue;
            };
            for (i, c) in containers.iter().enumerate() {
                let path = format!("{base}.{list}[{i}]");
                let cname = c.get("name").and_then(Value::as_str).unwrap_or("?");
                if policy.on("IF005")
                    && let Some(image) = c.get("image").and_then(Value::as_str)
                    && let Some(why) = unpinned(image)
                {
                    findings.push(policy.finding(
                        "IF005",
                        &at.at(&format!("{path}.image")),
                        format!("container `{cname}` runs `{image}`, {why}; pin a version tag or a digest"),
                    ));
                }
                if policy.on("IF004") {
                    let missing = missing_resources(c);
                    if !missing.is_empty() {
                        let mut f = at.key(&path);
                        f.message = cname.to_string();
                        facts.containers.push((namespace.clone(), missing, f));
                    }
                }
            }
        }
    }

    if policy.on("IF004") && group.is_empty() && kind == "LimitRange" {
        facts.limit_range = Some((namespace.clone(), limit_range_defaults(value)));
    }

    if group == "argoproj.io" && kind == "Application" {
        let wave_text =
            crate::pointer(value, "/metadata/annotations/argocd.argoproj.io~1sync-wave")
                .and_then(Value::as_str);
        if wave_text.is_none() && policy.on("IF006") {
            findings.push(policy.finding(
                "IF006",
                &at.key("metadata"),
                format!("Application `{name}` has no `argocd.argoproj.io/sync-wave` annotation, so it syncs in wave 0 in no dependable order"),
            ));
        }
        if policy.on("IF007") {
            facts.app = Some(application(value, name, wave_text));
        }
    }

    if policy.on("IF007") {
        if group == "apiextensions.k8s.io" && kind == "CustomResourceDefinition" {
            if let (Some(g), Some(k)) = (
                str_at(value, "/spec/group"),
                str_at(value, "/spec/names/kind"),
            ) {
                facts.crd = Some((g.to_string(), k.to_string()));
            }
        } else if !builtin_group(group) && group != "argoproj.io" {
            let skip = skips_dry_run(crate::pointer(
                value,
                "/metadata/annotations/argocd.argoproj.io~1sync-options",
            ));
            facts.cr = Some((group.to_string(), kind.to_string(), skip, at.at("kind")));
        }
    }

    (findings, facts)
}

/// Whether the document is a default-deny policy, and for which namespace (`None`: all).
fn default_deny(
    group: &str,
    kind: &str,
    value: &Value,
    namespace: Option<&str>,
) -> Option<Option<String>> {
    let empty = |v: Option<&Value>| match v {
        Some(Value::Object(m)) => m.values().all(|x| match x {
            Value::Object(o) => o.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Null => true,
            _ => false,
        }),
        _ => false,
    };
    let spec = value.get("spec")?;
    match (group, kind) {
        ("networking.k8s.io", "NetworkPolicy") => {
            let types: Vec<&str> = spec
                .get("policyTypes")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            (empty(spec.get("podSelector"))
                && types.contains(&"Ingress")
                && types.contains(&"Egress"))
            .then(|| Some(namespace.unwrap_or("default").to_string()))
        }
        ("cilium.io", "CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy") => {
            let selects_all = empty(spec.get("endpointSelector"));
            let has = |a: &str, b: &str| spec.get(a).is_some() || spec.get(b).is_some();
            let switched_off = |dir: &str| {
                crate::pointer(spec, &format!("/enableDefaultDeny/{dir}"))
                    == Some(&Value::Bool(false))
            };
            let deny = selects_all
                && has("ingress", "ingressDeny")
                && has("egress", "egressDeny")
                && !switched_off("ingress")
                && !switched_off("egress");
            deny.then(|| {
                (kind == "CiliumNetworkPolicy").then(|| namespace.unwrap_or("default").to_string())
            })
        }
        _ => None,
    }
}

/// Why an image reference is not pinned, if it is not.
fn unpinned(image: &str) -> Option<&'static str> {
    if image.contains('@') {
        return None;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Some("which has no tag"),
        Some((_, "latest")) => Some("whose tag `latest` moves"),
        Some((_, "")) => Some("which has an empty tag"),
        Some(_) => None,
    }
}

/// The resource fields a container lacks: a request stands for itself, a limit also for
/// the request Kubernetes copies from it.
fn missing_resources(c: &Value) -> Vec<&'static str> {
    let has = |p: &str| crate::pointer(c, p).is_some_and(|v| !v.is_null());
    let mut missing = Vec::new();
    if !has("/resources/requests/cpu") && !has("/resources/limits/cpu") {
        missing.push("requests.cpu");
    }
    if !has("/resources/requests/memory") && !has("/resources/limits/memory") {
        missing.push("requests.memory");
    }
    if !has("/resources/limits/memory") {
        missing.push("limits.memory");
    }
    missing
}

/// The container fields a LimitRange's defaults give.
fn limit_range_defaults(value: &Value) -> Vec<&'static str> {
    let mut given = Vec::new();
    let Some(limits) = crate::pointer(value, "/spec/limits").and_then(Value::as_array) else {
        return given;
    };
    for l in limits {
        if l.get("type").and_then(Value::as_str) != Some("Container") {
            continue;
        }
        let has = |p: &str| crate::pointer(l, p).is_some();
        if has("/defaultRequest/cpu") || has("/default/cpu") {
            given.push("requests.cpu");
        }
        if has("/defaultRequest/memory") || has("/default/memory") {
            given.push("requests.memory");
        }
        if has("/default/memory") {
            given.push("limits.memory");
        }
    }
    given
}

/// The facts of an Application: wave, source directories and charts.
fn application(value: &Value, name: &str, wave: Option<&str>) -> App {
    let mut app = App {
        name: name.to_string(),
        wave: wave.and_then(|w| w.trim().parse().ok()).unwrap_or(0),
        skip_dry_run: skips_dry_run(crate::pointer(value, "/spec/syncPolicy/syncOptions")),
        ..App::default()
    };
    let sources: Vec<&Value> = match (
        crate::pointer(value, "/spec/source"),
        crate::pointer(value, "/spec/sources"),
    ) {
        (Some(s), _) => vec![s],
        (None, Some(Value::Array(list))) => list.iter().collect(),
        _ => Vec::new(),
    };
    for s in sources {
        if let Some(chart) = s.get("chart").and_then(Value::as_str) {
            app.charts.push(chart.to_string());
        } else if let Some(path) = s.get("path").and_then(Value::as_str) {
            let recurse = crate::pointer(s, "/directory/recurse") == Some(&Value::Bool(true));
            app.dirs.push((normalize_dir(path), recurse));
        }
    }
    app
}

/// A repository directory as Argo CD writes it (`./apps/`, `apps`, `.`), normalized.
pub(crate) fn normalize_dir(path: &str) -> String {
    let p = path.trim().trim_start_matches("./").trim_end_matches('/');
    if p == "." {
        String::new()
    } else {
        p.to_string()
    }
}

/// Whether a file at `repo_path` is read by an Application source directory.
fn in_dir(repo_path: &str, dir: &str, recurse: bool) -> bool {
    let parent = repo_path.rsplit_once('/').map_or("", |(d, _)| d);
    if recurse {
        dir.is_empty() || parent == dir || parent.starts_with(&format!("{dir}/"))
    } else {
        parent == dir
    }
}

/// The rules about several documents. `facts` are (result slot, facts); the findings come
/// back with the slot of the document they belong to.
pub(crate) fn resolve(policy: &Policy, facts: &[(usize, Facts)]) -> Vec<(usize, Finding)> {
    let mut out = Vec::new();

    if policy.on("IF003") {
        let mut cluster_wide = false;
        let mut denied = HashSet::new();
        for (_, f) in facts {
            match &f.deny {
                Some(None) => cluster_wide = true,
                Some(Some(ns)) => {
                    denied.insert(ns.clone());
                }
                None => {}
            }
        }
        for (slot, f) in facts {
            if let Some((ns, at)) = &f.namespace
                && !cluster_wide
                && !denied.contains(ns)
            {
                out.push((
                    *slot,
                    policy.finding("IF003", at, format!("Namespace `{ns}` has no default-deny network policy among the validated files; its pods accept and send any traffic")),
                ));
            }
        }
    }

    if policy.on("IF004") {
        let mut given: HashMap<Option<&str>, HashSet<&str>> = HashMap::new();
        for (_, f) in facts {
            if let Some((ns, fields)) = &f.limit_range {
                given
                    .entry(ns.as_deref())
                    .or_default()
                    .extend(fields.iter().copied());
            }
        }
        for (slot, f) in facts {
            for (ns, missing, at) in &f.containers {
                let defaults = given.get(&ns.as_deref());
                let still: Vec<&str> = missing
                    .iter()
                    .copied()
                    .filter(|m| !defaults.is_some_and(|d| d.contains(m)))
                    .collect();
                if !still.is_empty() {
                    out.push((
                        *slot,
                        policy.finding(
                            "IF004",
                            at,
                            format!(
                                "container `{}` has no {}, and no LimitRange in its namespace gives a default",
                                at.message,
                                still
                                    .iter()
                                    .map(|m| format!("resources.{m}"))
                                    .collect::<Vec<_>>()
                                    .join(" or ")
                            ),
                        ),
                    ));
                }
            }
        }
    }

    if policy.on("IF007") {
        out.extend(crd_order(policy, facts));
    }
    out
}

/// IF007: custom resources against the waves of the Applications providing their CRDs.
fn crd_order(policy: &Policy, facts: &[(usize, Facts)]) -> Vec<(usize, Finding)> {
    let apps: Vec<&App> = facts.iter().filter_map(|(_, f)| f.app.as_ref()).collect();
    let owner = |repo_path: &str| -> Option<&App> {
        apps.iter()
            .copied()
            .find(|a| a.dirs.iter().any(|(d, r)| in_dir(repo_path, d, *r)))
    };
    // (group, kind or "") → the providing Applications.
    let mut providers: HashMap<(String, String), Vec<&App>> = HashMap::new();
    let mut table: BTreeMap<&str, Vec<&str>> =
        CHART_CRDS.iter().map(|(c, g)| (*c, g.to_vec())).collect();
    for (chart, groups) in &policy.crd_providers {
        table
            .entry(chart.as_str())
            .or_default()
            .extend(groups.iter().map(String::as_str));
    }
    for app in &apps {
        for chart in &app.charts {
            for entry in table.get(chart.as_str()).into_iter().flatten() {
                let (g, k) = entry.split_once('/').unwrap_or((entry, ""));
                providers
                    .entry((g.to_string(), k.to_string()))
                    .or_default()
                    .push(app);
            }
        }
    }
    for (_, f) in facts {
        if let (Some((g, k)), Some(path)) = (&f.crd, &f.repo_path)
            && let Some(app) = owner(path)
        {
            providers
                .entry((g.clone(), k.clone()))
                .or_default()
                .push(app);
        }
    }
    let mut out = Vec::new();
    for (slot, f) in facts {
        let (Some((group, kind, skip, at)), Some(path)) = (&f.cr, &f.repo_path) else {
            continue;
        };
        let Some(app) = owner(path) else { continue };
        if *skip || app.skip_dry_run {
            continue;
        }
        let found = providers
            .get(&(group.clone(), kind.clone()))
            .or_else(|| providers.get(&(group.clone(), String::new())));
        let Some(found) = found else { continue };
        // The CRD in the same Application is applied first by Argo CD itself.
        if found.iter().any(|p| std::ptr::eq(*p, app)) {
            continue;
        }
        if let Some(p) = found.iter().find(|p| p.wave >= app.wave) {
            out.push((
                *slot,
                policy.finding(
                    "IF007",
                    at,
                    format!(
                        "{kind} ({group}) is in Application `{}` at sync wave {}, but its CRD comes with Application `{}` at wave {}; move `{}` to a wave after {} or mark the resource SkipDryRunOnMissingResource=true",
                        app.name, app.wave, p.name, p.wave, app.name, p.wave
                    ),
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_have_unique_ids_in_order_and_a_paragraph_each() {
        for (i, r) in RULES.iter().enumerate() {
            assert_eq!(r.id, format!("IF{:03}", i + 1));
            assert!(r.explanation.len() > 200, "{} is not explained", r.id);
        }
        assert_eq!(
            rule_by_id("if007").unwrap().name,
            "custom-resource-before-its-crd"
        );
    }

    #[test]
    fn image_references() {
        assert_eq!(unpinned("nginx"), Some("which has no tag"));
        assert_eq!(unpinned("nginx:latest"), Some("whose tag `latest` moves"));
        assert_eq!(
            unpinned("registry:5000/team/nginx"),
            Some("which has no tag")
        );
        assert_eq!(unpinned("registry:5000/team/nginx:1.27"), None);
        assert_eq!(unpinned("nginx@sha256:abcd"), None);
    }

    #[test]
    fn a_limit_stands_for_its_request() {
        let c: Value = serde_json::json!({"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}});
        assert!(missing_resources(&c).is_empty());
        let c: Value = serde_json::json!({"resources": {"requests": {"cpu": "1"}}});
        assert_eq!(missing_resources(&c), ["requests.memory", "limits.memory"]);
    }

    #[test]
    fn application_directories() {
        assert_eq!(normalize_dir("./apps/"), "apps");
        assert_eq!(normalize_dir("."), "");
        assert!(in_dir("apps/a.yaml", "apps", false));
        assert!(!in_dir("apps/sub/a.yaml", "apps", false));
        assert!(in_dir("apps/sub/a.yaml", "apps", true));
        assert!(in_dir("a.yaml", "", false));
    }
}
