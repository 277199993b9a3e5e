//! Secrets built from sources: every one is read by something, with the keys it reads;
//! each directory holding them is a kustomization that lists the whole directory; and
//! kustomize builds it once KSOPS's part is done: kubectl's kustomize builds the directory
//! with the generator replaced by what KSOPS does with `files` (each file decrypted whole,
//! here by the real `sops -d`).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use infraflux_render::component::{KSOPS_GENERATOR, KUSTOMIZATION};
use infraflux_render::secret::Item;
use infraflux_render::tree::Tree;
use serde_json::Value;

fn example(name: &str) -> Tree {
    infraflux_render::render(&common::example(name))
        .unwrap()
        .tree
}

const EXAMPLES: [&str; 3] = ["homelab", "ha", "multi-cluster"];

/// A document's kind and name.
fn kind_name(d: &Value) -> (String, String) {
    let text = |v: &Value| v.as_str().unwrap().to_string();
    (text(&d["kind"]), text(&d["metadata"]["name"]))
}

fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

fn file_of(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, f)| f)
}

/// Every Secret reference in a value: (name, key), key None for a whole-Secret reference.
fn references(v: &Value, out: &mut BTreeSet<(String, Option<String>)>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let named = child["name"].as_str().map(str::to_string);
                match k.as_str() {
                    "secretKeyRef" | "apiTokenSecretRef" | "tokenSecretRef" => {
                        let key = child["key"].as_str().map(str::to_string);
                        out.insert((named.unwrap(), key));
                    }
                    "configSecret" => {
                        out.insert((named.unwrap(), None));
                    }
                    "backupTargetCredentialSecret" => {
                        out.insert((child.as_str().unwrap().to_string(), None));
                    }
                    _ => {}
                }
                references(child, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|c| references(c, out)),
        _ => {}
    }
}

#[test]
fn every_secret_is_read_with_the_keys_it_has() {
    let mut seen = BTreeSet::new();
    for name in EXAMPLES {
        let tree = example(name);
        let mut refs = BTreeSet::new();
        for f in tree.files().values() {
            f.documents.iter().for_each(|d| references(d, &mut refs));
        }
        for (path, s) in tree.sealed() {
            let read: Vec<&Option<String>> = refs
                .iter()
                .filter(|(n, _)| *n == s.name)
                .map(|(_, k)| k)
                .collect();
            assert!(!read.is_empty(), "{name}: nothing reads {path}");
            for key in read.into_iter().flatten() {
                assert!(
                    s.entries.contains_key(key),
                    "{name}: {path} has no key {key}, which is read"
                );
            }
            // A value comes from the spec's source, or is a literal that is no secret.
            assert!(
                s.entries.values().any(|i| matches!(i, Item::From { .. })),
                "{name}: {path} has no sourced value"
            );
            seen.insert(s.name.clone());
        }
    }
    // The examples between them have every credential the platform takes.
    for s in [
        "dns01-api-token",
        "external-dns-credentials",
        "etcd-backup-s3",
        "capmox-credentials",
        "longhorn-backup-credentials",
    ] {
        assert!(seen.contains(s), "no example renders {s}");
    }
}

