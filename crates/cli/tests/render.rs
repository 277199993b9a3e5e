//! `infraflux render` end to end: the tree is written, owned and checked; Secrets come
//! from their sources (SOPS files made by the real `sops`, environment variables),
//! encrypted so that the real `sops` opens them, never in plain text, and re-encrypted
//! only when their sources change.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const CLOUDFLARE_TOKEN: &str = "cf-token-0123456789abcdef";
const ETCD_SECRET_KEY: &str = "etcd-secret-key-fedcba9876543210";
const LONGHORN_SECRET_KEY: &str = "longhorn-secret-key-13579bdf";
const PROXMOX_SECRET: &str = "5f0c7a1e-proxmox-token-secret";

/// One age identity and one Talos secrets bundle encrypted for it, made once per test run
/// (the bundle's RSA-4096 key takes seconds): the identity file's text, its recipient,
/// the encrypted bundle.
fn shared() -> &'static (String, String, String) {
    static SHARED: std::sync::OnceLock<(String, String, String)> = std::sync::OnceLock::new();
    SHARED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys.txt");
        let bundle = dir.path().join("secrets.sops.yaml");
        let run = |args: &[&str]| {
            let out = Command::cargo_bin("infraflux")
                .unwrap()
                .env("SOPS_AGE_KEY_FILE", &keys)
                .args(args)
                .assert()
                .code(0)
                .get_output()
                .stdout
                .clone();
            String::from_utf8(out).unwrap().trim().to_string()
        };
        let recipient = run(&["secrets", "keygen"]);
        run(&[
            "talos",
            "gen",
            "secrets",
            "--age",
            &recipient,
            "-o",
            bundle.to_str().unwrap(),
        ]);
        (
            std::fs::read_to_string(&keys).unwrap(),
            recipient,
            std::fs::read_to_string(&bundle).unwrap(),
        )
    })
}

/// A platform repository: an example spec as `infraflux.yaml`, encrypted for the shared
/// identity, whose key file is outside the default places (commands see it only when asked).
struct Repo {
    dir: tempfile::TempDir,
    recipient: String,
}

impl Repo {
    fn new(example: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        for d in ["home", "secrets", "keys"] {
            std::fs::create_dir(dir.path().join(d)).unwrap();
        }
        let (keys, recipient, _) = shared();
        let repo = Repo {
            dir,
            recipient: recipient.clone(),
        };
        std::fs::write(repo.key_file(), keys).unwrap();
        let spec = std::fs::read_to_string(root().join(format!("examples/{example}.yaml")))
            .unwrap()
            .replace(
                "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
                &repo.recipient,
            );
        std::fs::write(repo.path("infraflux.yaml"), spec).unwrap();
        repo
    }

