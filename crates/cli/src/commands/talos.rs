//! `infraflux talos …`: Talos material from the spec, usable with `talosctl`.

use std::path::PathBuf;

use anyhow::Result;
use infraflux_talos::Schematic;
use serde_json::json;

use crate::exit;
use crate::output::{self, Format};

/// Talos material: Image Factory schematic (more to come: secrets, machine configs)
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    Schematic(SchematicArgs),
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
