//! `infraflux render`: write the GitOps tree, or check that the tree on disk is it; and
//! `infraflux graph`: the components' dependency graph with its sync waves.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;

use infraflux_render::bootstrap;
use infraflux_render::secret::{self, Sealed};
use infraflux_render::tree::{OWNED, Tree, changes, owned_paths};
use infraflux_spec::model::SecretRef;
use serde_json::{Value, json};

use crate::output::{self, Format};
use crate::progress::Progress;
use crate::sources::{Missing, Sources};
use crate::{exit, files};

/// Render the GitOps tree Argo CD and Cluster API reconcile, from infraflux.yaml
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  infraflux render                                  # ./infraflux.yaml into its git.path, or ./rendered\n  infraflux render examples/homelab.yaml -o rendered\n  infraflux render --check -o rendered              # CI drift guard: exit 1 and a diff when the tree differs\n  infraflux render --output json -o rendered        # the files and documents written\n  PROXMOX_TOKEN_SECRET=… SOPS_AGE_KEY_FILE=~/age.txt infraflux render   # with the credentials\n\nCredentials become SOPS-encrypted Secrets, from the SOPS files and variables the spec names.\nA Secret whose sources did not change keeps its bytes and needs no identity; one whose value\nis not here is not written (a warning says why; --check fails until it is).\nOnly files listed in DIR/.infraflux/owned are ever changed or removed; other files are left alone.\nExit codes: 0 written (or up to date with --check), 1 the tree differs (--check), 2 errors."
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
    let mut texts = rendered.tree.texts();
    let read = |p: &str| std::fs::read_to_string(out.join(p)).ok();
    // Secrets: SOPS source paths are relative to the repository, where the spec is.
    let sources = Sources::new(args.spec.parent().unwrap_or(Path::new(".")));
    let recipients = &platform.spec.secrets.age.recipients;
    let mut pending: Vec<(String, String)> = Vec::new();
    let mut sealings: Vec<(String, Sealing)> = Vec::new();
    let mut progress = Progress::new(rendered.tree.sealed().len() + 1, "encrypting");
    for (path, sealed) in rendered.tree.sealed() {
        progress.inc();
        let sealing = seal(
            sealed,
            recipients,
            &sources,
            &out.join(path),
            read(path),
            args.check,
        )
        .with_context(|| format!("{}: cannot render this Secret", shown.join(path).display()))?;
        sealings.push((path.clone(), sealing));
    }
    sealings.extend(
        talos_configs(&platform, &rendered.tree, &sources, &out, args.check).with_context(
            || {
                format!(
                    "{}: cannot render the Talos machine configs",
                    shown.join(bootstrap::DIR).display()
                )
            },
        )?,
    );
    progress.inc();
    drop(progress);
    for (path, sealing) in sealings {
        match sealing {
            Sealing::Text(t) => {
                texts.insert(path, t);
            }
            Sealing::Pending(reason) => {
                // The file as it is, if any, stays: it is still owned, and still all there is.
                if let Some(t) = read(&path) {
                    texts.insert(path.clone(), t);
                }
                pending.push((path, reason));
            }
        }
    }
    let owned = read(OWNED).map(|m| owned_paths(&m)).unwrap_or_default();
    let c = changes(&texts, &owned, read);

    if args.check {
        if c.is_empty() && pending.is_empty() {
            summary(&args, &shown, &rendered.tree, "up to date", &pending);
            return Ok(exit::OK);
        }
        for (path, reason) in &pending {
            eprintln!("{}: not up to date: {reason}", shown.join(path).display());
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
            "{}: the tree differs from the spec: {} to create, {} to update, {} to remove, {} encrypted files to write; run `infraflux render` to write it",
            shown.display(),
            c.created.len(),
            c.updated.len(),
            c.removed.len(),
            pending.len()
        );
        return Ok(exit::FINDINGS);
    }

    // Atomic (temporary file, then rename) but not synced file by file: the tree can be
    // rendered again, and a sync per file cost more than everything else.
    let mut progress = Progress::new(c.created.len() + c.updated.len(), "writing");
    for path in c.created.iter().chain(&c.updated) {
        progress.inc();
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
    summary(&args, &shown, &rendered.tree, &what, &pending);
    for (path, reason) in &pending {
        eprintln!(
            "warning: {}: not written: {reason}\n  hint: nothing can use it until it is; provide what is missing and run `infraflux render` again (docs/layout.md#secrets)",
            shown.join(path).display()
        );
    }
    Ok(exit::OK)
}

