//! `infraflux validate`: schema validation of Kubernetes manifests, kubeconform-compatible.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use infraflux_validate::{DocResult, Options, SchemaSource, Status, Validator, schemas};

use crate::exit;

/// Output formats of `validate`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// For people: one line per finding.
    #[default]
    Text,
    /// One JSON document: every result and a summary.
    Json,
    /// JUnit XML: a test suite per file, a test case per document.
    Junit,
    /// TAP version 13: one line per document.
    Tap,
}

/// Validate Kubernetes manifests against their JSON schemas (kubeconform-compatible)
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  infraflux validate --schema-location ../schemas --kubernetes-version 1.33.0 --strict manifests/\n  infraflux validate -s ../schemas/v1.33.0-standalone-strict \\\n      -s '../crds/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json' --summary .\n  kustomize build overlays/prod | infraflux validate -s ./schemas -\n  infraflux validate --output json deploy.yaml | jq '.resources[] | select(.status != \"valid\")'\n\nSchema locations work as kubeconform's: a path template with {{.ResourceKind}},\n{{.ResourceAPIVersion}}, {{.Group}}, {{.KindSuffix}}, {{.NormalizedKubernetesVersion}} and\n{{.StrictSuffix}}; a directory with an index.json (apiVersion/Kind → file); or a directory\nunder which kubeconform's layout is assumed. A document without a schema is an error unless\n--ignore-missing-schemas. Findings point at file:line:column of the offending field.\n\nExit codes: 0 every document valid (or skipped), 1 some invalid or unvalidatable, 2 usage or IO error."
)]
pub struct Args {
    /// Files or directories (searched recursively for .yaml, .yml and .json); `-` reads stdin
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Where schemas are (repeatable; tried in order)
    #[arg(short = 's', long = "schema-location")]
    schema_locations: Vec<String>,
    /// Kubernetes version for {{.NormalizedKubernetesVersion}} (`master` or e.g. 1.33.0)
    #[arg(long, default_value = "master")]
    kubernetes_version: String,
    /// Strict schemas (unknown fields are errors) and duplicate keys as errors
    #[arg(long)]
    strict: bool,
    /// Kinds not to validate, comma-separated (`Kind` or `apiVersion/Kind`)
    #[arg(long, value_delimiter = ',')]
    skip: Vec<String>,
    /// Kinds that are invalid wherever they appear, comma-separated
    #[arg(long, value_delimiter = ',')]
    reject: Vec<String>,
    /// Skip documents whose kind has no schema instead of reporting an error
    #[arg(long)]
    ignore_missing_schemas: bool,
    /// Print a summary line at the end
    #[arg(long)]
    summary: bool,
    /// Also list valid and skipped documents
    #[arg(short, long)]
    verbose: bool,
    /// Output format
    #[arg(short, long, value_enum, default_value_t)]
    output: Format,
    /// Worker threads (default: one per core)
    #[arg(short = 'n', long)]
    workers: Option<usize>,
}

struct Files;

impl SchemaSource for Files {
    fn read(&self, path: &str) -> Result<Option<String>, String> {
        match std::fs::read_to_string(path) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read the schema {path}: {e}")),
        }
    }
}

/// Manifest files under `path`, sorted; hidden directories are not entered.
fn discover(path: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !meta.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(path)
        .with_context(|| format!("cannot list {}", path.display()))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if e.file_type()?.is_dir() {
            if !name.starts_with('.') {
                discover(&p, out)?;
            }
        } else if [".yaml", ".yml", ".json"].iter().any(|x| name.ends_with(x)) {
            out.push(p);
        }
    }
    Ok(())
}

fn location(arg: &str) -> Result<schemas::Location> {
    let index = Path::new(arg).join("index.json");
    let index_text = if !arg.contains("{{") && index.is_file() {
        Some(std::fs::read_to_string(&index)?)
    } else {
        None
    };
    schemas::parse_location(arg, index_text.as_deref()).map_err(anyhow::Error::msg)
}

