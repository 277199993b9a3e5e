//! `infraflux talos …`: Talos material from the spec, usable with `talosctl`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use infraflux_sops::Rules;
use infraflux_talos::Schematic;
use serde_json::json;

use crate::exit;
use crate::files::{replace_file, write_new_private};
use crate::output::{self, Format};

/// Talos material usable with talosctl: Image Factory schematic, secrets bundle
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    Schematic(SchematicArgs),
    Talosconfig(ClientConfigArgs),
    Kubeconfig(ClientConfigArgs),
    /// Generate Talos material
    #[command(subcommand)]
    Gen(Gen),
}

/// Issue a new admin client config (talosconfig or kubeconfig) for the management cluster
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  infraflux talos talosconfig --merge            # into $TALOSCONFIG or ~/.talos/config\n  infraflux talos kubeconfig --merge             # into $KUBECONFIG or ~/.kube/config\n  infraflux talos kubeconfig -o admin.kubeconfig --days 30\n  infraflux talos talosconfig --merge -o ./talosconfig\n\nMerging keeps every other context, cluster and user as it was and makes this one current.\nThe certificate is issued from the secrets bundle (default talos/secrets.yaml)."
)]
struct ClientConfigArgs {
    /// The spec file
    #[arg(default_value = "infraflux.yaml")]
    spec: PathBuf,
    /// The secrets bundle
    #[arg(long, default_value = "talos/secrets.yaml")]
    secrets: PathBuf,
    /// The file to write (default ./talosconfig or ./kubeconfig), or with --merge the file to
    /// merge into (default $TALOSCONFIG or ~/.talos/config; $KUBECONFIG or ~/.kube/config)
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Merge into an existing config instead of writing a new file
    #[arg(long)]
    merge: bool,
    /// Validity of the kubeconfig's admin certificate, in days
    #[arg(long, default_value_t = 365)]
    days: u32,
}

/// A generated client config.
enum ClientFile {
    Talos(infraflux_pki::Talosconfig),
    Kube(infraflux_pki::Kubeconfig),
}

impl ClientFile {
    fn to_yaml(&self) -> zeroize::Zeroizing<String> {
        match self {
            ClientFile::Talos(c) => c.to_yaml(),
            ClientFile::Kube(c) => c.to_yaml(),
        }
    }

