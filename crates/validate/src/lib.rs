//! Schema validation of Kubernetes manifests: streams split into documents, each validated
//! against the JSON schema of its kind (kubeconform's schema locations), with every finding
//! at `file:line:column`.
//!
//! Pure: schemas (and Helm value files) are read through [`SchemaSource`], which the caller
//! implements (the CLI reads files). Inputs are read as streams, a batch of documents at a
//! time, so a large file or stdin is never held whole. Each schema is compiled once and
//! shared across threads; documents are validated in parallel. Policy rules ([`policy`]) and
//! Helm values checks ([`helm`]) run on the same documents.

mod fast;
mod helm;
pub mod policy;
pub mod schemas;
pub mod stream;
pub mod yaml;

use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::sync::{Arc, OnceLock, RwLock};

use infraflux_spec::SpanIndex;
use rayon::prelude::*;
use serde_json::Value;

pub use infraflux_spec::Severity;
pub use policy::{Policy, RULES, Rule, rule_by_id};
pub use schemas::{Gvk, Location};

/// Documents validated together: enough to keep both cores busy, few enough that memory
/// stays flat on any input size.
const BATCH_DOCUMENTS: usize = 512;
const BATCH_BYTES: usize = 8 << 20;

/// Reads schema files for the validator.
pub trait SchemaSource: Sync {
    /// The text at `path`; `Ok(None)` when there is no such file.
    fn read(&self, path: &str) -> Result<Option<String>, String>;
}

/// Schemas read from the file system (a location's paths are file paths).
#[derive(Debug, Clone, Copy, Default)]
pub struct Files;

impl SchemaSource for Files {
    fn read(&self, path: &str) -> Result<Option<String>, String> {
        match std::fs::read_to_string(path) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {path}: {e}")),
        }
    }
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
    /// Stop reading at the first document that is not valid (its result is the last).
    pub exit_on_error: bool,
    /// The policy and Helm values rules that run.
    pub policy: Policy,
    /// Chart schema directory: `<dir>/<chart>/values.schema.json` and `values.yaml`.
    pub chart_schemas: Option<String>,
    /// The repository root, to read Helm value files named by Applications.
    pub repo_root: Option<String>,
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
            exit_on_error: false,
            policy: Policy::default(),
            chart_schemas: None,
            repo_root: None,
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
    /// The policy rule (`IF001`), for findings of a rule; none for schema findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
    /// How bad it is: errors make the document invalid, warnings do not.
    pub severity: Severity,
}

impl Finding {
    /// An error finding with no rule.
    pub fn error(path: String, line: usize, column: usize, message: String) -> Self {
        Finding {
            path,
            line,
            column,
            message,
            rule: None,
            severity: Severity::Error,
        }
    }
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
    /// Why it is not valid, and warnings.
    pub findings: Vec<Finding>,
}

/// One input: a file or stdin, read as a stream.
pub struct Input {
    /// How results name it.
    pub name: String,
    /// Its path relative to the repository root (`apps/cilium.yaml`), for the rules that
    /// relate files to Argo CD source paths; None for stdin.
    pub repo_path: Option<String>,
    /// The `path_regex` of the `.sops.yaml` creation rule matching the file, if one does:
    /// the file must be encrypted (IF002).
    pub sops_rule: Option<String>,
    /// Its content, or why it cannot be read.
    pub reader: std::io::Result<Box<dyn BufRead + Send>>,
}

impl Input {
    /// An input from text in memory; its repository path is its name.
    pub fn text(name: &str, text: &str) -> Self {
        Input {
            name: name.to_string(),
            repo_path: Some(name.to_string()),
            sops_rule: None,
            reader: Ok(Box::new(std::io::Cursor::new(
                text.to_string().into_bytes(),
            ))),
        }
    }
}

/// The results of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// One per document, in input order.
    pub results: Vec<DocResult>,
    /// Inputs read.
    pub files: usize,
    /// Inputs that could not be read (each also has an error result).
    pub io_errors: usize,
    /// Whether `exit_on_error` stopped the run early.
    pub stopped: bool,
}

/// An input file, shared by its documents.
struct FileInfo {
    name: String,
    repo_path: Option<String>,
    sops_rule: Option<String>,
}

