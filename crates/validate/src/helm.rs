//! Helm values of Argo CD Applications checked against the chart: its `values.schema.json`
//! (IF009) and the keys of its default `values.yaml` (IF010).
//!
//! Values come inline (`helm.valuesObject`, or `helm.values` as YAML text) or from value
//! files in the repository (`helm.valueFiles`, relative to a Git source's path, or
//! `$ref/…` through a source with `ref`).

use serde_json::Value;

use crate::{Finding, Severity, policy::Policy};

/// A chart's schema and defaults, as found under the chart schema directory.
pub(crate) struct Chart {
    pub schema: Option<jsonschema::Validator>,
    pub defaults: Option<Value>,
    /// Keys the chart's `values.yaml` documents but leaves commented out (display paths).
    pub documented: Vec<String>,
    /// Why the chart cannot be checked (nothing found, a broken file).
    pub problem: Option<(Severity, String)>,
}

/// Where some values come from, inside an Application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Values {
    /// `valuesObject`: the document path, and the values.
    Object(String, Value),
    /// `values`: the document path, and the YAML text.
    Text(String, String),
    /// A value file: its repository path, and the document path of the entry naming it.
    File(String, String),
}

/// The values an Application gives to charts: (chart, where).
pub(crate) fn application_values(app: &Value) -> Vec<(String, Values)> {
    let mut out = Vec::new();
    let (sources, base): (Vec<&Value>, Vec<String>) = match (
        crate::pointer(app, "/spec/source"),
        crate::pointer(app, "/spec/sources"),
    ) {
        (Some(s), _) => (vec![s], vec!["spec.source".to_string()]),
        (None, Some(Value::Array(list))) => (
            list.iter().collect(),
            (0..list.len())
                .map(|i| format!("spec.sources[{i}]"))
                .collect(),
        ),
        _ => return out,
    };
    // `ref` sources: `$name/...` value files are paths in that source's repository, taken
    // to be this one.
    let refs: Vec<&str> = sources
        .iter()
        .filter_map(|s| s.get("ref").and_then(Value::as_str))
        .collect();
    for (s, at) in sources.iter().zip(&base) {
        let Some(helm) = s.get("helm") else { continue };
        let path = s.get("path").and_then(Value::as_str);
        let chart = match (s.get("chart").and_then(Value::as_str), path) {
            (Some(c), _) => c.to_string(),
            // A chart in Git: the directory's name.
            (None, Some(p)) => crate::policy::normalize_dir(p)
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string(),
            (None, None) => continue,
        };
        if chart.is_empty() {
            continue;
        }
        if let Some(v) = helm.get("valuesObject").filter(|v| v.is_object()) {
            out.push((
                chart.clone(),
                Values::Object(format!("{at}.helm.valuesObject"), v.clone()),
            ));
        } else if let Some(text) = helm.get("values").and_then(Value::as_str) {
            out.push((
                chart.clone(),
                Values::Text(format!("{at}.helm.values"), text.to_string()),
            ));
        }
        let Some(files) = helm.get("valueFiles").and_then(Value::as_array) else {
            continue;
        };
        for (i, f) in files.iter().enumerate() {
            let Some(f) = f.as_str() else { continue };
            let entry = format!("{at}.helm.valueFiles[{i}]");
            if f.contains("://") {
                continue;
            }
            let repo_path = if let Some(rest) = f.strip_prefix('$') {
                match rest.split_once('/') {
                    Some((name, p)) if refs.contains(&name) => p.to_string(),
                    _ => continue,
                }
            } else if let Some(p) = path {
                let dir = crate::policy::normalize_dir(p);
                let joined = if dir.is_empty() {
                    f.to_string()
                } else {
                    format!("{dir}/{f}")
                };
                normalize_path(&joined)
            } else {
                // A value file inside a chart from a Helm repository: not in this tree.
                continue;
            };
            out.push((chart.clone(), Values::File(repo_path, entry)));
        }
    }
    out
}

