//! Which Kubernetes versions each Talos release supports.
//!
//! Source: siderolabs/talos `pkg/machinery/compatibility/talos1NN/talos1NN.go` at each
//! release tag (`MinimumKubernetesVersion`, `MaximumKubernetesVersion`; the maximum is
//! written `1.N.99` and is exclusive), which agrees with the "Support Matrix" page of the
//! Talos documentation (talos.dev/v1.N/introduction/support-matrix).

use std::fmt;

/// Kubernetes minors supported by one Talos minor, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KubernetesRange {
    /// Oldest supported Kubernetes minor (`1.x`).
    pub min_minor: u32,
    /// Newest supported Kubernetes minor (`1.x`).
    pub max_minor: u32,
}

impl KubernetesRange {
    /// Whether Kubernetes `(major, minor, patch)` is supported.
    pub fn contains(&self, (major, minor, _): (u32, u32, u32)) -> bool {
        major == 1 && (self.min_minor..=self.max_minor).contains(&minor)
    }
}

impl fmt::Display for KubernetesRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v1.{} to v1.{}", self.min_minor, self.max_minor)
    }
}

/// (Talos minor, oldest Kubernetes minor, newest Kubernetes minor), Talos 1.x.
const MATRIX: [(u32, u32, u32); 6] = [
    (7, 25, 30),
    (8, 26, 31),
    (9, 27, 32),
    (10, 28, 33),
    (11, 29, 34),
    (12, 30, 35),
];

/// The Kubernetes versions Talos `(major, minor, patch)` supports; `None` for a release
/// this table does not know.
pub fn supported_kubernetes((major, minor, _): (u32, u32, u32)) -> Option<KubernetesRange> {
    MATRIX
        .iter()
        .find(|(t, _, _)| major == 1 && *t == minor)
        .map(|&(_, min_minor, max_minor)| KubernetesRange {
            min_minor,
            max_minor,
        })
}

/// The Talos releases the table knows, for hints: `v1.7 to v1.12`.
pub fn known_talos_minors() -> String {
    format!("v1.{} to v1.{}", MATRIX[0].0, MATRIX[MATRIX.len() - 1].0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn talos_1_11_supports_kubernetes_1_29_to_1_34() {
        let r = supported_kubernetes((1, 11, 6)).unwrap();
        assert!(r.contains((1, 29, 0)) && r.contains((1, 34, 98)));
        assert!(!r.contains((1, 28, 9)) && !r.contains((1, 35, 0)) && !r.contains((2, 30, 0)));
        assert!(supported_kubernetes((1, 6, 0)).is_none());
        assert!(supported_kubernetes((2, 11, 0)).is_none());
    }
}