/// Finds where paths of one document are, building the span index only when asked.
pub(crate) struct Locator<'a> {
    text: &'a str,
    first_line: usize,
    index: OnceLock<SpanIndex>,
}

impl<'a> Locator<'a> {
    fn new(text: &'a str, first_line: usize) -> Self {
        Locator {
            text,
            first_line,
            index: OnceLock::new(),
        }
    }

    fn index(&self) -> &SpanIndex {
        self.index.get_or_init(|| SpanIndex::build(self.text))
    }

    fn finding(&self, path: &str, location: Option<infraflux_spec::Location>) -> Finding {
        let (line, column) = self.line_col(location.map(|l| l.offset));
        Finding::error(path.to_string(), line, column, String::new())
    }

    /// File line and column of a byte offset in the document (its start when unknown).
    fn line_col(&self, offset: Option<usize>) -> (usize, usize) {
        offset.map_or((self.first_line, 1), |o| {
            let (line, column) = line_col(self.text, o);
            (self.first_line + line - 1, column)
        })
    }

    /// The field at `path`: a scalar's value, a collection's key.
    pub(crate) fn at(&self, path: &str) -> Finding {
        self.finding(path, self.index().locate(path))
    }

    /// The key of the field at `path`.
    pub(crate) fn key(&self, path: &str) -> Finding {
        self.finding(path, self.index().locate_key(path))
    }

    /// The field at `steps`, found without indexing the whole document: at its key when
    /// `key` (or when it is a collection), else at its value; its nearest present ancestor
    /// when the document lacks it.
    pub(crate) fn steps(&self, steps: &[yaml::Step<'_>], key: bool) -> Finding {
        let offset = yaml::locate(self.text, steps).map(|spot| match spot.key {
            Some(k) if key || !spot.scalar => k,
            _ => spot.value,
        });
        let (line, column) = self.line_col(offset);
        Finding::error(String::new(), line, column, String::new())
    }

    /// The whole document.
    pub(crate) fn document(&self) -> Finding {
        Finding::error(String::new(), self.first_line, 1, String::new())
    }
}

/// Where a schema error is: its field path (`spec.containers[0].image`); for an unexpected
/// field, the path of that field, to be reported at its key; and the steps to the field
/// reported, to find it in the document.
pub(crate) struct ErrorPath<'e> {
    pub path: String,
    pub at_key: Option<String>,
    pub steps: Vec<yaml::Step<'e>>,
}

pub(crate) fn error_path<'e>(error: &'e jsonschema::ValidationError<'_>) -> ErrorPath<'e> {
    let mut path = String::new();
    let mut steps = Vec::new();
    for segment in error.instance_path().segments() {
        match segment {
            jsonschema::paths::LocationSegment::Property(p) => {
                path = infraflux_spec::join_key(&path, &p);
                steps.push(yaml::Step::Key(p));
            }
            jsonschema::paths::LocationSegment::Index(i) => {
                path = infraflux_spec::join_index(&path, i);
                steps.push(yaml::Step::Index(i));
            }
        }
    }
    let mut at_key = None;
    if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } =
        error.kind()
        && let Some(first) = unexpected.first()
    {
        at_key = Some(infraflux_spec::join_key(&path, first));
        steps.push(yaml::Step::Key(first.as_str().into()));
    }
    ErrorPath {
        path,
        at_key,
        steps,
    }
}

/// `Value::pointer` without its allocations: that one unescapes every step into a new
/// string, which shows in profiles when every document asks a few.
pub(crate) fn pointer<'v>(value: &'v Value, pointer: &str) -> Option<&'v Value> {
    if pointer.contains('~') {
        return value.pointer(pointer);
    }
    if pointer.is_empty() {
        return Some(value);
    }
    pointer
        .strip_prefix('/')?
        .split('/')
        .try_fold(value, |v, step| match v {
            Value::Object(m) => m.get(step),
            // As RFC 6901 (and serde_json): decimal digits without a leading zero.
            Value::Array(a) if step == "0" || !step.starts_with(['0', '+']) => {
                step.parse::<usize>().ok().and_then(|i| a.get(i))
            }
            _ => None,
        })
}

