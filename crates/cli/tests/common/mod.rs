//! Shared by the CLI tests that run commands in a repository directory of their own.

#![allow(dead_code)] // each test binary uses part of it

use std::path::Path;

use assert_cmd::Command;

/// `cmd` run in `root`, with `root/home` as HOME and none of the caller's age identities,
/// sops settings or secret variables: only what the test gives it.
pub fn isolated(mut cmd: Command, root: &Path) -> Command {
    cmd.current_dir(root)
        .env("NO_COLOR", "1")
        .env("HOME", root.join("home"))
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("SOPS_AGE_KEY")
        .env_remove("SOPS_AGE_KEY_FILE")
        .env_remove("SOPS_AGE_KEY_CMD")
        .env_remove("SOPS_CONFIG")
        .env_remove("PROXMOX_TOKEN_SECRET");
    cmd
}
