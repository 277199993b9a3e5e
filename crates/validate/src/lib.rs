//! Schema validation of Kubernetes manifests: streams split into documents, each validated
//! against the JSON schema of its kind (kubeconform's schema locations), with every finding
//! at `file:line:column`.
//!
//! Pure: schemas are read through [`SchemaSource`], which the caller implements (the CLI
//! reads files). Each schema is compiled once and shared across threads; documents are
//! validated in parallel.

pub mod schemas;
pub mod stream;
pub mod yaml;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use infraflux_spec::SpanIndex;
use rayon::prelude::*;
use serde_json::Value;

pub use schemas::{Gvk, Location};

/// Reads schema files for the validator.
pub trait SchemaSource: Sync {
    /// The text at `path`; `Ok(None)` when there is no such file.
    fn read(&self, path: &str) -> Result<Option<String>, String>;
}

/// What to validate against and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Schema locations, tried in order.
    pub locations: Vec<Location>,
    /// Kubernetes version for `{{ .NormalizedKubernetesVersion }}` (`master` or `1.33.0`).
    pub kubernetes_version: String,
    /// Strict schemas (`-strict` suffix) and duplicate keys as errors.
    pub strict: bool,
    /// Kinds (`Kind` or `apiVersion/Kind`) not validated.
    pub skip: Vec<String>,
    /// Kinds (`Kind` or `apiVersion/Kind`) that are invalid wherever they appear.
    pub reject: Vec<String>,
    /// A kind without a schema is skipped instead of being an error.
    pub ignore_missing_schemas: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            locations: Vec::new(),
            kubernetes_version: "master".into(),
            strict: false,
            skip: Vec::new(),
            reject: Vec::new(),
            ignore_missing_schemas: false,
        }
    }
}

/// The verdict on one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Valid against its schema.
    Valid,
    /// Not valid against its schema, or of a rejected kind.
    Invalid,
    /// Could not be validated: not YAML, no kind, no schema, a broken schema.
    Error,
    /// Not validated, as asked (`skip`, or a missing schema with `ignore_missing_schemas`).
    Skipped,
}

/// One problem in a document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The field, as a path (`spec.template.spec.containers[0].image`); empty for the whole
    /// document.
    pub path: String,
    /// 1-based line in the file (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// The result for one document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DocResult {
    /// The file (as the caller named it).
    pub file: String,
    /// The document's position in the file (0-based).
    pub document: usize,
    /// The line the document starts on.
    pub line: usize,
    /// `apiVersion`, when the document has one.
    pub api_version: Option<String>,
    /// `kind`, when the document has one.
    pub kind: Option<String>,
    /// `metadata.name`, when the document has one.
    pub name: Option<String>,
    /// The verdict.
    pub status: Status,
    /// Why it is not valid (empty when valid).
    pub findings: Vec<Finding>,
}

/// A kind's compiled schema, or why there is none.
enum Compiled {
    Schema(Box<jsonschema::Validator>),
    Missing(Vec<String>),
    Broken(String),
}

/// Validates documents; compiled schemas are cached by kind and shared across threads.
pub struct Validator<S> {
    options: Options,
    source: S,
    cache: RwLock<HashMap<Gvk, Arc<Compiled>>>,
}

