//! End-to-end tests of the `infraflux` binary.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `cmd`, asserts its exit code, and returns what it printed on stdout.
fn stdout(cmd: &mut Command, code: i32) -> Vec<u8> {
    cmd.assert().code(code).get_output().stdout.clone()
}

fn infraflux() -> Command {
    let mut cmd = Command::cargo_bin("infraflux").unwrap();
    cmd.env("NO_COLOR", "1")
        .env_remove("SOPS_AGE_KEY")
        .env_remove("SOPS_AGE_KEY_FILE");
    cmd
}

/// A spec with one error and one warning: the VIP collides with a node.
const BROKEN: &str = "\
apiVersion: infraflux.dev/v1alpha1
kind: Platform
metadata: { name: t }
spec:
  git: { repoURL: https://example.com/p.git }
  secrets: { age: { recipients: [age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p] } }
  proxmox: { endpoint: https://pve1:8006, tokenID: a@pve!b, tokenSecret: { env: T }, nodes: [pve1] }
  network: { nodeCIDR: 10.0.0.0/24, gateway: 10.0.0.1, loadBalancer: { pools: [10.0.0.200-10.0.0.210] } }
  management:
    endpoint: { vip: 10.0.0.11 }
    controlPlanes: [{ name: cp-1, ip: 10.0.0.11, proxmoxNode: pve1 }]
";

#[test]
fn check_accepts_every_example() {
    for example in ["homelab", "ha", "multi-cluster"] {
        infraflux()
            .args([
                "check",
                &format!("{}/examples/{example}.yaml", root().display()),
            ])
            .assert()
            .code(0)
            .stderr(predicate::str::contains(": valid, 0 errors"));
    }
}

#[test]
fn check_exit_codes_follow_errors_and_warnings() {
    let homelab = root().join("examples/homelab.yaml");
    // homelab has one warning (single control plane).
    infraflux()
        .arg("check")
        .arg(&homelab)
        .arg("--deny-warnings")
        .assert()
        .code(1);
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("infraflux.yaml");
    std::fs::write(&spec, BROKEN).unwrap();
    infraflux()
        .arg("check")
        .arg(&spec)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("10.0.0.11 is used twice"))
        .stderr(predicate::str::contains("infraflux.yaml:11:"))
        .stderr(predicate::str::contains("help:"));
    // Default spec path is ./infraflux.yaml.
    infraflux()
        .current_dir(dir.path())
        .arg("check")
        .assert()
        .code(2);
    // Missing file: an input error with a hint.
    infraflux()
        .arg("check")
        .arg(dir.path().join("nope.yaml"))
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("cannot read").and(predicate::str::contains("infraflux init")),
        );
}

#[test]
fn check_json_output_has_a_stable_shape() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("infraflux.yaml");
    std::fs::write(&spec, BROKEN).unwrap();
    let out = stdout(
        infraflux()
            .arg("check")
            .arg(&spec)
            .args(["--output", "json"]),
        2,
    );
    let doc: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["valid"], false);
    assert_eq!(doc["errors"], 1);
    assert_eq!(doc["warnings"], 1);
    assert_eq!(doc["file"], spec.display().to_string());
    let diags = doc["diagnostics"].as_array().unwrap();
    let dup = diags
        .iter()
        .find(|d| d["code"] == "duplicate-ip")
        .expect("duplicate-ip reported");
    assert_eq!(dup["severity"], "error");
    assert_eq!(dup["path"], "spec.management.controlPlanes[0].ip");
    assert_eq!(
        (dup["line"].as_u64(), dup["column"].as_u64()),
        (Some(11), Some(39))
    );
    assert!(dup["hint"].as_str().is_some_and(|h| !h.is_empty()));
    assert_eq!(dup["related"][0]["path"], "spec.management.endpoint.vip");
    assert_eq!(dup["related"][0]["line"], 10);
    let warn = diags.iter().find(|d| d["severity"] == "warning").unwrap();
    assert_eq!(warn["code"], "single-control-plane");
    assert!(doc["resolved"].is_null());
}

