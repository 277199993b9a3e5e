//! `infraflux secrets …`: SOPS files with age, read and written as `sops` does.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use infraflux_sops::{Error as SopsError, Format, Opened, Rules};

use crate::exit;
use crate::files::{create_private_dir, replace_file, stage};
use crate::keys;

/// Encrypt, decrypt and edit SOPS files with age recipients, interchangeable with sops
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  infraflux secrets keygen                          # an age identity, recipient on stdout\n  infraflux secrets encrypt -i secrets/db.secret.yaml\n  infraflux secrets decrypt secrets/db.secret.yaml --extract '[\"stringData\"][\"password\"]'\n  infraflux secrets edit talos/secrets.yaml\n  infraflux secrets updatekeys -y secrets/*.yaml      # after changing .sops.yaml\n  infraflux secrets filestatus talos/secrets.yaml\n\nFiles are the sops format: `sops -d` reads what infraflux writes and the other way round.\nRecipients and partial encryption come from the first .sops.yaml creation rule whose\npath_regex matches (the file is looked for from the working directory up), or from --age.\nIdentities come from SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD and\n~/.config/sops/age/keys.txt ($XDG_CONFIG_HOME), all of them, as sops reads them.\n\nExit codes as sops: 51 MAC mismatch (the file was tampered with), 128 no identity opens the\nfile, 203 already encrypted; 2 other errors."
)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    Keygen(KeygenArgs),
    Encrypt(EncryptArgs),
    Decrypt(DecryptArgs),
    Edit(EditArgs),
    Rotate(RotateArgs),
    Updatekeys(UpdatekeysArgs),
    Filestatus(FilestatusArgs),
}

/// Create an age identity (mode 0600) and print its recipient
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  infraflux secrets keygen                    # into $SOPS_AGE_KEY_FILE or ~/.config/sops/age/keys.txt\n  infraflux secrets keygen -o ~/keys/ops.txt\n\nAn existing key file keeps its identities: the new one is added after them, so files\nencrypted for an older identity still decrypt while you rotate."
)]
struct KeygenArgs {
    /// The key file (default $SOPS_AGE_KEY_FILE, else ~/.config/sops/age/keys.txt)
    #[arg(short, long)]
    output: Option<PathBuf>,
}

/// How a file's format is chosen.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum InputType {
    Yaml,
    Json,
    Dotenv,
    Binary,
}

#[derive(clap::Args)]
struct FileArgs {
    /// The file
    file: PathBuf,
    /// The file's format (default: by extension as sops decides: .yaml/.yml, .json, .env,
    /// binary for anything else)
    #[arg(long, value_enum)]
    input_type: Option<InputType>,
}

/// A file's format: `--input-type`, else by extension.
fn format_of(file: &Path, input_type: Option<InputType>) -> Format {
    match input_type {
        Some(InputType::Json) => Format::Json,
        Some(InputType::Yaml) => Format::Yaml,
        Some(InputType::Dotenv) => Format::Dotenv,
        Some(InputType::Binary) => Format::Binary,
        None => Format::from_path(file),
    }
}

impl FileArgs {
    fn format(&self) -> Format {
        format_of(&self.file, self.input_type)
    }

    fn read(&self) -> Result<String> {
        std::fs::read_to_string(&self.file)
            .with_context(|| format!("cannot read {}", self.file.display()))
    }
}

/// Encrypt a file for the recipients its .sops.yaml rule (or --age) names
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  infraflux secrets encrypt -i secrets/db.secret.yaml\n  infraflux secrets encrypt app.yaml --age age1… --encrypted-regex '^(data|stringData)$' > app.enc.yaml\n  infraflux secrets encrypt plain.yaml -o secret.enc.yaml   # again: same bytes if unchanged\n\nWhen the output file already holds an encryption of the same data that your identities\nopen, it is kept byte for byte, and only changed values get new ciphertext."
)]
struct EncryptArgs {
    #[command(flatten)]
    file: FileArgs,
    /// Replace the file with its encryption
    #[arg(short, long, conflicts_with = "output")]
    in_place: bool,
    /// Write the encryption to this file instead of stdout
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// age recipients, comma-separated (instead of .sops.yaml)
    #[arg(long, value_delimiter = ',')]
    age: Vec<String>,
    /// The .sops.yaml to use (default: found from the working directory up; SOPS_CONFIG)
    #[arg(long)]
    config: Option<PathBuf>,
    /// Match creation rules against this path instead of the file's
    #[arg(long)]
    filename_override: Option<PathBuf>,
    #[command(flatten)]
    rules: RuleArgs,
}

