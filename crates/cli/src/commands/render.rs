//! `infraflux render`: write the GitOps tree, or check that the tree on disk is it; and
//! `infraflux graph`: the components' dependency graph with its sync waves.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use infraflux_render::tree::{OWNED, Tree, changes, owned_paths};
use serde_json::json;

use crate::output::{self, Format};
use crate::{exit, files};

/// Render the GitOps tree Argo CD and Cluster API reconcile, from infraflux.yaml
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  infraflux render                                  # ./infraflux.yaml into its git.path, or ./rendered\n  infraflux render examples/homelab.yaml -o rendered\n  infraflux render --check -o rendered              # CI drift guard: exit 1 and a diff when the tree differs\n  infraflux render --output json -o rendered        # the files and documents written\n\nOnly files listed in DIR/.infraflux/owned are ever changed or removed; other files are left alone.\nExit codes: 0 written (or up to date with --check), 1 the tree differs (--check), 2 errors."
)]
pub struct Args {
    /// The spec file
    #[arg(default_value = "infraflux.yaml")]
    spec: PathBuf,
    /// Directory of the tree (default: the spec's git.path next to the spec, or ./rendered
    /// when git.path is the repository root)
    #[arg(long = "out", short = 'o', value_name = "DIR")]
    out: Option<PathBuf>,
    /// Write nothing; exit 1 with a diff when the tree on disk differs
    #[arg(long)]
    check: bool,
    /// Output format of the summary (`-o` is the directory here, as in the other tools)
    #[arg(long, value_enum, default_value_t)]
    output: Format,
}

/// Print the components' dependency graph with their sync waves
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  infraflux graph examples/homelab.yaml                  # Mermaid\n  infraflux graph --format dot | dot -Tsvg > graph.svg"
)]
pub struct GraphArgs {
    /// The spec file
    #[arg(default_value = "infraflux.yaml")]
    spec: PathBuf,
    /// Graph language
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    format: GraphFormat,
}

/// A graph language.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum GraphFormat {
    /// Mermaid flowchart (renders on GitHub)
    Mermaid,
    /// Graphviz DOT
    Dot,
}

pub fn graph(args: GraphArgs) -> Result<u8> {
    let Some((platform, _)) = output::load_platform(&args.spec) else {
        return Ok(exit::ERROR);
    };
    let rendered = infraflux_render::render(&platform)?;
    match args.format {
        GraphFormat::Mermaid => print!("{}", rendered.graph.to_mermaid()),
        GraphFormat::Dot => print!("{}", rendered.graph.to_dot()),
    }
    Ok(exit::OK)
}

pub fn exec(args: Args) -> Result<u8> {
    let Some((platform, _)) = output::load_platform(&args.spec) else {
        return Ok(exit::ERROR);
    };
    let out = args.out.clone().unwrap_or_else(|| {
        let base = args.spec.parent().unwrap_or(Path::new("."));
        match platform.spec.git.path.trim_matches('/') {
            "" | "." => PathBuf::from("rendered"),
            p => base.join(p),
        }
    });
    // Absolute once: relative paths make every temporary file ask for the working directory.
    let shown = out.clone();
    let out = std::path::absolute(&out)?;
    let rendered = infraflux_render::render(&platform)?;
    if let Some((path, _)) = rendered.tree.files().iter().find(|(_, f)| f.secret) {
        // Never written in plain text; encryption of rendered secrets comes with them.
        bail!("{path} holds secrets and cannot be written unencrypted");
    }
    let texts = rendered.tree.texts();
    let read = |p: &str| std::fs::read_to_string(out.join(p)).ok();
    let owned = read(OWNED).map(|m| owned_paths(&m)).unwrap_or_default();
    let c = changes(&texts, &owned, read);

    if args.check {
        if c.is_empty() {
            summary(&args, &shown, &rendered.tree, "up to date");
            return Ok(exit::OK);
        }
        for path in c.created.iter().chain(&c.updated).chain(&c.removed) {
            let old = read(path).unwrap_or_default();
            let new = texts.get(path).cloned().unwrap_or_default();
            let diff = similar::TextDiff::from_lines(&old, &new);
            let name = shown.join(path).display().to_string();
            eprint!(
                "{}",
                diff.unified_diff()
                    .context_radius(2)
                    .header(&format!("a/{name}"), &format!("b/{name}"))
            );
        }
        eprintln!(
            "{}: the tree differs from the spec: {} to create, {} to update, {} to remove; run `infraflux render` to write it",
            shown.display(),
            c.created.len(),
            c.updated.len(),
            c.removed.len()
        );
        return Ok(exit::FINDINGS);
    }

    // Atomic (temporary file, then rename) but not synced file by file: the tree can be
    // rendered again, and a sync per file cost more than everything else.
    for path in c.created.iter().chain(&c.updated) {
        if path == OWNED {
            continue;
        }
        files::replace_regenerable_file(&out.join(path), texts[path].as_bytes())
            .with_context(|| format!("writing the tree into {}", shown.display()))?;
    }
    for path in &c.removed {
        std::fs::remove_file(out.join(path))
            .with_context(|| format!("removing {}", shown.join(path).display()))?;
    }
    // The manifest last: an interrupted run leaves the old one, which still lists every
    // file render may have written, so the next run cleans up.
    files::replace_regenerable_file(&out.join(OWNED), texts[OWNED].as_bytes())?;
    let what = format!(
        "{} created, {} updated, {} removed",
        c.created.iter().filter(|p| *p != OWNED).count(),
        c.updated.iter().filter(|p| *p != OWNED).count(),
        c.removed.len()
    );
    summary(&args, &shown, &rendered.tree, &what);
    Ok(exit::OK)
}

fn summary(args: &Args, out: &Path, tree: &Tree, what: &str) {
    let files = tree.files().len();
    match args.output {
        Format::Json => {
            // The documents as rendered, not read back from the text written.
            let list: Vec<_> = tree
                .files()
                .iter()
                .map(|(p, f)| {
                    let documents: Vec<_> = f
                        .documents
                        .iter()
                        .map(|v| json!({"apiVersion": v["apiVersion"], "kind": v["kind"], "name": v["metadata"]["name"]}))
                        .collect();
                    json!({"path": p, "documents": documents})
                })
                .collect();
            let doc = json!({"dir": out.display().to_string(), "result": what, "files": list});
            println!("{}", serde_json::to_string_pretty(&doc).expect("JSON"));
        }
        Format::Text => println!("{}: {files} files, {what}", out.display()),
    }
}
