//! Reading `infraflux.yaml`: YAML and type errors with their location, then defaults,
//! derived requirements and the semantic checks.

use std::path::Path;

use serde_saphyr::Error as YamlError;

use crate::check::check;
use crate::diagnostic::{Diagnostic, Source};
use crate::model::Platform;
use crate::spans::{LineStarts, SpanIndex, parent};
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
    // A syntax error makes the deserializer fail somewhere before or at it, sometimes with
    // a misleading type error; the parser's own error is the one to fix.
    if let Some((location, message)) = index.syntax_error() {
        let mut d = Diagnostic::error("yaml", index.path_at(location.offset).unwrap_or_default(), message.clone())
            .with_hint("this is not well-formed YAML: check indentation (spaces, not tabs), quoting, brackets and `:` around here");
        d.location = Some(*location);
        return d;
    }
    let err = err.without_snippet();
    let location = err.location().and_then(|l| {
        let (line, column) = (l.line() as usize, l.column() as usize);
        (line > 0).then(|| LineStarts::new(text).point(text, line, column.max(1)))
    });
    let at = location.and_then(|l| index.path_at(l.offset));
    // Unknown and duplicate keys are reported at the key itself.
    let key_at = || {
        location
            .and_then(|l| index.key_path_at(l.offset))
            .or_else(|| at.clone())
    };
    let list = |names: &[&str]| {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let written = |path: &Option<String>| {
        path.as_deref()
            .and_then(|p| index.scalar_text(text, p))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let (code, message, hint, path) = match err {
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
            ("unknown-field", message, hint, key_at())
        }
        YamlError::SerdeUnknownVariant { variant, expected, .. } => {
            let message = match did_you_mean(variant, expected.iter().copied()) {
                Some(s) => format!("unknown value `{variant}`, did you mean `{s}`?"),
                None => format!("unknown value `{variant}`"),
            };
            ("unknown-value", message, format!("expected one of {}", list(expected)), at)
        }
        YamlError::SerdeMissingField { field, .. } => {
            // serde-saphyr points at the mapping itself (`{}`) or at its last key.
            let mapping = location.and_then(|l| index.node_at(l.offset)).map(|(p, by_value)| {
                if by_value && index.is_collection(&p) { p } else { parent(&p).unwrap_or_default().to_string() }
            });
            (
                "missing-field",
                format!("missing field `{field}`"),
                format!("add `{field}:` to this mapping (docs/spec.md describes it)"),
                mapping,
            )
        }
        YamlError::SerdeInvalidType { unexpected, expected, .. } | YamlError::SerdeInvalidValue { unexpected, expected, .. } => (
            "invalid-type",
            format!("invalid type: {unexpected}, expected {expected}"),
            format!("write {expected} here; docs/spec.md describes every field"),
            at,
        ),
        YamlError::Unexpected { expected, .. } => {
            let what = match *expected {
                "sequence start" => "a list",
                "mapping start" => "a mapping",
                other => other,
            };
            let message = match written(&at) {
                Some(v) => format!("invalid type: `{v}` is a single value, expected {what}"),
                None => format!("invalid type: expected {what}"),
            };
            ("invalid-type", message, format!("write {what} here; docs/spec.md describes every field"), at)
        }
        YamlError::InvalidScalar { ty, .. } => {
            let what = match *ty {
                "u8" => "a whole number from 0 to 255",
                "u16" => "a whole number from 0 to 65535",
                "u32" => "a whole number from 0 to 4294967295",
                "u64" | "usize" => "a whole number from 0",
                "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number",
                "f32" | "f64" => "a number",
                "bool" => "`true` or `false`",
                other => other,
            };
            let message = match written(&at) {
                Some(v) => format!("invalid value `{v}`: expected {what}"),
                None => format!("invalid value: expected {what}"),
            };
            ("invalid-type", message, format!("write {what} here"), at)
        }
        YamlError::InvalidBooleanStrict { .. } => {
            ("invalid-type", "invalid value: expected `true` or `false`".into(), "write `true` or `false`".into(), at)
        }
        YamlError::NullIntoString { .. } => (
            "invalid-type",
            "a value is required here, but it is empty".into(),
            "write a value, or remove the key to use the default".into(),
            at,
        ),
        YamlError::ExternallyTaggedEnumExpectedScalarOrMapping { .. } | YamlError::UnexpectedValueForUnitEnumVariant { .. } => (
            "invalid-type",
            "invalid type: expected one word from a fixed list".into(),
            "write one of the values docs/spec.md lists for this field, not a list or mapping".into(),
            at,
        ),
        YamlError::DuplicateMappingKey { key, .. } => (
            "duplicate-key",
            match key {
                Some(k) => format!("duplicate key `{k}`"),
                None => "duplicate key".to_string(),
            },
            "a key may appear once in a mapping; remove or merge the repeated one".into(),
            key_at(),
        ),
        YamlError::Message { msg, .. } if msg.contains("untagged enum SecretRef") => (
            "invalid-secret-ref",
            "expected a secret reference".into(),
            "write `{ env: NAME }` or `{ sopsFile: PATH, key: KEY }`; secret values never go in infraflux.yaml".into(),
            at,
        ),
        YamlError::Message { msg, .. } if msg.starts_with("invalid IP") && msg.ends_with("address syntax") => {
            let cidr = at.as_deref().is_some_and(|p| p.ends_with("CIDR"));
            let shown = written(&at).map(|v| format!(" `{v}`")).unwrap_or_default();
            if cidr {
                ("invalid-value", format!("invalid IPv4 CIDR{shown}"), "write `ADDRESS/PREFIX` with the network address, e.g. `192.168.10.0/24`".into(), at)
            } else {
                ("invalid-value", format!("invalid IPv4 address{shown}"), "write four decimal octets, e.g. `192.168.10.51`".into(), at)
            }
        }
        YamlError::Message { msg, .. } => {
            ("invalid-value", msg.clone(), "docs/spec.md gives the format of every field, with an example".into(), at)
        }
        other => (
            "yaml",
            strip_location(&other.to_string()),
            "check the YAML around here against docs/spec.md".into(),
            at,
        ),
    };
    // Unknown fields are reported at their key; everything else at the node the path names
    // (a collection at its key), falling back to where the deserializer stopped.
    let location = match (&path, code) {
        (_, "unknown-field" | "duplicate-key") => location,
        (Some(p), _) => index.locate(p).or(location),
        _ => location,
    };
    let mut d = Diagnostic::error(code, path.unwrap_or_default(), message).with_hint(hint);
    d.location = location;
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