    fn merge_into(
        &self,
        existing: &str,
    ) -> Result<zeroize::Zeroizing<String>, infraflux_pki::Error> {
        match self {
            ClientFile::Talos(c) => c.merge_into(existing),
            ClientFile::Kube(c) => c.merge_into(existing),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientKind {
    Talos,
    Kube,
}

#[derive(clap::Subcommand)]
enum Gen {
    Secrets(GenSecretsArgs),
    Config(GenConfigArgs),
}

/// Generate the management cluster's Talos material: secrets bundle, a machine config per node, talosconfig, kubeconfig, schematic
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  infraflux talos gen config -o talos              # SOPS-encrypted for spec.secrets.age.recipients\n  infraflux secrets decrypt talos/mgmt-cp-1.yaml > /dev/shm/cp-1.yaml\n  talosctl apply-config --insecure -n 192.168.10.51 -f /dev/shm/cp-1.yaml\n  infraflux talos gen config --plaintext -o /dev/shm/talos   # unencrypted, outside Git\n\nEvery file holding keys (secrets.yaml, one config per node, talosconfig.yaml,\nkubeconfig.yaml) is SOPS-encrypted for the spec's age recipients, so `sops -d` and\n`infraflux secrets decrypt` open them; schematic.yaml is public. Re-running with the same\nspec keeps unchanged files byte for byte. With --plaintext the files are written\nunencrypted, mode 0600, and talosconfig/kubeconfig have talosctl's names (no .yaml).\n\nAn existing DIR/secrets.yaml (or --secrets FILE), encrypted or not, is reused, so the same\nspec gives the same configs. A new bundle is made only when DIR holds no Talos material yet:\nif configs exist but the bundle is gone, restore it from your backup instead."
)]
struct GenConfigArgs {
    /// The spec file
    #[arg(default_value = "infraflux.yaml")]
    spec: PathBuf,
    /// Output directory
    #[arg(short, long, default_value = "talos")]
    output: PathBuf,
    /// Secrets bundle to use (default: DIR/secrets.yaml, created when DIR has no Talos material)
    #[arg(long)]
    secrets: Option<PathBuf>,
    /// Validity of the kubeconfig's admin certificate, in days
    #[arg(long, default_value_t = 365)]
    kubeconfig_days: u32,
    /// Write key material unencrypted (mode 0600) instead of SOPS-encrypted
    #[arg(long)]
    plaintext: bool,
}

/// Generate a Talos secrets bundle (the CAs, tokens and keys of a cluster), as `talosctl gen secrets` does
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  infraflux talos gen secrets -o talos/secrets.yaml          # for its .sops.yaml rule\n  infraflux talos gen secrets --age age1… -o secrets.yaml\n  sops -d secrets.yaml > /dev/shm/s.yaml && talosctl gen config mgmt https://192.168.10.50:6443 --with-secrets /dev/shm/s.yaml\n  infraflux talos gen secrets --plaintext -o /dev/shm/secrets.yaml\n\nThe bundle is the cluster's root of trust: it is written once, mode 0600, and never\nreplaced. Regenerating it for a running cluster locks you out of it; restore the file\nfrom your backup instead. It is SOPS-encrypted for --age, else for the recipients of the\n.sops.yaml creation rule matching the output path; --plaintext writes it unencrypted."
)]
struct GenSecretsArgs {
    /// Where to write the bundle (must not exist)
    #[arg(short, long, default_value = "secrets.yaml")]
    output: PathBuf,
    /// Write the bundle unencrypted (mode 0600) instead of SOPS-encrypted
    #[arg(long, conflicts_with = "age")]
    plaintext: bool,
    /// age recipients, comma-separated (default: the .sops.yaml rule for the output path)
    #[arg(long, value_delimiter = ',')]
    age: Vec<String>,
}

/// Print the nodes' Image Factory schematic, its ID and the image URLs
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  infraflux talos schematic                       # ./infraflux.yaml\n  infraflux talos schematic examples/homelab.yaml --output json\n  # register it with the factory (the ID is the same):\n  infraflux talos schematic --yaml-only | curl -X POST --data-binary @- https://factory.talos.dev/schematics"
)]
struct SchematicArgs {
    /// The spec file
    #[arg(default_value = "infraflux.yaml")]
    spec: PathBuf,
    /// Output format
    #[arg(long, short, value_enum, default_value_t)]
    output: Format,
    /// Print only the schematic YAML, exactly the bytes the ID is computed from
    #[arg(long, conflicts_with = "output")]
    yaml_only: bool,
}

pub fn exec(args: Args) -> Result<u8> {
    match args.command {
        Command::Schematic(a) => schematic(a),
        Command::Talosconfig(a) => client_config(a, ClientKind::Talos),
        Command::Kubeconfig(a) => client_config(a, ClientKind::Kube),
        Command::Gen(Gen::Secrets(a)) => gen_secrets(a),
        Command::Gen(Gen::Config(a)) => gen_config(a),
    }
}

