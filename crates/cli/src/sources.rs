//! Where secret values come from on this machine: environment variables, and keys of SOPS
//! files in the repository, opened with the age identities sops would use.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use infraflux_sops::Format;
use infraflux_spec::model::SecretRef;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::keys::Identities;

/// Why a value cannot be had.
#[derive(Debug)]
pub enum Missing {
    /// Not on this machine (unset variable, absent file, no identity): the Secret waits.
    Unavailable(String),
    /// The source is there but wrong (no such key, not a mapping, a broken file).
    Invalid(String),
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Missing::Unavailable(m) | Missing::Invalid(m) => f.write_str(m),
        }
    }
}

/// The sources of one render: SOPS files are read and opened once each.
pub struct Sources {
    root: PathBuf,
    ids: OnceLock<Identities>,
    texts: RefCell<HashMap<String, Option<String>>>,
    opened: RefCell<HashMap<String, Result<Value, String>>>,
}

impl Drop for Sources {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for v in self.opened.get_mut().values_mut().flatten() {
            wipe(v);
        }
        fn wipe(v: &mut Value) {
            match v {
                Value::String(s) => s.zeroize(),
                Value::Array(a) => a.iter_mut().for_each(wipe),
                Value::Object(m) => m.values_mut().for_each(wipe),
                _ => {}
            }
        }
    }
}

impl Sources {
    /// Sources of the repository at `root` (SOPS file paths are relative to it).
    pub fn new(root: &Path) -> Self {
        Sources {
            root: root.to_path_buf(),
            ids: OnceLock::new(),
            texts: RefCell::default(),
            opened: RefCell::default(),
        }
    }

    /// The identities that open SOPS files here (looked for once).
    pub fn identities(&self) -> &Identities {
        self.ids
            .get_or_init(|| crate::keys::identities().unwrap_or_default())
    }

    /// Where identities were looked for, for messages.
    pub fn searched(&self) -> String {
        let ids = self.identities();
        if ids.searched.is_empty() {
            "nowhere: set SOPS_AGE_KEY_FILE".into()
        } else {
            ids.searched.join(", ")
        }
    }

    fn text(&self, file: &str) -> Option<String> {
        self.texts
            .borrow_mut()
            .entry(file.to_string())
            .or_insert_with(|| std::fs::read_to_string(self.root.join(file)).ok())
            .clone()
    }

    fn shown(&self, file: &str) -> String {
        self.root.join(file).display().to_string()
    }

    /// What identifies a source's current values without revealing them: for a SOPS file,
    /// its encrypted MAC (new whenever a value changes); for a variable, its name.
    pub fn fingerprint(&self, r: &SecretRef) -> Result<String, Missing> {
        match r {
            SecretRef::Env { env } => Ok(format!("env:{env}")),
            SecretRef::Sops { sops_file, key } => {
                let text = self.text(sops_file).ok_or_else(|| {
                    Missing::Unavailable(format!("{} does not exist", self.shown(sops_file)))
                })?;
                let meta = infraflux_sops::metadata(&text, Format::from_path(Path::new(sops_file)))
                    .map_err(|e| Missing::Invalid(format!("{}: {e}", self.shown(sops_file))))?;
                Ok(format!("sops:{sops_file}#{key}@{}", meta.mac))
            }
        }
    }

    /// Whether the value is on this machine without opening anything: a set variable.
    pub fn env_is_set(r: &SecretRef) -> bool {
        matches!(r, SecretRef::Env { env } if std::env::var_os(env).is_some_and(|v| !v.is_empty()))
    }

    /// A value: the source's string, or `field` of the mapping it holds (a variable holds
    /// the mapping as JSON).
    pub fn value(&self, r: &SecretRef, field: Option<&str>) -> Result<Zeroizing<String>, Missing> {
        match r {
            SecretRef::Env { env } => {
                let v = Zeroizing::new(
                    std::env::var(env)
                        .ok()
                        .filter(|v| !v.is_empty())
                        .ok_or_else(|| {
                            Missing::Unavailable(format!(
                                "the environment variable {env} is not set"
                            ))
                        })?,
                );
                let what = format!("the environment variable {env}");
                match field {
                    None => Ok(v),
                    Some(f) => {
                        let map: Value = serde_json::from_str(&v).map_err(|_| {
                            Missing::Invalid(format!("{what} does not hold a JSON mapping; expected {{\"{f}\": \"…\", …}}"))
                        })?;
                        pick(&map, field, &what)
                    }
                }
            }
            SecretRef::Sops { sops_file, key } => self.with_data(sops_file, |data| {
                let what = format!("`{key}` of {}", self.shown(sops_file));
                let v = data.get(key).ok_or_else(|| {
                    Missing::Invalid(format!(
                        "{} has no top-level key `{key}`",
                        self.shown(sops_file)
                    ))
                })?;
                pick(v, field, &what)
            }),
        }
    }

    /// `f` of a SOPS file's data, decrypted once.
    fn with_data<T>(
        &self,
        file: &str,
        f: impl FnOnce(&Value) -> Result<T, Missing>,
    ) -> Result<T, Missing> {
        if let Some(done) = self.opened.borrow().get(file) {
            return match done {
                Ok(data) => f(data),
                Err(e) => Err(Missing::Invalid(e.clone())),
            };
        }
        let text = self
            .text(file)
            .ok_or_else(|| Missing::Unavailable(format!("{} does not exist", self.shown(file))))?;
        let path = self.root.join(file);
        let format = Format::from_path(&path);
        let ids = self.identities();
        let result = match infraflux_sops::decrypt(&text, format, &ids.ids) {
            Ok(opened) => Ok(opened.data()),
            Err(infraflux_sops::Error::NoIdentity(_)) => {
                return Err(Missing::Unavailable(format!(
                    "no age identity here opens {} (looked in: {})",
                    path.display(),
                    self.searched()
                )));
            }
            Err(infraflux_sops::Error::NotEncrypted) => Err(format!(
                "{} is not SOPS-encrypted; encrypt it with `infraflux secrets encrypt -i {file}`",
                path.display()
            )),
            Err(e) => Err(format!("{}: {e}", path.display())),
        };
        let out = match &result {
            Ok(data) => f(data),
            Err(e) => Err(Missing::Invalid(e.clone())),
        };
        self.opened.borrow_mut().insert(file.to_string(), result);
        out
    }
}

/// The string at `field` of `v` (or `v` itself).
fn pick(v: &Value, field: Option<&str>, what: &str) -> Result<Zeroizing<String>, Missing> {
    let picked = match field {
        None => v,
        Some(f) => v.get(f).ok_or_else(|| {
            Missing::Invalid(format!(
                "{what} has no field `{f}`; it must be a mapping with `{f}`"
            ))
        })?,
    };
    match picked {
        Value::String(s) => Ok(Zeroizing::new(s.clone())),
        Value::Number(n) => Ok(Zeroizing::new(n.to_string())),
        _ => Err(Missing::Invalid(format!(
            "{what}{} is not a string",
            field.map(|f| format!(", field `{f}`,")).unwrap_or_default()
        ))),
    }
}