/// Whether a document is SOPS-encrypted (it has sops metadata with a MAC).
fn sops_metadata(value: &Value) -> bool {
    value
        .get("sops")
        .and_then(Value::as_object)
        .is_some_and(|m| m.contains_key("mac") && m.contains_key("lastmodified"))
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
    cache: Cache<Gvk, Compiled>,
    charts: Cache<String, helm::Chart>,
}

/// What validating one document gives besides its result.
#[derive(Default)]
struct Extra {
    /// Boxed: most documents have none, and results move through channels and vectors.
    facts: Option<Box<policy::Facts>>,
    /// Helm value files named by an Application: (chart, repository path, where named).
    value_files: Vec<(String, String, Finding)>,
}

impl<S: SchemaSource> Validator<S> {
    /// A validator with these options, reading schemas from `source`.
    pub fn new(options: Options, source: S) -> Self {
        Validator {
            options,
            source,
            cache: RwLock::new(HashMap::new()),
            charts: RwLock::new(HashMap::new()),
        }
    }

    /// Validates the documents of one text (empty documents have no result); its name is
    /// also its repository path.
    pub fn validate_text(&self, file: &str, text: &str) -> Vec<DocResult> {
        self.validate([Input::text(file, text)]).results
    }

    /// Validates every document of every input, in order, reading inputs as streams a
    /// batch of documents at a time; then the rules about several documents and the Helm
    /// value files.
    pub fn validate<I>(&self, inputs: I) -> Report
    where
        I: IntoIterator<Item = Input>,
        I::IntoIter: Send,
    {
        let inputs = inputs.into_iter();
        let mut run = Run::default();
        // A reader thread splits inputs into batches while the workers validate the last
        // one; the channel holds two, so memory stays flat whatever the input size.
        let files = std::thread::scope(|scope| {
            let (send, receive) = std::sync::mpsc::sync_channel::<Chunk>(2);
            let reader = scope.spawn(move || read_inputs(inputs, &send));
            for chunk in receive.iter() {
                let stop = match chunk {
                    Chunk::Documents(mut batch) => self.run_batch(&mut batch, &mut run),
                    Chunk::ReadError(info, document, line, message) => {
                        run.read_error(&info, document, line, message);
                        self.options.exit_on_error
                    }
                };
                if stop {
                    run.report.stopped = true;
                    break;
                }
            }
            // Dropping the receiver ends the reader at its next batch.
            drop(receive);
            reader.join().expect("the input reader does not panic")
        });
        if run.report.stopped {
            // Files counted are those with results, not those read ahead.
            let mut seen = run.files.clone();
            seen.dedup_by(|a, b| Arc::ptr_eq(a, b));
            run.report.files = seen.len();
        } else {
            run.report.files = files;
        }
        self.finish(run)
    }

    /// Validates a batch in parallel and appends its results; true when `exit_on_error`
    /// stops the run.
    fn run_batch(
        &self,
        batch: &mut Vec<(Arc<FileInfo>, stream::OwnedDocument)>,
        run: &mut Run,
    ) -> bool {
        self.compile_ahead(batch);
        let done: Vec<(DocResult, Extra)> = batch
            .par_iter()
            .map(|(info, d)| self.validate_document(info, &d.as_document()))
            .collect();
        let batch = std::mem::take(batch);
        run.chunks.push(Vec::with_capacity(done.len()));
        for ((result, extra), (info, _)) in done.into_iter().zip(batch) {
            let failed = matches!(result.status, Status::Invalid | Status::Error);
            run.push(result, extra, info);
            if failed && self.options.exit_on_error {
                return true;
            }
        }
        false
    }

    /// Compiles, in parallel, the schemas a batch will need that are not compiled yet.
    /// Documents ask for schemas as they come, and a worker that needs a schema another is
    /// compiling waits for it; compiling the large ones side by side first saves that wait.
    fn compile_ahead(&self, batch: &[(Arc<FileInfo>, stream::OwnedDocument)]) {
        // The distinct kinds first, then only those not compiled yet.
        let guessed: std::collections::BTreeSet<(&str, &str)> = batch
            .iter()
            .filter_map(|(_, d)| guess_gvk(&d.text))
            .collect();
        let cache = self.cache.read().expect("not poisoned");
        let wanted: Vec<Gvk> = guessed
            .into_iter()
            .map(|(a, k)| Gvk::new(a, k))
            .filter(|g| cache.get(g).is_none_or(|c| c.get().is_none()))
            .collect();
        drop(cache);
        if wanted.len() > 1 {
            wanted.par_iter().for_each(|g| {
                self.schema(g);
            });
        }
    }