    /// Puts the shared Talos secrets bundle where render reads it.
    fn with_bundle(self) -> Self {
        let dir = self.path("rendered/bootstrap/talos");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("secrets.sops.yaml"), &shared().2).unwrap();
        self
    }

    fn edit_spec(&self, from: &str, to: &str) {
        let spec = std::fs::read_to_string(self.path("infraflux.yaml")).unwrap();
        assert!(spec.contains(from), "{from}");
        std::fs::write(self.path("infraflux.yaml"), spec.replacen(from, to, 1)).unwrap();
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn key_file(&self) -> PathBuf {
        self.path("keys/keys.txt")
    }

    fn cmd(&self, program: Command) -> Command {
        common::isolated(program, self.dir.path())
    }

    fn infraflux(&self, args: &[&str]) -> Command {
        let mut cmd = self.cmd(Command::cargo_bin("infraflux").unwrap());
        cmd.args(args);
        cmd
    }

    /// `infraflux render -o rendered`, with the identity when `identity`.
    fn render(&self, identity: bool, extra: &[&str]) -> Command {
        let mut cmd = self.infraflux(&["render", "-o", "rendered"]);
        cmd.args(extra);
        if identity {
            cmd.env("SOPS_AGE_KEY_FILE", self.key_file());
        }
        cmd
    }

    /// The real sops, with the identity.
    fn sops(&self, args: &[&str]) -> Command {
        let mut cmd = self.cmd(Command::new("sops"));
        cmd.env("SOPS_AGE_KEY_FILE", self.key_file())
            .arg("--disable-version-check")
            .args(args);
        cmd
    }

    /// Writes `plain` to `file` and encrypts it in place with the real sops.
    fn sops_file(&self, file: &str, plain: &str) {
        std::fs::write(self.path(file), plain).unwrap();
        self.sops(&["-e", "-i", "--age", &self.recipient, file])
            .assert()
            .code(0);
    }

    /// The homelab's sources.
    fn homelab_sources(&self, cloudflare: &str) {
        self.sops_file(
            "secrets/cloudflare.sops.yaml",
            &format!("token: {cloudflare}\n"),
        );
        self.sops_file(
            "secrets/backup-s3.sops.yaml",
            &format!(
                "etcd:\n  accessKeyID: AKIAETCD\n  secretAccessKey: {ETCD_SECRET_KEY}\nlonghorn:\n  accessKeyID: AKIALONGHORN\n  secretAccessKey: {LONGHORN_SECRET_KEY}\n"
            ),
        );
    }

    /// Every file under `rendered/`, by path.
    fn tree(&self) -> Vec<(String, Vec<u8>)> {
        let base = self.path("rendered");
        let mut files = Vec::new();
        let mut stack = vec![base.clone()];
        while let Some(p) = stack.pop() {
            for e in std::fs::read_dir(&p).unwrap() {
                let e = e.unwrap().path();
                if e.is_dir() {
                    stack.push(e);
                } else {
                    files.push((
                        e.strip_prefix(&base).unwrap().display().to_string(),
                        std::fs::read(&e).unwrap(),
                    ));
                }
            }
        }
        files.sort();
        files
    }

    /// A rendered file decrypted by the real sops.
    fn decrypted_text(&self, file: &str) -> String {
        let out = self
            .sops(&["-d", &format!("rendered/{file}")])
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out).unwrap()
    }

    /// A rendered Secret decrypted by the real sops.
    fn decrypted(&self, file: &str) -> Value {
        serde_saphyr::from_str(&self.decrypted_text(file)).unwrap()
    }
}

fn stderr(cmd: &mut Command, code: i32) -> String {
    String::from_utf8(cmd.assert().code(code).get_output().stderr.clone()).unwrap()
}

fn stdout(cmd: &mut Command, code: i32) -> String {
    String::from_utf8(cmd.assert().code(code).get_output().stdout.clone()).unwrap()
}

const DNS: &str = "components/cluster-issuers/secret-dns01-api-token.sops.yaml";
const EXTERNAL_DNS: &str = "components/external-dns/secret-external-dns-credentials.sops.yaml";
const ETCD: &str = "components/etcd-backup/secret-etcd-backup-s3.sops.yaml";
const LONGHORN: &str = "components/longhorn/secret-longhorn-backup-credentials.sops.yaml";

