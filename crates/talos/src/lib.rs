//! Talos Linux material derived from the InfraFlux platform model.
//!
//! - [`schematic`]: the Image Factory schematic of the nodes' image, its ID and image URLs.
//! - [`machineconfig`]: machine configs of the management cluster's nodes, with patches.

pub mod machineconfig;
pub mod schematic;

pub use machineconfig::{ConfigError, MachineConfig, management_configs};
pub use schematic::{FactoryImages, Schematic};
