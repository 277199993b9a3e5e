//! Where a kind's schema is: kubeconform's schema locations.
//!
//! A location is a Go-template path (`{{ .ResourceKind }}`, …) or a directory. A directory
//! holding an `index.json` (`"<apiVersion>/<Kind>"` → file, as in the standalone Kubernetes
//! schemas) is looked up through it; any other location not ending in `json` gets
//! kubeconform's layout appended:
//! `{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json`.

use std::collections::HashMap;

/// The fields a location template may use.
const FIELDS: &[&str] = &[
    "NormalizedKubernetesVersion",
    "StrictSuffix",
    "ResourceKind",
    "ResourceAPIVersion",
    "Group",
    "KindSuffix",
];

/// kubeconform's default layout below a directory location.
pub const DEFAULT_LAYOUT: &str = "{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json";

/// One schema location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A path template.
    Template(String),
    /// A directory with an `index.json`, and the index.
    Indexed {
        /// The directory.
        dir: String,
        /// `"<apiVersion>/<Kind>"` → file name in `dir`.
        index: HashMap<String, String>,
    },
}

/// Parses a location as given on the command line. `index` is the text of `<location>/
/// index.json` when the caller found one.
pub fn parse_location(location: &str, index: Option<&str>) -> Result<Location, String> {
    if let Some(text) = index {
        let index: HashMap<String, String> = serde_json::from_str(text)
            .map_err(|e| format!("{location}/index.json is not a map of kinds to files: {e}"))?;
        return Ok(Location::Indexed {
            dir: location.trim_end_matches('/').to_string(),
            index,
        });
    }
    if location.starts_with("http://") || location.starts_with("https://") || location == "default"
    {
        return Err(format!(
            "{location}: remote schema locations are not supported yet; download the schemas and pass their directory"
        ));
    }
    let template = if location.ends_with("json") {
        location.to_string()
    } else {
        format!("{}/{DEFAULT_LAYOUT}", location.trim_end_matches('/'))
    };
    // Check every `{{ … }}` now, so that a typo fails before any file is read.
    render(
        &template,
        &Gvk::new("apps/v1", "Deployment"),
        "master",
        true,
    )?;
    Ok(Location::Template(template))
}

/// A document's kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gvk {
    /// `apiVersion`, e.g. `apps/v1` or `v1`.
    pub api_version: String,
    /// `kind`, e.g. `Deployment`.
    pub kind: String,
}

impl Gvk {
    /// A kind from its apiVersion and kind.
    pub fn new(api_version: &str, kind: &str) -> Self {
        Gvk {
            api_version: api_version.into(),
            kind: kind.into(),
        }
    }

    /// The group (empty for the core group).
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }

    /// The version.
    pub fn version(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map_or(self.api_version.as_str(), |(_, v)| v)
    }

    /// `apps/v1/Deployment`, as kubeconform's `--skip` and the index name kinds.
    pub fn key(&self) -> String {
        format!("{}/{}", self.api_version, self.kind)
    }
}

/// Fills a template for a kind, as kubeconform's `schemaPath` does.
pub fn render(
    template: &str,
    gvk: &Gvk,
    k8s_version: &str,
    strict: bool,
) -> Result<String, String> {
    let normalized = if k8s_version == "master" {
        "master".to_string()
    } else {
        format!("v{}", k8s_version.trim_start_matches('v'))
    };
    let group_head = gvk.api_version.split('/').next().unwrap_or("");
    let mut kind_suffix = format!(
        "-{}",
        group_head.split('.').next().unwrap_or("").to_lowercase()
    );
    if gvk.api_version.contains('/') {
        kind_suffix.push('-');
        kind_suffix.push_str(&gvk.version().to_lowercase());
    }
    let value = |field: &str| -> Option<String> {
        Some(match field {
            "NormalizedKubernetesVersion" => normalized.clone(),
            "StrictSuffix" => if strict { "-strict" } else { "" }.to_string(),
            "ResourceKind" => gvk.kind.to_lowercase(),
            "ResourceAPIVersion" => gvk.version().to_string(),
            "Group" => gvk.group().to_string(),
            "KindSuffix" => kind_suffix.clone(),
            _ => return None,
        })
    };
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after
            .find("}}")
            .ok_or_else(|| format!("{template}: `{{{{` without `}}}}`"))?;
        let expr = after[..close].trim();
        let field = expr.strip_prefix('.').unwrap_or(expr);
        out.push_str(&value(field).ok_or_else(|| {
            format!(
                "{template}: unknown template field `{expr}`; the fields are {}",
                FIELDS
                    .iter()
                    .map(|f| format!(".{f}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?);
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

impl Location {
    /// The path of a kind's schema in this location (None: the index does not list it).
    pub fn path_for(&self, gvk: &Gvk, k8s_version: &str, strict: bool) -> Option<String> {
        match self {
            Location::Template(t) => render(t, gvk, k8s_version, strict).ok(),
            Location::Indexed { dir, index } => index.get(&gvk.key()).map(|f| format!("{dir}/{f}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconform_naming() {
        let t = parse_location("schemas", None).unwrap();
        let cases = [
            (
                ("apps/v1", "Deployment"),
                "schemas/v1.33.0-standalone-strict/deployment-apps-v1.json",
            ),
            (
                ("v1", "ConfigMap"),
                "schemas/v1.33.0-standalone-strict/configmap-v1.json",
            ),
            (
                ("networking.k8s.io/v1", "Ingress"),
                "schemas/v1.33.0-standalone-strict/ingress-networking-v1.json",
            ),
        ];
        for ((api, kind), want) in cases {
            assert_eq!(
                t.path_for(&Gvk::new(api, kind), "1.33.0", true).unwrap(),
                want
            );
        }
        let crds = parse_location(
            "crds/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json",
            None,
        )
        .unwrap();
        assert_eq!(
            crds.path_for(
                &Gvk::new("cilium.io/v2", "CiliumNetworkPolicy"),
                "master",
                false
            )
            .unwrap(),
            "crds/cilium.io/ciliumnetworkpolicy_v2.json"
        );
        assert!(
            parse_location("x/{{ .Nope }}.json", None)
                .unwrap_err()
                .contains(".ResourceKind")
        );
        assert!(parse_location("https://example.com", None).is_err());
    }
}