    /// The rules about several documents, and the Helm value files.
    fn finish(&self, mut run: Run) -> Report {
        run.join();
        let policy = &self.options.policy;
        if policy.cross_document() && !run.report.stopped {
            for (slot, finding) in policy::resolve(policy, &run.facts) {
                add_finding(&mut run.report.results[slot], finding);
            }
        }
        if !run.value_files.is_empty() && !run.report.stopped {
            self.check_value_files(&mut run);
        }
        for r in &mut run.report.results {
            r.findings.sort_by_key(|f| (f.line, f.column));
        }
        run.report
    }

    fn schema(&self, gvk: &Gvk) -> Arc<Compiled> {
        cached(&self.cache, gvk, || self.compile(gvk))
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

    fn validate_document(&self, file: &FileInfo, doc: &stream::Document<'_>) -> (DocResult, Extra) {
        let mut extra = Extra::default();
        let mut result = DocResult {
            file: file.name.clone(),
            document: doc.index,
            line: doc.first_line,
            api_version: None,
            kind: None,
            name: None,
            status: Status::Valid,
            findings: Vec::new(),
        };
        let whole = |message: String| Finding::error(String::new(), doc.first_line, 1, message);
        let mut value = match yaml::load(doc.text, self.options.strict) {
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
                result.findings.push(Finding::error(
                    String::new(),
                    doc.first_line + line - 1,
                    column,
                    message,
                ));
                return (result, extra);
            }
        };
        // A SOPS-encrypted document: its metadata is not part of the object, and values
        // encrypted as `ENC[...]` strings cannot be judged.
        let encrypted = sops_metadata(&value);
        if encrypted && let Some(m) = value.as_object_mut() {
            m.remove("sops");
        }
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        result.api_version = text(value.get("apiVersion"));
        result.kind = text(value.get("kind"));
        result.name = text(crate::pointer(&value, "/metadata/name"));
        let locator = Locator::new(doc.text, doc.first_line);
        let (Some(api_version), Some(kind)) = (&result.api_version, &result.kind) else {
            result.status = Status::Error;
            result.findings.push(whole(
                "the document has no `apiVersion` and `kind` strings, so its schema is unknown"
                    .into(),
            ));
            if let Some(regex) = &file.sops_rule
                && !encrypted
                && self.options.policy.level("IF002").is_some()
            {
                // A file that must be encrypted but is not, whatever it holds.
                let (findings, _) = policy::check_document(
                    &self.options.policy,
                    &Value::Null,
                    false,
                    Some(regex),
                    &locator,
                );
                result.findings.extend(findings);
            }
            return (result, extra);
        };
        let gvk = Gvk::new(api_version, kind);
        let (status, findings) = self.schema_check(&gvk, &value, &locator, &whole);
        result.status = status;
        result.findings = findings;

        let policy = &self.options.policy;
        let (findings, mut facts) = policy::check_document(
            policy,
            &value,
            encrypted,
            file.sops_rule.as_deref(),
            &locator,
        );
        for f in findings {
            add_finding(&mut result, f);
        }
        if gvk.group() == "argoproj.io"
            && gvk.kind == "Application"
            && self.options.chart_schemas.is_some()
        {
            for f in self.check_inline_values(&value, &locator, &mut extra) {
                add_finding(&mut result, f);
            }
        }
        if policy.cross_document() {
            facts.repo_path = file.repo_path.clone();
            extra.facts = Some(Box::new(facts));
        }
        (result, extra)
    }

