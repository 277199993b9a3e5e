//! The InfraFlux platform spec, `infraflux.yaml`: its types, loading with source locations,
//! defaults and derived requirements, and the semantic checks that report every problem at
//! once.
//!
//! ```
//! let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/homelab.yaml")).unwrap();
//! let loaded = infraflux_spec::load_str("homelab.yaml", &text).unwrap();
//! assert_eq!(loaded.platform.spec.management.name, "mgmt");
//! ```

pub mod check;
mod diagnostic;
mod load;
pub mod model;
mod range;
mod resolve;
mod spans;
mod suggest;
pub mod versions;

pub use check::check;
pub use diagnostic::{Diagnostic, Related, Report, Severity, Source};
pub use load::{Analysis, LoadError, Loaded, analyze, analyze_file, load, load_str};
pub use model::{API_VERSION, Platform};
pub use range::{IpRange, Quantity, RangeParseError};
pub use resolve::{LONGHORN_EXTENSIONS, QEMU_GUEST_AGENT};
pub use spans::{Location, SpanIndex, join_index, join_key};
pub use suggest::did_you_mean;

/// The JSON schema of `infraflux.yaml`, as published at `schema/infraflux.v1alpha1.json`.
pub fn json_schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(Platform);
    schema.insert(
        "$id".into(),
        "https://infraflux.dev/schema/infraflux.v1alpha1.json".into(),
    );
    schema.to_value()
}

/// Serializes a platform as YAML (what `infraflux check --print-resolved` prints).
pub fn to_yaml(platform: &Platform) -> String {
    serde_saphyr::to_string(platform).expect("a Platform always serializes")
}