/// What became of a Secret built from sources.
enum Sealing {
    /// Its text: unchanged, or newly encrypted.
    Text(String),
    /// Not encrypted, and why: a value is not on this machine (or, for `--check`, the
    /// file is not the current one).
    Pending(String),
}

/// A Secret's encrypted file at `path`, whose current text is `existing`.
///
/// Unchanged sources (same digest) keep the file as it is, without opening anything, so
/// `--check` and renders without the secrets agree. Variables cannot be compared that
/// way: when one is set and our identity opens the file, its values are compared, and an
/// unchanged file keeps its bytes. Otherwise the values are read and encrypted, reusing
/// the file's data key when our identity opens it.
fn seal(
    sealed: &Sealed,
    recipients: &[String],
    sources: &Sources,
    path: &Path,
    existing: Option<String>,
    check: bool,
) -> Result<Sealing> {
    let mut fingerprints: Vec<(&SecretRef, String)> = Vec::new();
    for s in sealed.sources() {
        match sources.fingerprint(s) {
            Ok(f) => fingerprints.push((s, f)),
            Err(Missing::Unavailable(reason)) => return Ok(Sealing::Pending(reason)),
            Err(Missing::Invalid(e)) => bail!(e),
        }
    }
    let digest = sealed.digest(recipients, &|s| {
        fingerprints
            .iter()
            .find(|(r, _)| *r == s)
            .map(|(_, f)| f.clone())
            .unwrap_or_default()
    });
    let format = infraflux_sops::Format::Yaml;
    let rules = secret::rules();
    let reusable = || crate::keys::reusable(path, format, recipients, &rules, sources.identities());
    let now = time::OffsetDateTime::now_utc();
    let recorded = existing.as_deref().and_then(secret::recorded_digest);
    if let Some(text) = existing.filter(|_| recorded.as_deref() == Some(digest.as_str())) {
        let env_set = sealed.sources().into_iter().any(Sources::env_is_set);
        if check || !env_set {
            return Ok(Sealing::Text(text));
        }
        return Ok(Sealing::Text(
            match (reusable(), document(sealed, &digest, sources)) {
                (Some(opened), Ok(doc)) => Sealed::seal(&doc, recipients, Some(&opened), now)?,
                _ => text,
            },
        ));
    }
    if check {
        return Ok(Sealing::Pending(match recorded {
            None => "not rendered yet".into(),
            Some(_) => "its sources, shape or recipients changed since it was encrypted".into(),
        }));
    }
    let doc = match document(sealed, &digest, sources) {
        Ok(doc) => doc,
        Err(Missing::Unavailable(reason)) => return Ok(Sealing::Pending(reason)),
        Err(Missing::Invalid(e)) => bail!(e),
    };
    Ok(Sealing::Text(Sealed::seal(
        &doc,
        recipients,
        reusable().as_ref(),
        now,
    )?))
}

