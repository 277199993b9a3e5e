//! `infraflux schema`: print the JSON schema of `infraflux.yaml`.

use anyhow::Result;

/// Print the JSON schema of infraflux.yaml (for editors and CI)
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  infraflux schema > infraflux.schema.json\n  # then, first line of infraflux.yaml:\n  # yaml-language-server: $schema=./infraflux.schema.json"
)]
pub struct Args {}

pub fn exec(_: Args) -> Result<u8> {
    println!(
        "{}",
        serde_json::to_string_pretty(&infraflux_spec::json_schema())?
    );
    Ok(crate::exit::OK)
}