#[derive(clap::Args)]
struct RuleArgs {
    /// Encrypt only the values under keys matching this regex
    #[arg(long)]
    encrypted_regex: Option<String>,
    /// Leave the values under keys matching this regex in plaintext
    #[arg(long)]
    unencrypted_regex: Option<String>,
    /// Encrypt only the values under keys ending with this suffix
    #[arg(long)]
    encrypted_suffix: Option<String>,
    /// Leave the values under keys ending with this suffix in plaintext
    #[arg(long)]
    unencrypted_suffix: Option<String>,
    /// Encrypt only the values below a comment matching this regex
    #[arg(long)]
    encrypted_comment_regex: Option<String>,
    /// Leave the values below a comment matching this regex in plaintext
    #[arg(long)]
    unencrypted_comment_regex: Option<String>,
    /// Let the MAC cover only the encrypted values
    #[arg(long)]
    mac_only_encrypted: bool,
}

impl RuleArgs {
    fn rules(&self) -> Option<Rules> {
        let rules = Rules {
            unencrypted_suffix: self.unencrypted_suffix.clone(),
            encrypted_suffix: self.encrypted_suffix.clone(),
            unencrypted_regex: self.unencrypted_regex.clone(),
            encrypted_regex: self.encrypted_regex.clone(),
            unencrypted_comment_regex: self.unencrypted_comment_regex.clone(),
            encrypted_comment_regex: self.encrypted_comment_regex.clone(),
            mac_only_encrypted: self.mac_only_encrypted,
        };
        (rules != Rules::default()).then_some(rules)
    }
}

/// Decrypt a file (verifying its MAC) to stdout, a file, or in place
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  infraflux secrets decrypt secrets/db.secret.yaml\n  infraflux secrets decrypt talos/secrets.yaml --extract '[\"secrets\"][\"bootstraptoken\"]'\n  infraflux secrets decrypt -i app.yaml              # writes plaintext, mode 0600\n\n--extract takes sops' path syntax: [\"key\"] for mapping keys, [0] for list items. A string\nis printed as it is; a mapping or list as YAML (or JSON for JSON files)."
)]
struct DecryptArgs {
    #[command(flatten)]
    file: FileArgs,
    /// Replace the file with its plaintext (mode 0600)
    #[arg(short, long, conflicts_with = "output")]
    in_place: bool,
    /// Write the plaintext to this file (mode 0600) instead of stdout
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Print only this part, e.g. '["data"]["password"]' or '["list"][0]'
    #[arg(long)]
    extract: Option<String>,
}

/// Edit an encrypted file in $EDITOR; only changed values get new ciphertext
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  infraflux secrets edit secrets/db.secret.yaml\n  EDITOR='code --wait' infraflux secrets edit talos/secrets.yaml\n\nThe plaintext lives in a private temporary directory (mode 0700, file 0600) only while the\neditor runs. If the editor fails or what you saved does not parse, the file is left as it\nwas and the plaintext is removed. A file that does not exist yet is created, encrypted for\nits .sops.yaml rule. The editor is $SOPS_EDITOR, else $EDITOR, else vi."
)]
struct EditArgs {
    #[command(flatten)]
    file: FileArgs,
    /// The .sops.yaml to use for a new file
    #[arg(long)]
    config: Option<PathBuf>,
}