fn schematic(args: SchematicArgs) -> Result<u8> {
    let Some((platform, _)) = output::load_platform(&args.spec) else {
        return Ok(exit::ERROR);
    };
    let talos = &platform.spec.talos;
    let schematic = Schematic::from_spec(talos);
    let yaml = schematic.to_yaml();
    if args.yaml_only {
        print!("{yaml}");
        return Ok(exit::OK);
    }
    let images = schematic.images(&talos.image_factory, &talos.version);
    match args.output {
        Format::Json => {
            let doc = json!({ "talosVersion": talos.version, "schematic": yaml, "images": images });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Format::Text => {
            println!("# Image Factory schematic (Talos {})", talos.version);
            print!("{yaml}");
            println!();
            println!("schematic ID  {}", images.schematic_id);
            println!("installer     {}", images.installer);
            println!("disk image    {}", images.disk_image);
            println!("ISO           {}", images.iso);
        }
    }
    Ok(exit::OK)
}

fn gen_secrets(args: GenSecretsArgs) -> Result<u8> {
    if args.output.exists() {
        anyhow::bail!(
            "{} exists: a secrets bundle is never replaced, since a new one cannot talk to a cluster built with the old. Move it away first if you really mean to start over",
            args.output.display()
        );
    }
    let seal = if args.plaintext {
        Seal::Plain
    } else if !args.age.is_empty() {
        Seal::Sops(args.age.clone(), Default::default())
    } else {
        match crate::keys::creation_rule(&args.output, None)? {
            Some(rule) if !rule.age.is_empty() => Seal::Sops(rule.age, Default::default()),
            _ => anyhow::bail!(
                "no recipients to encrypt {} for: pass --age, add a .sops.yaml creation rule for it, or --plaintext to write it unencrypted",
                args.output.display()
            ),
        }
    };
    let bundle = infraflux_pki::SecretsBundle::generate(time::OffsetDateTime::now_utc())?;
    let content = seal.seal(&args.output, &bundle.to_yaml())?;
    write_new_private(&args.output, &content)?;
    eprintln!(
        "wrote {} ({}): keep it safe and backed up; it is the cluster's root of trust",
        args.output.display(),
        seal.describe()
    );
    Ok(exit::OK)
}

/// How files with keys are written.
enum Seal {
    /// Unencrypted, mode 0600.
    Plain,
    /// SOPS-encrypted for these age recipients; the identities that may open earlier
    /// encryptions are read once, when first needed.
    Sops(Vec<String>, std::sync::OnceLock<crate::keys::Identities>),
}

impl Seal {
    fn describe(&self) -> String {
        match self {
            Seal::Plain => "unencrypted, mode 0600".into(),
            Seal::Sops(r, _) => format!(
                "SOPS-encrypted for {} age recipient{}",
                r.len(),
                if r.len() == 1 { "" } else { "s" }
            ),
        }
    }

    /// The bytes to write at `path` for the YAML `plain`. An existing encryption at `path`
    /// that our identities open, for the same recipients, is reused: unchanged content
    /// stays byte-identical.
    fn seal(&self, path: &Path, plain: &str) -> Result<Vec<u8>> {
        let Seal::Sops(recipients, ids) = self else {
            return Ok(plain.as_bytes().to_vec());
        };
        let format = infraflux_sops::Format::Yaml;
        let rules = Rules::default();
        let docs = infraflux_sops::parse(plain, format)?;
        let now = time::OffsetDateTime::now_utc();
        let previous = path.exists().then(|| {
            let ids = ids.get_or_init(|| crate::keys::identities().unwrap_or_default());
            crate::keys::reusable(path, format, recipients, &rules, ids)
        });
        let out = match previous.flatten() {
            Some(opened) => infraflux_sops::reencrypt(&docs, &opened, now)?,
            None => infraflux_sops::encrypt(&docs, format, recipients, &rules, now)?,
        };
        Ok(out.into_bytes())
    }
}

/// Reads a secrets bundle, SOPS-encrypted or not.
fn read_bundle(path: &Path) -> Result<infraflux_pki::SecretsBundle> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
    );
    let format = infraflux_sops::Format::Yaml;
    // Identities are needed (and must be readable) only for an encrypted bundle.
    let opened = if infraflux_sops::is_sops(&text, format) {
        crate::keys::open(&text, format, path, &crate::keys::identities()?)?
    } else {
        None
    };
    let plain = match opened {
        Some(opened) => zeroize::Zeroizing::new(opened.emit()),
        None => text,
    };
    infraflux_pki::SecretsBundle::from_yaml(&plain).with_context(|| {
        format!(
            "{} is not a usable secrets bundle; restore it from your backup",
            path.display()
        )
    })
}

