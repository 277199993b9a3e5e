//! `infraflux`: one binary that turns `infraflux.yaml` into a Cilium-first Kubernetes
//! platform on Proxmox VE with Talos Linux, delivered by GitOps.

mod commands;
mod files;
mod keys;
mod output;
mod progress;
mod sources;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: `validate` and `secrets` allocate many small strings and maps; glibc's malloc
/// was a fifth of `validate`'s time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes, as ripgrep and kubeconform use them.
pub mod exit {
    /// Everything is fine.
    pub const OK: u8 = 0;
    /// Findings (warnings with `--deny-warnings`, invalid documents).
    pub const FINDINGS: u8 = 1;
    /// Usage or input error: the job could not be done.
    pub const ERROR: u8 = 2;
}

#[derive(Parser)]
#[command(
    name = "infraflux",
    version,
    about = "Turn one infraflux.yaml into a Cilium-first Kubernetes platform on Proxmox VE with Talos Linux, delivered by GitOps",
    after_help = "Examples:\n  infraflux init homelab           # new platform repository in ./homelab\n  infraflux check                  # check ./infraflux.yaml\n  infraflux check examples/ha.yaml --output json\n  infraflux secrets edit talos/secrets.yaml\n\nExit codes: 0 ok, 1 findings, 2 usage or input error. NO_COLOR turns colour off."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Init(commands::init::Args),
    Check(commands::check::Args),
    Schema(commands::schema::Args),
    Talos(commands::talos::Args),
    Secrets(commands::secrets::Args),
    Validate(commands::validate::Args),
    Render(commands::render::Args),
    Graph(commands::render::GraphArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Init(args) => commands::init::exec(args),
        Command::Check(args) => commands::check::exec(args),
        Command::Schema(args) => commands::schema::exec(args),
        Command::Talos(args) => commands::talos::exec(args),
        Command::Secrets(args) => commands::secrets::exec(args),
        Command::Validate(args) => commands::validate::exec(args),
        Command::Render(args) => commands::render::exec(args),
        Command::Graph(args) => commands::render::graph(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            output::error(&e);
            ExitCode::from(exit::ERROR)
        }
    }
}