/// Renew a file's data key and re-encrypt every value
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  infraflux secrets rotate -i talos/secrets.yaml\n  infraflux secrets rotate app.yaml > app.rotated.yaml"
)]
struct RotateArgs {
    #[command(flatten)]
    file: FileArgs,
    /// Replace the file
    #[arg(short, long)]
    in_place: bool,
}

/// Re-wrap files' data keys for the recipients their .sops.yaml rules name now
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  infraflux secrets updatekeys -y talos/secrets.yaml secrets/*.yaml\n\nAdding a recipient re-wraps the same data key (values, MAC and lastmodified stay). Removing\none also renews the data key and re-encrypts every value: the removed recipient may have\nkept the old data key and must not read later versions. Without -y, asks first."
)]
struct UpdatekeysArgs {
    /// The files
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Do not ask
    #[arg(short, long)]
    yes: bool,
    /// The .sops.yaml to use
    #[arg(long)]
    config: Option<PathBuf>,
    /// The files' format (default: by extension)
    #[arg(long, value_enum)]
    input_type: Option<InputType>,
}

/// Tell whether files are SOPS-encrypted (for CI)
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  infraflux secrets filestatus talos/secrets.yaml     # {\"encrypted\":true}, as sops prints it\n  infraflux secrets filestatus --strict secrets/*.yaml\n\nWith one file the output is sops' own; with several, one JSON line per file. --strict exits 1\nwhen any file is not encrypted."
)]
struct FilestatusArgs {
    /// The files
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Exit 1 when a file is in plaintext
    #[arg(long)]
    strict: bool,
    /// The files' format (default: by extension)
    #[arg(long, value_enum)]
    input_type: Option<InputType>,
}

pub fn exec(args: Args) -> Result<u8> {
    let result = match args.command {
        Command::Keygen(a) => keygen(a),
        Command::Encrypt(a) => encrypt(a),
        Command::Decrypt(a) => decrypt(a),
        Command::Edit(a) => edit(a),
        Command::Rotate(a) => rotate(a),
        Command::Updatekeys(a) => updatekeys(a),
        Command::Filestatus(a) => filestatus(a),
    };
    result.or_else(|e| {
        // sops' exit codes, for scripts written against sops.
        let code = match e.chain().find_map(|c| c.downcast_ref::<SopsError>()) {
            Some(SopsError::Mac(_)) => 51,
            Some(SopsError::NoIdentity(_)) => 128,
            Some(SopsError::AlreadyEncrypted) => 203,
            _ => return Err(e),
        };
        crate::output::error(&e);
        Ok(code)
    })
}

fn keygen(args: KeygenArgs) -> Result<u8> {
    let path = match args.output {
        Some(p) => p,
        None => keys::identity_file()?,
    };
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => zeroize::Zeroizing::new(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            zeroize::Zeroizing::new(String::new())
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let created = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("0 is a valid nanosecond")
        .format(&time::format_description::well_known::Rfc3339)?;
    use age::secrecy::ExposeSecret;
    let mut content = zeroize::Zeroizing::new(existing.to_string());
    if !content.is_empty() && !content.ends_with('\n') {
        content.push('\n');
    }
    content.push_str(&format!(
        "# created: {created}\n# public key: {recipient}\n{}\n",
        identity.to_string().expose_secret()
    ));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    replace_file(&path, content.as_bytes(), true)?;
    eprintln!(
        "{} age identity in {} (mode 0600; back it up: it decrypts every secret)",
        if existing.is_empty() {
            "created"
        } else {
            "added"
        },
        path.display()
    );
    println!("{recipient}");
    Ok(exit::OK)
}

/// Opens an encrypted file with `ids`; a plaintext file is an error naming it.
fn open(text: &str, format: Format, file: &Path, ids: &keys::Identities) -> Result<Opened> {
    keys::open(text, format, file, ids)?.with_context(|| {
        format!(
            "{}: not SOPS-encrypted (no `sops` metadata with a MAC); `infraflux secrets encrypt -i {}` encrypts it",
            file.display(),
            file.display()
        )
    })
}

fn write_out(path: &Path, content: &str, private: bool) -> Result<()> {
    replace_file(path, content.as_bytes(), private)
}

fn encrypt(args: EncryptArgs) -> Result<u8> {
    let format = args.file.format();
    let text = args.file.read()?;
    let file = &args.file.file;
    if infraflux_sops::is_sops(&text, format) {
        return Err(
            anyhow::Error::new(SopsError::AlreadyEncrypted).context(format!("{}", file.display()))
        );
    }
    let docs = infraflux_sops::parse(&text, format).with_context(|| file.display().to_string())?;
    let rule_path = args.filename_override.as_deref().unwrap_or(file);
    let rule = if args.age.is_empty() {
        keys::creation_rule(rule_path, args.config.as_deref())?
    } else {
        None
    };
    let recipients = if !args.age.is_empty() {
        args.age.clone()
    } else {
        match &rule {
            Some(r) if !r.age.is_empty() => r.age.clone(),
            Some(_) => bail!(
                "the .sops.yaml rule for {} names no age recipients; add `age:` to it or pass --age",
                rule_path.display()
            ),
            None => bail!(
                "no .sops.yaml found from {} up and no --age given: nobody to encrypt {} for",
                std::env::current_dir()?.display(),
                file.display()
            ),
        }
    };
    let rules = args
        .rules
        .rules()
        .or_else(|| rule.map(|r| r.rules))
        .unwrap_or_default();
    let now = time::OffsetDateTime::now_utc();
    let target = if args.in_place {
        None
    } else {
        args.output.clone()
    };
    // Stable output: an existing encryption of this data is kept, unchanged values reused.
    let previous = target.as_deref().and_then(|t| {
        let ids = keys::identities().unwrap_or_default();
        keys::reusable(t, format, &recipients, &rules, &ids)
    });
    let out = match &previous {
        Some(opened) => infraflux_sops::reencrypt(&docs, opened, now),
        None => infraflux_sops::encrypt(&docs, format, &recipients, &rules, now),
    }
    .with_context(|| file.display().to_string())?;
    match (args.in_place, target) {
        (true, _) => write_out(file, &out, false)?,
        (false, Some(t)) => write_out(&t, &out, false)?,
        (false, None) => print!("{out}"),
    }
    Ok(exit::OK)
}

/// sops' `--extract` path: `["key"]` and `[0]` components.
fn parse_extract(path: &str) -> Result<Vec<Step>> {
    let mut steps = Vec::new();
    let mut rest = path.trim();
    while !rest.is_empty() {
        let inner_end = rest
            .find(']')
            .with_context(|| format!("--extract {path:?}: a component does not end with `]`"))?;
        let inner = rest
            .strip_prefix('[')
            .with_context(|| format!("--extract {path:?}: expected `[` at {rest:?}"))?;
        let component = &inner[..inner_end - 1];
        let quoted =
            |q: char| component.len() >= 2 && component.starts_with(q) && component.ends_with(q);
        if quoted('"') || quoted('\'') {
            steps.push(Step::Key(component[1..component.len() - 1].to_string()));
        } else {
            steps.push(Step::Index(component.parse().with_context(|| {
                format!(
                    "--extract {path:?}: {component:?} is neither a quoted key nor a list index"
                )
            })?));
        }
        rest = &rest[inner_end + 1..];
    }
    Ok(steps)
}

enum Step {
    Key(String),
    Index(usize),
}

fn extract(opened: &Opened, path: &str) -> Result<String> {
    use infraflux_sops::{Entry, Node, Scalar};
    let steps = parse_extract(path)?;
    let mut node = opened.docs.first().context("the file has no document")?;
    for step in &steps {
        node = match (step, node) {
            (Step::Key(k), Node::Map(entries)) => entries
                .iter()
                .find_map(|e| match e {
                    Entry::Pair(key, v) if key == k => Some(v),
                    _ => None,
                })
                .with_context(|| format!("--extract {path}: no key {k:?}"))?,
            (Step::Index(i), Node::Seq(items)) => items
                .iter()
                .filter(|n| !matches!(n, Node::Comment(_)))
                .nth(*i)
                .with_context(|| format!("--extract {path}: no item {i}"))?,
            (Step::Key(k), _) => {
                bail!("--extract {path}: {k:?} is looked up in something that is not a mapping")
            }
            (Step::Index(i), _) => {
                bail!("--extract {path}: [{i}] is looked up in something that is not a list")
            }
        };
    }
    Ok(match node {
        Node::Scalar(Scalar::Str(s)) => s.clone(),
        Node::Map(_) => infraflux_sops::emit(std::slice::from_ref(node), opened.format),
        other => match opened.format {
            Format::Json | Format::Binary | Format::Dotenv => {
                serde_json::to_string_pretty(&infraflux_sops::tree::to_json(other))? + "\n"
            }
            Format::Yaml => {
                let wrapped = Node::Map(vec![Entry::Pair("v".into(), other.clone())]);
                let text = infraflux_sops::emit(&[wrapped], Format::Yaml);
                // The value without its made-up key, as yaml.Marshal writes a bare value.
                let body = text.strip_prefix("v:").unwrap_or(&text);
                let body = body
                    .strip_prefix(' ')
                    .unwrap_or(body.trim_start_matches('\n'));
                dedent(body)
            }
        },
    })
}

fn dedent(text: &str) -> String {
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|l| l.get(indent..).unwrap_or("").to_string() + "\n")
        .collect()
}

fn decrypt(args: DecryptArgs) -> Result<u8> {
    let format = args.file.format();
    let text = args.file.read()?;
    let file = &args.file.file;
    let opened = open(&text, format, file, &keys::identities()?)?;
    let out = zeroize::Zeroizing::new(match &args.extract {
        Some(path) => extract(&opened, path)?,
        None => opened.emit(),
    });
    match (args.in_place, &args.output) {
        (true, _) => write_out(file, &out, true)?,
        (false, Some(t)) => write_out(t, &out, true)?,
        (false, None) => print!("{}", out.as_str()),
    }
    Ok(exit::OK)
}

fn editor() -> Vec<String> {
    for var in ["SOPS_EDITOR", "EDITOR"] {
        if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            let words: Vec<String> = v
                .to_string_lossy()
                .split_whitespace()
                .map(str::to_string)
                .collect();
            if !words.is_empty() {
                return words;
            }
        }
    }
    vec!["vi".into()]
}

fn edit(args: EditArgs) -> Result<u8> {
    let format = args.file.format();
    let file = &args.file.file;
    let existing = match std::fs::read_to_string(file) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", file.display())),
    };
    let opened = match &existing {
        Some(text) => Some(open(text, format, file, &keys::identities()?)?),
        None => None,
    };
    let before = zeroize::Zeroizing::new(match (&opened, format) {
        (Some(o), _) => o.emit(),
        (None, Format::Json) => "{}\n".to_string(),
        (None, Format::Yaml) => {
            "# a new SOPS file: write YAML here, it is encrypted when you save\n".to_string()
        }
        (None, _) => String::new(),
    });
    // A private directory (0700) and file (0600) for the plaintext, removed on every path.
    let dir = tempfile::Builder::new()
        .prefix("infraflux-edit-")
        .tempdir()?;
    let ext = if format == Format::Json {
        "json"
    } else {
        "yaml"
    };
    let plain_path = dir.path().join(format!(
        "{}.{ext}",
        file.file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("secret")
    ));
    stage(dir.path(), before.as_bytes())?
        .persist(&plain_path)
        .map_err(|e| e.error)?;
    let words = editor();
    let status = std::process::Command::new(&words[0])
        .args(&words[1..])
        .arg(&plain_path)
        .status()
        .with_context(|| format!("cannot run the editor {:?}", words.join(" ")))?;
    if !status.success() {
        bail!(
            "the editor {:?} failed ({status}); {} is unchanged",
            words.join(" "),
            file.display()
        );
    }
    let after = zeroize::Zeroizing::new(
        std::fs::read_to_string(&plain_path).context("cannot read back the edited file")?,
    );
    drop(dir);
    if *after == *before && opened.is_some() {
        eprintln!("{}: not changed", file.display());
        return Ok(exit::OK);
    }
    let docs = infraflux_sops::parse(&after, format).with_context(|| {
        format!(
            "what was saved is not valid; {} is unchanged and the plaintext was removed",
            file.display()
        )
    })?;
    let now = time::OffsetDateTime::now_utc();
    let out = match &opened {
        Some(o) => infraflux_sops::reencrypt(&docs, o, now),
        None => {
            let rule = keys::creation_rule(file, args.config.as_deref())?.with_context(|| {
                format!(
                    "no .sops.yaml found for the new file {}: nobody to encrypt it for",
                    file.display()
                )
            })?;
            infraflux_sops::encrypt(&docs, format, &rule.age, &rule.rules, now)
        }
    }
    .with_context(|| format!("{} is unchanged", file.display()))?;
    write_out(file, &out, false)?;
    Ok(exit::OK)
}

fn rotate(args: RotateArgs) -> Result<u8> {
    let format = args.file.format();
    let text = args.file.read()?;
    let file = &args.file.file;
    let opened = open(&text, format, file, &keys::identities()?)?;
    let out = infraflux_sops::rotate(&opened, time::OffsetDateTime::now_utc())
        .with_context(|| file.display().to_string())?;
    if args.in_place {
        write_out(file, &out, false)?;
        eprintln!("{}: rotated the data key", file.display());
    } else {
        print!("{out}");
    }
    Ok(exit::OK)
}

fn updatekeys(args: UpdatekeysArgs) -> Result<u8> {
    let ids = keys::identities()?;
    for file in &args.files {
        let format = format_of(file, args.input_type);
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let opened = open(&text, format, file, &ids)?;
        let rule = keys::creation_rule(file, args.config.as_deref())?
            .with_context(|| format!("no .sops.yaml found for {}", file.display()))?;
        if rule.age.is_empty() {
            bail!(
                "the .sops.yaml rule for {} names no age recipients",
                file.display()
            );
        }
        let before = opened.recipients();
        if before == rule.age {
            eprintln!("{}: already up to date", file.display());
            continue;
        }
        eprintln!("{}:", file.display());
        for r in rule.age.iter().filter(|r| !before.contains(r)) {
            eprintln!("  + {r}");
        }
        for r in before.iter().filter(|r| !rule.age.contains(r)) {
            eprintln!("  - {r}");
        }
        if !args.yes && !confirm()? {
            eprintln!("{}: left as it was", file.display());
            continue;
        }
        let (out, changes) =
            infraflux_sops::update_keys(&text, &opened, &rule.age, time::OffsetDateTime::now_utc())
                .with_context(|| file.display().to_string())?;
        write_out(file, &out, false)?;
        eprintln!(
            "{}: updated{}",
            file.display(),
            if changes.rotated {
                " and renewed the data key (a recipient was removed)"
            } else {
                ""
            }
        );
    }
    Ok(exit::OK)
}

fn confirm() -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("updatekeys changes who can decrypt: pass -y to confirm without a terminal");
    }
    eprint!("Is this okay? (y/n) ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

fn filestatus(args: FilestatusArgs) -> Result<u8> {
    let mut plaintext = false;
    for file in &args.files {
        let format = format_of(file, args.input_type);
        let mut text = String::new();
        std::fs::File::open(file)
            .and_then(|mut f| f.read_to_string(&mut text))
            .with_context(|| format!("cannot read {}", file.display()))?;
        let encrypted = infraflux_sops::is_sops(&text, format);
        plaintext |= !encrypted;
        if args.files.len() == 1 {
            println!("{}", serde_json::json!({ "encrypted": encrypted }));
        } else {
            println!(
                "{}",
                serde_json::json!({ "file": file.display().to_string(), "encrypted": encrypted })
            );
        }
    }
    Ok(if args.strict && plaintext {
        exit::FINDINGS
    } else {
        exit::OK
    })
}