    /// The schema verdict on a document of kind `gvk`.
    fn schema_check(
        &self,
        gvk: &Gvk,
        value: &Value,
        locator: &Locator<'_>,
        whole: &dyn Fn(String) -> Finding,
    ) -> (Status, Vec<Finding>) {
        let listed = |list: &[String]| list.iter().any(|s| *s == gvk.kind || *s == gvk.key());
        if listed(&self.options.reject) {
            return (
                Status::Invalid,
                vec![whole(format!("{} is a rejected kind", gvk.key()))],
            );
        }
        if listed(&self.options.skip) {
            return (Status::Skipped, Vec::new());
        }
        let compiled = self.schema(gvk);
        let validator = match &*compiled {
            Compiled::Schema(v) => v,
            Compiled::Missing(tried) => {
                if self.options.ignore_missing_schemas {
                    return (Status::Skipped, Vec::new());
                }
                let why = if tried.is_empty() {
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
                };
                return (Status::Error, vec![whole(why)]);
            }
            Compiled::Broken(why) => return (Status::Error, vec![whole(why.clone())]),
        };
        if validator.is_valid(value) {
            return (Status::Valid, Vec::new());
        }
        let mut findings = Vec::new();
        for error in validator.iter_errors(value) {
            // An encrypted value (`ENC[...]`) has the type sops recorded, not the schema's.
            if crate::pointer(value, error.instance_path().as_str())
                .and_then(Value::as_str)
                .is_some_and(|s| s.starts_with("ENC[AES256_GCM,"))
            {
                continue;
            }
            let ErrorPath {
                path,
                at_key,
                steps,
            } = error_path(&error);
            // An unexpected field is reported at the field itself.
            let mut f = locator.steps(&steps, at_key.is_some());
            f.path = at_key.unwrap_or(path);
            f.message = error.to_string();
            findings.push(f);
        }
        if findings.is_empty() {
            (Status::Valid, findings)
        } else {
            (Status::Invalid, findings)
        }
    }

    /// A chart's schema and defaults, loaded once.
    fn chart(&self, name: &str) -> Arc<helm::Chart> {
        cached(&self.charts, &name.to_string(), || self.load_chart(name))
    }

    fn load_chart(&self, name: &str) -> helm::Chart {
        let dir = self.options.chart_schemas.as_deref().unwrap_or(".");
        let mut chart = helm::Chart {
            schema: None,
            defaults: None,
            documented: Vec::new(),
            problem: None,
        };
        let schema_path = format!("{dir}/{name}/values.schema.json");
        let values_path = format!("{dir}/{name}/values.yaml");
        let broken = |why: String| Some((Severity::Error, why));
        match self.source.read(&schema_path) {
            Ok(Some(text)) => match serde_json::from_str::<Value>(&text) {
                Ok(v) => match jsonschema::options()
                    .should_validate_formats(false)
                    .build(&v)
                {
                    Ok(s) => chart.schema = Some(s),
                    Err(e) => {
                        chart.problem =
                            broken(format!("the schema {schema_path} does not compile: {e}"))
                    }
                },
                Err(e) => chart.problem = broken(format!("{schema_path} is not JSON: {e}")),
            },
            Ok(None) => {}
            Err(e) => chart.problem = broken(e),
        }
        match self.source.read(&values_path) {
            Ok(Some(text)) => match yaml::load(&text, false) {
                Ok(v) => {
                    chart.defaults = Some(v);
                    chart.documented = helm::documented_keys(&text);
                }
                Err(e) => {
                    chart.problem = broken(format!("{values_path} is not YAML: {}", e.message));
                }
            },
            Ok(None) => {}
            Err(e) => chart.problem = broken(e),
        }
        if chart.problem.is_none() && chart.schema.is_none() && chart.defaults.is_none() {
            chart.problem = Some((
                Severity::Warning,
                format!(
                    "chart {name} has no values.schema.json or values.yaml under {dir}, so its values are not checked"
                ),
            ));
        }
        chart
    }