/// `render` writes the tree, leaves foreign files alone, removes stale owned files, gives
/// the same bytes every time, and `--check` guards drift with a diff.
#[test]
fn render_writes_checks_and_owns_only_its_files() {
    let repo = Repo::new("homelab").with_bundle();
    repo.homelab_sources(CLOUDFLARE_TOKEN);
    stdout(&mut repo.render(true, &[]), 0);
    let first = repo.tree();
    assert!(first.iter().any(|(p, _)| p == "apps/root.yaml"));
    assert!(first.iter().any(|(p, _)| p == ".infraflux/owned"));
    let out = repo.path("rendered");
    // Foreign and stale files; a hand edit.
    std::fs::write(out.join("README.md"), "mine\n").unwrap();
    std::fs::write(out.join("apps/stale.yaml"), "---\n{}\n").unwrap();
    let owned = std::fs::read_to_string(out.join(".infraflux/owned")).unwrap();
    std::fs::write(
        out.join(".infraflux/owned"),
        format!("{owned}apps/stale.yaml\n"),
    )
    .unwrap();
    let cilium = std::fs::read_to_string(out.join("apps/cilium.yaml")).unwrap();
    std::fs::write(
        out.join("apps/cilium.yaml"),
        cilium.replace("maglev", "random"),
    )
    .unwrap();

    let check = stderr(&mut repo.render(false, &["--check"]), 1);
    assert!(
        check.contains("-            algorithm: random\n+            algorithm: maglev"),
        "{check}"
    );
    assert!(
        check.contains("0 to create, 2 to update, 1 to remove, 0 encrypted files to write"),
        "{check}"
    );

    stdout(&mut repo.render(true, &[]), 0);
    assert_eq!(
        std::fs::read_to_string(out.join("README.md")).unwrap(),
        "mine\n"
    );
    assert!(!out.join("apps/stale.yaml").exists());
    let mut second = repo.tree();
    second.retain(|(p, _)| p != "README.md");
    assert_eq!(first, second, "rendering again gives the same bytes");
    // Without the identity too: nothing is opened, nothing changes.
    stdout(&mut repo.render(false, &[]), 0);
    let mut third = repo.tree();
    third.retain(|(p, _)| p != "README.md");
    assert_eq!(first, third, "the same bytes without the secrets");
    assert!(stdout(&mut repo.render(false, &["--check"]), 0).contains("up to date"));

    let json: Value = serde_json::from_str(&stdout(
        &mut repo.render(false, &["--check", "--output", "json"]),
        0,
    ))
    .unwrap();
    let root_app = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "apps/root.yaml")
        .unwrap();
    assert_eq!(root_app["documents"][0]["kind"], "Application");
    let dns = json["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"] == DNS)
        .unwrap();
    assert_eq!(dns["name"], "dns01-api-token");
    assert_eq!(dns["keys"], serde_json::json!(["token"]));
    assert!(dns["pending"].is_null());
}

#[test]
fn secrets_are_encrypted_from_their_sources_and_only_when_they_change() {
    let repo = Repo::new("homelab").with_bundle();
    repo.homelab_sources(CLOUDFLARE_TOKEN);
    stdout(&mut repo.render(true, &[]), 0);
    // No value in plain text anywhere in the tree.
    for (path, bytes) in repo.tree() {
        let text = String::from_utf8_lossy(&bytes);
        for secret in [CLOUDFLARE_TOKEN, ETCD_SECRET_KEY, LONGHORN_SECRET_KEY] {
            assert!(
                !text.contains(secret),
                "{path} holds a secret in plain text"
            );
        }
    }
    // The real sops opens each, and gets the Secret its consumers read.
    let dns = repo.decrypted(DNS);
    assert_eq!(dns["kind"], "Secret");
    assert_eq!(dns["metadata"]["namespace"], "cert-manager");
    assert_eq!(dns["stringData"]["token"], CLOUDFLARE_TOKEN);
    assert_eq!(
        repo.decrypted(EXTERNAL_DNS)["stringData"]["token"],
        CLOUDFLARE_TOKEN
    );
    let etcd = repo.decrypted(ETCD);
    assert_eq!(etcd["stringData"]["accessKeyID"], "AKIAETCD");
    assert_eq!(etcd["stringData"]["secretAccessKey"], ETCD_SECRET_KEY);
    let longhorn = repo.decrypted(LONGHORN);
    assert_eq!(longhorn["stringData"]["AWS_ACCESS_KEY_ID"], "AKIALONGHORN");
    assert_eq!(
        longhorn["stringData"]["AWS_SECRET_ACCESS_KEY"],
        LONGHORN_SECRET_KEY
    );
    // Only the values are encrypted; the rest stays readable for review.
    let raw = std::fs::read_to_string(repo.path(&format!("rendered/{DNS}"))).unwrap();
    assert!(
        raw.contains("name: dns01-api-token") && raw.contains("token: ENC[AES256_GCM,"),
        "{raw}"
    );
    assert!(
        raw.contains("encrypted_regex: ^(data|stringData)$"),
        "{raw}"
    );

    // The token changes: `--check` sees it without any identity.
    let before = repo.tree();
    repo.homelab_sources("cf-token-rotated-2468ace");
    let check = stderr(&mut repo.render(false, &["--check"]), 1);
    assert!(
        check.contains(DNS) && check.contains(EXTERNAL_DNS),
        "{check}"
    );
    assert!(
        check.contains("sources, shape or recipients changed"),
        "{check}"
    );
    // Re-encrypting the backup file gave it a new MAC too, so its Secrets are due as well.
    assert!(check.contains("4 encrypted files to write"), "{check}");
    // Without the identity nothing can be encrypted: the files stay, with a warning.
    let warned = stderr(&mut repo.render(false, &[]), 0);
    assert!(
        warned.contains("not written: no age identity here opens"),
        "{warned}"
    );
    assert_eq!(repo.tree(), before);
    // With it, the new token; the unchanged values keep their ciphertext.
    stdout(&mut repo.render(true, &[]), 0);
    assert_eq!(
        repo.decrypted(DNS)["stringData"]["token"],
        "cf-token-rotated-2468ace"
    );
    let etcd_old = before.iter().find(|(p, _)| p == ETCD).unwrap();
    let etcd_new =
        String::from_utf8(std::fs::read(repo.path(&format!("rendered/{ETCD}"))).unwrap()).unwrap();
    let secret_line = |t: &str| {
        t.lines()
            .find(|l| l.contains("secretAccessKey: ENC["))
            .unwrap()
            .to_string()
    };
    assert_eq!(
        secret_line(&String::from_utf8_lossy(&etcd_old.1)),
        secret_line(&etcd_new),
        "an unchanged value keeps its ciphertext"
    );
    assert!(stdout(&mut repo.render(false, &["--check"]), 0).contains("up to date"));
}

