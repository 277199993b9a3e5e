//! Helpers shared by the pki tests that drive real tools (openssl, kubectl).
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Writes `content` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

/// Runs `program` with `args`, asserts it succeeded (showing its stderr), returns stdout.
pub fn run<I, S>(program: &str, args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} is installed: {e}"));
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Asserts that `openssl verify` accepts `cert` as issued by `ca`.
pub fn assert_verifies(ca: &Path, cert: &Path) {
    run(
        "openssl",
        [
            OsStr::new("verify"),
            OsStr::new("-CAfile"),
            ca.as_os_str(),
            cert.as_os_str(),
        ],
    );
}