#[test]
fn print_resolved_shows_defaults_and_derived_values() {
    let out = stdout(
        infraflux()
            .arg("check")
            .arg(root().join("examples/multi-cluster.yaml"))
            .arg("--print-resolved"),
        0,
    );
    let yaml = String::from_utf8(out).unwrap();
    // Derived: the guest agent extension and the built-in sizes next to the custom one.
    assert!(yaml.contains("siderolabs/qemu-guest-agent"), "{yaml}");
    for size in ["small:", "medium:", "large:", "xlarge:"] {
        assert!(yaml.contains(size), "{size} missing");
    }
    // The printed form is itself a valid spec.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("resolved.yaml"), &yaml).unwrap();
    infraflux()
        .arg("check")
        .arg(dir.path().join("resolved.yaml"))
        .assert()
        .code(0);
}

#[test]
fn init_then_check_passes_and_init_refuses_to_overwrite() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("Home Lab");
    let run_init = || {
        let mut cmd = infraflux();
        cmd.env("HOME", home.path())
            .env_remove("XDG_CONFIG_HOME")
            .arg("init")
            .arg(&repo);
        cmd
    };
    run_init()
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Initialised platform `home-lab`"));
    let key = home.path().join(".config/sops/age/keys.txt");
    let key_text = std::fs::read_to_string(&key).unwrap();
    assert!(key_text.contains("AGE-SECRET-KEY-1"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(key.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
    }
    let recipient = key_text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_string();
    let spec = std::fs::read_to_string(repo.join("infraflux.yaml")).unwrap();
    assert!(spec.contains(&recipient));
    assert!(
        std::fs::read_to_string(repo.join(".sops.yaml"))
            .unwrap()
            .contains(&recipient)
    );
    assert!(
        std::fs::read_to_string(repo.join(".gitignore"))
            .unwrap()
            .contains(".infraflux/")
    );
    // No private key anywhere in the repository.
    let files = walk(&repo);
    assert!(files.len() >= 4, "{files:?}");
    for file in files {
        assert!(
            !std::fs::read_to_string(&file)
                .unwrap()
                .contains("AGE-SECRET-KEY"),
            "{}",
            file.display()
        );
    }
    infraflux().current_dir(&repo).arg("check").assert().code(0);
    // The editor modeline points at a schema init wrote, identical to the published one.
    let modeline = spec.lines().next().unwrap();
    let schema_path = modeline
        .strip_prefix("# yaml-language-server: $schema=")
        .expect("modeline first");
    let local: Value =
        serde_json::from_str(&std::fs::read_to_string(repo.join(schema_path)).unwrap()).unwrap();
    assert_eq!(local, infraflux_spec_schema());

    // A second init refuses and changes nothing.
    std::fs::write(repo.join("infraflux.yaml"), "mine").unwrap();
    run_init()
        .assert()
        .code(2)
        .stderr(predicate::str::contains("never overwrites"));
    assert_eq!(
        std::fs::read_to_string(repo.join("infraflux.yaml")).unwrap(),
        "mine"
    );
    assert_eq!(std::fs::read_to_string(&key).unwrap(), key_text);

    // A second repository reuses the same identity.
    let other = work.path().join("other");
    let mut cmd = infraflux();
    cmd.env("HOME", home.path())
        .env_remove("XDG_CONFIG_HOME")
        .arg("init")
        .arg(&other);
    cmd.assert()
        .code(0)
        .stdout(predicate::str::contains("reused"));
    assert!(
        std::fs::read_to_string(other.join("infraflux.yaml"))
            .unwrap()
            .contains(&recipient)
    );
}

#[test]
fn init_never_puts_the_key_inside_the_repository() {
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    infraflux()
        .env("SOPS_AGE_KEY_FILE", repo.join("keys/keys.txt"))
        .arg("init")
        .arg(&repo)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("inside the repository"));
    assert!(!repo.join("keys/keys.txt").exists());
    assert!(!repo.join("infraflux.yaml").exists());
}