impl<S: SchemaSource> Validator<S> {
    /// A validator with these options, reading schemas from `source`.
    pub fn new(options: Options, source: S) -> Self {
        Validator {
            options,
            source,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// Validates every document of every file, in parallel; results in file and document
    /// order. `files` are (name, text) pairs.
    pub fn validate_files(&self, files: &[(String, String)]) -> Vec<DocResult> {
        files
            .par_iter()
            .flat_map_iter(|(name, text)| self.validate_text(name, text))
            .collect()
    }

    /// Validates the documents of one file (empty documents have no result).
    pub fn validate_text(&self, file: &str, text: &str) -> Vec<DocResult> {
        let docs = stream::split(text);
        docs.par_iter()
            .filter(|d| !d.is_empty())
            .map(|d| self.validate_document(file, d))
            .collect()
    }

    fn schema(&self, gvk: &Gvk) -> Arc<Compiled> {
        if let Some(c) = self.cache.read().expect("not poisoned").get(gvk) {
            return c.clone();
        }
        let compiled = Arc::new(self.compile(gvk));
        self.cache
            .write()
            .expect("not poisoned")
            .entry(gvk.clone())
            .or_insert(compiled)
            .clone()
    }

    fn compile(&self, gvk: &Gvk) -> Compiled {
        let o = &self.options;
        let mut tried = Vec::new();
        for location in &o.locations {
            let Some(path) = location.path_for(gvk, &o.kubernetes_version, o.strict) else {
                continue;
            };
            match self.source.read(&path) {
                Ok(Some(text)) => {
                    let schema: Value = match serde_json::from_str(&text) {
                        Ok(v) => v,
                        Err(e) => return Compiled::Broken(format!("{path} is not JSON: {e}")),
                    };
                    // Formats are not checked, as kubeconform does not check them.
                    return match jsonschema::options()
                        .should_validate_formats(false)
                        .build(&schema)
                    {
                        Ok(v) => Compiled::Schema(Box::new(v)),
                        // An uncompilable schema (a pattern, a $ref) is never a pass.
                        Err(e) => {
                            Compiled::Broken(format!("the schema {path} does not compile: {e}"))
                        }
                    };
                }
                Ok(None) => tried.push(path),
                Err(e) => return Compiled::Broken(e),
            }
        }
        Compiled::Missing(tried)
    }

    fn validate_document(&self, file: &str, doc: &stream::Document<'_>) -> DocResult {
        let mut result = DocResult {
            file: file.to_string(),
            document: doc.index,
            line: doc.first_line,
            api_version: None,
            kind: None,
            name: None,
            status: Status::Valid,
            findings: Vec::new(),
        };
        let whole = |message: String| Finding {
            path: String::new(),
            line: doc.first_line,
            column: 1,
            message,
        };
        let value = match yaml::load(doc.text, self.options.strict) {
            Ok(v) => v,
            Err(e) => {
                result.status = Status::Error;
                // The parser's own message for a syntax error, as the spec loader reports it.
                let (offset, message) = match e.syntax.then(|| SpanIndex::build(doc.text)) {
                    Some(index) => match index.syntax_error() {
                        Some((l, m)) => (l.offset, m.clone()),
                        None => (e.offset, e.message),
                    },
                    None => (e.offset, e.message),
                };
                let (line, column) = line_col(doc.text, offset);
                result.findings.push(Finding {
                    path: String::new(),
                    line: doc.first_line + line - 1,
                    column,
                    message,
                });
                return result;
            }
        };
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        result.api_version = text(value.get("apiVersion"));
        result.kind = text(value.get("kind"));
        result.name = text(value.pointer("/metadata/name"));
        let (Some(api_version), Some(kind)) = (&result.api_version, &result.kind) else {
            result.status = Status::Error;
            result.findings.push(whole(
                "the document has no `apiVersion` and `kind` strings, so its schema is unknown"
                    .into(),
            ));
            return result;
        };
        let gvk = Gvk::new(api_version, kind);
        let listed = |list: &[String]| list.iter().any(|s| *s == gvk.kind || *s == gvk.key());
        if listed(&self.options.reject) {
            result.status = Status::Invalid;
            result
                .findings
                .push(whole(format!("{} is a rejected kind", gvk.key())));
            return result;
        }
        if listed(&self.options.skip) {
            result.status = Status::Skipped;
            return result;
        }
        let compiled = self.schema(&gvk);
        let validator = match &*compiled {
            Compiled::Schema(v) => v,
            Compiled::Missing(tried) => {
                if self.options.ignore_missing_schemas {
                    result.status = Status::Skipped;
                } else {
                    result.status = Status::Error;
                    result.findings.push(whole(if tried.is_empty() {
                        format!(
                            "no schema for {}: no schema location is configured",
                            gvk.key()
                        )
                    } else {
                        format!(
                            "no schema for {} (looked in {})",
                            gvk.key(),
                            tried.join(", ")
                        )
                    }));
                }
                return result;
            }
            Compiled::Broken(why) => {
                result.status = Status::Error;
                result.findings.push(whole(why.clone()));
                return result;
            }
        };
        if validator.is_valid(&value) {
            return result;
        }
        let errors = validator.iter_errors(&value);
        result.status = Status::Invalid;
        let index = SpanIndex::build(doc.text);
        for error in errors {
            let mut path = String::new();
            for segment in error.instance_path().segments() {
                path = match segment {
                    jsonschema::paths::LocationSegment::Property(p) => {
                        infraflux_spec::join_key(&path, &p)
                    }
                    jsonschema::paths::LocationSegment::Index(i) => {
                        infraflux_spec::join_index(&path, i)
                    }
                };
            }
            // An unexpected field is reported at the field itself.
            let mut at_key = None;
            if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } =
                error.kind()
                && let Some(first) = unexpected.first()
            {
                at_key = Some(infraflux_spec::join_key(&path, first));
            }
            let location = match &at_key {
                Some(k) => index.locate_key(k).or_else(|| index.locate(&path)),
                None => index.locate(&path),
            };
            let (line, column) = location.map_or((doc.first_line, 1), |l| {
                let (line, column) = line_col(doc.text, l.offset);
                (doc.first_line + line - 1, column)
            });
            result.findings.push(Finding {
                path: at_key.unwrap_or(path),
                line,
                column,
                message: error.to_string(),
            });
        }
        result
    }
}

/// The 1-based line and column of a byte offset, counting lines at `\n` as editors do
/// (the YAML parser also breaks lines at a lone `\r`).
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}
