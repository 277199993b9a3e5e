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
            "cm": {
                // Argo CD no longer assesses the health of Application resources by itself,
                // so an app of apps would not wait for one wave's Applications to be
                // healthy before the next; this health check (Argo CD's documented one)
                // restores that.
                "resource.customizations.health.argoproj.io_Application": APPLICATION_HEALTH,
                // KSOPS is a kustomize exec plugin.
                "kustomize.buildOptions": "--enable-alpha-plugins --enable-exec",
            },
        },
        // KSOPS in the repo server, as its README (v4.5.1) sets it up for this chart: the
        // binaries copied from its image into a shared volume, and the age identity from
        // the `sops-age` Secret that bootstrap creates (never in Git).
        "repoServer": {
            "volumes": [
                {"name": "custom-tools", "emptyDir": {}},
                {"name": "sops-age", "secret": {"secretName": SOPS_AGE_SECRET}},
            ],
            "initContainers": [{
                "name": "install-ksops",
                "image": KSOPS_IMAGE,
                // The image is distroless (no shell): KSOPS copies itself and its kustomize.
                "command": ["/usr/local/bin/ksops", "install", "--with-kustomize", "/custom-tools"],
                "volumeMounts": [{"mountPath": "/custom-tools", "name": "custom-tools"}],
            }],
            "volumeMounts": [
                {"mountPath": "/usr/local/bin/kustomize", "name": "custom-tools", "subPath": "kustomize"},
                {"mountPath": "/usr/local/bin/ksops", "name": "custom-tools", "subPath": "ksops"},
                {"mountPath": "/.config/sops/age", "name": "sops-age"},
            ],
            "env": [
                {"name": "XDG_CONFIG_HOME", "value": "/.config"},
                {"name": "SOPS_AGE_KEY_FILE", "value": "/.config/sops/age/keys.txt"},
            ],
        },
    })
}

/// The KSOPS release whose image provides `ksops` and a kustomize built with it.
pub const KSOPS_IMAGE: &str = "viaductoss/ksops:v4.5.1";
/// The Secret (key `keys.txt`) holding the age identity Argo CD decrypts with; bootstrap
/// creates it, it is never in Git.
pub const SOPS_AGE_SECRET: &str = "sops-age";

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
