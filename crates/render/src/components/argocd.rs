//! Argo CD, managing itself: bootstrap installs it with [`values`], and this Application
//! takes it over with the same values.

use infraflux_spec::Platform;
use serde_json::{Value, json};

use crate::charts;
use crate::component::{ARGOCD_NAMESPACE, Component};

/// Argo CD's Helm values: one function for bootstrap and for its own Application.
pub fn values(_p: &Platform) -> Value {
    json!({
        // TLS ends at the Gateway in front of the UI.
        "configs": {"params": {"server.insecure": true}},
    })
}

/// The component.
pub fn component(p: &Platform) -> Component {
    let mut c = Component::new("argo-cd", ARGOCD_NAMESPACE);
    c.depends_on = vec!["cilium"];
    c.provides = vec![
        "argoproj.io/Application",
        "argoproj.io/ApplicationSet",
        "argoproj.io/AppProject",
    ];
    c.chart = Some((charts::ARGO_CD, values(p)));
    c
}
