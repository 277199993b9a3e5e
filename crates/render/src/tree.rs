//! The rendered tree in memory (path → documents), and what writing it changes on disk.
//!
//! Render owns the files it writes and only those: `.infraflux/owned` lists them, so a
//! file render wrote before and no longer renders is removed, and a file it never wrote
//! (a README, a hand-written overlay) is never touched. Writing is the CLI's job; this
//! module says what to write and remove, so `--check` and the writer agree by construction.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::emit;
use crate::secret::Sealed;

/// The manifest of owned files, relative to the tree's root.
pub const OWNED: &str = ".infraflux/owned";

/// One rendered file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct File {
    /// Its documents, in order.
    pub documents: Vec<Value>,
}

/// The rendered tree: files by path (relative, `/`-separated), in path order, and the
/// Secrets the caller encrypts from their sources.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tree {
    files: BTreeMap<String, File>,
    sealed: BTreeMap<String, Sealed>,
    bootstrap: BTreeSet<String>,
}

impl Tree {
    /// Appends a document to the file at `path`.
    pub fn add(&mut self, path: impl Into<String>, document: Value) {
        self.files
            .entry(path.into())
            .or_default()
            .documents
            .push(document);
    }

    /// Puts a Secret built from sources at `path`; the caller encrypts it (it is never in
    /// [`Tree::texts`]).
    pub fn add_sealed(&mut self, path: impl Into<String>, secret: Sealed) {
        self.sealed.insert(path.into(), secret);
    }

    /// Claims a Talos machine config under `bootstrap/` (see [`crate::bootstrap`]); the
    /// caller makes and encrypts it.
    pub fn add_bootstrap(&mut self, path: impl Into<String>) {
        self.bootstrap.insert(path.into());
    }

    /// The Talos machine configs the caller makes.
    pub fn bootstrap(&self) -> &BTreeSet<String> {
        &self.bootstrap
    }

    /// The files, by path.
    pub fn files(&self) -> &BTreeMap<String, File> {
        &self.files
    }

    /// The Secrets built from sources, by path.
    pub fn sealed(&self) -> &BTreeMap<String, Sealed> {
        &self.sealed
    }

    /// Each plain file's text, with the owned-files manifest (which lists the sealed
    /// files and the bootstrap configs too).
    pub fn texts(&self) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = self
            .files
            .iter()
            .map(|(p, f)| (p.clone(), emit::documents(&f.documents)))
            .collect();
        let mut owned = String::from(
            "# Files `infraflux render` writes here; it removes them when it no longer renders them.\n",
        );
        let mut paths: Vec<&String> = self
            .files
            .keys()
            .chain(self.sealed.keys())
            .chain(&self.bootstrap)
            .collect();
        paths.sort_unstable();
        for p in paths {
            owned.push_str(p);
            owned.push('\n');
        }
        out.insert(OWNED.into(), owned);
        out
    }
}

/// The paths an owned-files manifest lists.
pub fn owned_paths(manifest: &str) -> BTreeSet<String> {
    manifest
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// What writing a tree changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// New files.
    pub created: Vec<String>,
    /// Files whose content changes.
    pub updated: Vec<String>,
    /// Files render owned and no longer renders.
    pub removed: Vec<String>,
}

impl Changes {
    /// Whether the tree on disk is the rendered one.
    pub fn is_empty(&self) -> bool {
        self.created.is_empty() && self.updated.is_empty() && self.removed.is_empty()
    }
}

/// Compares rendered texts with the disk: `on_disk(path)` is a file's current content, or
/// None when it does not exist; `owned` is what the manifest on disk lists.
pub fn changes(
    texts: &BTreeMap<String, String>,
    owned: &BTreeSet<String>,
    on_disk: impl Fn(&str) -> Option<String>,
) -> Changes {
    let mut c = Changes::default();
    for (path, text) in texts {
        match on_disk(path) {
            None => c.created.push(path.clone()),
            Some(current) if current != *text => c.updated.push(path.clone()),
            Some(_) => {}
        }
    }
    for path in owned {
        if !texts.contains_key(path) && on_disk(path).is_some() {
            c.removed.push(path.clone());
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_touch_only_owned_files() {
        let mut tree = Tree::default();
        tree.add("apps/a.yaml", json!({"kind": "A"}));
        tree.add("apps/a.yaml", json!({"kind": "B"}));
        tree.add("bootstrap/s.yaml", json!({"kind": "S"}));
        tree.add_sealed("components/x/secret-s.sops.yaml", Sealed::new("ns", "s"));
        let texts = tree.texts();
        assert_eq!(texts["apps/a.yaml"], "---\nkind: A\n---\nkind: B\n");
        assert!(!texts.contains_key("components/x/secret-s.sops.yaml"));
        assert_eq!(
            owned_paths(&texts[OWNED]),
            BTreeSet::from([
                "apps/a.yaml".to_string(),
                "bootstrap/s.yaml".to_string(),
                "components/x/secret-s.sops.yaml".to_string()
            ])
        );
        // On disk: a.yaml differs, an old owned file, a foreign file, the manifest as now.
        let disk: BTreeMap<&str, String> = BTreeMap::from([
            ("apps/a.yaml", "---\nkind: A\n".to_string()),
            ("apps/old.yaml", "---\nkind: Old\n".to_string()),
            ("README.md", "mine".to_string()),
            (OWNED, texts[OWNED].clone()),
        ]);
        let owned = BTreeSet::from(["apps/a.yaml".to_string(), "apps/old.yaml".to_string()]);
        let c = changes(&texts, &owned, |p| disk.get(p).cloned());
        assert_eq!(c.created, ["bootstrap/s.yaml"]);
        assert_eq!(c.updated, ["apps/a.yaml"]);
        assert_eq!(c.removed, ["apps/old.yaml"]);
        // Once written, nothing changes.
        let written: BTreeMap<String, String> = texts.clone();
        let c = changes(&texts, &owned_paths(&texts[OWNED]), |p| {
            written.get(p).cloned()
        });
        assert!(c.is_empty(), "{c:?}");
    }
}