/// The bundle `gen config` uses: the given or existing one; a new one only where no Talos
/// material exists yet (a bundle is never regenerated silently, talhelper#926).
fn config_bundle(args: &GenConfigArgs) -> Result<(infraflux_pki::SecretsBundle, &'static str)> {
    let default = args.output.join("secrets.yaml");
    let path = args.secrets.clone().unwrap_or_else(|| default.clone());
    if path.exists() {
        return Ok((read_bundle(&path)?, "reused"));
    }
    if args.secrets.is_some() {
        anyhow::bail!("{} does not exist", path.display());
    }
    let existing = [
        "talosconfig",
        "kubeconfig",
        "talosconfig.yaml",
        "kubeconfig.yaml",
        "schematic.yaml",
    ]
    .iter()
    .map(|f| args.output.join(f))
    .find(|p| p.exists());
    if let Some(found) = existing {
        anyhow::bail!(
            "{} exists but {} is missing: this cluster's secrets bundle is gone. Restore it from your backup (or pass --secrets FILE); a new bundle would not match machines built with the old one",
            found.display(),
            default.display()
        );
    }
    // Written by the caller once everything else has been generated: a failure leaves
    // nothing behind.
    Ok((
        infraflux_pki::SecretsBundle::generate(time::OffsetDateTime::now_utc())?,
        "created",
    ))
}

fn gen_config(args: GenConfigArgs) -> Result<u8> {
    let Some((platform, source)) = output::load_platform(&args.spec) else {
        return Ok(exit::ERROR);
    };
    let seal = if args.plaintext {
        Seal::Plain
    } else {
        Seal::Sops(
            platform.spec.secrets.age.recipients.clone(),
            Default::default(),
        )
    };
    // Encrypted files get `.yaml` names, so that sops picks the YAML format.
    let client_name = |name: &str| match seal {
        Seal::Plain => name.to_string(),
        Seal::Sops(..) => format!("{name}.yaml"),
    };
    let (bundle, how) = config_bundle(&args)?;
    let configs = match infraflux_talos::management_configs(&platform, &bundle) {
        Ok(c) => c,
        Err(infraflux_talos::ConfigError::Patch {
            index,
            node,
            message,
        }) => {
            let path = format!("spec.talos.patches[{index}].patch");
            let mut d = infraflux_spec::Diagnostic::error("patch", path.clone(), format!("this patch cannot be applied to node `{node}`: {message}"))
                .with_hint("a JSON patch can only replace, remove or test paths that exist in the generated config; `add` creates them (docs/talos.md)");
            d.location = infraflux_spec::SpanIndex::build(&source.text).locate(&path);
            eprint!(
                "{}",
                output::render(&infraflux_spec::Report::new(d, &source))
            );
            return Ok(exit::ERROR);
        }
        Err(e) => return Err(e.into()),
    };
    let m = &platform.spec.management;
    let now = time::OffsetDateTime::now_utc();
    let endpoints: Vec<String> = m.control_planes.iter().map(|n| n.ip.to_string()).collect();
    let talosconfig = infraflux_pki::Talosconfig::generate(&m.name, &endpoints, &bundle, now)?;
    let server = format!(
        "https://{}:{}",
        m.endpoint.vip,
        infraflux_talos::machineconfig::API_PORT
    );
    let lifetime = time::Duration::days(i64::from(args.kubeconfig_days));
    let kubeconfig = infraflux_pki::Kubeconfig::admin(&m.name, &server, &bundle, now, lifetime)?;
    let schematic = Schematic::from_spec(&platform.spec.talos).to_yaml();

    let dir = &args.output;
    // Everything is sealed before anything is written: a failure leaves nothing behind.
    let new_bundle = if how == "created" {
        let path = dir.join("secrets.yaml");
        Some((seal.seal(&path, &bundle.to_yaml())?, path))
    } else {
        None
    };
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for c in &configs {
        let name = format!("{}.yaml", c.node);
        files.push((name.clone(), seal.seal(&dir.join(&name), &c.to_yaml())?));
    }
    for (name, yaml) in [
        (client_name("talosconfig"), talosconfig.to_yaml()),
        (client_name("kubeconfig"), kubeconfig.to_yaml()),
    ] {
        files.push((name.clone(), seal.seal(&dir.join(&name), &yaml)?));
    }
    files.push(("schematic.yaml".into(), schematic.into_bytes()));
    if let Some((content, path)) = new_bundle {
        write_new_private(&path, &content)?;
    }
    for (name, content) in &files {
        let private = name != "schematic.yaml";
        replace_file(&dir.join(name), content, private)?;
    }
    println!(
        "{} secrets.yaml",
        if how == "created" {
            "created "
        } else {
            "reused  "
        }
    );
    for (name, _) in &files {
        println!("wrote    {name}");
    }
    match seal {
        Seal::Plain => eprintln!(
            "{}: key material is unencrypted and mode 0600; keep it out of Git",
            dir.display()
        ),
        Seal::Sops(..) => eprintln!(
            "{}: key material is {}; `infraflux secrets decrypt FILE` or `sops -d FILE` opens it",
            dir.display(),
            seal.describe()
        ),
    }
    Ok(exit::OK)
}

