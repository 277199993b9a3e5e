//! `infraflux secrets …` end to end, against the real `sops` (scripts/test.sh installs it).

mod common;

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;

/// A repository directory with its own HOME (so the default key file is the test's).
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("home")).unwrap();
        std::fs::create_dir(dir.path().join("tmp")).unwrap();
        Repo { dir }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn key_file(&self) -> PathBuf {
        self.path("home/.config/sops/age/keys.txt")
    }

    fn cmd(&self, program: Command) -> Command {
        let mut cmd = common::isolated(program, self.dir.path());
        cmd.env("TMPDIR", self.path("tmp"));
        cmd
    }

    fn infraflux(&self, args: &[&str]) -> Command {
        let mut cmd = self.cmd(Command::cargo_bin("infraflux").unwrap());
        cmd.args(args);
        cmd
    }

    fn sops(&self, args: &[&str]) -> Command {
        let mut cmd = self.cmd(Command::new("sops"));
        cmd.env("SOPS_AGE_KEY_FILE", self.key_file())
            .arg("--disable-version-check")
            .args(args);
        cmd
    }

    fn write(&self, p: &str, text: &str) {
        std::fs::write(self.path(p), text).unwrap();
    }

    fn read(&self, p: &str) -> String {
        std::fs::read_to_string(self.path(p)).unwrap()
    }

    fn encrypt_in_place(&self, file: &str) {
        self.infraflux(&["secrets", "encrypt", "-i", file])
            .assert()
            .code(0);
    }

    fn keygen(&self) -> String {
        let out = self.infraflux(&["secrets", "keygen"]).assert().code(0);
        String::from_utf8(out.get_output().stdout.clone())
            .unwrap()
            .trim()
            .to_string()
    }

    fn rules_for(&self, recipients: &[&str]) {
        self.write(
            ".sops.yaml",
            &format!(
                "creation_rules:\n  - path_regex: \\.secret\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: {}\n  - path_regex: ^talos/\n    age: {}\n",
                recipients.join(","),
                recipients.join(",")
            ),
        );
    }
}

const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n    name: db\n# a comment outside the encrypted keys stays readable\nstringData:\n    # set by hand\n    password: hunter2\n    port: \"5432\"\n";

fn stdout(cmd: &mut Command, code: i32) -> String {
    String::from_utf8(cmd.assert().code(code).get_output().stdout.clone()).unwrap()
}

#[test]
fn keygen_writes_a_private_identity_and_adds_to_an_existing_file() {
    let repo = Repo::new();
    let first = repo.keygen();
    assert!(first.starts_with("age1"), "{first}");
    let file = repo.key_file();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(file.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
    }
    let second = repo.keygen();
    assert_ne!(first, second);
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.matches("AGE-SECRET-KEY-1").count(), 2);
    assert!(text.contains(&format!("# public key: {first}")) && text.contains(&second));
    // Debian's age-keygen derives the same recipient from the file's last identity.
    let identity = text
        .lines()
        .rfind(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap();
    let only = repo.path("one.txt");
    std::fs::write(&only, format!("{identity}\n")).unwrap();
    let derived = std::process::Command::new("age-keygen")
        .arg("-y")
        .arg(&only)
        .output()
        .expect("age-keygen (Debian package age; scripts/test.sh installs it)");
    assert_eq!(String::from_utf8_lossy(&derived.stdout).trim(), second);
}

#[test]
fn encrypt_follows_sops_yaml_and_sops_reads_the_result() {
    let repo = Repo::new();
    let recipient = repo.keygen();
    repo.rules_for(&[&recipient]);
    repo.write("db.secret.yaml", SECRET);
    repo.encrypt_in_place("db.secret.yaml");
    let encrypted = repo.read("db.secret.yaml");
    // The rule's encrypted_regex: metadata stays readable, the password does not.
    assert!(encrypted.contains("name: db") && !encrypted.contains("hunter2"));
    assert!(!encrypted.contains("set by hand"), "comments are encrypted");
    assert!(
        encrypted.contains("# a comment outside"),
        "as sops leaves them"
    );
    assert!(encrypted.contains(&format!("recipient: {recipient}")));
    let theirs = stdout(&mut repo.sops(&["-d", "db.secret.yaml"]), 0);
    assert_eq!(theirs, SECRET);
    let ours = stdout(
        &mut repo.infraflux(&["secrets", "decrypt", "db.secret.yaml"]),
        0,
    );
    assert_eq!(ours, SECRET);
    let extracted = stdout(
        &mut repo.infraflux(&[
            "secrets",
            "decrypt",
            "db.secret.yaml",
            "--extract",
            "[\"stringData\"][\"password\"]",
        ]),
        0,
    );
    assert_eq!(extracted, "hunter2");
    let theirs = stdout(
        &mut repo.sops(&["-d", "--extract", "[\"stringData\"]", "db.secret.yaml"]),
        0,
    );
    let ours = stdout(
        &mut repo.infraflux(&[
            "secrets",
            "decrypt",
            "db.secret.yaml",
            "--extract",
            "[\"stringData\"]",
        ]),
        0,
    );
    assert_eq!(ours, theirs);
    // A second encrypt refuses, with sops' exit code.
    repo.infraflux(&["secrets", "encrypt", "-i", "db.secret.yaml"])
        .assert()
        .code(203)
        .stderr(predicate::str::contains("db.secret.yaml"));
}

