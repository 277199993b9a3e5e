//! talosconfig and kubeconfig: the files real tools read, certificates that verify, and a
//! real TLS handshake.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{assert_verifies, run, write};
use std::ffi::OsStr;

mod common;
use std::sync::OnceLock;
use std::time::{Duration as StdDuration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use infraflux_pki::ca::{self, KeyAlgorithm};
use infraflux_pki::issue::{KUBERNETES_ADMIN_VALIDITY, LeafProfile, issue};
use infraflux_pki::{CertificateAndKey, Kubeconfig, SecretsBundle, Talosconfig};
use x509_parser::prelude::*;

fn bundle() -> &'static SecretsBundle {
    static B: OnceLock<SecretsBundle> = OnceLock::new();
    B.get_or_init(|| SecretsBundle::generate(::time::OffsetDateTime::now_utc()).unwrap())
}

fn now() -> ::time::OffsetDateTime {
    ::time::OffsetDateTime::now_utc()
}

fn unb64(s: &str) -> String {
    String::from_utf8(STANDARD.decode(s).unwrap()).unwrap()
}

fn ski(cert: &X509Certificate) -> Option<Vec<u8>> {
    cert.extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
            _ => None,
        })
}

fn aki(cert: &X509Certificate) -> Option<Vec<u8>> {
    cert.extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                a.key_identifier.as_ref().map(|k| k.0.to_vec())
            }
            _ => None,
        })
}

fn check_client(
    cert_pem: &str,
    ca_pem: &str,
    cn: Option<&str>,
    orgs: &[&str],
    key_encipherment: bool,
    days: i64,
) {
    let der = ::pem::parse(cert_pem).unwrap().into_contents();
    let (_, cert) = parse_x509_certificate(&der).unwrap();
    let ca_der = ::pem::parse(ca_pem).unwrap().into_contents();
    let (_, ca_cert) = parse_x509_certificate(&ca_der).unwrap();
    assert!(!cert.is_ca());
    assert_eq!(
        cert.subject()
            .iter_common_name()
            .map(|c| c.as_str().unwrap())
            .collect::<Vec<_>>(),
        cn.into_iter().collect::<Vec<_>>()
    );
    assert_eq!(
        cert.subject()
            .iter_organization()
            .map(|o| o.as_str().unwrap())
            .collect::<Vec<_>>(),
        orgs
    );
    let ku = cert.key_usage().unwrap().unwrap().value;
    assert!(ku.digital_signature() && !ku.key_cert_sign());
    assert_eq!(ku.key_encipherment(), key_encipherment);
    let eku = cert.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.client_auth && !eku.server_auth);
    assert_eq!(aki(&cert), ski(&ca_cert), "the AKI names the issuing CA");
    let secs = cert.validity().not_after.timestamp() - cert.validity().not_before.timestamp();
    assert!((secs - days * 86_400).abs() <= 10, "{secs}");
}

#[test]
fn talosconfig_has_one_context_no_default_nodes_and_an_os_admin_certificate() {
    let endpoints = vec!["192.168.10.51".to_string(), "192.168.10.52".to_string()];
    let tc = Talosconfig::generate("mgmt", &endpoints, bundle(), now()).unwrap();
    let yaml = tc.to_yaml();
    assert!(!yaml.contains("nodes"), "{}", yaml.as_str());
    assert!(
        yaml.starts_with("context: mgmt\ncontexts:\n    mgmt:\n        endpoints:\n"),
        "{}",
        yaml.as_str()
    );
    let parsed: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
    assert_eq!(
        parsed["contexts"]["mgmt"]["endpoints"],
        serde_json::json!(endpoints)
    );
    let ctx = &tc.contexts["mgmt"];
    let os = bundle().certs.os.as_ref().unwrap();
    assert_eq!(unb64(&ctx.ca), os.certificate);
    let crt = unb64(&ctx.crt);
    check_client(&crt, &os.certificate, None, &["os:admin"], false, 365);
    let key = unb64(&ctx.key);
    assert!(key.starts_with("-----BEGIN ED25519 PRIVATE KEY-----"));
    // The key in the file is the certificate's key.
    let der = ::pem::parse(&crt).unwrap().into_contents();
    let (_, cert) = parse_x509_certificate(&der).unwrap();
    assert_eq!(
        ca::decode_key(&key).unwrap().public_key_raw(),
        cert.public_key().subject_public_key.data.as_ref()
    );
    let dir = tempfile::tempdir().unwrap();
    assert_verifies(
        &write(dir.path(), "ca.crt", &os.certificate),
        &write(dir.path(), "c.crt", &crt),
    );
}

