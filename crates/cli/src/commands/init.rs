//! `infraflux init`: a new platform repository.

use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use anyhow::{Context, Result, bail};

use crate::exit;
use crate::files::{create_private_dir, stage, write_new_private};

/// Start a platform repository: infraflux.yaml, .sops.yaml, .gitignore and an age key
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  infraflux init                 # in the current directory\n  infraflux init homelab --name homelab\n  SOPS_AGE_KEY_FILE=~/keys/infraflux.txt infraflux init platform\n\nThe age identity lives where sops looks for it: $SOPS_AGE_KEY_FILE, else\n$XDG_CONFIG_HOME/sops/age/keys.txt (~/.config/sops/age/keys.txt). An existing one is reused;\nnothing is ever overwritten, and no private key is written inside the repository."
)]
pub struct Args {
    /// Directory of the repository (created when missing)
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Platform name (DNS-1123 label); default: the directory's name
    #[arg(long)]
    name: Option<String>,
}

/// Lines `init` makes sure `.gitignore` has.
const GITIGNORE: &[&str] = &[
    "# InfraFlux: local state and decrypted files never go to Git",
    ".infraflux/",
    "*.decrypted.*",
    "*.dec.yaml",
    "keys.txt",
];

pub fn exec(args: Args) -> Result<u8> {
    let dir = &args.dir;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))?;
    let name = match args.name {
        Some(n) => n,
        None => default_name(&dir),
    };
    if let Err(reason) = infraflux_spec::check::formats::dns1123_label(&name) {
        bail!(
            "`{name}` cannot name a platform: {reason}; pass --name with a DNS-1123 label such as `homelab`"
        );
    }

    let spec_path = dir.join("infraflux.yaml");
    let sops_path = dir.join(".sops.yaml");
    let existing: Vec<String> = [&spec_path, &sops_path]
        .iter()
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !existing.is_empty() {
        bail!(
            "{} already exist(s); init never overwrites. Remove them or init another directory",
            existing.join(", ")
        );
    }

    let key = AgeKey::locate()?;
    if key.path.as_ref().is_some_and(|p| inside(p, &dir)) {
        bail!(
            "the age identity {} would be inside the repository {}; set SOPS_AGE_KEY_FILE to a path outside it",
            key.path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            dir.display()
        );
    }
    let (recipient, key_note) = key.recipient()?;

    let spec = include_str!("../../templates/infraflux.yaml")
        .replace("{{NAME}}", &name)
        .replace("{{RECIPIENT}}", &recipient);
    // What init writes must pass check: a broken template is a bug, not a user error.
    if let Err(e) = infraflux_spec::load_str("infraflux.yaml", &spec) {
        bail!("internal error: the generated infraflux.yaml does not pass check: {e}");
    }
    let sops = sops_config(&recipient);

    // All files are written to temporary files first and moved into place without
    // clobbering, so an error leaves no half-initialised repository behind.
    let staged = [stage(&dir, spec.as_bytes())?, stage(&dir, sops.as_bytes())?];
    let mut written = Vec::new();
    for (tmp, path) in staged.into_iter().zip([&spec_path, &sops_path]) {
        if let Err(e) = tmp.persist_noclobber(path) {
            for p in &written {
                let _ = fs::remove_file(p);
            }
            return Err(e.error).with_context(|| format!("cannot write {}", path.display()));
        }
        written.push(path.clone());
    }
    let gitignore = update_gitignore(&dir.join(".gitignore"))?;
    // The modeline of infraflux.yaml points editors here; .infraflux/ is local, not in Git.
    let schema_dir = dir.join(".infraflux");
    fs::create_dir_all(&schema_dir)
        .with_context(|| format!("cannot create {}", schema_dir.display()))?;
    let schema = serde_json::to_string_pretty(&infraflux_spec::json_schema())? + "\n";
    stage(&schema_dir, schema.as_bytes())?
        .persist(schema_dir.join("infraflux.v1alpha1.json"))
        .map_err(|e| e.error)
        .context("cannot write the editor schema")?;

    println!("Initialised platform `{name}` in {}", dir.display());
    println!("  created  infraflux.yaml");
    println!("  created  .sops.yaml (age recipient {recipient})");
    println!("  {gitignore:<8} .gitignore");
    println!(
        "  wrote    .infraflux/infraflux.v1alpha1.json (schema for editor completion, not committed)"
    );
    println!("  {key_note}");
    println!(
        "\nNext: edit infraflux.yaml (Proxmox endpoint, nodes, addresses), then run `infraflux check`."
    );
    Ok(exit::OK)
}

fn default_name(dir: &Path) -> String {
    let raw = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let cleaned: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let trimmed = cleaned.trim_matches('-');
    if trimmed.is_empty() {
        "platform".into()
    } else {
        trimmed.chars().take(63).collect()
    }
}