    /// IF009/IF010 on an Application's inline values; its value files are noted in `extra`.
    fn check_inline_values(
        &self,
        app: &Value,
        locator: &Locator<'_>,
        extra: &mut Extra,
    ) -> Vec<Finding> {
        let policy = &self.options.policy;
        let mut out = Vec::new();
        for (chart_name, values) in helm::application_values(app) {
            match values {
                helm::Values::Object(at, v) => {
                    let chart = self.chart(&chart_name);
                    let locate = |p: &str, key: bool| {
                        let full = if p.is_empty() {
                            at.clone()
                        } else if p.starts_with('[') {
                            format!("{at}{p}")
                        } else {
                            format!("{at}.{p}")
                        };
                        if key {
                            locator.key(&full)
                        } else {
                            locator.at(&full)
                        }
                    };
                    out.extend(helm::check(policy, &chart_name, &chart, &v, &locate));
                }
                helm::Values::Text(at, text) => {
                    let chart = self.chart(&chart_name);
                    let inner = Locator::new(&text, 1);
                    // A literal block (`values: |`) maps line for line onto the document:
                    // its content starts where the index puts the value.
                    let key = locator.index().locate_key(&at);
                    let value = locator.index().locate(&at);
                    let block = match (key, value) {
                        (Some(k), Some(v)) if k.offset < v.offset => locator
                            .text
                            .get(k.offset..v.offset)
                            .and_then(|between| between.trim_end().rsplit([' ', ':']).next())
                            .is_some_and(|indicator| indicator.starts_with('|'))
                            .then_some(v),
                        _ => None,
                    };
                    let locate = |p: &str, key: bool| {
                        let mut f = if key { inner.key(p) } else { inner.at(p) };
                        match block {
                            Some(v) => {
                                let (line, column) = locator.line_col(Some(v.offset));
                                f.line += line - 1;
                                f.column += column - 1;
                            }
                            None => {
                                let k = locator.key(&at);
                                (f.line, f.column) = (k.line, k.column);
                            }
                        }
                        f.path = if p.is_empty() {
                            at.clone()
                        } else {
                            format!("{at}: {p}")
                        };
                        f
                    };
                    match yaml::load(&text, false) {
                        Ok(v) => out.extend(helm::check(policy, &chart_name, &chart, &v, &locate)),
                        Err(e) => {
                            if policy.level("IF009").is_some() {
                                let at = locator.key(&at);
                                out.push(policy.finding(
                                    "IF009",
                                    &at,
                                    format!(
                                        "the values for chart {chart_name} are not YAML: {}",
                                        e.message
                                    ),
                                ));
                            }
                        }
                    }
                }
                helm::Values::File(path, at) => {
                    extra.value_files.push((chart_name, path, locator.key(&at)));
                }
            }
        }
        out
    }