#[test]
fn kubeconfig_is_read_by_kubectl_and_its_certificate_verifies() {
    let kc = Kubeconfig::admin(
        "mgmt",
        "https://192.168.10.50:6443",
        bundle(),
        now(),
        KUBERNETES_ADMIN_VALIDITY,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "kubeconfig", &kc.to_yaml());
    let v = kubectl_view(&path);
    assert_eq!(v["current-context"], "admin@mgmt");
    // client-go's field names, exactly (kubectl ignores misspelt ones silently).
    assert_eq!(
        (&v["apiVersion"], &v["kind"]),
        (&serde_json::json!("v1"), &serde_json::json!("Config"))
    );
    let raw: serde_json::Value = serde_saphyr::from_str(&kc.to_yaml()).unwrap();
    let mut keys: Vec<&str> = raw
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "apiVersion",
            "clusters",
            "contexts",
            "current-context",
            "kind",
            "preferences",
            "users"
        ]
    );
    assert_eq!(
        v["clusters"][0]["cluster"]["server"],
        "https://192.168.10.50:6443"
    );
    assert_eq!(v["contexts"][0]["context"]["namespace"], "default");
    assert_eq!(v["users"][0]["name"], "admin@mgmt");
    assert_eq!(
        v["users"][0]["user"]["client-key-data"],
        kc.users[0].user.client_key_data.as_str()
    );
    let contexts = run(
        "kubectl",
        [
            OsStr::new("--kubeconfig"),
            path.as_os_str(),
            OsStr::new("config"),
            OsStr::new("get-contexts"),
            OsStr::new("-o"),
            OsStr::new("name"),
        ],
    );
    assert_eq!(contexts.trim(), "admin@mgmt");
    let k8s = bundle().certs.k8s.as_ref().unwrap();
    let crt = unb64(&kc.users[0].user.client_certificate_data);
    check_client(
        &crt,
        &k8s.certificate,
        Some("admin"),
        &["system:masters"],
        true,
        365,
    );
    assert_verifies(
        &write(dir.path(), "ca.crt", &k8s.certificate),
        &write(dir.path(), "admin.crt", &crt),
    );
    assert!(unb64(&kc.users[0].user.client_key_data).starts_with("-----BEGIN EC PRIVATE KEY-----"));
}

/// Starts `openssl s_server` on a free loopback port, requiring a client certificate from
/// `ca`; returns the child and the port once it accepts connections.
fn tls_server(dir: &Path, ca: &Path, server: &CertificateAndKey) -> (std::process::Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cert = write(dir, "server.crt", &server.certificate);
    let key = write(dir, "server.key", server.key.as_str());
    let mut child = Command::new("openssl")
        .args([
            "s_server",
            "-naccept",
            "1",
            "-verify_return_error",
            "-Verify",
            "1",
            "-accept",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(cert)
        .arg("-key")
        .arg(key)
        .arg("-CAfile")
        .arg(ca)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // s_server prints ACCEPT once it listens; a probe connection would use up -naccept 1.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let deadline = Instant::now() + StdDuration::from_secs(10);
    while !line.contains("ACCEPT") {
        line.clear();
        if std::io::BufRead::read_line(&mut stdout, &mut line).unwrap() == 0 {
            let mut err = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            panic!("s_server exited before listening: {err}");
        }
        assert!(Instant::now() < deadline, "s_server did not start");
    }
    // Keep draining its output so that it never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    (child, port)
}

/// Connects with `openssl s_client` presenting `client`; whether the server accepted it.
fn handshake(dir: &Path, port: u16, ca: &Path, client: &CertificateAndKey) -> bool {
    let cert = write(dir, "client.crt", &client.certificate);
    let key = write(dir, "client.key", client.key.as_str());
    let out = Command::new("openssl")
        .args(["s_client", "-brief", "-verify_return_error", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-servername")
        .arg("localhost")
        .arg("-cert")
        .arg(cert)
        .arg("-key")
        .arg(key)
        .arg("-CAfile")
        .arg(ca)
        // Send a line, so that with TLS 1.3 the server's verdict on the client certificate
        // arrives before the client hangs up.
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            std::io::Write::write_all(c.stdin.as_mut().unwrap(), b"ping\n")?;
            std::thread::sleep(StdDuration::from_millis(300));
            drop(c.stdin.take());
            c.wait_with_output()
        })
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    out.status.success() && !stderr.contains("alert")
}

#[test]
fn tls_server_of_the_kubernetes_ca_accepts_the_admin_and_rejects_a_stranger() {
    let k8s = bundle().certs.k8s.as_ref().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = write(dir.path(), "ca.crt", &k8s.certificate);
    let server = issue(
        k8s,
        &LeafProfile::server(
            &["localhost", "127.0.0.1"],
            now(),
            ::time::Duration::days(1),
        ),
    )
    .unwrap();
    let kc = Kubeconfig::admin(
        "mgmt",
        "https://127.0.0.1:6443",
        bundle(),
        now(),
        KUBERNETES_ADMIN_VALIDITY,
    )
    .unwrap();
    let admin = CertificateAndKey {
        certificate: unb64(&kc.users[0].user.client_certificate_data),
        key: infraflux_pki::PrivateKeyPem(zeroize::Zeroizing::new(unb64(
            &kc.users[0].user.client_key_data,
        ))),
    };
    let (mut srv, port) = tls_server(dir.path(), &ca, &server);
    assert!(
        handshake(dir.path(), port, &ca, &admin),
        "the admin certificate must be accepted"
    );
    let _ = srv.wait();

    // A client certificate with the same subject from another CA is refused.
    let other_ca = ca::generate_ca(
        KeyAlgorithm::EcdsaP256,
        Some("kubernetes"),
        now(),
        ::time::Duration::days(1),
    )
    .unwrap();
    let stranger = issue(
        &other_ca,
        &LeafProfile::kubernetes_admin(now(), KUBERNETES_ADMIN_VALIDITY),
    )
    .unwrap();
    let (mut srv, port) = tls_server(dir.path(), &ca, &server);
    let accepted = handshake(dir.path(), port, &ca, &stranger);
    let _ = srv.kill();
    let mut err = String::new();
    let _ = srv.stderr.take().unwrap().read_to_string(&mut err);
    let _ = srv.wait();
    assert!(!accepted, "a certificate from another CA must be refused");
    assert!(
        err.to_lowercase().contains("verify") || err.contains("certificate"),
        "server said: {err}"
    );
}

fn kubectl_view(path: &Path) -> serde_json::Value {
    let json = run(
        "kubectl",
        [
            OsStr::new("--kubeconfig"),
            path.as_os_str(),
            OsStr::new("config"),
            OsStr::new("view"),
            OsStr::new("--raw"),
            OsStr::new("-o"),
            OsStr::new("json"),
        ],
    );
    serde_json::from_str(&json).unwrap()
}

fn named<'a>(view: &'a serde_json::Value, list: &str, name: &str) -> Option<&'a serde_json::Value> {
    view[list].as_array()?.iter().find(|e| e["name"] == name)
}

