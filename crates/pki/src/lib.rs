//! Certificate authorities, keys and the Talos secrets bundle, in the encodings Talos and
//! Kubernetes tools read.
//!
//! - [`ca`]: key pairs and CA certificates as Talos makes them.
//! - [`bundle`]: the secrets bundle (`talosctl gen secrets`).
//! - [`issue`]: leaf certificates (Talos and Kubernetes API clients).
//! - [`clientconfig`]: `talosconfig` and `kubeconfig` files.

pub mod bundle;
pub mod ca;
pub mod clientconfig;
pub mod issue;
mod yaml;

pub use bundle::SecretsBundle;
pub use ca::{CertificateAndKey, KeyAlgorithm, PrivateKeyPem};
pub use clientconfig::{Kubeconfig, Talosconfig};

/// What can go wrong with keys, certificates and bundles.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Certificate generation failed.
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    /// A key could not be made, read or written.
    #[error("{0}")]
    Key(String),
    /// A certificate could not be read.
    #[error("{0}")]
    Certificate(String),
    /// An existing client config could not be merged into.
    #[error("{0}")]
    Merge(String),
    /// A secrets bundle is incomplete or unreadable; every problem, in talosctl's words.
    #[error("invalid secrets bundle: {}", .0.join("; "))]
    Bundle(Vec<String>),
}
