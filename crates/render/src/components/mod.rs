//! The platform components, one module each. A component turns the model into a
//! [`Component`](crate::component::Component): its dependencies, the CRDs it brings and
//! uses, its chart and values, and its extra manifests.

pub mod cilium;