#[test]
fn we_decrypt_what_sops_encrypts_by_its_rules() {
    let repo = Repo::new();
    let recipient = repo.keygen();
    repo.rules_for(&[&recipient]);
    std::fs::create_dir(repo.path("talos")).unwrap();
    repo.write(
        "talos/bundle.yaml",
        "cluster:\n    id: abc\n    secret: s3cr3t\n",
    );
    repo.sops(&["-e", "-i", "talos/bundle.yaml"])
        .assert()
        .code(0);
    assert!(!repo.read("talos/bundle.yaml").contains("s3cr3t"));
    let plain = stdout(
        &mut repo.infraflux(&["secrets", "decrypt", "talos/bundle.yaml"]),
        0,
    );
    assert_eq!(plain, "cluster:\n    id: abc\n    secret: s3cr3t\n");
}

#[test]
fn encrypting_the_same_data_again_keeps_the_file_byte_identical() {
    let repo = Repo::new();
    let recipient = repo.keygen();
    repo.rules_for(&[&recipient]);
    repo.write("plain.yaml", SECRET);
    let run = || {
        repo.infraflux(&[
            "secrets",
            "encrypt",
            "plain.yaml",
            "--filename-override",
            "x.secret.yaml",
            "-o",
            "out.secret.yaml",
        ])
        .assert()
        .code(0);
        repo.read("out.secret.yaml")
    };
    let first = run();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(run(), first, "a second run changed the file");
    // A changed value changes its line and the MAC, nothing else.
    repo.write("plain.yaml", &SECRET.replace("hunter2", "hunter3"));
    let third = run();
    let changed: Vec<&str> = first
        .lines()
        .zip(third.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.trim_start().split(':').next().unwrap())
        .collect();
    assert_eq!(changed, ["password", "lastmodified", "mac"]);
}

fn editor_script(repo: &Repo, name: &str, body: &str) -> PathBuf {
    let path = repo.path(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    path
}

fn tmp_is_empty(repo: &Repo) -> bool {
    std::fs::read_dir(repo.path("tmp"))
        .unwrap()
        .next()
        .is_none()
}

#[test]
fn edit_reencrypts_changes_and_leaves_the_file_alone_on_failure() {
    let repo = Repo::new();
    let recipient = repo.keygen();
    repo.rules_for(&[&recipient]);
    repo.write("db.secret.yaml", SECRET);
    repo.encrypt_in_place("db.secret.yaml");
    let original = repo.read("db.secret.yaml");
    // The editor sees the plaintext, mode 0600, and changes it.
    let ok = editor_script(
        &repo,
        "ok.sh",
        "[ \"$(stat -c %a \"$1\")\" = 600 ] || exit 9\ngrep -q hunter2 \"$1\" || exit 8\nsed -i 's/hunter2/hunter3/' \"$1\"",
    );
    repo.infraflux(&["secrets", "edit", "db.secret.yaml"])
        .env("EDITOR", &ok)
        .assert()
        .code(0);
    assert!(tmp_is_empty(&repo), "the plaintext was left behind");
    let edited = repo.read("db.secret.yaml");
    assert_ne!(edited, original);
    assert!(stdout(&mut repo.sops(&["-d", "db.secret.yaml"]), 0).contains("password: hunter3"));
    // An editor that fails, or saves something that does not parse: nothing changes.
    for (name, body) in [
        ("fail.sh", "sed -i 's/hunter3/lost/' \"$1\"; exit 1"),
        ("bad.sh", "echo 'broken: [' >> \"$1\""),
    ] {
        let script = editor_script(&repo, name, body);
        repo.infraflux(&["secrets", "edit", "db.secret.yaml"])
            .env("EDITOR", &script)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("db.secret.yaml is unchanged"));
        assert_eq!(repo.read("db.secret.yaml"), edited, "{name}");
        assert!(tmp_is_empty(&repo), "{name}: the plaintext was left behind");
    }
    // An editor that changes nothing leaves the bytes as they were.
    repo.infraflux(&["secrets", "edit", "db.secret.yaml"])
        .env("EDITOR", "true")
        .assert()
        .code(0);
    assert_eq!(repo.read("db.secret.yaml"), edited);
}

