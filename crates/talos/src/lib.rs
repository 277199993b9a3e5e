//! Talos Linux material derived from the InfraFlux platform model.
//!
//! - [`schematic`]: the Image Factory schematic of the nodes' image, its ID and image URLs.

pub mod schematic;

pub use schematic::{FactoryImages, Schematic};
