//! Shared by the validate tests: the upstream data and schemas read from files.

use std::path::{Path, PathBuf};

use infraflux_validate::SchemaSource;

/// `../shared/upstream`.
pub fn upstream() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/upstream")
}

/// Schemas read from the file system.
pub struct Files;

impl SchemaSource for Files {
    fn read(&self, path: &str) -> Result<Option<String>, String> {
        match std::fs::read_to_string(path) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{path}: {e}")),
        }
    }
}
