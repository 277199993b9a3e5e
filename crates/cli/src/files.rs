//! Writing files so that nothing is lost: content goes to a temporary file in the target
//! directory (mode 0600 on Unix, as tempfile creates it), is synced, then renamed into place.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// The content in a synced temporary file next to where it will live.
pub fn stage(dir: &Path, content: &[u8]) -> Result<tempfile::NamedTempFile> {
    stage_with(dir, content, true)
}

/// The content in a temporary file in `dir`, synced to disk when `sync`.
fn stage_with(dir: &Path, content: &[u8], sync: bool) -> Result<tempfile::NamedTempFile> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".infraflux-")
        .tempfile_in(dir)?;
    tmp.write_all(content)?;
    if sync {
        tmp.as_file().sync_all()?;
    }
    Ok(tmp)
}

/// The directory `path` will be in, created when missing.
fn parent_created(path: &Path) -> Result<&Path> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// Writes a new private file (mode 0600); fails if `path` exists, even if it appears while
/// writing.
pub fn write_new_private(path: &Path, content: &[u8]) -> Result<()> {
    let dir = parent_created(path)?;
    stage(dir, content)?
        .persist_noclobber(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {} (it must not exist yet)", path.display()))?;
    Ok(())
}

/// Writes `path` atomically, replacing what was there; mode 0600 when `private`, else 0644.
pub fn replace_file(path: &Path, content: &[u8], private: bool) -> Result<()> {
    replace(path, content, private, true)
}

/// Writes `path` atomically (a temporary file renamed into place, mode 0644) without
/// syncing it to disk first: for files that can be produced again, like the rendered tree,
/// where a sync per file would cost more than all the rest (git does not sync either).
pub fn replace_regenerable_file(path: &Path, content: &[u8]) -> Result<()> {
    replace(path, content, false, false)
}

fn replace(path: &Path, content: &[u8], private: bool, sync: bool) -> Result<()> {
    let tmp = stage_with(parent_created(path)?, content, sync)?;
    #[cfg(unix)]
    if !private {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = private;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Creates `dir` and its missing parents, mode 0700 on Unix (for key material).
pub fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}
