//! Argo CD, managing itself: bootstrap installs it with [`values`], and this Application
//! takes it over with the same values.

use infraflux_spec::Platform;
use serde_json::{Value, json};

use crate::charts;
use crate::component::{ARGOCD_NAMESPACE, Component};

/// Argo CD's Helm values: one function for bootstrap and for its own Application.
pub fn values(_p: &Platform) -> Value {
    json!({
        "configs": {
            // TLS ends at the Gateway in front of the UI.
            "params": {"server.insecure": true},
            // Argo CD no longer assesses the health of Application resources by itself, so
            // an app of apps would not wait for one wave's Applications to be healthy
            // before the next; this health check (Argo CD's documented one) restores that.
            "cm": {"resource.customizations.health.argoproj.io_Application": APPLICATION_HEALTH},
        },
    })
}

/// The health of an Application is the health it reports.
const APPLICATION_HEALTH: &str = "hs = {}\nhs.status = \"Progressing\"\nhs.message = \"\"\nif obj.status ~= nil then\n  if obj.status.health ~= nil then\n    hs.status = obj.status.health.status\n    if obj.status.health.message ~= nil then\n      hs.message = obj.status.health.message\n    end\n  end\nend\nreturn hs\n";

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
