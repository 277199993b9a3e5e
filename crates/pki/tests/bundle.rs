//! The secrets bundle has talosctl's fields, encodings and CA properties, reads back, and
//! its certificates pass `openssl verify`.

mod common;

use std::sync::OnceLock;

use ::time::OffsetDateTime;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use infraflux_pki::{CertificateAndKey, SecretsBundle, ca};
use x509_parser::prelude::*;

/// RSA-4096 generation takes a moment: one bundle serves every test.
fn bundle() -> &'static SecretsBundle {
    static B: OnceLock<SecretsBundle> = OnceLock::new();
    B.get_or_init(|| SecretsBundle::generate(OffsetDateTime::now_utc()).unwrap())
}

fn der(pem_text: &str) -> Vec<u8> {
    ::pem::parse(pem_text).unwrap().into_contents()
}

fn is_token(t: &str) -> bool {
    let ok = |s: &str, n: usize| {
        s.len() == n
            && s.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
    };
    t.split_once('.')
        .is_some_and(|(a, b)| ok(a, 6) && ok(b, 16))
}

#[test]
fn fields_have_talosctls_encodings() {
    let b = bundle();
    assert_eq!(URL_SAFE.decode(&b.cluster.id).unwrap().len(), 32);
    assert!(b.cluster.id.ends_with('='), "URL-safe base64 with padding");
    assert_eq!(
        STANDARD.decode(b.cluster.secret.as_str()).unwrap().len(),
        32
    );
    assert_eq!(
        STANDARD
            .decode(b.secrets.secretboxencryptionsecret.as_str())
            .unwrap()
            .len(),
        32
    );
    assert!(b.secrets.aescbcencryptionsecret.is_empty());
    assert!(
        is_token(&b.secrets.bootstraptoken),
        "{}",
        b.secrets.bootstraptoken.as_str()
    );
    assert!(is_token(&b.trustdinfo.token));
    let yaml = b.to_yaml();
    for key in [
        "cluster:",
        "secrets:",
        "trustdinfo:",
        "certs:",
        "bootstraptoken:",
        "secretboxencryptionsecret:",
        "k8saggregator:",
        "k8sserviceaccount:",
    ] {
        assert!(yaml.contains(key), "{key} missing");
    }
    assert!(!yaml.contains("aescbcencryptionsecret"));
    // crt/key values are base64 of whole PEM texts.
    let crt_line = yaml
        .lines()
        .find(|l| l.trim_start().starts_with("crt:"))
        .unwrap();
    let pem_text = String::from_utf8(
        STANDARD
            .decode(crt_line.split_once(':').unwrap().1.trim())
            .unwrap(),
    )
    .unwrap();
    assert!(pem_text.starts_with("-----BEGIN CERTIFICATE-----\n"));
    // Go writes PEM with LF line endings; so must we.
    let c = &b.certs;
    for text in [
        c.etcd.as_ref().unwrap().key.as_str(),
        c.os.as_ref().unwrap().key.as_str(),
        c.k8sserviceaccount.as_ref().unwrap().as_str(),
        &c.k8s.as_ref().unwrap().certificate,
    ] {
        assert!(!text.contains('\r'));
    }
}

fn check_ca(ck: &CertificateAndKey, org: Option<&str>, ed25519: bool) {
    let der = der(&ck.certificate);
    let (_, cert) = parse_x509_certificate(&der).unwrap();
    assert!(cert.is_ca());
    let bc = cert.basic_constraints().unwrap().unwrap();
    assert!(bc.critical && bc.value.ca);
    let ku = cert.key_usage().unwrap().unwrap();
    assert!(ku.critical && ku.value.key_cert_sign() && ku.value.digital_signature());
    let eku = cert.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.server_auth && eku.client_auth);
    let orgs: Vec<&str> = cert
        .subject()
        .iter_organization()
        .map(|o| o.as_str().unwrap())
        .collect();
    assert_eq!(orgs, org.into_iter().collect::<Vec<_>>());
    assert_eq!(cert.subject().iter_common_name().count(), 0);
    let days =
        (cert.validity().not_after.timestamp() - cert.validity().not_before.timestamp()) / 86_400;
    assert_eq!(days, 3650, "10 years (87600h)");
    let ski = cert
        .extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.len()),
            _ => None,
        });
    assert_eq!(ski, Some(20));
    assert!(!cert.extensions().iter().any(|e| matches!(
        e.parsed_extension(),
        ParsedExtension::AuthorityKeyIdentifier(_)
    )));
    let oid = cert.public_key().algorithm.algorithm.to_id_string();
    assert_eq!(
        oid,
        if ed25519 {
            "1.3.101.112"
        } else {
            "1.2.840.10045.2.1"
        }
    );
    // The key in the bundle is the certificate's key, in Talos' PEM labels.
    let key = ca::decode_key(ck.key.as_str()).unwrap();
    assert_eq!(
        key.public_key_raw(),
        cert.public_key().subject_public_key.data.as_ref()
    );
    let label = ::pem::parse(ck.key.as_str()).unwrap().tag().to_string();
    assert_eq!(
        label,
        if ed25519 {
            "ED25519 PRIVATE KEY"
        } else {
            "EC PRIVATE KEY"
        }
    );
}

