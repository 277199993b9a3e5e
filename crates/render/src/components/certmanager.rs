//! cert-manager and its ClusterIssuers: a self-signed CA for internal services, and Let's
//! Encrypt production and staging with DNS-01 when the spec has ACME.

use infraflux_spec::Platform;
use infraflux_spec::model::{AcmeServer, DnsProvider};
use serde_json::{Value, json};

use crate::charts;
use crate::component::Component;
use crate::secret::{Item, Sealed};

/// cert-manager's namespace.
pub const NAMESPACE: &str = "cert-manager";
/// The ClusterIssuer of internal certificates, signed by the platform CA.
pub const INTERNAL_ISSUER: &str = "internal-ca";
/// The Secret holding the DNS provider's API token, in cert-manager's namespace, under
/// the key `token`.
pub const DNS_TOKEN_SECRET: &str = "dns01-api-token";

/// The chart's values.
pub fn values(p: &Platform) -> Value {
    json!({
        "crds": {"enabled": true},
        "prometheus": {"enabled": p.spec.components.monitoring.enabled, "servicemonitor": {"enabled": false}},
    })
}

/// The ClusterIssuer certificates use by default: Let's Encrypt as the spec chooses, else
/// the internal CA.
pub fn default_issuer(p: &Platform) -> &'static str {
    match p
        .spec
        .components
        .cert_manager
        .acme
        .as_ref()
        .map(|a| a.server)
    {
        Some(AcmeServer::Production) => "letsencrypt-production",
        Some(AcmeServer::Staging) => "letsencrypt-staging",
        None => INTERNAL_ISSUER,
    }
}

/// cert-manager and its issuers (the issuers use cert-manager's CRDs: a later component);
/// none when cert-manager is off.
pub fn components(p: &Platform) -> Vec<Component> {
    let cm = &p.spec.components.cert_manager;
    if !cm.enabled {
        return Vec::new();
    }
    let mut chart = Component::new("cert-manager", NAMESPACE);
    chart.depends_on = vec!["cilium"];
    chart.provides = vec![
        "cert-manager.io/Certificate",
        "cert-manager.io/CertificateRequest",
        "cert-manager.io/ClusterIssuer",
        "cert-manager.io/Issuer",
        "acme.cert-manager.io/Challenge",
        "acme.cert-manager.io/Order",
    ];
    chart.chart = Some((charts::CERT_MANAGER, values(p)));

    let mut issuers = Component::new("cluster-issuers", NAMESPACE);
    issuers.uses = vec![
        "cert-manager.io/ClusterIssuer",
        "cert-manager.io/Certificate",
    ];
    // The platform CA: a self-signed issuer signs the CA certificate, whose key pair then
    // signs internal certificates.
    issuers.manifests.push(json!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": {"name": "selfsigned"},
        "spec": {"selfSigned": {}},
    }));
    issuers.manifests.push(json!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "platform-ca", "namespace": NAMESPACE},
        "spec": {
            "isCA": true,
            "commonName": format!("{} platform CA", p.metadata.name),
            "secretName": "platform-ca",
            "duration": "87600h",
            "privateKey": {"algorithm": "ECDSA", "size": 256},
            "issuerRef": {"name": "selfsigned", "kind": "ClusterIssuer", "group": "cert-manager.io"},
        },
    }));
    issuers.manifests.push(json!({
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": {"name": INTERNAL_ISSUER},
        "spec": {"ca": {"secretName": "platform-ca"}},
    }));
    if let Some(acme) = &cm.acme
        && let Some(solver) = dns01_solver(acme.dns01.provider)
    {
        for (name, server) in [
            (
                "letsencrypt-production",
                "https://acme-v02.api.letsencrypt.org/directory",
            ),
            (
                "letsencrypt-staging",
                "https://acme-staging-v02.api.letsencrypt.org/directory",
            ),
        ] {
            issuers.manifests.push(json!({
                "apiVersion": "cert-manager.io/v1",
                "kind": "ClusterIssuer",
                "metadata": {"name": name},
                "spec": {"acme": {
                    "email": acme.email,
                    "server": server,
                    "privateKeySecretRef": {"name": format!("{name}-account")},
                    "solvers": [{"dns01": solver.clone()}],
                }},
            }));
        }
        issuers.secrets.push(
            Sealed::new(NAMESPACE, DNS_TOKEN_SECRET)
                .with("token", Item::from(&acme.dns01.api_token)),
        );
    }
    vec![chart, issuers]
}

/// The DNS-01 solver of a provider whose only credential is an API token; None for the
/// providers that need more than a token (they come with their own settings).
fn dns01_solver(provider: DnsProvider) -> Option<Value> {
    let token = json!({"name": DNS_TOKEN_SECRET, "key": "token"});
    match provider {
        DnsProvider::Cloudflare => Some(json!({"cloudflare": {"apiTokenSecretRef": token}})),
        DnsProvider::Digitalocean => Some(json!({"digitalocean": {"tokenSecretRef": token}})),
        DnsProvider::Route53 | DnsProvider::Google | DnsProvider::Azure | DnsProvider::Rfc2136 => {
            None
        }
    }
}
