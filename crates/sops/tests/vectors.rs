//! Upstream SOPS+age documents decrypt with their published keys to the expected plaintext,
//! and tampering is detected.

use std::path::{Path, PathBuf};

use infraflux_sops::{Error, Format, decrypt, parse_identities};
use serde_json::Value;

fn upstream() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/upstream/sops")
}

fn identities(key_file: &str) -> Vec<age::x25519::Identity> {
    parse_identities(&std::fs::read_to_string(upstream().join(key_file)).unwrap()).unwrap()
}

/// (document, key file), for every age-encrypted document (YAML, dotenv, binary). The
/// post-quantum document is left out: age 0.12 has no ML-KEM identities.
const VECTORS: &[(&str, &str)] = &[
    (
        "fluxcd-kustomize-controller-v1.9.4/algorithms/age.yaml",
        "fluxcd-kustomize-controller-v1.9.4/keys/age.txt",
    ),
    (
        "fluxcd-kustomize-controller-v1.9.4/patches/merge1.yaml",
        "fluxcd-kustomize-controller-v1.9.4/keys/age.txt",
    ),
    (
        "fluxcd-kustomize-controller-v1.9.4/patches/merge2.yaml",
        "fluxcd-kustomize-controller-v1.9.4/keys/age.txt",
    ),
    (
        "fluxcd-kustomize-controller-v1.9.4/envs/env.env",
        "fluxcd-kustomize-controller-v1.9.4/keys/age.txt",
    ),
    (
        "fluxcd-kustomize-controller-v1.9.4/component/env.env",
        "fluxcd-kustomize-controller-v1.9.4/keys/age.txt",
    ),
    (
        "fluxcd-kustomize-controller-v1.9.4/remote/env.env",
        "fluxcd-kustomize-controller-v1.9.4/keys/age.txt",
    ),
    (
        "fluxcd-kustomize-controller-v1.9.4/files/file.txt",
        "fluxcd-kustomize-controller-v1.9.4/keys/age.txt",
    ),
    (
        "fluxcd-kustomize-controller-v1.9.4/global/secret.yaml",
        "fluxcd-kustomize-controller-v1.9.4/keys/age-global.txt",
    ),
    (
        "helm-secrets-v4.7.7/values/sops/secrets.age.yaml",
        "helm-secrets-v4.7.7/age/key.txt",
    ),
];

#[test]
fn every_age_vector_decrypts_to_its_expected_plaintext_with_a_valid_mac() {
    for (doc, key) in VECTORS {
        let text = std::fs::read_to_string(upstream().join(doc)).unwrap();
        let format = Format::from_path(Path::new(doc));
        let opened =
            decrypt(&text, format, &identities(key)).unwrap_or_else(|e| panic!("{doc}: {e}"));
        let (plain, meta) = (opened.data(), &opened.meta);
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(upstream().join(format!("expected-plaintext/{doc}.json")))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(plain, expected, "{doc}");
        assert!(!meta.version.is_empty());
    }
}

#[test]
fn a_wrong_key_names_the_files_recipients() {
    let text = std::fs::read_to_string(upstream().join(VECTORS[0].0)).unwrap();
    let err = decrypt(
        &text,
        Format::Yaml,
        &identities("fluxcd-kustomize-controller-v1.9.4/keys/age-global.txt"),
    )
    .unwrap_err();
    assert!(matches!(err, Error::NoIdentity(_)));
    assert!(
        err.to_string()
            .contains("age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29"),
        "{err}"
    );
}

#[test]
fn every_kind_of_tampering_is_a_mac_error() {
    let (doc, key) = VECTORS[VECTORS.len() - 1];
    let text = std::fs::read_to_string(upstream().join(doc)).unwrap();
    let ids = identities(key);
    assert!(decrypt(&text, Format::Yaml, &ids).is_ok());
    let first_enc = text.find("ENC[AES256_GCM,data:").unwrap() + "ENC[AES256_GCM,data:".len();
    let flip = |t: &str, at: usize| {
        let mut b = t.as_bytes().to_vec();
        b[at] = if b[at] == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).unwrap()
    };
    let iv_at = text.find(",iv:").unwrap() + 5;
    let tag_at = text.find(",tag:").unwrap() + 6;
    let cases = [
        ("ciphertext", flip(&text, first_enc)),
        ("iv", flip(&text, iv_at)),
        ("tag", flip(&text, tag_at)),
        (
            "lastmodified",
            text.replace(
                "lastmodified: \"2021-11-05T00:56:57Z\"",
                "lastmodified: \"2021-11-05T00:56:58Z\"",
            ),
        ),
        (
            "key name",
            text.replacen("global_secret:", "global_secrets:", 1),
        ),
        (
            "removed value",
            text.lines()
                .filter(|l| !l.starts_with("global_secret:"))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        ("added value", format!("added: plain\n{text}")),
    ];
    for (what, tampered) in cases {
        assert_ne!(tampered, text, "{what}: the tampering changed nothing");
        let err = decrypt(&tampered, Format::Yaml, &ids).unwrap_err();
        assert!(matches!(err, Error::Mac(_)), "{what}: {err}");
    }
}
