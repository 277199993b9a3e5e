//! Reading `infraflux.yaml`: YAML and type errors with their location, then defaults,
//! derived requirements and the semantic checks.

use std::path::Path;

use serde_saphyr::Error as YamlError;

use crate::check::check;
use crate::diagnostic::{Diagnostic, Source};
use crate::model::Platform;
use crate::spans::{LineStarts, SpanIndex};
use crate::suggest::did_you_mean;

/// The outcome of reading a spec: the resolved platform when it could be built, and every
/// finding (errors first come from YAML and types, then all semantic findings at once).
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The file.
    pub source: Source,
    /// The platform with every default resolved; `None` when the file did not deserialize.
    pub platform: Option<Platform>,
    /// Findings, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Analysis {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// A spec that cannot be used, with all its findings.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} has {} error(s)", .analysis.source.name, .analysis.diagnostics.iter().filter(|d| d.is_error()).count())]
pub struct LoadError {
    /// What was found (boxed: a platform is large, and errors should be cheap to pass on).
    pub analysis: Box<Analysis>,
}

/// A usable spec: the resolved platform and its warnings.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The platform with every default resolved and derived requirement added.
    pub platform: Platform,
    /// Warnings (a usable spec has no errors).
    pub warnings: Vec<Diagnostic>,
    /// The file.
    pub source: Source,
}

/// Reads, resolves and checks the spec at `path`.
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    into_result(analyze_file(path))
}

/// Reads the spec at `path` and reports every finding; a file that cannot be read is one
/// error finding.
pub fn analyze_file(path: &Path) -> Analysis {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => analyze(&Source::new(name, text)),
        Err(e) => {
            let hint = match e.kind() {
                std::io::ErrorKind::NotFound => {
                    "create one with `infraflux init`, or name the spec file as an argument"
                }
                _ => "check the path and its permissions",
            };
            let diag =
                Diagnostic::error("io", "", format!("cannot read {name}: {e}")).with_hint(hint);
            Analysis {
                source: Source::new(name, ""),
                platform: None,
                diagnostics: vec![diag],
            }
        }
    }
}

/// Reads, resolves and checks a spec given as text.
pub fn load_str(name: &str, text: &str) -> Result<Loaded, LoadError> {
    into_result(analyze(&Source::new(name, text)))
}

fn into_result(analysis: Analysis) -> Result<Loaded, LoadError> {
    match &analysis.platform {
        Some(platform) if !analysis.has_errors() => Ok(Loaded {
            platform: platform.clone(),
            warnings: analysis.diagnostics,
            source: analysis.source,
        }),
        _ => Err(LoadError {
            analysis: Box::new(analysis),
        }),
    }
}

/// Reads a spec and reports every finding without stopping at the first semantic one.
pub fn analyze(source: &Source) -> Analysis {
    let text = source.text.as_str();
    let index = SpanIndex::build(text);
    match parse(text) {
        Err(e) => Analysis {
            source: source.clone(),
            platform: None,
            diagnostics: vec![yaml_diagnostic(&e, text, &index)],
        },
        Ok(platform) => {
            let platform = platform.resolve();
            let mut diagnostics = check(&platform, &index);
            diagnostics.sort_by_key(|d| {
                (
                    d.location.map_or(0, |l| l.offset),
                    std::cmp::Reverse(d.severity),
                )
            });
            Analysis {
                source: source.clone(),
                platform: Some(platform),
                diagnostics,
            }
        }
    }
}

/// Deserializes the YAML text (one document; duplicate keys are errors).
pub(crate) fn parse(text: &str) -> Result<Platform, YamlError> {
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    options.with_snippet = false;
    serde_saphyr::from_str_with_options(text, options)
}

/// Turns a deserialization error into a diagnostic with the closest known name suggested.
fn yaml_diagnostic(err: &YamlError, text: &str, index: &SpanIndex) -> Diagnostic {
    let err = err.without_snippet();
    let location = err.location().and_then(|l| {
        let (line, column) = (l.line() as usize, l.column() as usize);
        (line > 0).then(|| LineStarts::new(text).point(text, line, column.max(1)))
    });
    let list = |names: &[&str]| {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (code, message, hint) = match err {
        YamlError::SerdeUnknownField { field, expected, .. } => {
            let message = match did_you_mean(field, expected.iter().copied()) {
                Some(s) => format!("unknown field `{field}`, did you mean `{s}`?"),
                None => format!("unknown field `{field}`"),
            };
            let hint = if expected.is_empty() {
                "this mapping takes no fields".to_string()
            } else {
                format!("fields allowed here: {}", list(expected))
            };
            ("unknown-field", message, Some(hint))
        }
        YamlError::SerdeUnknownVariant { variant, expected, .. } => {
            let message = match did_you_mean(variant, expected.iter().copied()) {
                Some(s) => format!("unknown value `{variant}`, did you mean `{s}`?"),
                None => format!("unknown value `{variant}`"),
            };
            ("unknown-value", message, Some(format!("expected one of {}", list(expected))))
        }
        YamlError::SerdeMissingField { field, .. } => (
            "missing-field",
            format!("missing field `{field}`"),
            Some(format!("add `{field}:` to this mapping (see docs/spec.md)")),
        ),
        YamlError::SerdeInvalidType { unexpected, expected, .. } => (
            "invalid-type",
            format!("invalid type: {unexpected}, expected {expected}"),
            Some(format!("write {expected} here; docs/spec.md describes every field")),
        ),
        YamlError::SerdeInvalidValue { unexpected, expected, .. } => (
            "invalid-value",
            format!("invalid value: {unexpected}, expected {expected}"),
            Some(format!("write {expected} here; docs/spec.md describes every field")),
        ),
        YamlError::DuplicateMappingKey { key, .. } => (
            "duplicate-key",
            match key {
                Some(k) => format!("duplicate key `{k}`"),
                None => "duplicate key".to_string(),
            },
            Some("a key may appear once in a mapping; remove or merge the repeated one".to_string()),
        ),
        YamlError::Message { msg, .. } if msg.contains("untagged enum SecretRef") => (
            "invalid-secret-ref",
            "expected a secret reference".to_string(),
            Some("write `{ env: NAME }` or `{ sopsFile: PATH, key: KEY }`; secret values never go in infraflux.yaml".to_string()),
        ),
        YamlError::Message { msg, .. } if msg == "invalid IP address syntax" => {
            let cidr = location.and_then(|l| index.path_at(l.offset)).is_some_and(|p| p.ends_with("CIDR"));
            if cidr {
                ("invalid-value", "invalid IPv4 CIDR".to_string(), Some("write `ADDRESS/PREFIX` with the network address, e.g. `192.168.10.0/24`".to_string()))
            } else {
                ("invalid-value", "invalid IPv4 address".to_string(), Some("write four decimal octets, e.g. `192.168.10.51`".to_string()))
            }
        }
        YamlError::Message { msg, .. } => (
            "invalid-value",
            msg.clone(),
            Some("docs/spec.md gives the format of every field, with an example".to_string()),
        ),
        other => (
            "yaml",
            strip_location(&other.to_string()),
            Some("this is not well-formed YAML: check indentation, quoting and `:` around here".to_string()),
        ),
    };
    let path = location
        .and_then(|l| index.path_at(l.offset))
        .unwrap_or_default();
    let mut d = Diagnostic::error(code, path, message);
    d.location = location;
    d.hint = hint;
    d
}

/// serde-saphyr appends ` at line L column C` to some messages; the location is reported
/// separately.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}