/// The management cluster's Talos machine configs under `bootstrap/talos/`, made from the
/// secrets bundle there, as [`seal`] does for Secrets: an unchanged digest keeps a file
/// without opening the bundle; otherwise the bundle is opened (once) and the configs are
/// made and encrypted again, reusing each file's data key when our identity opens it.
fn talos_configs(
    platform: &infraflux_spec::Platform,
    tree: &Tree,
    sources: &Sources,
    out: &Path,
    check: bool,
) -> Result<Vec<(String, Sealing)>> {
    let paths = tree.bootstrap();
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let bundle_path = out.join(bootstrap::BUNDLE);
    let Ok(bundle_text) = std::fs::read_to_string(&bundle_path) else {
        let why = format!(
            "there is no Talos secrets bundle at {}; create it once with `infraflux talos gen secrets --age RECIPIENT -o {}` and back it up: it is the cluster's root of trust",
            bundle_path.display(),
            bundle_path.display()
        );
        return Ok(paths
            .iter()
            .map(|p| (p.clone(), Sealing::Pending(why.clone())))
            .collect());
    };
    let format = infraflux_sops::Format::Yaml;
    let meta = infraflux_sops::metadata(&bundle_text, format).with_context(|| {
        format!(
            "{} must be SOPS-encrypted (`infraflux secrets encrypt -i` encrypts it in place)",
            bundle_path.display()
        )
    })?;
    let recipients = &platform.spec.secrets.age.recipients;
    let digests = bootstrap::digests(platform, recipients, &meta.mac)?;
    let rules = bootstrap::rules();
    let now = time::OffsetDateTime::now_utc();
    // Made once, when a first file needs it; Err("") when no identity opens the bundle.
    let mut made: Option<std::result::Result<BTreeMap<String, String>, String>> = None;
    let mut sealings = Vec::new();
    for path in paths {
        let file = out.join(path);
        let digest = &digests[path];
        let existing = std::fs::read_to_string(&file).ok();
        if let Some(text) =
            existing.filter(|t| bootstrap::recorded_digest(t).as_ref() == Some(digest))
        {
            sealings.push((path.clone(), Sealing::Text(text)));
            continue;
        }
        if check {
            let why = "the spec, the bundle or the recipients changed since it was made";
            sealings.push((path.clone(), Sealing::Pending(why.into())));
            continue;
        }
        let configs = made.get_or_insert_with(|| {
            let ids = sources.identities();
            match infraflux_sops::decrypt(&bundle_text, format, &ids.ids) {
                Ok(opened) => {
                    let plain = zeroize::Zeroizing::new(opened.emit());
                    let bundle = infraflux_pki::SecretsBundle::from_yaml(&plain)
                        .map_err(|e| format!("{}: {e}", bundle_path.display()))?;
                    bootstrap::configs(platform, &bundle, &digests).map_err(|e| e.to_string())
                }
                Err(infraflux_sops::Error::NoIdentity(_)) => Err(String::new()),
                Err(e) => Err(format!("{}: {e}", bundle_path.display())),
            }
        });
        let sealing = match configs {
            Ok(configs) => {
                let previous =
                    crate::keys::reusable(&file, format, recipients, &rules, sources.identities());
                Sealing::Text(bootstrap::seal(
                    &configs[path],
                    recipients,
                    previous.as_ref(),
                    now,
                )?)
            }
            Err(e) if e.is_empty() => Sealing::Pending(format!(
                "no age identity here opens the Talos secrets bundle {} (looked in: {})",
                bundle_path.display(),
                sources.searched()
            )),
            Err(e) => bail!(e.clone()),
        };
        sealings.push((path.clone(), sealing));
    }
    Ok(sealings)
}

/// The plaintext Secret, every value read from its source.
fn document(sealed: &Sealed, digest: &str, sources: &Sources) -> Result<Value, Missing> {
    let mut values: Vec<(&SecretRef, Option<&str>, zeroize::Zeroizing<String>)> = Vec::new();
    for item in sealed.entries.values() {
        if let secret::Item::From { source, field } = item {
            values.push((source, *field, sources.value(source, *field)?));
        }
    }
    Ok(sealed.document(digest, &|s, f| {
        values
            .iter()
            .find(|(r, g, _)| *r == s && *g == f)
            .map(|(_, _, v)| v.to_string())
            .unwrap_or_default()
    }))
}

fn summary(args: &Args, out: &Path, tree: &Tree, what: &str, pending: &[(String, String)]) {
    let files = tree.files().len() + tree.sealed().len() + tree.bootstrap().len();
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
            let secrets: Vec<_> = tree
                .sealed()
                .iter()
                .map(|(p, s)| {
                    let why = pending.iter().find(|(q, _)| q == p).map(|(_, r)| r);
                    json!({"path": p, "namespace": s.namespace, "name": s.name, "keys": s.entries.keys().collect::<Vec<_>>(), "pending": why})
                })
                .collect();
            let doc = json!({"dir": out.display().to_string(), "result": what, "files": list, "secrets": secrets});
            println!("{}", serde_json::to_string_pretty(&doc).expect("JSON"));
        }
        Format::Text if pending.is_empty() => {
            println!("{}: {files} files, {what}", out.display())
        }
        Format::Text => println!(
            "{}: {files} files, {what}, {} encrypted files not written",
            out.display(),
            pending.len()
        ),
    }
}
