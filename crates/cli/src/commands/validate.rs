//! `infraflux validate`: schema validation of Kubernetes manifests, kubeconform-compatible.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use infraflux_validate::{
    DocResult, Files, Finding, Input, Options, Policy, RULES, Rule, Severity, Status, Validator,
    rule_by_id, schemas,
};

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

/// Validate Kubernetes manifests against their JSON schemas (kubeconform-compatible), Helm
/// values against chart schemas, and policy rules
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  infraflux validate --schema-location ../schemas --kubernetes-version 1.33.0 --strict manifests/\n  infraflux validate -s ../schemas/v1.33.0-standalone-strict \\\n      -s '../crds/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json' --summary .\n  kustomize build overlays/prod | infraflux validate -s ./schemas -\n  infraflux validate --policy --chart-schemas ./charts -s ./schemas rendered/\n  infraflux validate --output json deploy.yaml | jq '.resources[] | select(.status != \"valid\")'\n  infraflux validate --explain IF007\n\nSchema locations work as kubeconform's: a path template with {{.ResourceKind}},\n{{.ResourceAPIVersion}}, {{.Group}}, {{.KindSuffix}}, {{.NormalizedKubernetesVersion}} and\n{{.StrictSuffix}}; a directory with an index.json (apiVersion/Kind → file); or a directory\nunder which kubeconform's layout is assumed. A document without a schema is an error unless\n--ignore-missing-schemas. Findings point at file:line:column of the offending field.\n\nSettings may also come from .infraflux/validate.yaml, found from the working directory up\n(or --config); flags add to it. See docs/validate.md.\n\nExit codes: 0 every document valid (warnings allowed), 1 some invalid or unvalidatable, 2 usage or IO error."
)]
pub struct Args {
    /// Files or directories (searched recursively for .yaml, .yml and .json); `-` reads stdin
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Where schemas are (repeatable; tried in order)
    #[arg(short = 's', long = "schema-location")]
    schema_locations: Vec<String>,
    /// Kubernetes version for {{.NormalizedKubernetesVersion}} (`master` or e.g. 1.33.0) [default: master]
    #[arg(long)]
    kubernetes_version: Option<String>,
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
    /// Leave out files whose path matches this regular expression (repeatable)
    #[arg(long = "ignore-filename-pattern", value_name = "REGEX")]
    ignore_filename_patterns: Vec<String>,
    /// Stop at the first document that is not valid
    #[arg(long)]
    exit_on_error: bool,
    /// Run the policy rules IF001–IF008 (see --explain)
    #[arg(long)]
    policy: bool,
    /// Check Helm values of Argo CD Applications against DIR/<chart>/values.schema.json and values.yaml
    #[arg(long, value_name = "DIR")]
    chart_schemas: Option<PathBuf>,
    /// Print what a rule checks and why (all rules without an ID), then exit
    #[arg(long, value_name = "RULE", num_args = 0..=1, default_missing_value = "")]
    explain: Option<String>,
    /// Configuration file [default: .infraflux/validate.yaml, from the working directory up]
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
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

/// `.infraflux/validate.yaml`: the same settings as the flags, for a repository.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Config {
    #[serde(default)]
    schema_locations: Vec<String>,
    kubernetes_version: Option<String>,
    #[serde(default)]
    strict: bool,
    #[serde(default)]
    skip: Vec<String>,
    #[serde(default)]
    reject: Vec<String>,
    #[serde(default)]
    ignore_missing_schemas: bool,
    #[serde(default)]
    ignore_filename_patterns: Vec<String>,
    #[serde(default)]
    exit_on_error: bool,
    #[serde(default)]
    policy: bool,
    chart_schemas: Option<String>,
    #[serde(default)]
    rules: BTreeMap<String, Level>,
    #[serde(default)]
    crd_providers: BTreeMap<String, Vec<String>>,
}

/// A rule's setting in the configuration.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Level {
    Off,
    Warning,
    Error,
}

const CONFIG_FILE: &str = ".infraflux/validate.yaml";

