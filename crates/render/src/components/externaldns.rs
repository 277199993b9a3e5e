//! external-dns: DNS records for the platform's Gateway routes, Ingresses and
//! LoadBalancer Services, in the configured provider, limited to the domain filters.

use infraflux_spec::Platform;
use infraflux_spec::model::{DnsProvider, SecretRef};
use serde_json::{Value, json};

use crate::charts;
use crate::component::Component;
use crate::secret::{Item, Sealed};

/// external-dns's namespace.
pub const NAMESPACE: &str = "external-dns";
/// The Secret with the provider's API token (key `token`), in external-dns's namespace.
pub const CREDENTIALS_SECRET: &str = "external-dns-credentials";

/// external-dns's name of a provider.
fn provider_name(p: DnsProvider) -> &'static str {
    match p {
        DnsProvider::Cloudflare => "cloudflare",
        DnsProvider::Route53 => "aws",
        DnsProvider::Digitalocean => "digitalocean",
        DnsProvider::Google => "google",
        DnsProvider::Azure => "azure",
        DnsProvider::Rfc2136 => "rfc2136",
    }
}

/// The environment variable a token-based provider reads its token from.
fn token_variable(p: DnsProvider) -> Option<&'static str> {
    match p {
        DnsProvider::Cloudflare => Some("CF_API_TOKEN"),
        DnsProvider::Digitalocean => Some("DO_TOKEN"),
        _ => None,
    }
}

/// The chart's values.
pub fn values(p: &Platform, provider: DnsProvider) -> Value {
    let e = &p.spec.components.external_dns;
    let c = &p.spec.cilium;
    let mut sources = vec!["service"];
    if c.ingress_controller.enabled {
        sources.push("ingress");
    }
    if c.gateway_api {
        sources.extend(["gateway-httproute", "gateway-grpcroute"]);
    }
    let mut v = json!({
        "provider": {"name": provider_name(provider)},
        "domainFilters": e.domain_filters,
        "sources": sources,
        // Records it created are updated, others are never touched or deleted.
        "policy": "upsert-only",
        "registry": "txt",
        "txtOwnerId": p.metadata.name,
        "serviceMonitor": {"enabled": false},
    });
    if let Some(var) = token_variable(provider) {
        v["env"] = json!([{
            "name": var,
            "valueFrom": {"secretKeyRef": {"name": CREDENTIALS_SECRET, "key": "token"}},
        }]);
    }
    v
}

/// The component; None when external-dns is off or has no provider.
pub fn component(p: &Platform) -> Option<Component> {
    let e = &p.spec.components.external_dns;
    let provider = e.provider.filter(|_| e.enabled)?;
    let mut c = Component::new("external-dns", NAMESPACE);
    c.depends_on = vec!["cilium"];
    if p.spec.cilium.gateway_api {
        c.uses = vec!["gateway.networking.k8s.io/HTTPRoute"];
    }
    c.chart = Some((charts::EXTERNAL_DNS, values(p, provider)));
    if token_variable(provider).is_some()
        && let Some(token) = credentials(p, provider)
    {
        c.secrets
            .push(Sealed::new(NAMESPACE, CREDENTIALS_SECRET).with("token", Item::from(token)));
    }
    Some(c)
}

/// external-dns's credentials: its own, else cert-manager's DNS-01 token for the same
/// provider.
fn credentials(p: &Platform, provider: DnsProvider) -> Option<&SecretRef> {
    let own = p.spec.components.external_dns.credentials.as_ref();
    own.or_else(|| {
        let acme = p.spec.components.cert_manager.acme.as_ref()?;
        (acme.dns01.provider == provider).then_some(&acme.dns01.api_token)
    })
}