#[test]
fn init_honours_sops_age_key_file_and_xdg_config_home() {
    let work = tempfile::tempdir().unwrap();
    let key = work.path().join("elsewhere/my-key.txt");
    infraflux()
        .env("SOPS_AGE_KEY_FILE", &key)
        .arg("init")
        .arg(work.path().join("a"))
        .assert()
        .code(0);
    assert!(key.exists());
    let xdg = work.path().join("xdg");
    infraflux()
        .env("XDG_CONFIG_HOME", &xdg)
        .env("HOME", work.path().join("nohome"))
        .arg("init")
        .arg(work.path().join("b"))
        .assert()
        .code(0);
    assert!(xdg.join("sops/age/keys.txt").exists());
}

/// Every file under `dir`, recursively.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path))
        } else {
            out.push(path)
        }
    }
    out
}

fn infraflux_spec_schema() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("schema/infraflux.v1alpha1.json")).unwrap(),
    )
    .unwrap()
}

#[test]
fn schema_command_prints_the_published_schema() {
    let out = stdout(infraflux().arg("schema"), 0);
    let printed: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(printed, infraflux_spec_schema());
}

#[test]
fn help_has_examples_and_usage_errors_exit_2() {
    for cmd in [
        vec!["--help"],
        vec!["check", "--help"],
        vec!["init", "--help"],
        vec!["schema", "--help"],
        vec!["talos", "gen", "secrets", "--help"],
        vec!["talos", "gen", "config", "--help"],
        vec!["talos", "kubeconfig", "--help"],
        vec!["talos", "talosconfig", "--help"],
        vec!["talos", "schematic", "--help"],
    ] {
        infraflux()
            .args(&cmd)
            .assert()
            .code(0)
            .stdout(predicate::str::contains("Examples:"));
    }
    infraflux()
        .args(["check", "--output", "xml"])
        .assert()
        .code(2);
    infraflux().arg("frobnicate").assert().code(2);
}

