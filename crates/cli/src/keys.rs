//! Where age identities and `.sops.yaml` are, found as `sops` finds them.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use infraflux_sops::config::{self, CreationRule};
use infraflux_sops::{Error as SopsError, Format, Opened, Rules};

/// sops' default identity file: Go's `os.UserConfigDir()` (`$XDG_CONFIG_HOME`, else
/// `$HOME/.config`) joined with `sops/age/keys.txt`.
pub fn default_identity_path() -> Result<PathBuf> {
    let config = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(x) => PathBuf::from(x),
        None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(h) => PathBuf::from(h).join(".config"),
            None => bail!(
                "neither XDG_CONFIG_HOME nor HOME is set; set SOPS_AGE_KEY_FILE to where the age identity should live"
            ),
        },
    };
    Ok(config.join("sops/age/keys.txt"))
}

/// The identity file new identities go to: `$SOPS_AGE_KEY_FILE`, else the default path.
pub fn identity_file() -> Result<PathBuf> {
    match std::env::var_os("SOPS_AGE_KEY_FILE").filter(|v| !v.is_empty()) {
        Some(p) => Ok(PathBuf::from(p)),
        None => default_identity_path(),
    }
}

/// The age identities available for decryption, and where they came from.
#[derive(Default)]
pub struct Identities {
    /// Every identity found.
    pub ids: Vec<age::x25519::Identity>,
    /// Where they were looked for (for error messages).
    pub searched: Vec<String>,
}

/// Collects identities from every place sops reads: `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`,
/// the output of `SOPS_AGE_KEY_CMD`, and the default key file when it exists.
pub fn identities() -> Result<Identities> {
    let mut ids = Vec::new();
    let mut searched = Vec::new();
    let mut add = |text: &str, from: String| -> Result<()> {
        let found = infraflux_sops::parse_identities(text).with_context(|| from.clone())?;
        searched.push(format!("{from} ({} identities)", found.len()));
        ids.extend(found);
        Ok(())
    };
    if let Some(v) = std::env::var_os("SOPS_AGE_KEY").filter(|v| !v.is_empty()) {
        add(
            &zeroize::Zeroizing::new(v.to_string_lossy().into_owned()),
            "SOPS_AGE_KEY".into(),
        )?;
    }
    if let Some(p) = std::env::var_os("SOPS_AGE_KEY_FILE").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(&p)
                .with_context(|| format!("cannot read SOPS_AGE_KEY_FILE {}", p.display()))?,
        );
        add(&text, format!("SOPS_AGE_KEY_FILE {}", p.display()))?;
    }
    if let Some(cmd) = std::env::var_os("SOPS_AGE_KEY_CMD").filter(|v| !v.is_empty()) {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .stderr(std::process::Stdio::inherit())
            .output()
            .context("cannot run SOPS_AGE_KEY_CMD")?;
        if !out.status.success() {
            bail!("SOPS_AGE_KEY_CMD failed ({})", out.status);
        }
        let text = zeroize::Zeroizing::new(String::from_utf8_lossy(&out.stdout).into_owned());
        add(&text, "SOPS_AGE_KEY_CMD".into())?;
    }
    if let Ok(p) = default_identity_path() {
        match std::fs::read_to_string(&p) {
            Ok(text) => add(&zeroize::Zeroizing::new(text), p.display().to_string())?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                searched.push(format!("{} (absent)", p.display()));
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", p.display())),
        }
    }
    Ok(Identities { ids, searched })
}

/// The `.sops.yaml` in `start` or the nearest parent directory.
pub fn find_config(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|d| d.join(config::CONFIG_FILE))
        .find(|p| p.is_file())
}

/// The creation rule for `file`: from `explicit` (`--config` or `SOPS_CONFIG`), else the
/// `.sops.yaml` found from the working directory up, as sops looks for it. None when there
/// is no config file; an error when the file has rules and none matches.
pub fn creation_rule(file: &Path, explicit: Option<&Path>) -> Result<Option<CreationRule>> {
    let from_env = std::env::var_os("SOPS_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let config_path = match explicit.map(Path::to_path_buf).or(from_env) {
        Some(p) => p,
        None => match find_config(&std::env::current_dir()?) {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    let text = std::fs::read_to_string(&config_path)
        .with_context(|| format!("cannot read {}", config_path.display()))?;
    let cfg = config::parse(&text).with_context(|| config_path.display().to_string())?;
    if cfg.creation_rules.is_empty() {
        return Ok(None);
    }
    let config_dir = std::path::absolute(config_path.parent().unwrap_or(Path::new(".")))?;
    let abs = std::path::absolute(file)?;
    let relative = abs.strip_prefix(&config_dir).unwrap_or(&abs);
    let relative = relative.to_string_lossy().replace('\\', "/");
    match cfg.rule_for(&relative) {
        Some(rule) => Ok(Some(rule.clone())),
        None => bail!(
            "no creation rule in {} matches {relative}; add one (path_regex) or pass --age",
            config_path.display()
        ),
    }
}

/// Decrypts a file's text with `ids`; None when the text is not SOPS-encrypted. Errors name
/// the file, and when no identity opens it, where identities were looked for.
pub fn open(text: &str, format: Format, file: &Path, ids: &Identities) -> Result<Option<Opened>> {
    match infraflux_sops::decrypt(text, format, &ids.ids) {
        Ok(opened) => Ok(Some(opened)),
        Err(SopsError::NotEncrypted) => Ok(None),
        Err(e) => {
            let hint = match &e {
                SopsError::NoIdentity(_) => format!(
                    "\n  hint: identities were looked for in: {}",
                    ids.searched.join(", ")
                ),
                _ => String::new(),
            };
            Err(anyhow::Error::new(e).context(format!("{}{hint}", file.display())))
        }
    }
}

/// The encryption already at `path`, when `ids` open it and it is for exactly these
/// recipients and rules: re-encrypting through it keeps unchanged content byte-identical.
pub fn reusable(
    path: &Path,
    format: Format,
    recipients: &[String],
    rules: &Rules,
    ids: &Identities,
) -> Option<Opened> {
    let text = std::fs::read_to_string(path).ok()?;
    infraflux_sops::decrypt(&text, format, &ids.ids)
        .ok()
        .filter(|o| o.recipients() == recipients && o.meta.rules == rules.effective())
}