    /// IF009/IF010 on the value files Applications name: each file gets one result (in
    /// place of its results as a manifest, if it was an input), and a missing file is a
    /// finding on the Application.
    fn check_value_files(&self, run: &mut Run) {
        let policy = &self.options.policy;
        let root = self.options.repo_root.as_deref().unwrap_or(".");
        let mut by_file: BTreeMap<String, Vec<(String, usize, Finding)>> = BTreeMap::new();
        for (slot, chart, path, at) in std::mem::take(&mut run.value_files) {
            by_file.entry(path).or_default().push((chart, slot, at));
        }
        for (path, uses) in by_file {
            let full = if root == "." {
                path.clone()
            } else {
                format!("{root}/{path}")
            };
            let text = match self.source.read(&full) {
                Ok(Some(t)) => t,
                Ok(None) | Err(_) => {
                    for (_, slot, at) in uses {
                        if policy.level("IF009").is_some() {
                            let f = policy.finding("IF009", &at, format!("the value file {full} is not in the repository; Argo CD cannot render this Application"));
                            add_finding(&mut run.report.results[slot], f);
                        }
                    }
                    continue;
                }
            };
            // The file as a manifest (no apiVersion/kind) is replaced by this result.
            let name = run
                .files
                .iter()
                .zip(&run.report.results)
                .find(|(f, _)| f.repo_path.as_deref() == Some(path.as_str()))
                .map(|(f, _)| f.name.clone())
                .unwrap_or_else(|| full.clone());
            let mut result = DocResult {
                file: name.clone(),
                document: 0,
                line: 1,
                api_version: None,
                kind: None,
                name: Some(format!(
                    "Helm values of {}",
                    uses.iter()
                        .map(|(c, ..)| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                status: Status::Valid,
                findings: Vec::new(),
            };
            let locator = Locator::new(&text, 1);
            match yaml::load(&text, false) {
                Ok(values) => {
                    let mut seen = Vec::new();
                    for (chart_name, ..) in &uses {
                        if seen.contains(chart_name) {
                            continue;
                        }
                        seen.push(chart_name.clone());
                        let chart = self.chart(chart_name);
                        let locate =
                            |p: &str, key: bool| if key { locator.key(p) } else { locator.at(p) };
                        for f in helm::check(policy, chart_name, &chart, &values, &locate) {
                            add_finding(&mut result, f);
                        }
                    }
                }
                Err(e) => {
                    result.status = Status::Error;
                    let (line, column) = locator.line_col(Some(e.offset));
                    result
                        .findings
                        .push(Finding::error(String::new(), line, column, e.message));
                }
            }
            // Replace the file's manifest results, or add the result at the end.
            let positions: Vec<usize> = (0..run.report.results.len())
                .filter(|&i| run.files[i].repo_path.as_deref() == Some(path.as_str()))
                .collect();
            match positions.first() {
                Some(&first) => {
                    run.report.results[first] = result;
                    for &i in positions[1..].iter().rev() {
                        run.report.results.remove(i);
                        run.files.remove(i);
                    }
                }
                None => run.report.results.push(result),
            }
        }
    }
}

/// A document's kind guessed from its top-level `apiVersion:` and `kind:` lines, without
/// reading it: only to compile schemas ahead ([`Validator::compile_ahead`]); the verdict
/// uses the kind the document really has.
fn guess_gvk(text: &str) -> Option<(&str, &str)> {
    fn value(v: &str) -> &str {
        let v = v.split(" #").next().unwrap_or_default().trim();
        v.trim_matches(['"', '\''])
    }
    let (mut api_version, mut kind) = (None, None);
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("apiVersion:") {
            api_version = Some(value(v));
        } else if let Some(v) = line.strip_prefix("kind:") {
            kind = Some(value(v));
        }
        if let (Some(a), Some(k)) = (api_version, kind) {
            return (!a.is_empty() && !k.is_empty()).then_some((a, k));
        }
    }
    None
}

/// Values made once and shared across threads; each in its own cell, so that threads
/// asking for the same key wait for one maker instead of all making it.
type Cache<K, V> = RwLock<HashMap<K, Arc<OnceLock<Arc<V>>>>>;

/// The value for `key`, made once and shared across threads. A second thread asking while
/// the first makes it waits for it: compiling a large schema twice costs more than waiting.
fn cached<K: std::hash::Hash + Eq + Clone, V>(
    cache: &Cache<K, V>,
    key: &K,
    make: impl FnOnce() -> V,
) -> Arc<V> {
    let cell = cache.read().expect("not poisoned").get(key).cloned();
    let cell = cell.unwrap_or_else(|| {
        cache
            .write()
            .expect("not poisoned")
            .entry(key.clone())
            .or_default()
            .clone()
    });
    cell.get_or_init(|| Arc::new(make())).clone()
}

/// Adds a finding; an error makes a valid document invalid.
fn add_finding(result: &mut DocResult, finding: Finding) {
    if finding.severity == Severity::Error && result.status == Status::Valid {
        result.status = Status::Invalid;
    }
    result.findings.push(finding);
}

/// What the reader thread hands over, in input order.
enum Chunk {
    /// Documents to validate.
    Documents(Vec<(Arc<FileInfo>, stream::OwnedDocument)>),
    /// An input that could not be read (from this document and line on).
    ReadError(Arc<FileInfo>, usize, usize, String),
}

/// Reads the inputs into batches of documents and sends them; the number of inputs read.
/// Stops when the receiver is gone.
fn read_inputs(
    inputs: impl Iterator<Item = Input>,
    send: &std::sync::mpsc::SyncSender<Chunk>,
) -> usize {
    let mut files = 0;
    let mut batch = Vec::new();
    let mut bytes = 0;
    let flush = |batch: &mut Vec<_>, bytes: &mut usize| {
        *bytes = 0;
        batch.is_empty() || send.send(Chunk::Documents(std::mem::take(batch))).is_ok()
    };
    for input in inputs {
        files += 1;
        let info = Arc::new(FileInfo {
            name: input.name,
            repo_path: input.repo_path,
            sops_rule: input.sops_rule,
        });
        let reader = match input.reader {
            Ok(r) => r,
            Err(e) => {
                let message = format!("cannot read {}: {e}", info.name);
                if !flush(&mut batch, &mut bytes)
                    || send.send(Chunk::ReadError(info, 0, 1, message)).is_err()
                {
                    return files;
                }
                continue;
            }
        };
        let (mut last_line, mut count) = (1, 0);
        for doc in stream::Documents::new(reader) {
            match doc {
                Ok(d) => {
                    (last_line, count) = (d.first_line, d.index + 1);
                    if d.is_empty() {
                        continue;
                    }
                    bytes += d.text.len();
                    batch.push((info.clone(), d));
                    if (batch.len() >= BATCH_DOCUMENTS || bytes >= BATCH_BYTES)
                        && !flush(&mut batch, &mut bytes)
                    {
                        return files;
                    }
                }
                Err(e) => {
                    let message = format!("cannot read {}: {e}", info.name);
                    if !flush(&mut batch, &mut bytes)
                        || send
                            .send(Chunk::ReadError(info.clone(), count, last_line, message))
                            .is_err()
                    {
                        return files;
                    }
                    break;
                }
            }
        }
    }
    flush(&mut batch, &mut bytes);
    files
}

/// A run in progress: results so far, the file of each, and what later checks need.
#[derive(Default)]
struct Run {
    report: Report,
    /// Results a batch at a time, joined into the report at the end: one vector growing to
    /// tens of thousands of results would be copied again and again as it grows.
    chunks: Vec<Vec<DocResult>>,
    count: usize,
    files: Vec<Arc<FileInfo>>,
    facts: Vec<(usize, policy::Facts)>,
    value_files: Vec<(usize, String, String, Finding)>,
}

impl Run {
    fn push(&mut self, result: DocResult, extra: Extra, info: Arc<FileInfo>) {
        let slot = self.count;
        self.count += 1;
        if let Some(f) = extra.facts {
            self.facts.push((slot, *f));
        }
        for (chart, path, at) in extra.value_files {
            self.value_files.push((slot, chart, path, at));
        }
        match self.chunks.last_mut() {
            Some(chunk) => chunk.push(result),
            None => self.chunks.push(vec![result]),
        }
        self.files.push(info);
    }

    /// Puts every result into the report.
    fn join(&mut self) {
        let mut results = Vec::with_capacity(self.count);
        for chunk in self.chunks.drain(..) {
            results.extend(chunk);
        }
        self.report.results = results;
    }

    fn read_error(&mut self, info: &Arc<FileInfo>, document: usize, line: usize, message: String) {
        self.report.io_errors += 1;
        let result = DocResult {
            file: info.name.clone(),
            document,
            line,
            api_version: None,
            kind: None,
            name: None,
            status: Status::Error,
            findings: vec![Finding::error(String::new(), line, 1, message)],
        };
        self.push(result, Extra::default(), info.clone());
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn kinds_are_guessed_from_top_level_lines() {
        let g = super::guess_gvk(
            "# c\nmetadata:\n  kind: no\nkind: \"Deployment\" # k\napiVersion: apps/v1\n",
        );
        assert_eq!(g, Some(("apps/v1", "Deployment")));
        assert_eq!(super::guess_gvk("apiVersion: v1\n  kind: Pod\n"), None);
        assert_eq!(super::guess_gvk("apiVersion:\nkind: Pod\n"), None);
    }

    #[test]
    fn pointer_answers_as_serde_json_does() {
        let v = json!({"a": {"b/c": 1, "x~y": 2, "l": [10, 20, {"k": 3}], "": 4}, "0": 5});
        for p in [
            "",
            "/",
            "/a",
            "/a/l/0",
            "/a/l/2/k",
            "/a/l/02",
            "/a/l/+1",
            "/a/l/3",
            "/a/b~1c",
            "/a/x~0y",
            "/a/",
            "/0",
            "a",
            "/a/l/k",
            "/missing/x",
            "/a/l/2/k/z",
        ] {
            assert_eq!(super::pointer(&v, p), v.pointer(p), "{p}");
        }
    }
}