/// The configuration and the directory its relative paths are from (the repository root:
/// the directory holding `.infraflux/`).
fn load_config(explicit: Option<&Path>) -> Result<Option<(Config, PathBuf)>> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let cwd = std::env::current_dir()?;
            match cwd
                .ancestors()
                .map(|d| d.join(CONFIG_FILE))
                .find(|p| p.is_file())
            {
                Some(p) => p,
                None => return Ok(None),
            }
        }
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    options.with_snippet = false;
    let config: Config = serde_saphyr::from_str_with_options(&text, options).map_err(|e| {
        let e = e.without_snippet();
        let at = e
            .location()
            .map_or(String::new(), |l| format!(":{}:{}", l.line(), l.column()));
        anyhow::anyhow!(
            "{}{at}: {e}\n  hint: the keys are schemaLocations, kubernetesVersion, strict, skip, reject, ignoreMissingSchemas, ignoreFilenamePatterns, exitOnError, policy, chartSchemas, rules (IF001: off|warning|error) and crdProviders; see docs/validate.md",
            path.display()
        )
    })?;
    let absolute = std::path::absolute(&path)?;
    let base = match absolute.parent() {
        Some(dir) if dir.file_name().is_some_and(|n| n == ".infraflux") => {
            dir.parent().unwrap_or(dir).to_path_buf()
        }
        Some(dir) => dir.to_path_buf(),
        None => PathBuf::from("."),
    };
    Ok(Some((config, base)))
}

/// A relative path in the configuration, from its base directory.
fn from_base(base: &Path, p: &str) -> String {
    if Path::new(p).is_absolute() || p.contains("://") {
        p.to_string()
    } else {
        base.join(p).display().to_string()
    }
}

/// The repository root: the configuration's base, else the Git work tree holding the
/// working directory, else the working directory.
fn repo_root(config_base: Option<&Path>) -> Result<PathBuf> {
    if let Some(b) = config_base {
        return Ok(b.to_path_buf());
    }
    let cwd = std::env::current_dir()?;
    Ok(cwd
        .ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or(&cwd)
        .to_path_buf())
}