#[test]
fn talos_schematic_prints_the_id_of_the_exact_yaml() {
    let spec = root().join("examples/homelab.yaml");
    let yaml = stdout(
        infraflux()
            .args(["talos", "schematic", "--yaml-only"])
            .arg(&spec),
        0,
    );
    let out = stdout(
        infraflux()
            .args(["talos", "schematic", "-o", "json"])
            .arg(&spec),
        0,
    );
    let doc: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        doc["schematic"].as_str().unwrap().as_bytes(),
        yaml.as_slice()
    );
    let id = doc["images"]["schematicId"].as_str().unwrap();
    assert_eq!(id.len(), 64);
    assert!(
        doc["images"]["installer"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/{id}:v1.11.6"))
    );
    // The ID is the SHA-256 of the YAML, checked with an independent implementation.
    let mut sha = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(sha.stdin.as_mut().unwrap(), &yaml).unwrap();
    let digest = String::from_utf8(sha.wait_with_output().unwrap().stdout).unwrap();
    assert_eq!(digest.split_whitespace().next(), Some(id));
    // An invalid spec stops with its diagnostics.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.yaml"), BROKEN).unwrap();
    infraflux()
        .args(["talos", "schematic"])
        .arg(dir.path().join("bad.yaml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("used twice"));
}

#[test]
fn talos_gen_secrets_writes_a_private_bundle_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("secrets.yaml");
    // Encrypted unless asked otherwise: with nobody to encrypt for, nothing is written.
    infraflux()
        .current_dir(dir.path())
        .args(["talos", "gen", "secrets", "-o"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("no recipients").and(predicate::str::contains("--plaintext")),
        );
    assert!(!out.exists());
    infraflux()
        .args(["talos", "gen", "secrets", "--plaintext", "-o"])
        .arg(&out)
        .assert()
        .code(0);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let text = std::fs::read_to_string(&out).unwrap();
    let doc: Value = serde_saphyr::from_str(&text).unwrap();
    for key in ["cluster", "secrets", "trustdinfo", "certs"] {
        assert!(doc.get(key).is_some(), "{key} missing");
    }
    // The OS CA, decoded from the file, is an Ed25519 CA for O=talos (checked with openssl).
    use base64::Engine;
    let crt = base64::engine::general_purpose::STANDARD
        .decode(doc["certs"]["os"]["crt"].as_str().unwrap())
        .unwrap();
    let crt_path = dir.path().join("os.crt");
    std::fs::write(&crt_path, crt).unwrap();
    let x509 = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-text", "-in"])
        .arg(&crt_path)
        .output()
        .unwrap();
    let x509 = String::from_utf8_lossy(&x509.stdout);
    assert!(
        x509.contains("O = talos") && x509.contains("ED25519"),
        "{x509}"
    );
    // Never replaced.
    infraflux()
        .args(["talos", "gen", "secrets", "--plaintext", "-o"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("never replaced"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), text);
}

#[test]
fn talos_gen_config_writes_every_nodes_config_and_never_regenerates_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("talos");
    let ha = root().join("examples/ha.yaml");
    let gen_config = || {
        let mut cmd = infraflux();
        cmd.args(["talos", "gen", "config", "--plaintext"])
            .arg(&ha)
            .arg("-o")
            .arg(&out);
        cmd
    };
    gen_config()
        .assert()
        .code(0)
        .stdout(predicate::str::contains("created  secrets.yaml"));
    let names = [
        "secrets.yaml",
        "cp-1.yaml",
        "cp-2.yaml",
        "cp-3.yaml",
        "worker-1.yaml",
        "worker-2.yaml",
        "worker-3.yaml",
        "talosconfig",
        "kubeconfig",
        "schematic.yaml",
    ];
    for name in names {
        let meta = std::fs::metadata(out.join(name)).unwrap_or_else(|_| panic!("{name} missing"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let want = if name == "schematic.yaml" {
                0o644
            } else {
                0o600
            };
            assert_eq!(meta.permissions().mode() & 0o777, want, "{name}");
        }
    }
    // Same spec, same bundle: byte-identical configs.
    let before = std::fs::read(out.join("cp-2.yaml")).unwrap();
    gen_config()
        .assert()
        .code(0)
        .stdout(predicate::str::contains("reused   secrets.yaml"));
    assert_eq!(std::fs::read(out.join("cp-2.yaml")).unwrap(), before);
    // kubectl reads the kubeconfig; the talosconfig names its control planes and no nodes.
    let view = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(out.join("kubeconfig"))
        .args(["config", "get-contexts", "-o", "name"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&view.stdout).trim(), "admin@mgmt");
    let tc = std::fs::read_to_string(out.join("talosconfig")).unwrap();
    assert!(tc.contains("10.20.0.11") && !tc.contains("nodes"));
    // A lost bundle is never silently replaced.
    std::fs::remove_file(out.join("secrets.yaml")).unwrap();
    gen_config()
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Restore it from your backup"));
    assert!(!out.join("secrets.yaml").exists());
}

#[test]
fn talos_gen_config_reports_a_failing_patch_at_its_place_in_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("examples/homelab.yaml")).unwrap().replace(
        "      - node: mgmt-cp-1\n        patch:\n          - op: add",
        "      - node: mgmt-cp-1\n        patch:\n          - op: replace\n            path: /machine/nosuch\n            value: 1\n          - op: add",
    );
    let spec = dir.path().join("infraflux.yaml");
    std::fs::write(&spec, &text).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("path: /machine/nosuch"))
        .unwrap();
    // The diagnostic points at the patch (the list under `patch:`), one line above its first op.
    infraflux()
        .args(["talos", "gen", "config", "--plaintext"])
        .arg(&spec)
        .arg("-o")
        .arg(dir.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/machine/nosuch"))
        .stderr(predicate::str::contains(format!(
            "infraflux.yaml:{}:",
            line - 1
        )));
    // Nothing was written, not even the new bundle.
    assert!(!dir.path().join("out").exists());
}

#[test]
fn talos_client_configs_merge_into_the_tools_default_files() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let spec = root().join("examples/homelab.yaml");
    let talos = dir.path().join("talos");
    infraflux()
        .args(["talos", "gen", "config", "--plaintext"])
        .arg(&spec)
        .arg("-o")
        .arg(&talos)
        .assert()
        .code(0);
    let secrets = talos.join("secrets.yaml");
    // An existing kubeconfig with someone else's cluster, at $KUBECONFIG.
    let kubeconfig = dir.path().join("kube.yaml");
    let kubectl = |args: &[&str]| {
        let out = std::process::Command::new("kubectl")
            .env("KUBECONFIG", &kubeconfig)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    kubectl(&[
        "config",
        "set-cluster",
        "work",
        "--server=https://10.9.9.9:6443",
    ]);
    kubectl(&["config", "set-context", "me@work", "--cluster=work"]);
    let run = |kind: &str| {
        let mut cmd = infraflux();
        cmd.env("HOME", &home)
            .env("KUBECONFIG", &kubeconfig)
            .env_remove("TALOSCONFIG")
            .args(["talos", kind, "--merge", "--secrets"])
            .arg(&secrets)
            .arg(&spec);
        cmd
    };
    run("kubeconfig")
        .assert()
        .code(0)
        .stderr(predicate::str::contains("current context: admin@mgmt"));
    let contexts = kubectl(&["config", "get-contexts", "-o", "name"]);
    assert_eq!(
        contexts.lines().collect::<Vec<_>>(),
        ["admin@mgmt", "me@work"]
    );
    assert_eq!(kubectl(&["config", "current-context"]).trim(), "admin@mgmt");
    // talosconfig: ~/.talos/config when TALOSCONFIG is unset, created when missing.
    run("talosconfig").assert().code(0);
    let tc: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(home.join(".talos/config")).unwrap())
            .unwrap();
    assert_eq!(tc["context"], "mgmt");
    assert_eq!(
        tc["contexts"]["mgmt"]["endpoints"],
        serde_json::json!(["192.168.10.51"])
    );
    // Without --merge an existing file is never overwritten.
    infraflux()
        .args(["talos", "kubeconfig", "--secrets"])
        .arg(&secrets)
        .arg(&spec)
        .arg("-o")
        .arg(&kubeconfig)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("pass --merge"));
}

