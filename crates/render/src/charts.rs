//! The Helm charts the platform installs, pinned. Where `../shared/upstream/helm-values/`
//! holds a chart's published files, the pin is that version (a test compares them), so the
//! values rendered are checked against the schema and defaults of the very chart installed.

/// A pinned Helm chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chart {
    /// The chart's name in its repository.
    pub name: &'static str,
    /// The Helm repository URL.
    pub repo: &'static str,
    /// The chart version.
    pub version: &'static str,
}

/// Argo CD (argoproj/argo-helm), Argo CD v3.4.4.
pub const ARGO_CD: Chart = Chart {
    name: "argo-cd",
    repo: "https://argoproj.github.io/argo-helm",
    version: "10.1.1",
};

/// Cilium.
pub const CILIUM: Chart = Chart {
    name: "cilium",
    repo: "https://helm.cilium.io",
    version: "1.18.12",
};

/// Tetragon.
pub const TETRAGON: Chart = Chart {
    name: "tetragon",
    repo: "https://helm.cilium.io",
    version: "1.7.0",
};

/// cert-manager (its chart versions carry the `v`).
pub const CERT_MANAGER: Chart = Chart {
    name: "cert-manager",
    repo: "https://charts.jetstack.io",
    version: "v1.20.3",
};

/// external-dns (kubernetes-sigs), app version 0.21.0.
pub const EXTERNAL_DNS: Chart = Chart {
    name: "external-dns",
    repo: "https://kubernetes-sigs.github.io/external-dns",
    version: "1.21.1",
};

/// External Secrets Operator.
pub const EXTERNAL_SECRETS: Chart = Chart {
    name: "external-secrets",
    repo: "https://charts.external-secrets.io",
    version: "2.5.0",
};

/// Longhorn.
pub const LONGHORN: Chart = Chart {
    name: "longhorn",
    repo: "https://charts.longhorn.io",
    version: "1.12.1",
};

/// kube-prometheus-stack (Prometheus operator v0.93.1).
pub const KUBE_PROMETHEUS_STACK: Chart = Chart {
    name: "kube-prometheus-stack",
    repo: "https://prometheus-community.github.io/helm-charts",
    version: "88.5.3",
};

/// Every pinned chart.
pub const ALL: &[Chart] = &[
    ARGO_CD,
    CILIUM,
    TETRAGON,
    CERT_MANAGER,
    EXTERNAL_DNS,
    EXTERNAL_SECRETS,
    LONGHORN,
    KUBE_PROMETHEUS_STACK,
];
