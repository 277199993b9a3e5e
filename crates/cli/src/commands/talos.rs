//! `infraflux talos …`: Talos material from the spec, usable with `talosctl`.

use std::path::PathBuf;

use anyhow::{Context, Result};
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
    after_help = "Examples:\n  infraflux talos gen config --plaintext -o talos\n  talosctl apply-config --insecure -n 192.168.10.51 -f talos/mgmt-cp-1.yaml\n  talosctl --talosconfig talos/talosconfig -n 192.168.10.51 version\n  kubectl --kubeconfig talos/kubeconfig get nodes\n\nAn existing DIR/secrets.yaml (or --secrets FILE) is reused, so the same spec gives the same\nconfigs. A new bundle is made only when DIR holds no Talos material yet: if configs exist but\nthe bundle is gone, restore it from your backup instead of generating another."
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
    /// Write key material unencrypted (required until `infraflux secrets` lands)
    #[arg(long)]
    plaintext: bool,
}

/// Generate a Talos secrets bundle (the CAs, tokens and keys of a cluster), as `talosctl gen secrets` does
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  infraflux talos gen secrets --plaintext -o secrets.yaml\n  talosctl gen config mgmt https://192.168.10.50:6443 --with-secrets secrets.yaml\n\nThe bundle is the cluster's root of trust: it is written once, mode 0600, and never\nreplaced. Regenerating it for a running cluster locks you out of it; restore the file\nfrom your backup instead. Until SOPS encryption lands it is written only with --plaintext."
)]
struct GenSecretsArgs {
    /// Where to write the bundle (must not exist)
    #[arg(short, long, default_value = "secrets.yaml")]
    output: PathBuf,
    /// Write the bundle unencrypted (required until `infraflux secrets` lands)
    #[arg(long)]
    plaintext: bool,
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
    if !args.plaintext {
        anyhow::bail!(
            "the secrets bundle would be written unencrypted; pass --plaintext to accept that (SOPS encryption is not available yet)"
        );
    }
    if args.output.exists() {
        anyhow::bail!(
            "{} exists: a secrets bundle is never replaced, since a new one cannot talk to a cluster built with the old. Move it away first if you really mean to start over",
            args.output.display()
        );
    }
    let bundle = infraflux_pki::SecretsBundle::generate(time::OffsetDateTime::now_utc())?;
    write_new_private(&args.output, bundle.to_yaml().as_bytes())?;
    eprintln!(
        "wrote {} (mode 0600): keep it safe and backed up; it is the cluster's root of trust",
        args.output.display()
    );
    Ok(exit::OK)
}

/// The bundle `gen config` uses: the given or existing one; a new one only where no Talos
/// material exists yet (a bundle is never regenerated silently, talhelper#926).
fn config_bundle(args: &GenConfigArgs) -> Result<(infraflux_pki::SecretsBundle, &'static str)> {
    let default = args.output.join("secrets.yaml");
    let path = args.secrets.clone().unwrap_or_else(|| default.clone());
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let bundle = infraflux_pki::SecretsBundle::from_yaml(&text).with_context(|| {
            format!(
                "{} is not a usable secrets bundle; restore it from your backup",
                path.display()
            )
        })?;
        return Ok((bundle, "reused"));
    }
    if args.secrets.is_some() {
        anyhow::bail!("{} does not exist", path.display());
    }
    let existing = ["talosconfig", "kubeconfig", "schematic.yaml"]
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
    if !args.plaintext {
        anyhow::bail!(
            "machine configs, talosconfig and kubeconfig hold private keys and would be written unencrypted; pass --plaintext to accept that (SOPS encryption is not available yet)"
        );
    }
    let Some((platform, source)) = output::load_platform(&args.spec) else {
        return Ok(exit::ERROR);
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
    if how == "created" {
        write_new_private(&dir.join("secrets.yaml"), bundle.to_yaml().as_bytes())?;
    }
    let mut files: Vec<(String, Vec<u8>)> = configs
        .iter()
        .map(|c| (format!("{}.yaml", c.node), c.to_yaml().into_bytes()))
        .collect();
    files.push((
        "talosconfig".into(),
        talosconfig.to_yaml().as_bytes().to_vec(),
    ));
    files.push((
        "kubeconfig".into(),
        kubeconfig.to_yaml().as_bytes().to_vec(),
    ));
    files.push(("schematic.yaml".into(), schematic.into_bytes()));
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
    eprintln!(
        "{}: key material is unencrypted and mode 0600; keep it out of Git",
        dir.display()
    );
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
    let text = std::fs::read_to_string(&args.secrets).with_context(|| {
        format!(
            "cannot read the secrets bundle {}; `infraflux talos gen config` creates it",
            args.secrets.display()
        )
    })?;
    let bundle = infraflux_pki::SecretsBundle::from_yaml(&text)
        .with_context(|| format!("{} is not a usable secrets bundle", args.secrets.display()))?;
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
