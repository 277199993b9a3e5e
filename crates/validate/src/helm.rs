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
            let (path, at_key) = crate::error_path(&error);
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
        unknown_keys(values, defaults, String::new(), &free, &mut unknown);
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

/// Keys of `values` absent from a non-empty mapping of `defaults` at the same place, with
/// the key itself and a suggestion; `free` lists the free-form maps (display paths).
fn unknown_keys(
    values: &Value,
    defaults: &Value,
    path: String,
    free: &[&str],
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
            Some(dd) => unknown_keys(vv, dd, p, free, out),
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
    fn only_keys_under_non_empty_default_maps_are_checked() {
        let defaults = json!({"hubble": {"relay": {"enabled": false}}, "podLabels": {}, "extra": null,
            "configs": {"params": {"create": true}}});
        let values = json!({"hubble": {"relay": {"enable": true}}, "podLabels": {"a": "b"}, "extra": {"x": 1}, "hubbel": {},
            "configs": {"params": {"server.insecure": true}, "other.key": 1}});
        let mut out = Vec::new();
        unknown_keys(
            &values,
            &defaults,
            String::new(),
            &["configs.params"],
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