fn inside(path: &Path, dir: &Path) -> bool {
    // The key file may not exist yet: resolve its closest existing ancestor.
    let mut probe = path.to_path_buf();
    let mut rest = Vec::new();
    while !probe.exists() {
        match (probe.file_name().map(|n| n.to_os_string()), probe.parent()) {
            (Some(n), Some(parent)) => {
                rest.push(n);
                probe = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut resolved = probe.canonicalize().unwrap_or(probe);
    resolved.extend(rest.iter().rev());
    resolved.starts_with(dir)
}

/// `.sops.yaml` creation rules for the paths where InfraFlux and users keep secrets. sops
/// uses the first rule whose `path_regex` matches.
fn sops_config(recipient: &str) -> String {
    format!(
        "# SOPS creation rules (sops and `infraflux secrets` read this file).\n\
         # The first rule whose path_regex matches a file applies.\n\
         creation_rules:\n\
         \x20 # Kubernetes Secret manifests: only data/stringData are encrypted, so Argo CD\n\
         \x20 # and reviewers still see the object's kind and name.\n\
         \x20 - path_regex: (^|/)[^/]*\\.secret\\.ya?ml$\n\
         \x20   encrypted_regex: ^(data|stringData)$\n\
         \x20   age: {recipient}\n\
         \x20 # Talos secrets bundle, machine configs, talosconfig and kubeconfig\n\
         \x20 # (`infraflux talos gen config` writes them to talos/).\n\
         \x20 - path_regex: (^|/)(bootstrap|talos)/.*\\.ya?ml$\n\
         \x20   age: {recipient}\n\
         \x20 # Values referenced from infraflux.yaml as `sopsFile:` (API tokens, S3 keys).\n\
         \x20 - path_regex: (^|/)secrets/.*\\.(ya?ml|json|env)$\n\
         \x20   age: {recipient}\n"
    )
}

fn update_gitignore(path: &Path) -> Result<&'static str> {
    let existing = match fs::read_to_string(path) {
        Ok(s) => Some(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let have: Vec<&str> = existing
        .as_deref()
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .collect();
    let missing: Vec<&str> = GITIGNORE
        .iter()
        .copied()
        .filter(|l| !have.contains(l))
        .collect();
    if missing.is_empty() || missing.iter().all(|l| l.starts_with('#')) {
        return Ok("kept");
    }
    let mut content = existing.clone().unwrap_or_default();
    if !content.is_empty() && !content.ends_with('\n') {
        content.push('\n');
    }
    for l in missing {
        content.push_str(l);
        content.push('\n');
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = stage(dir, content.as_bytes())?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(if existing.is_some() {
        "updated"
    } else {
        "created"
    })
}

/// Where the age identity is, as sops looks for it.
struct AgeKey {
    /// The key file (None when the identity comes from `SOPS_AGE_KEY`).
    path: Option<PathBuf>,
    /// Identity text from `SOPS_AGE_KEY`.
    inline: Option<String>,
}

impl AgeKey {
    fn locate() -> Result<Self> {
        if let Some(v) = std::env::var_os("SOPS_AGE_KEY").filter(|v| !v.is_empty()) {
            return Ok(Self {
                path: None,
                inline: Some(v.to_string_lossy().into_owned()),
            });
        }
        if let Some(p) = std::env::var_os("SOPS_AGE_KEY_FILE").filter(|v| !v.is_empty()) {
            return Ok(Self {
                path: Some(PathBuf::from(p)),
                inline: None,
            });
        }
        Ok(Self {
            path: Some(crate::keys::default_identity_path()?),
            inline: None,
        })
    }

    /// The recipient of the first identity, creating the identity file when there is none.
    fn recipient(&self) -> Result<(String, String)> {
        if let Some(text) = &self.inline {
            let r = first_recipient(text)
                .context("SOPS_AGE_KEY holds no age identity (AGE-SECRET-KEY-1…)")?;
            return Ok((r, "reused   the age identity from SOPS_AGE_KEY".into()));
        }
        let path = self.path.as_ref().expect("a key path when not inline");
        match fs::read_to_string(path) {
            Ok(text) => {
                let r = first_recipient(&text)
                    .with_context(|| format!("{} holds no age identity (AGE-SECRET-KEY-1…); fix or move it, init will not overwrite it", path.display()))?;
                Ok((r, format!("reused   age identity {}", path.display())))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let r = create_identity(path)?;
                Ok((
                    r,
                    format!(
                        "created  age identity {} (mode 0600; back it up: it decrypts every secret)",
                        path.display()
                    ),
                ))
            }
            Err(e) => {
                Err(e).with_context(|| format!("cannot read the age identity {}", path.display()))
            }
        }
    }
}

fn first_recipient(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.starts_with("AGE-SECRET-KEY-"))
        .find_map(|l| age::x25519::Identity::from_str(l).ok())
        .map(|id| id.to_public().to_string())
}

/// Writes a new identity in age-keygen's format, mode 0600, never replacing a file.
fn create_identity(path: &Path) -> Result<String> {
    let dir = path.parent().context("the key path has no directory")?;
    create_private_dir(dir)?;
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let secret = identity.to_string();
    let content = zeroize::Zeroizing::new(format!(
        "# public key: {recipient}\n{}\n",
        secret.expose_secret()
    ));
    write_new_private(path, content.as_bytes())?;
    Ok(recipient)
}