/// `a/./b/../c` → `a/c`.
fn normalize_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// Checks `values` for `chart`. `locate(path, key)` gives where a values path is (its key
/// when `key`), as a finding to fill in.
pub(crate) fn check(
    policy: &Policy,
    chart_name: &str,
    chart: &Chart,
    values: &Value,
    locate: &dyn Fn(&str, bool) -> Finding,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some((severity, why)) = &chart.problem {
        if policy.level("IF009").is_some() {
            let mut f = policy.finding("IF009", &locate("", true), why.clone());
            f.severity = *severity;
            out.push(f);
        }
        return out;
    }
    // Keys the schema already rejects are not reported again as unknown.
    let mut rejected = Vec::new();
    if let Some(schema) = &chart.schema
        && policy.level("IF009").is_some()
    {
        for error in schema.iter_errors(values) {
            let crate::ErrorPath { path, at_key, .. } = crate::error_path(&error);
            rejected.extend(at_key.clone());
            let at = match &at_key {
                Some(k) => locate(k, true),
                None => locate(&path, false),
            };
            // For an unexpected key, the default values nearby suggest what was meant.
            let hint = at_key
                .as_ref()
                .and_then(|k| {
                    let key = k
                        .rsplit(['.', '['])
                        .next()?
                        .trim_end_matches(']')
                        .trim_matches('"');
                    let near = chart
                        .defaults
                        .as_ref()?
                        .pointer(error.instance_path().as_str())?;
                    infraflux_spec::did_you_mean(key, near.as_object()?.keys().map(String::as_str))
                })
                .map_or(String::new(), |h| format!("; did you mean `{h}`?"));
            out.push(policy.finding("IF009", &at, format!("chart {chart_name}: {error}{hint}")));
        }
    }
    if let Some(defaults) = &chart.defaults
        && policy.level("IF010").is_some()
    {
        let mut unknown = Vec::new();
        let free: Vec<&str> = FREE_FORM
            .iter()
            .filter(|(c, _)| *c == chart_name)
            .map(|(_, p)| *p)
            .collect();
        let documented: Vec<&str> = chart.documented.iter().map(String::as_str).collect();
        unknown_keys(
            values,
            defaults,
            String::new(),
            &free,
            &documented,
            &mut unknown,
        );
        for (path, key, hint) in unknown {
            if rejected.contains(&path) {
                continue;
            }
            let hint = hint.map_or(String::new(), |h| format!("; did you mean `{h}`?"));
            out.push(policy.finding(
                "IF010",
                &locate(&path, true),
                format!("`{key}` is not a value of chart {chart_name} (not in its values.yaml), so Helm ignores it{hint}"),
            ));
        }
    }
    out
}

/// Maps a chart documents as free-form although its `values.yaml` gives them a few keys:
/// everything under them is passed on (to a ConfigMap, to a config file), so no key there
/// is unknown. From each chart's own comments on these keys.
pub(crate) const FREE_FORM: &[(&str, &str)] = &[
    // "Any values you put under `.configs.cm` are passed to argocd-cm ConfigMap."
    ("argo-cd", "configs.cm"),
    // "You can customize parameters by adding parameters here."
    ("argo-cd", "configs.params"),
    // argocd-rbac-cm keys (`policy.<name>.csv` overlays among them).
    ("argo-cd", "configs.rbac"),
];

