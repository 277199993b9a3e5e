//! `infraflux talos …`: Talos material from the spec, usable with `talosctl`.

use std::path::PathBuf;

use anyhow::Result;
use infraflux_talos::Schematic;
use serde_json::json;

use crate::exit;
use crate::files::write_new_private;
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
    /// Generate Talos material
    #[command(subcommand)]
    Gen(Gen),
}

#[derive(clap::Subcommand)]
enum Gen {
    Secrets(GenSecretsArgs),
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
        Command::Gen(Gen::Secrets(a)) => gen_secrets(a),
    }
}

fn schematic(args: SchematicArgs) -> Result<u8> {
    let Some(platform) = output::load_platform(&args.spec) else {
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
