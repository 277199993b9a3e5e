//! The GitOps tree of an InfraFlux platform, rendered from the model: one module per
//! platform component, the dependency graph that yields Argo CD sync waves, and YAML that
//! every Kubernetes YAML reader (go-yaml v2 in kubectl and Helm, YAML 1.2 readers) reads as
//! the same data.
//!
//! Pure: no I/O. The CLI reads secret sources and writes the tree.

pub mod bootstrap;
pub mod charts;
pub mod component;
pub mod components;
pub mod emit;
pub mod graph;
mod render;
pub mod secret;
pub mod tree;

pub use render::{Rendered, render};