/// Keys a `values.yaml` documents in comments, helm-docs style, without setting them:
///
/// ```yaml
/// loadBalancer:
///   # -- algorithm is the name of the load balancing algorithm
///   # algorithm: random
///   acceleration: disabled
/// ```
///
/// A commented `key: value` line counts when a `# --` description comes before it in the
/// same comment block; its parent is the key line above it with less indentation. The
/// chart's templates read such keys (`loadBalancer.algorithm` is Cilium's documented way
/// to choose Maglev), so they are not unknown. Their contents are free-form.
pub(crate) fn documented_keys(values_yaml: &str) -> Vec<String> {
    let mut out = Vec::new();
    // (indent, path) of the enclosing real keys.
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut described = false;
    for line in values_yaml.lines() {
        let body = line.trim_start_matches(' ');
        let indent = line.len() - body.len();
        if body.is_empty() {
            described = false;
            continue;
        }
        let parent = |stack: &mut Vec<(usize, String)>| {
            while stack.last().is_some_and(|(i, _)| *i >= indent) {
                stack.pop();
            }
            stack.last().map(|(_, p)| p.clone()).unwrap_or_default()
        };
        if let Some(comment) = body.strip_prefix('#') {
            let comment = comment.strip_prefix(' ').unwrap_or(comment);
            if comment.starts_with("-- ") {
                described = true;
            } else if described && let Some(key) = plain_key(comment) {
                let path = parent(&mut stack);
                out.push(infraflux_spec::join_key(&path, key));
                described = false;
            }
            continue;
        }
        described = false;
        if body.starts_with('-') {
            continue;
        }
        if let Some(key) = plain_key(body) {
            let path = parent(&mut stack);
            stack.push((indent, infraflux_spec::join_key(&path, key)));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The key of a `key: value` or `key:` line with a plain key.
fn plain_key(line: &str) -> Option<&str> {
    let (key, rest) = line.split_once(':')?;
    let ok = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        && (rest.is_empty() || rest.starts_with(' '));
    ok.then_some(key)
}

/// Keys of `values` absent from a non-empty mapping of `defaults` at the same place, with
/// the key itself and a suggestion; `free` lists the free-form maps and `documented` the
/// keys documented in comments (display paths).
fn unknown_keys(
    values: &Value,
    defaults: &Value,
    path: String,
    free: &[&str],
    documented: &[&str],
    out: &mut Vec<(String, String, Option<String>)>,
) {
    let (Value::Object(v), Value::Object(d)) = (values, defaults) else {
        return;
    };
    if d.is_empty() || free.contains(&path.as_str()) {
        return;
    }
    for (k, vv) in v {
        let p = infraflux_spec::join_key(&path, k);
        match d.get(k) {
            Some(dd) => unknown_keys(vv, dd, p, free, documented, out),
            None if documented.contains(&p.as_str()) => {}
            None => {
                let hint = infraflux_spec::did_you_mean(k, d.keys().map(String::as_str));
                out.push((p, k.clone(), hint.map(str::to_string)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_of_single_and_multi_source_applications() {
        let app = json!({"spec": {"sources": [
            {"chart": "cilium", "repoURL": "https://helm.cilium.io", "helm": {
                "valuesObject": {"a": 1},
                "valueFiles": ["$values/platform/cilium/values.yaml", "https://x/y.yaml", "$other/z.yaml"]}},
            {"repoURL": "https://git.example/platform.git", "ref": "values"},
        ]}});
        assert_eq!(
            application_values(&app),
            [
                (
                    "cilium".into(),
                    Values::Object("spec.sources[0].helm.valuesObject".into(), json!({"a": 1}))
                ),
                (
                    "cilium".into(),
                    Values::File(
                        "platform/cilium/values.yaml".into(),
                        "spec.sources[0].helm.valueFiles[0]".into()
                    )
                ),
            ]
        );
        let app = json!({"spec": {"source": {"path": "./charts/web/", "helm": {
            "values": "a: 1\n", "valueFiles": ["../values/web.yaml"]}}}});
        assert_eq!(
            application_values(&app),
            [
                (
                    "web".into(),
                    Values::Text("spec.source.helm.values".into(), "a: 1\n".into())
                ),
                (
                    "web".into(),
                    Values::File(
                        "charts/values/web.yaml".into(),
                        "spec.source.helm.valueFiles[0]".into()
                    )
                ),
            ]
        );
    }

    #[test]
    fn keys_documented_in_comments_are_known() {
        let yaml = "loadBalancer:\n  # -- standalone L4LB.\n  # standalone: false\n\n  # -- algorithm\n  # selection e.g. random or maglev\n  # algorithm: random\n  acceleration: disabled\n  l7:\n    # -- backend\n    # backend: x\n    ports: []\n# an example, not documented:\n# example: 1\ntop: 1\n# -- described\n# later: {}\nlist:\n  - a: 1\n";
        assert_eq!(
            documented_keys(yaml),
            [
                "later",
                "loadBalancer.algorithm",
                "loadBalancer.l7.backend",
                "loadBalancer.standalone"
            ]
        );
        // The Cilium chart's own file documents `loadBalancer.algorithm` that way.
        let cilium = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/upstream/helm-values/cilium/values.yaml"
        ))
        .unwrap();
        let keys = documented_keys(&cilium);
        assert!(
            keys.contains(&"loadBalancer.algorithm".to_string()),
            "{keys:?}"
        );
        assert!(keys.contains(&"loadBalancer.mode".to_string()));
    }

    #[test]
    fn only_keys_under_non_empty_default_maps_are_checked() {
        let defaults = json!({"hubble": {"relay": {"enabled": false}}, "podLabels": {}, "extra": null,
            "configs": {"params": {"create": true}}});
        let values = json!({"hubble": {"relay": {"enable": true, "documented": {"x": 1}}}, "podLabels": {"a": "b"}, "extra": {"x": 1}, "hubbel": {},
            "configs": {"params": {"server.insecure": true}, "other.key": 1}});
        let mut out = Vec::new();
        unknown_keys(
            &values,
            &defaults,
            String::new(),
            &["configs.params"],
            &["hubble.relay.documented"],
            &mut out,
        );
        let s = |v: &str| v.to_string();
        assert_eq!(
            out,
            [
                (s("hubble.relay.enable"), s("enable"), Some(s("enabled"))),
                (s("hubbel"), s("hubbel"), Some(s("hubble"))),
                (s("configs[\"other.key\"]"), s("other.key"), None),
            ]
        );
    }
}
