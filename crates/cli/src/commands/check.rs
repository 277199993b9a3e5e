//! `infraflux check`: parse and check a spec, print every finding.

use std::path::PathBuf;

use anyhow::Result;
use infraflux_spec::{Severity, analyze_file};
use serde_json::json;

use crate::exit;
use crate::output::{self, Format};

/// Check infraflux.yaml: YAML, types and every semantic rule, all problems at once
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  infraflux check                              # ./infraflux.yaml\n  infraflux check examples/homelab.yaml --print-resolved\n  infraflux check --deny-warnings --output json infraflux.yaml\n\nExit codes: 0 valid (warnings allowed), 1 warnings with --deny-warnings, 2 errors."
)]
pub struct Args {
    /// The spec file
    #[arg(default_value = "infraflux.yaml")]
    spec: PathBuf,
    /// Output format
    #[arg(long, short, value_enum, default_value_t)]
    output: Format,
    /// Exit 1 when there are warnings
    #[arg(long)]
    deny_warnings: bool,
    /// Print the resolved spec (every default and derived value visible) as YAML; with
    /// `--output json`, include it as `resolved`
    #[arg(long)]
    print_resolved: bool,
}

pub fn exec(args: Args) -> Result<u8> {
    let analysis = analyze_file(&args.spec);
    let errors = analysis
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = analysis.diagnostics.len() - errors;
    let code = if errors > 0 {
        exit::ERROR
    } else if warnings > 0 && args.deny_warnings {
        exit::FINDINGS
    } else {
        exit::OK
    };
    let resolved = analysis
        .platform
        .as_ref()
        .filter(|_| errors == 0 && args.print_resolved);
    let file = &analysis.source.name;
    match args.output {
        Format::Json => {
            let doc = json!({
                "file": file,
                "valid": errors == 0,
                "errors": errors,
                "warnings": warnings,
                "diagnostics": analysis.diagnostics,
                "resolved": resolved,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Format::Text => {
            output::print_diagnostics(&analysis);
            if let Some(p) = resolved {
                print!("{}", infraflux_spec::to_yaml(p));
            }
            let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
            let verdict = if errors > 0 { "invalid" } else { "valid" };
            eprintln!(
                "{file}: {verdict}, {}, {}",
                plural(errors, "error"),
                plural(warnings, "warning")
            );
        }
    }
    Ok(code)
}