pub fn exec(args: Args) -> Result<u8> {
    if args.schema_locations.is_empty() && !args.ignore_missing_schemas {
        bail!(
            "no --schema-location: nothing to validate against. Point it at a directory of JSON schemas (for example the standalone-strict Kubernetes schemas) or a template such as 'schemas/{{{{.ResourceKind}}}}{{{{.KindSuffix}}}}.json'"
        );
    }
    if let Some(n) = args.workers {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .context("cannot start the worker threads")?;
    }
    let locations = args
        .schema_locations
        .iter()
        .map(|l| location(l))
        .collect::<Result<Vec<_>>>()?;
    let mut files: Vec<(String, String)> = Vec::new();
    for p in &args.paths {
        if p.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read stdin")?;
            files.push(("-".into(), text));
            continue;
        }
        let mut found = Vec::new();
        discover(p, &mut found)?;
        for f in found {
            let text = std::fs::read_to_string(&f)
                .with_context(|| format!("cannot read {}", f.display()))?;
            files.push((f.display().to_string(), text));
        }
    }
    let options = Options {
        locations,
        kubernetes_version: args.kubernetes_version.clone(),
        strict: args.strict,
        skip: args.skip.clone(),
        reject: args.reject.clone(),
        ignore_missing_schemas: args.ignore_missing_schemas,
    };
    let results = Validator::new(options, Files).validate_files(&files);
    let count = |s: Status| results.iter().filter(|r| r.status == s).count();
    let (valid, invalid, errors, skipped) = (
        count(Status::Valid),
        count(Status::Invalid),
        count(Status::Error),
        count(Status::Skipped),
    );
    match args.output {
        Format::Json => {
            let doc = serde_json::json!({
                "resources": results,
                "summary": {"files": files.len(), "resources": results.len(), "valid": valid, "invalid": invalid, "errors": errors, "skipped": skipped},
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Format::Junit => print!("{}", junit(&results, &files)),
        Format::Tap => print!("{}", tap(&results)),
        Format::Text => {
            for r in &results {
                print_text(r, args.verbose);
            }
            if args.summary {
                println!(
                    "Summary: {} resources found in {} files - Valid: {valid}, Invalid: {invalid}, Errors: {errors}, Skipped: {skipped}",
                    results.len(),
                    files.len()
                );
            }
        }
    }
    Ok(if invalid + errors > 0 {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

fn print_text(r: &DocResult, verbose: bool) {
    let what = case_name(r);
    match r.status {
        Status::Valid | Status::Skipped => {
            if verbose {
                let s = if r.status == Status::Valid {
                    "valid"
                } else {
                    "skipped"
                };
                println!("{}:{}: {what} is {s}", r.file, r.line);
            }
        }
        Status::Invalid | Status::Error => {
            let label = if r.status == Status::Invalid {
                "invalid"
            } else {
                "error"
            };
            for f in &r.findings {
                let at = if f.path.is_empty() {
                    String::new()
                } else {
                    format!(" {}:", f.path)
                };
                println!(
                    "{}:{}:{}: {what} is {label}:{at} {}",
                    r.file, f.line, f.column, f.message
                );
            }
        }
    }
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// How a document is named in output: `Kind name`, or its position.
fn case_name(r: &DocResult) -> String {
    match (&r.kind, &r.name) {
        (Some(k), Some(n)) => format!("{k} {n}"),
        (Some(k), None) => k.clone(),
        _ => format!("document {}", r.document + 1),
    }
}

fn finding_lines(r: &DocResult) -> String {
    r.findings
        .iter()
        .map(|f| {
            let at = if f.path.is_empty() {
                String::new()
            } else {
                format!(" {}:", f.path)
            };
            format!("{}:{}:{}:{at} {}", r.file, f.line, f.column, f.message)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// JUnit XML as CI systems read it: a suite per file, a case per document.
fn junit(results: &[DocResult], files: &[(String, String)]) -> String {
    let count = |rs: &[&DocResult], s: Status| rs.iter().filter(|r| r.status == s).count();
    let all: Vec<&DocResult> = results.iter().collect();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"infraflux validate\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n",
        all.len(),
        count(&all, Status::Invalid),
        count(&all, Status::Error),
        count(&all, Status::Skipped)
    );
    for (id, (file, _)) in files.iter().enumerate() {
        let rs: Vec<&DocResult> = results.iter().filter(|r| r.file == *file).collect();
        out.push_str(&format!(
            "  <testsuite name=\"{}\" id=\"{id}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n",
            xml_escape(file),
            rs.len(),
            count(&rs, Status::Invalid),
            count(&rs, Status::Error),
            count(&rs, Status::Skipped)
        ));
        for r in rs {
            let classname = format!(
                "{}@{}",
                r.kind.as_deref().unwrap_or("unknown"),
                r.api_version.as_deref().unwrap_or("unknown")
            );
            out.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"{}\">",
                xml_escape(&case_name(r)),
                xml_escape(&classname)
            ));
            let detail = xml_escape(&finding_lines(r));
            let first = xml_escape(r.findings.first().map_or("", |f| f.message.as_str()));
            match r.status {
                Status::Valid => {}
                Status::Skipped => out.push_str("<skipped/>"),
                Status::Invalid => out.push_str(&format!(
                    "<failure message=\"{first}\" type=\"ValidationFailure\">{detail}</failure>"
                )),
                Status::Error => out.push_str(&format!(
                    "<error message=\"{first}\" type=\"Error\">{detail}</error>"
                )),
            }
            out.push_str("</testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// TAP version 13: a line per document, the findings as a YAML block under failures.
fn tap(results: &[DocResult]) -> String {
    let mut out = String::from("TAP version 13\n");
    for (i, r) in results.iter().enumerate() {
        let name = format!("{} - {}", r.file, case_name(r));
        match r.status {
            Status::Valid => out.push_str(&format!("ok {} - {name}\n", i + 1)),
            Status::Skipped => out.push_str(&format!("ok {} - {name} # SKIP\n", i + 1)),
            Status::Invalid | Status::Error => {
                out.push_str(&format!("not ok {} - {name}\n  ---\n  findings:\n", i + 1));
                for f in &r.findings {
                    out.push_str(&format!(
                        "    - {}\n",
                        serde_json::json!({"path": f.path, "line": f.line, "column": f.column, "message": f.message})
                    ));
                }
                out.push_str("  ...\n");
            }
        }
    }
    out.push_str(&format!("1..{}\n", results.len()));
    out
}