#[test]
fn a_secret_from_the_environment_follows_the_variable_where_the_identity_opens_it() {
    let repo = Repo::new("multi-cluster").with_bundle();
    const CAPMOX: &str =
        "components/cluster-api-providers/secret-capmox-system-capmox-credentials.sops.yaml";
    // Not set: the rest of the tree is written, the Secret waits.
    let warned = stderr(&mut repo.render(true, &[]), 0);
    assert!(
        warned.contains("the environment variable PROXMOX_TOKEN_SECRET is not set"),
        "{warned}"
    );
    assert!(!repo.path(&format!("rendered/{CAPMOX}")).exists());
    assert!(stderr(&mut repo.render(false, &["--check"]), 1).contains("not rendered yet"));

    stdout(
        repo.render(true, &[])
            .env("PROXMOX_TOKEN_SECRET", PROXMOX_SECRET),
        0,
    );
    let capmox = repo.decrypted(CAPMOX);
    assert_eq!(capmox["stringData"]["PROXMOX_SECRET"], PROXMOX_SECRET);
    assert_eq!(
        capmox["stringData"]["PROXMOX_URL"],
        "https://pve1.example.com:8006"
    );
    let first = repo.tree();
    // The same value: the same bytes, with or without the variable.
    stdout(
        repo.render(true, &[])
            .env("PROXMOX_TOKEN_SECRET", PROXMOX_SECRET),
        0,
    );
    stdout(&mut repo.render(false, &[]), 0);
    assert_eq!(repo.tree(), first);
    // A new value, and an identity that opens the file: re-encrypted.
    stdout(
        repo.render(true, &[])
            .env("PROXMOX_TOKEN_SECRET", "rotated-secret"),
        0,
    );
    assert_eq!(
        repo.decrypted(CAPMOX)["stringData"]["PROXMOX_SECRET"],
        "rotated-secret"
    );
}

#[test]
fn a_broken_source_is_an_error_and_nothing_is_written() {
    let repo = Repo::new("homelab");
    repo.homelab_sources(CLOUDFLARE_TOKEN);
    // The key the spec names is not in the file.
    repo.sops_file("secrets/cloudflare.sops.yaml", "apiToken: x\n");
    let err = stderr(&mut repo.render(true, &[]), 2);
    assert!(err.contains(DNS) || err.contains(EXTERNAL_DNS), "{err}");
    assert!(
        err.contains("cloudflare.sops.yaml has no top-level key `token`"),
        "{err}"
    );
    assert!(!repo.path("rendered").exists(), "nothing written");
    // A source in plain text is refused, not copied.
    std::fs::write(repo.path("secrets/cloudflare.sops.yaml"), "token: plain\n").unwrap();
    let err = stderr(&mut repo.render(true, &[]), 2);
    assert!(err.contains("is not SOPS-encrypted"), "{err}");
    assert!(!repo.path("rendered").exists(), "nothing written");
}