/// Manifest files under `path`, sorted; hidden files and directories (`.git`,
/// `.sops.yaml`) are not entered, files named explicitly always are.
fn discover(path: &Path, ignore: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) -> Result<()> {
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
        if name.starts_with('.') {
            continue;
        }
        if ignore(&p) {
            continue;
        }
        if e.file_type()?.is_dir() {
            discover(&p, ignore, out)?;
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

fn explain(id: &str) -> Result<u8> {
    let rules: Vec<&Rule> = if id.is_empty() {
        RULES.iter().collect()
    } else {
        match rule_by_id(id) {
            Some(r) => vec![r],
            None => bail!(
                "unknown rule `{id}`; the rules are {}",
                RULES.iter().map(|r| r.id).collect::<Vec<_>>().join(", ")
            ),
        }
    };
    for (i, r) in rules.iter().enumerate() {
        if i > 0 {
            println!();
        }
        let severity = match r.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        println!("{} {} ({severity} by default)\n", r.id, r.name);
        println!("{}", textwrap(r.explanation, 88));
    }
    Ok(exit::OK)
}

/// Wraps text at `width` columns, on spaces.
fn textwrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split_whitespace() {
        if line > 0 && line + 1 + word.chars().count() > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.chars().count();
    }
    out
}

/// The `.sops.yaml` creation rules that apply to the repository: (its directory, rules).
fn sops_rules(root: &Path) -> Result<Option<(PathBuf, infraflux_sops::config::Config)>> {
    let Some(path) = crate::keys::find_config(root) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let config =
        infraflux_sops::config::parse(&text).with_context(|| path.display().to_string())?;
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    Ok(Some((dir, config)))
}

pub fn exec(args: Args) -> Result<u8> {
    if let Some(id) = &args.explain {
        return explain(id);
    }
    let loaded = load_config(args.config.as_deref())?;
    let (config, base) = match loaded {
        Some((c, b)) => (c, Some(b)),
        None => (Config::default(), None),
    };
    let root = repo_root(base.as_deref())?;
    let from_config = |p: &str| from_base(base.as_deref().unwrap_or(Path::new(".")), p);
    let mut location_args = args.schema_locations.clone();
    location_args.extend(config.schema_locations.iter().map(|l| from_config(l)));
    let ignore_missing_schemas = args.ignore_missing_schemas || config.ignore_missing_schemas;
    if location_args.is_empty() && !ignore_missing_schemas {
        bail!(
            "no --schema-location: nothing to validate against. Point it at a directory of JSON schemas (for example the standalone-strict Kubernetes schemas) or a template such as 'schemas/{{{{.ResourceKind}}}}{{{{.KindSuffix}}}}.json', or set schemaLocations in {CONFIG_FILE}"
        );
    }
    if let Some(n) = args.workers {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .context("cannot start the worker threads")?;
    }
    let locations = location_args
        .iter()
        .map(|l| location(l))
        .collect::<Result<Vec<_>>>()?;
    let ignore = args
        .ignore_filename_patterns
        .iter()
        .chain(&config.ignore_filename_patterns)
        .map(|p| regex::Regex::new(p).with_context(|| format!("--ignore-filename-pattern {p}")))
        .collect::<Result<Vec<_>>>()?;

    let mut policy = if args.policy || config.policy {
        Policy::all()
    } else {
        Policy::default()
    };
    for (id, level) in &config.rules {
        let level = match level {
            Level::Off => None,
            Level::Warning => Some(Severity::Warning),
            Level::Error => Some(Severity::Error),
        };
        policy
            .set(id, level)
            .map_err(|e| anyhow::anyhow!("{CONFIG_FILE}: rules: {e}"))?;
    }
    policy.crd_providers = config.crd_providers.clone();
    let chart_schemas = args
        .chart_schemas
        .as_ref()
        .map(|p| p.display().to_string())
        .or_else(|| config.chart_schemas.as_deref().map(from_config));

    // Patterns match the path as shown, without a leading `./`, or from the repository root.
    let absolute_root = std::path::absolute(&root)?;
    // Made absolute against the working directory asked once (`std::path::absolute` asks
    // the kernel for it on every call, which showed on thousands of files).
    let cwd = std::env::current_dir()?;
    let absolute = |p: &Path| std::path::absolute(cwd.join(p));
    let ignored = |p: &Path| {
        if ignore.is_empty() {
            return false;
        }
        let shown = p.display().to_string();
        let plain = shown.trim_start_matches("./").to_string();
        let from_root = absolute(p).ok().and_then(|a| {
            a.strip_prefix(&absolute_root)
                .ok()
                .map(|r| r.display().to_string())
        });
        ignore.iter().any(|re| {
            re.is_match(&shown)
                || re.is_match(&plain)
                || from_root.as_deref().is_some_and(|r| re.is_match(r))
        })
    };
    // Inputs, opened one at a time as the validator reads them.
    let mut paths: Vec<Option<PathBuf>> = Vec::new();
    for p in &args.paths {
        if p.as_os_str() == "-" {
            paths.push(None);
            continue;
        }
        let mut found = Vec::new();
        discover(p, &ignored, &mut found)?;
        paths.extend(found.into_iter().map(Some));
    }
    let sops = if policy.level("IF002").is_some() {
        sops_rules(&root)?
    } else {
        None
    };
    let relative = |path: &Path, to: &Path| -> Option<String> {
        let abs = absolute(path).ok()?;
        let rel = abs.strip_prefix(to).ok()?;
        Some(
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
        )
    };
    let inputs = paths.into_iter().map(|p| match p {
        None => Input {
            name: "-".into(),
            repo_path: None,
            sops_rule: None,
            reader: Ok(Box::new(std::io::BufReader::new(std::io::stdin()))),
        },
        Some(path) => {
            let sops_rule = sops.as_ref().and_then(|(dir, cfg)| {
                let rel = relative(&path, dir)?;
                let rule = cfg.rule_for(&rel)?;
                rule.path_regex.as_ref().map(|re| re.as_str().to_string())
            });
            Input {
                name: path.display().to_string(),
                repo_path: relative(&path, &absolute_root),
                sops_rule,
                reader: std::fs::File::open(&path).map(|f| {
                    Box::new(std::io::BufReader::new(f)) as Box<dyn std::io::BufRead + Send>
                }),
            }
        }
    });
    let options = Options {
        locations,
        kubernetes_version: args
            .kubernetes_version
            .clone()
            .or(config.kubernetes_version.clone())
            .unwrap_or_else(|| "master".into()),
        strict: args.strict || config.strict,
        skip: args.skip.iter().chain(&config.skip).cloned().collect(),
        reject: args.reject.iter().chain(&config.reject).cloned().collect(),
        ignore_missing_schemas,
        exit_on_error: args.exit_on_error || config.exit_on_error,
        policy,
        chart_schemas,
        repo_root: Some(absolute_root.display().to_string()),
    };
    let report = Validator::new(options, Files).validate(inputs);
    let results = &report.results;
    let count = |s: Status| results.iter().filter(|r| r.status == s).count();
    let (valid, invalid, errors, skipped) = (
        count(Status::Valid),
        count(Status::Invalid),
        count(Status::Error),
        count(Status::Skipped),
    );
    let warnings = results
        .iter()
        .flat_map(|r| &r.findings)
        .filter(|f| f.severity == Severity::Warning)
        .count();
    match args.output {
        Format::Json => {
            let doc = serde_json::json!({
                "resources": results,
                "summary": {"files": report.files, "resources": results.len(), "valid": valid, "invalid": invalid, "errors": errors, "skipped": skipped, "warnings": warnings, "stopped": report.stopped},
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Format::Junit => print!("{}", junit(results)),
        Format::Tap => print!("{}", tap(results)),
        Format::Text => {
            let mut out = std::io::stdout().lock();
            for r in results {
                print_text(&mut out, r, args.verbose)?;
            }
            if args.summary {
                let warned = if warnings > 0 {
                    format!(", Warnings: {warnings}")
                } else {
                    String::new()
                };
                writeln!(
                    out,
                    "Summary: {} resources found in {} files - Valid: {valid}, Invalid: {invalid}, Errors: {errors}, Skipped: {skipped}{warned}",
                    results.len(),
                    report.files
                )?;
            }
            if report.stopped {
                writeln!(
                    out,
                    "Stopped at the first document that is not valid (--exit-on-error)."
                )?;
            }
        }
    }
    Ok(if report.io_errors > 0 {
        exit::ERROR
    } else if invalid + errors > 0 {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

/// One finding as a line: `file:line:col: Kind name is invalid: path: message` for schema
/// findings, `file:line:col: Kind name: error IF001: path: message` for rules.
fn finding_line(r: &DocResult, f: &Finding) -> String {
    let what = case_name(r);
    let at = if f.path.is_empty() {
        String::new()
    } else {
        format!(" {}:", f.path)
    };
    let head = match (f.rule, f.severity) {
        (Some(rule), Severity::Error) => format!("{what}: error {rule}:"),
        (Some(rule), Severity::Warning) => format!("{what}: warning {rule}:"),
        (None, _) if r.status == Status::Error => format!("{what} is error:"),
        (None, _) => format!("{what} is invalid:"),
    };
    format!(
        "{}:{}:{}: {head}{at} {}",
        r.file, f.line, f.column, f.message
    )
}

fn print_text(out: &mut impl Write, r: &DocResult, verbose: bool) -> std::io::Result<()> {
    if verbose && matches!(r.status, Status::Valid | Status::Skipped) {
        let s = if r.status == Status::Valid {
            "valid"
        } else {
            "skipped"
        };
        writeln!(out, "{}:{}: {} is {s}", r.file, r.line, case_name(r))?;
    }
    for f in &r.findings {
        writeln!(out, "{}", finding_line(r, f))?;
    }
    Ok(())
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
        (None, Some(n)) => n.clone(),
        (None, None) => format!("document {}", r.document + 1),
    }
}

fn finding_lines(r: &DocResult) -> String {
    r.findings
        .iter()
        .map(|f| finding_line(r, f))
        .collect::<Vec<_>>()
        .join("\n")
}

/// JUnit XML as CI systems read it: a suite per file, a case per document.
fn junit(results: &[DocResult]) -> String {
    let count = |rs: &[&DocResult], s: Status| rs.iter().filter(|r| r.status == s).count();
    let all: Vec<&DocResult> = results.iter().collect();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"infraflux validate\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n",
        all.len(),
        count(&all, Status::Invalid),
        count(&all, Status::Error),
        count(&all, Status::Skipped)
    );
    let mut files: Vec<&str> = Vec::new();
    for r in results {
        if !files.contains(&r.file.as_str()) {
            files.push(&r.file);
        }
    }
    for (id, file) in files.iter().enumerate() {
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
                Status::Valid if !r.findings.is_empty() => {
                    out.push_str(&format!("<system-out>{detail}</system-out>"));
                }
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
                out.push_str(&format!("not ok {} - {name}\n", i + 1))
            }
        }
        if !r.findings.is_empty() {
            out.push_str("  ---\n  findings:\n");
            for f in &r.findings {
                out.push_str(&format!(
                    "    - {}\n",
                    serde_json::to_string(f).unwrap_or_default()
                ));
            }
            out.push_str("  ...\n");
        }
    }
    out.push_str(&format!("1..{}\n", results.len()));
    out
}