/// A key pair of our own and the homelab spec encrypting for it.
struct Owner {
    dir: tempfile::TempDir,
    recipient: String,
}

impl Owner {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let identity = age::x25519::Identity::generate();
        let recipient = identity.to_public().to_string();
        use age::secrecy::ExposeSecret;
        std::fs::write(
            dir.path().join("keys.txt"),
            format!("{}\n", identity.to_string().expose_secret()),
        )
        .unwrap();
        let spec = std::fs::read_to_string(root().join("examples/homelab.yaml"))
            .unwrap()
            .replace(
                "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
                &recipient,
            );
        std::fs::write(dir.path().join("infraflux.yaml"), spec).unwrap();
        Owner { dir, recipient }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn run(&self, args: &[&str]) -> Command {
        let mut cmd = infraflux();
        cmd.current_dir(self.dir.path())
            .env("HOME", self.path("home"))
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("SOPS_CONFIG")
            .env("SOPS_AGE_KEY_FILE", self.path("keys.txt"))
            .args(args);
        cmd
    }

    /// What the real sops decrypts a file to, parsed (every YAML document).
    fn sops_reads(&self, file: &str) -> Vec<Value> {
        let out = std::process::Command::new("sops")
            .env("SOPS_AGE_KEY_FILE", self.path("keys.txt"))
            .args(["--disable-version-check", "-d"])
            .arg(self.path(file))
            .output()
            .expect("the real sops (scripts/test.sh installs it)");
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        parse_all(&String::from_utf8(out.stdout).unwrap())
    }
}

fn parse_all(text: &str) -> Vec<Value> {
    serde_saphyr::from_multiple(text).unwrap()
}