#[test]
fn certificate_authorities_are_made_as_talos_makes_them() {
    let c = &bundle().certs;
    check_ca(c.etcd.as_ref().unwrap(), Some("etcd"), false);
    check_ca(c.k8s.as_ref().unwrap(), Some("kubernetes"), false);
    check_ca(c.k8saggregator.as_ref().unwrap(), None, false);
    check_ca(c.os.as_ref().unwrap(), Some("talos"), true);
    let sa = c.k8sserviceaccount.as_ref().unwrap();
    assert!(sa.as_str().starts_with("-----BEGIN RSA PRIVATE KEY-----"));
}

#[test]
fn bundle_reads_back_identically() {
    let b = bundle();
    let again = SecretsBundle::from_yaml(&b.to_yaml()).unwrap();
    assert_eq!(&again, b);
    assert_eq!(again.to_yaml(), b.to_yaml());
}

#[test]
fn incomplete_bundles_are_rejected_with_every_problem() {
    let mut b = bundle().clone();
    b.cluster.id.clear();
    b.secrets.aescbcencryptionsecret = zeroize::Zeroizing::new("x".into());
    b.certs.os = None;
    b.certs.k8s.as_mut().unwrap().certificate =
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into();
    let err = SecretsBundle::from_yaml(&b.to_yaml())
        .unwrap_err()
        .to_string();
    for want in [
        "cluster.id is required",
        "only one of [secrets.secretboxencryptionsecret, secrets.aescbcencryptionsecret] is allowed",
        "certs.os is required",
        "certs.k8s is invalid",
    ] {
        assert!(err.contains(want), "{want} not in {err}");
    }
}

/// Independent check with the openssl CLI (on the machine): every CA verifies against
/// itself, and the service-account key is a sound 4096-bit RSA key.
#[test]
fn openssl_accepts_the_certificates_and_the_service_account_key() {
    let dir = tempfile::tempdir().unwrap();
    let c = &bundle().certs;
    for (name, ck) in [
        ("etcd", &c.etcd),
        ("k8s", &c.k8s),
        ("k8saggregator", &c.k8saggregator),
        ("os", &c.os),
    ] {
        let path = dir.path().join(format!("{name}.crt"));
        std::fs::write(&path, &ck.as_ref().unwrap().certificate).unwrap();
        common::assert_verifies(&path, &path);
        let text = common::run(
            "openssl",
            ["x509", "-noout", "-text", "-in", path.to_str().unwrap()],
        );
        assert!(
            text.contains("CA:TRUE") && text.contains("Certificate Sign"),
            "{name}: {text}"
        );
    }
    // openssl reads the EC keys (SEC1 with the curve named, as Go writes them).
    let ec = dir.path().join("etcd.key");
    std::fs::write(&ec, c.etcd.as_ref().unwrap().key.as_str()).unwrap();
    let text = common::run(
        "openssl",
        [
            "ec",
            "-check",
            "-noout",
            "-text",
            "-in",
            ec.to_str().unwrap(),
        ],
    );
    assert!(text.contains("prime256v1"));
    let sa = dir.path().join("sa.key");
    std::fs::write(&sa, c.k8sserviceaccount.as_ref().unwrap().as_str()).unwrap();
    let text = common::run(
        "openssl",
        [
            "rsa",
            "-check",
            "-noout",
            "-text",
            "-in",
            sa.to_str().unwrap(),
        ],
    );
    assert!(text.contains("4096 bit"));
}
