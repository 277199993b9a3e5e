//! One module per subcommand: its arguments and a thin `exec` over the libraries.

pub mod check;
pub mod init;
pub mod render;
pub mod schema;
pub mod secrets;
pub mod talos;
pub mod validate;