#[test]
fn talos_material_is_sops_encrypted_for_the_spec_recipients() {
    let owner = Owner::new();
    owner.run(&["talos", "gen", "config"]).assert().code(0);
    for name in [
        "secrets.yaml",
        "mgmt-cp-1.yaml",
        "talosconfig.yaml",
        "kubeconfig.yaml",
    ] {
        let text = std::fs::read_to_string(owner.path(&format!("talos/{name}"))).unwrap();
        assert!(
            text.contains(&format!("recipient: {}", owner.recipient)),
            "{name} is not encrypted for the spec's recipient"
        );
        assert!(
            !text.contains("BEGIN") || !text.contains("PRIVATE KEY"),
            "{name}"
        );
        for doc in parse_all(&text) {
            assert!(
                doc.get("sops").is_some(),
                "{name}: every document carries the metadata"
            );
        }
    }
    // What sops decrypts is what --plaintext writes from the same bundle.
    owner
        .run(&[
            "talos",
            "gen",
            "config",
            "--plaintext",
            "-o",
            "plain",
            "--secrets",
            "talos/secrets.yaml",
        ])
        .assert()
        .code(0);
    let plain = parse_all(&std::fs::read_to_string(owner.path("plain/mgmt-cp-1.yaml")).unwrap());
    assert_eq!(owner.sops_reads("talos/mgmt-cp-1.yaml"), plain);
    let bundle = owner.sops_reads("talos/secrets.yaml");
    assert!(bundle[0]["certs"]["os"]["key"].is_string());
    // The same spec again: the encrypted configs stay byte-identical.
    let before = std::fs::read(owner.path("talos/mgmt-cp-1.yaml")).unwrap();
    owner
        .run(&["talos", "gen", "config"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("reused   secrets.yaml"));
    assert_eq!(
        std::fs::read(owner.path("talos/mgmt-cp-1.yaml")).unwrap(),
        before
    );
    // Client configs are issued from the encrypted bundle.
    owner
        .run(&["talos", "kubeconfig", "-o", "admin.kubeconfig"])
        .assert()
        .code(0);
    let view = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(owner.path("admin.kubeconfig"))
        .args(["config", "current-context"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&view.stdout).trim(), "admin@mgmt");
    // Without the identity the bundle cannot be read, and the error says where we looked.
    owner
        .run(&["talos", "kubeconfig", "-o", "other.kubeconfig"])
        .env("SOPS_AGE_KEY_FILE", owner.path("nothing.txt"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nothing.txt"));
}

#[test]
fn talos_gen_secrets_encrypts_for_age_or_the_sops_rule() {
    let owner = Owner::new();
    owner
        .run(&[
            "talos",
            "gen",
            "secrets",
            "--age",
            &owner.recipient,
            "-o",
            "a.yaml",
        ])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "SOPS-encrypted for 1 age recipient",
        ));
    assert!(owner.sops_reads("a.yaml")[0]["secrets"]["bootstraptoken"].is_string());
    std::fs::write(
        owner.path(".sops.yaml"),
        format!(
            "creation_rules:\n  - path_regex: ^talos/\n    age: {}\n",
            owner.recipient
        ),
    )
    .unwrap();
    std::fs::create_dir(owner.path("talos")).unwrap();
    owner
        .run(&["talos", "gen", "secrets", "-o", "talos/secrets.yaml"])
        .assert()
        .code(0);
    let decrypted = owner
        .run(&["secrets", "decrypt", "talos/secrets.yaml"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    assert!(
        String::from_utf8(decrypted)
            .unwrap()
            .contains("bootstraptoken")
    );
}

fn upstream() -> PathBuf {
    root().join("../shared/upstream")
}

#[test]
fn validate_reports_each_document_with_its_place_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("m")).unwrap();
    std::fs::create_dir(dir.path().join("m/.git")).unwrap();
    std::fs::write(
        dir.path().join("m/app.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: two\n  selector: {matchLabels: {a: b}}\n  template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("m/.git/ignored.yaml"), "not: [valid\n").unwrap();
    std::fs::write(dir.path().join("m/notes.txt"), "not yaml").unwrap();
    let k8s = upstream().join("kubernetes");
    let run = |extra: &[&str]| {
        let mut cmd = infraflux();
        cmd.current_dir(dir.path())
            .args([
                "validate",
                "--kubernetes-version",
                "1.33.0",
                "--strict",
                "-s",
            ])
            .arg(&k8s)
            .args(extra)
            .arg("m");
        cmd
    };
    run(&["--summary"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "m/app.yaml:9:13: Deployment web is invalid: spec.replicas:",
        ))
        .stdout(predicate::str::contains(
            "Summary: 2 resources found in 1 files - Valid: 1, Invalid: 1, Errors: 0, Skipped: 0",
        ));
    let json: Value = serde_json::from_slice(&stdout(&mut run(&["--output", "json"]), 1)).unwrap();
    assert_eq!(json["summary"]["invalid"], 1);
    assert_eq!(json["resources"][1]["findings"][0]["line"], 9);
    run(&["--skip", "Deployment"]).assert().code(0);
    // JUnit XML that a real XML parser reads, with the counts CI shows.
    let junit = dir.path().join("junit.xml");
    std::fs::write(&junit, stdout(&mut run(&["--output", "junit"]), 1)).unwrap();
    let parsed = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); print(r.get('tests'), r.get('failures'), len(list(r.iter('failure'))), [c.get('classname') for c in r.iter('testcase')])",
        ])
        .arg(&junit)
        .output()
        .unwrap();
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&parsed.stdout).trim(),
        "2 1 1 ['ConfigMap@v1', 'Deployment@apps/v1']"
    );
    let tap = String::from_utf8(stdout(&mut run(&["--output", "tap"]), 1)).unwrap();
    assert!(tap.starts_with("TAP version 13\nok 1 - m/app.yaml - ConfigMap ok\nnot ok 2 - m/app.yaml - Deployment web\n"), "{tap}");
    assert!(tap.ends_with("1..2\n"), "{tap}");
    // Without a location nothing can be validated: a usage error, not a pass.
    infraflux()
        .args(["validate"])
        .arg(dir.path().join("m"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--schema-location"));
}

#[test]
fn validate_reads_its_configuration_file_relative_to_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join(".infraflux")).unwrap();
    std::fs::create_dir_all(root.join("apps/sub")).unwrap();
    std::fs::create_dir_all(root.join("vendor")).unwrap();
    // Paths in the configuration are from the repository root, wherever the command runs.
    std::fs::write(
        root.join(".infraflux/validate.yaml"),
        format!(
            "schemaLocations: [{}]\nkubernetesVersion: 1.33.0\nstrict: true\npolicy: true\nignoreFilenamePatterns: ['^vendor/']\nrules:\n  IF003: off\n  IF008: off\n  IF005: error\n",
            upstream().join("kubernetes").display()
        ),
    )
    .unwrap();
    std::fs::write(
        root.join("apps/sub/ns.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: web}\nspec:\n  containers: [{name: c, image: busybox, resources: {limits: {cpu: 1, memory: 1Gi}}}]\n",
    )
    .unwrap();
    std::fs::write(root.join("vendor/broken.yaml"), "not: [yaml\n").unwrap();
    infraflux()
        .current_dir(root.join("apps"))
        .args(["validate", "--summary", "."])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "sub/ns.yaml:9:33: Pod p: error IF005: spec.containers[0].image: container `c` runs `busybox`, which has no tag",
        ))
        .stdout(predicate::str::contains("IF003").not())
        .stdout(predicate::str::contains("IF008").not())
        .stdout(predicate::str::contains("Summary: 2 resources found in 1 files - Valid: 1, Invalid: 1"));
    // The patterns are matched on the path as given: from the root, vendor/ is left out.
    infraflux()
        .current_dir(root)
        .args(["validate", "."])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("broken").not());

    // A mistake in the file names the file, line and column, and the keys there are.
    for (config, says) in [
        (
            "strict: true\nschemaLocation: [x]\n",
            [
                ".infraflux/validate.yaml:2:1: unknown field `schemaLocation`",
                "hint: the keys are schemaLocations",
            ],
        ),
        (
            "rules: {IF042: off}\nschemaLocations: [x]\n",
            [
                "rules: unknown rule `IF042`; the rules are IF001",
                ".infraflux/validate.yaml",
            ],
        ),
    ] {
        std::fs::write(root.join(".infraflux/validate.yaml"), config).unwrap();
        let mut assert = infraflux()
            .current_dir(root)
            .args(["validate", "."])
            .assert()
            .code(2);
        for s in says {
            assert = assert.stderr(predicate::str::contains(s));
        }
    }
}