const CP1: &str = "bootstrap/talos/mgmt-cp-1.sops.yaml";

#[test]
fn talos_configs_are_made_from_the_bundle_and_kept_while_their_inputs_are() {
    let repo = Repo::new("homelab");
    repo.homelab_sources(CLOUDFLARE_TOKEN);
    // No bundle yet: the rest is written, and render says how to make one.
    let warned = stderr(&mut repo.render(true, &[]), 0);
    assert!(warned.contains("infraflux talos gen secrets"), "{warned}");
    assert!(!repo.path(&format!("rendered/{CP1}")).exists());
    let repo = repo.with_bundle();
    stdout(&mut repo.render(true, &[]), 0);
    // The config is the one `talos gen config` makes from the same bundle and spec.
    let bundle_plain = repo.decrypted_text("bootstrap/talos/secrets.sops.yaml");
    let bundle = infraflux_pki::SecretsBundle::from_yaml(&bundle_plain).unwrap();
    let platform = infraflux_spec::load(&repo.path("infraflux.yaml"))
        .unwrap()
        .platform;
    let expected = infraflux_talos::management_configs(&platform, &bundle).unwrap();
    let decrypted = repo.decrypted_text(CP1);
    let (config, digest) = decrypted
        .rsplit_once("# infraflux.dev/sources-digest: sha256:")
        .unwrap();
    assert_eq!(digest.trim().len(), 64);
    let as_json = |t: &str| -> Vec<Value> { serde_saphyr::from_multiple(t).unwrap() };
    assert_eq!(as_json(config), as_json(&expected[0].to_yaml()));
    // Every value is encrypted: no key material, no token.
    let raw = std::fs::read_to_string(repo.path(&format!("rendered/{CP1}"))).unwrap();
    for secret in [
        bundle.cluster.secret.as_str(),
        bundle.secrets.bootstraptoken.as_str(),
    ] {
        assert!(!raw.contains(secret), "{raw}");
    }
    assert!(raw.contains("version: ENC[AES256_GCM,"), "{raw}");

    // A change that is not the node's: the config keeps its bytes, without any identity.
    let before = std::fs::read(repo.path(&format!("rendered/{CP1}"))).unwrap();
    repo.edit_spec("retention: 15d", "retention: 30d");
    let check = stderr(&mut repo.render(false, &["--check"]), 1);
    assert!(check.contains("0 encrypted files to write"), "{check}");
    stdout(&mut repo.render(false, &[]), 0);
    assert_eq!(
        std::fs::read(repo.path(&format!("rendered/{CP1}"))).unwrap(),
        before
    );
    // A change that is: `--check` sees it without the identity; render needs it.
    repo.edit_spec("value: rack-1", "value: rack-2");
    let check = stderr(&mut repo.render(false, &["--check"]), 1);
    assert!(
        check.contains(CP1) && check.contains("1 encrypted files to write"),
        "{check}"
    );
    let warned = stderr(&mut repo.render(false, &[]), 0);
    assert!(
        warned.contains("no age identity here opens the Talos secrets bundle"),
        "{warned}"
    );
    assert_eq!(
        std::fs::read(repo.path(&format!("rendered/{CP1}"))).unwrap(),
        before
    );
    stdout(&mut repo.render(true, &[]), 0);
    assert!(
        repo.decrypted_text(CP1)
            .contains("topology.kubernetes.io/zone: rack-2")
    );
    assert!(stdout(&mut repo.render(false, &["--check"]), 0).contains("up to date"));
    // The bundle is the user's: render never removes or rewrites it.
    assert_eq!(
        std::fs::read_to_string(repo.path("rendered/bootstrap/talos/secrets.sops.yaml")).unwrap(),
        shared().2
    );
}
