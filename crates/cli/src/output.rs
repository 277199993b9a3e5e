//! Rendering for people (miette reports, colour only on a terminal without `NO_COLOR`) and
//! for machines (`--output json`).

use std::io::IsTerminal;

use clap::ValueEnum;
use miette::{GraphicalReportHandler, GraphicalTheme};

/// Output format of commands whose output is data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    #[default]
    Text,
    /// For programs: one JSON document on stdout.
    Json,
}

/// Whether to colour stderr: a terminal, and `NO_COLOR` unset or empty (no-color.org).
pub fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Renders a diagnostic with its source snippet, rustc-style.
pub fn render(report: &dyn miette::Diagnostic) -> String {
    let theme = if color() {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    if handler.render_report(&mut out, report).is_err() {
        out = report.to_string();
    }
    out
}

/// Prints the findings of a spec to stderr, rustc-style.
pub fn print_diagnostics(analysis: &infraflux_spec::Analysis) {
    for d in &analysis.diagnostics {
        eprint!(
            "{}",
            render(&infraflux_spec::Report::new(d.clone(), &analysis.source))
        );
    }
}

/// Loads a spec for a command that needs a usable one: on errors, prints every finding and
/// returns `None` (the command exits 2); warnings are printed and the platform returned.
pub fn load_platform(
    path: &std::path::Path,
) -> Option<(infraflux_spec::Platform, infraflux_spec::Source)> {
    let analysis = infraflux_spec::analyze_file(path);
    print_diagnostics(&analysis);
    if analysis.has_errors() {
        eprintln!(
            "{}: invalid, run `infraflux check` for details",
            analysis.source.name
        );
        return None;
    }
    analysis.platform.map(|p| (p, analysis.source))
}

/// Prints a top-level error with its causes.
pub fn error(e: &anyhow::Error) {
    let mut msg = format!("error: {e}");
    for cause in e.chain().skip(1) {
        msg.push_str(&format!("\n  caused by: {cause}"));
    }
    eprintln!("{msg}");
}