#[test]
fn validate_explains_rules_stops_on_request_and_reports_unreadable_files() {
    infraflux()
        .args(["validate", "--explain", "if001"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "IF001 plaintext-secret (error by default)\n\nA Secret with `data`",
        ));
    let all = String::from_utf8(stdout(infraflux().args(["validate", "--explain"]), 0)).unwrap();
    for r in 1..=10 {
        assert!(
            all.contains(&format!("IF{r:03} ")),
            "IF{r:03} is not listed:\n{all}"
        );
    }
    infraflux()
        .args(["validate", "--explain", "IF077"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown rule `IF077`"));

    let dir = tempfile::tempdir().unwrap();
    let k8s = upstream().join("kubernetes/v1.33.0-standalone-strict");
    let good = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n";
    let bad = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {num: 1}\n";
    std::fs::write(
        dir.path().join("1.yaml"),
        format!("{good}---\n{bad}---\n{good}"),
    )
    .unwrap();
    std::fs::write(dir.path().join("2.yaml"), bad).unwrap();
    let out = String::from_utf8(stdout(
        infraflux()
            .current_dir(dir.path())
            .args(["validate", "--exit-on-error", "--summary", "-s"])
            .arg(&k8s)
            .arg("."),
        1,
    ))
    .unwrap();
    assert!(
        out.contains("./1.yaml:8:13: ConfigMap b is invalid: data.num:"),
        "{out}"
    );
    assert!(!out.contains("2.yaml"), "{out}");
    assert!(
        out.contains("Summary: 2 resources found in 1 files"),
        "{out}"
    );
    assert!(
        out.contains("Stopped at the first document that is not valid"),
        "{out}"
    );

    // stdin is read as a stream; a file that cannot be read is exit 2, after the rest.
    let stream: String = (0..5000)
        .map(|i| format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n"))
        .collect();
    infraflux()
        .args(["validate", "--summary", "-s"])
        .arg(&k8s)
        .arg("-")
        .write_stdin(format!("{stream}---\n{bad}"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "-:20005:13: ConfigMap b is invalid",
        ))
        .stdout(predicate::str::contains(
            "Summary: 5001 resources found in 1 files - Valid: 5000, Invalid: 1",
        ));
    std::fs::write(dir.path().join("3.yaml"), [0xff, 0xfe, b'\n']).unwrap();
    infraflux()
        .current_dir(dir.path())
        .args(["validate", "-s"])
        .arg(&k8s)
        .args(["3.yaml", "2.yaml"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "3.yaml:1:1: document 1 is error: cannot read 3.yaml: line 1 is not UTF-8",
        ))
        .stdout(predicate::str::contains(
            "2.yaml:4:13: ConfigMap b is invalid",
        ));
}

#[test]
fn graph_prints_the_waves() {
    let spec = root().join("examples/homelab.yaml");
    let mermaid = String::from_utf8(stdout(infraflux().arg("graph").arg(&spec), 0)).unwrap();
    assert!(mermaid.starts_with("flowchart LR\n"), "{mermaid}");
    assert!(
        mermaid.contains("subgraph wave0[\"wave 0\"]\n    gateway_api_crds[\"gateway-api-crds\"]\n  end\n  subgraph wave1[\"wave 1\"]\n    cilium[\"cilium\"]\n  end"),
        "{mermaid}"
    );
    assert!(mermaid.contains("  kube_prometheus_stack --> cilium_monitoring\n"));
    let dot = String::from_utf8(stdout(
        infraflux()
            .arg("graph")
            .arg(&spec)
            .args(["--format", "dot"]),
        0,
    ))
    .unwrap();
    assert!(dot.starts_with("digraph platform {"), "{dot}");
}

/// The Mermaid pictures in the README and docs/layout.md are `infraflux graph`'s output.
#[test]
fn the_documented_graph_is_the_current_one() {
    let spec = root().join("examples/homelab.yaml");
    let mermaid = String::from_utf8(stdout(infraflux().arg("graph").arg(&spec), 0)).unwrap();
    for doc in ["README.md", "docs/layout.md"] {
        let text = std::fs::read_to_string(root().join(doc)).unwrap();
        assert!(
            text.contains(&format!("```mermaid\n{mermaid}```")),
            "{doc} shows an outdated graph; replace its Mermaid block with `infraflux graph examples/homelab.yaml`:\n{mermaid}"
        );
    }
}