#[test]
fn tampering_and_wrong_keys_are_refused_with_sops_exit_codes() {
    let repo = Repo::new();
    let recipient = repo.keygen();
    repo.rules_for(&[&recipient]);
    repo.write("db.secret.yaml", SECRET);
    repo.encrypt_in_place("db.secret.yaml");
    let text = repo.read("db.secret.yaml");
    repo.write("tampered.yaml", &text.replace("name: db", "name: dc"));
    repo.infraflux(&["secrets", "decrypt", "tampered.yaml"])
        .assert()
        .code(51)
        .stdout("")
        .stderr(
            predicate::str::contains("tampered.yaml").and(predicate::str::contains("MAC mismatch")),
        );
    // Another HOME: no identity opens the file; the error lists the file's recipients.
    let other = Repo::new();
    other.keygen();
    std::fs::write(other.path("db.secret.yaml"), &text).unwrap();
    other
        .infraflux(&["secrets", "decrypt", "db.secret.yaml"])
        .assert()
        .code(128)
        .stderr(
            predicate::str::contains("no identity matched")
                .and(predicate::str::contains(recipient.as_str()))
                .and(predicate::str::contains("keys.txt")),
        );
}

#[test]
fn updatekeys_follows_the_rules_and_filestatus_tells_encrypted_files() {
    let repo = Repo::new();
    let old = repo.keygen();
    let new = repo.keygen();
    repo.rules_for(&[&old]);
    repo.write("db.secret.yaml", SECRET);
    repo.encrypt_in_place("db.secret.yaml");
    repo.rules_for(&[&new]);
    repo.infraflux(&["secrets", "updatekeys", "db.secret.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("pass -y"));
    repo.infraflux(&["secrets", "updatekeys", "-y", "db.secret.yaml"])
        .assert()
        .code(0)
        .stderr(
            predicate::str::contains(format!("+ {new}"))
                .and(predicate::str::contains(format!("- {old}"))),
        );
    let updated = repo.read("db.secret.yaml");
    assert!(updated.contains(&new) && !updated.contains(&old));
    // Only the new identity is needed now, by sops too.
    let only_new = repo.path("new.txt");
    let keys = std::fs::read_to_string(repo.key_file()).unwrap();
    let last = keys
        .lines()
        .rfind(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap();
    std::fs::write(&only_new, format!("{last}\n")).unwrap();
    let out = stdout(
        repo.sops(&["-d", "db.secret.yaml"])
            .env("SOPS_AGE_KEY_FILE", &only_new),
        0,
    );
    assert_eq!(out, SECRET);
    // filestatus, sops' output for one file.
    assert_eq!(
        stdout(
            &mut repo.infraflux(&["secrets", "filestatus", "db.secret.yaml"]),
            0
        ),
        stdout(&mut repo.sops(&["filestatus", "db.secret.yaml"]), 0)
    );
    repo.write("plain.yaml", "a: 1\n");
    repo.infraflux(&[
        "secrets",
        "filestatus",
        "--strict",
        "db.secret.yaml",
        "plain.yaml",
    ])
    .assert()
    .code(1)
    .stdout(predicate::str::contains(
        "{\"file\":\"plain.yaml\",\"encrypted\":false}",
    ));
}

#[test]
fn help_has_examples() {
    for sub in [
        "keygen",
        "encrypt",
        "decrypt",
        "edit",
        "rotate",
        "updatekeys",
        "filestatus",
    ] {
        let out = stdout(&mut Repo::new().infraflux(&["secrets", sub, "--help"]), 0);
        assert!(
            out.contains("Examples:\n  infraflux secrets"),
            "{sub}: {out}"
        );
    }
}