/// The client config file a tool reads by default.
fn default_client_config(kind: ClientKind) -> Result<PathBuf> {
    let (var, rel) = match kind {
        ClientKind::Talos => ("TALOSCONFIG", ".talos/config"),
        ClientKind::Kube => ("KUBECONFIG", ".kube/config"),
    };
    if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
        // KUBECONFIG may list several files; kubectl writes new entries to the first.
        if let Some(first) = std::env::split_paths(&v).next() {
            return Ok(first);
        }
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .context("HOME is not set; pass the file to --merge")?;
    Ok(PathBuf::from(home).join(rel))
}

fn client_config(args: ClientConfigArgs, kind: ClientKind) -> Result<u8> {
    let Some((platform, _)) = output::load_platform(&args.spec) else {
        return Ok(exit::ERROR);
    };
    if !args.secrets.exists() {
        anyhow::bail!(
            "the secrets bundle {} does not exist; `infraflux talos gen config` creates it",
            args.secrets.display()
        );
    }
    let bundle = read_bundle(&args.secrets)?;
    let m = &platform.spec.management;
    let now = time::OffsetDateTime::now_utc();
    let file = match kind {
        ClientKind::Talos => {
            let endpoints: Vec<String> =
                m.control_planes.iter().map(|n| n.ip.to_string()).collect();
            ClientFile::Talos(infraflux_pki::Talosconfig::generate(
                &m.name, &endpoints, &bundle, now,
            )?)
        }
        ClientKind::Kube => {
            let server = format!(
                "https://{}:{}",
                m.endpoint.vip,
                infraflux_talos::machineconfig::API_PORT
            );
            let lifetime = time::Duration::days(i64::from(args.days));
            ClientFile::Kube(infraflux_pki::Kubeconfig::admin(
                &m.name, &server, &bundle, now, lifetime,
            )?)
        }
    };
    let name = if kind == ClientKind::Talos {
        "talosconfig"
    } else {
        "kubeconfig"
    };
    if args.merge {
        let target = match args.output {
            Some(t) => t,
            None => default_client_config(kind)?,
        };
        let existing = match std::fs::read_to_string(&target) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", target.display())),
        };
        let merged = file
            .merge_into(&existing)
            .with_context(|| format!("cannot merge into {}", target.display()))?;
        replace_file(&target, merged.as_bytes(), true)?;
        let context = if kind == ClientKind::Talos {
            m.name.clone()
        } else {
            format!("admin@{}", m.name)
        };
        eprintln!(
            "merged into {} (current context: {context})",
            target.display()
        );
    } else {
        let target = args.output.unwrap_or_else(|| PathBuf::from(name));
        if target.exists() {
            anyhow::bail!(
                "{} exists; pass --merge to add the new context to it, or -o to write elsewhere",
                target.display()
            );
        }
        write_new_private(&target, file.to_yaml().as_bytes())?;
        eprintln!("wrote {} (mode 0600)", target.display());
    }
    Ok(exit::OK)
}