#[test]
fn kubeconfig_merge_keeps_every_other_entry_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    let kubectl = |args: &[&str]| {
        let mut all = vec![OsStr::new("--kubeconfig"), path.as_os_str()];
        all.extend(args.iter().map(OsStr::new));
        run("kubectl", all);
    };
    // Someone's existing config, made by kubectl itself, with a stale entry of ours.
    kubectl(&[
        "config",
        "set-cluster",
        "work",
        "--server=https://10.1.2.3:6443",
        "--insecure-skip-tls-verify=true",
    ]);
    kubectl(&["config", "set-credentials", "me@work", "--token=abc123"]);
    kubectl(&[
        "config",
        "set-context",
        "me@work",
        "--cluster=work",
        "--user=me@work",
        "--namespace=team",
    ]);
    kubectl(&[
        "config",
        "set-cluster",
        "mgmt",
        "--server=https://192.0.2.1:6443",
    ]);
    kubectl(&["config", "use-context", "me@work"]);
    let before = kubectl_view(&path);

    let ours = Kubeconfig::admin(
        "mgmt",
        "https://192.168.10.50:6443",
        bundle(),
        now(),
        KUBERNETES_ADMIN_VALIDITY,
    )
    .unwrap();
    let merged = ours
        .merge_into(&std::fs::read_to_string(&path).unwrap())
        .unwrap();
    std::fs::write(&path, merged.as_str()).unwrap();
    let after = kubectl_view(&path);

    for (list, name) in [
        ("clusters", "work"),
        ("users", "me@work"),
        ("contexts", "me@work"),
    ] {
        assert_eq!(
            named(&after, list, name),
            named(&before, list, name),
            "{list}/{name} changed"
        );
    }
    assert_eq!(
        named(&after, "clusters", "mgmt").unwrap()["cluster"]["server"],
        "https://192.168.10.50:6443"
    );
    assert_eq!(
        after["clusters"].as_array().unwrap().len(),
        2,
        "the stale `mgmt` entry is replaced, not duplicated"
    );
    assert_eq!(after["current-context"], "admin@mgmt");
    assert!(named(&after, "users", "admin@mgmt").is_some());
    // Into nothing: a fresh file.
    let fresh = ours.merge_into("").unwrap();
    assert_eq!(
        serde_saphyr::from_str::<serde_json::Value>(&fresh).unwrap(),
        serde_json::to_value(&ours).unwrap()
    );
}

#[test]
fn talosconfig_merge_keeps_other_contexts() {
    let other = Talosconfig::generate("lab", &["10.0.0.2".to_string()], bundle(), now()).unwrap();
    let ours =
        Talosconfig::generate("mgmt", &["192.168.10.51".to_string()], bundle(), now()).unwrap();
    let merged = ours.merge_into(&other.to_yaml()).unwrap();
    let v: serde_json::Value = serde_saphyr::from_str(&merged).unwrap();
    assert_eq!(v["context"], "mgmt");
    assert_eq!(
        v["contexts"]["lab"],
        serde_json::to_value(&other.contexts["lab"]).unwrap()
    );
    assert_eq!(
        v["contexts"]["mgmt"],
        serde_json::to_value(&ours.contexts["mgmt"]).unwrap()
    );
    assert!(!merged.contains("nodes"));
}