#[test]
fn each_kustomization_lists_its_whole_directory() {
    for name in EXAMPLES {
        let tree = example(name);
        let texts = tree.texts();
        let mut dirs: BTreeMap<&str, (Vec<&str>, Vec<&str>)> = BTreeMap::new();
        for path in texts.keys() {
            dirs.entry(dir_of(path)).or_default().0.push(file_of(path));
        }
        for path in tree.sealed().keys() {
            dirs.entry(dir_of(path)).or_default().1.push(file_of(path));
        }
        for (dir, (plain, sealed)) in dirs {
            let k = tree.files().get(&format!("{dir}/{KUSTOMIZATION}"));
            if sealed.is_empty() {
                assert!(
                    k.is_none(),
                    "{name}: {dir} has a kustomization and no Secret"
                );
                continue;
            }
            let k = &k
                .unwrap_or_else(|| panic!("{name}: {dir} has Secrets but no kustomization"))
                .documents[0];
            let resources: BTreeSet<&str> = k["resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap())
                .collect();
            let expected: BTreeSet<&str> = plain
                .iter()
                .copied()
                .filter(|f| *f != KUSTOMIZATION && *f != KSOPS_GENERATOR)
                .collect();
            assert_eq!(resources, expected, "{name}: {dir}");
            assert_eq!(k["generators"], serde_json::json!([KSOPS_GENERATOR]));
            let generator = &tree.files()[&format!("{dir}/{KSOPS_GENERATOR}")].documents[0];
            let files: BTreeSet<String> = generator["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().to_string())
                .collect();
            let sealed: BTreeSet<String> = sealed.iter().map(|f| format!("./{f}")).collect();
            assert_eq!(files, sealed, "{name}: {dir}");
        }
    }
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("infraflux-ksops-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn kustomize_builds_each_directory_with_its_decrypted_secrets() {
    for name in ["homelab", "multi-cluster"] {
        let tree = example(name);
        let (texts, id) = common::texts_with_secrets(&tree);
        let tmp = TempDir::new(name);
        let keys = tmp.0.join("keys.txt");
        {
            use age::secrecy::ExposeSecret;
            std::fs::write(&keys, id.to_string().expose_secret()).unwrap();
        }
        let dirs: BTreeSet<&str> = tree.sealed().keys().map(|p| dir_of(p)).collect();
        assert!(!dirs.is_empty(), "{name} has no Secrets");
        for dir in dirs {
            let root = tmp.0.join(dir);
            std::fs::create_dir_all(&root).unwrap();
            for (path, text) in texts.iter().filter(|(p, _)| dir_of(p) == dir) {
                std::fs::write(root.join(file_of(path)), text).unwrap();
            }
            // KSOPS's part: each listed file decrypted whole, in the generator's place.
            let mut k = tree.files()[&format!("{dir}/{KUSTOMIZATION}")].documents[0].clone();
            let generator = &tree.files()[&format!("{dir}/{KSOPS_GENERATOR}")].documents[0];
            for file in generator["files"].as_array().unwrap() {
                let file = file.as_str().unwrap().trim_start_matches("./");
                let plain = run(Command::new("sops")
                    .env("SOPS_AGE_KEY_FILE", &keys)
                    .args(["-d", file])
                    .current_dir(&root));
                let out = format!("decrypted-{file}");
                std::fs::write(root.join(&out), plain).unwrap();
                k["resources"].as_array_mut().unwrap().push(out.into());
            }
            k.as_object_mut().unwrap().remove("generators");
            std::fs::write(
                root.join(KUSTOMIZATION),
                infraflux_render::emit::documents(&[k]),
            )
            .unwrap();
            let built = run(Command::new("kubectl").arg("kustomize").arg(&root));
            let docs: Vec<Value> = serde_saphyr::from_multiple(&built).unwrap();
            // Everything in the directory, and each Secret with its values.
            let mut expected: BTreeSet<(String, String)> = texts
                .iter()
                .filter(|(p, _)| dir_of(p) == dir)
                .filter(|(p, _)| !p.ends_with(KUSTOMIZATION) && !p.ends_with(KSOPS_GENERATOR))
                .filter(|(p, _)| !tree.sealed().contains_key(*p))
                .flat_map(|(_, t)| serde_saphyr::from_multiple::<Value>(t).unwrap())
                .map(|d| kind_name(&d))
                .collect();
            for (path, s) in tree.sealed().iter().filter(|(p, _)| dir_of(p) == dir) {
                expected.insert(("Secret".into(), s.name.clone()));
                let got = docs
                    .iter()
                    .find(|d| d["kind"] == "Secret" && d["metadata"]["name"] == s.name.as_str())
                    .unwrap_or_else(|| panic!("{name}: kustomize lost {path}"));
                assert_eq!(got["metadata"]["namespace"], s.namespace.as_str());
                assert!(got.get("sops").is_none(), "{path}: still encrypted");
                for (key, item) in &s.entries {
                    let want = match item {
                        Item::Literal(v) => v.clone(),
                        Item::From { field, .. } => common::test_value(field.unwrap_or("value")),
                    };
                    assert_eq!(got["stringData"][key], want.as_str(), "{path} {key}");
                }
            }
            let built: BTreeSet<(String, String)> = docs.iter().map(kind_name).collect();
            assert_eq!(built, expected, "{name}: {dir}");
        }
    }
}
