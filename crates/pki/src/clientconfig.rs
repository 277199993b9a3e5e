//! Client configurations: `talosconfig` (Talos API) and `kubeconfig` (Kubernetes API), with
//! admin certificates issued from the secrets bundle.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::Error;
use crate::bundle::SecretsBundle;
use crate::issue::{LeafProfile, issue};

fn b64(text: &str) -> String {
    STANDARD.encode(text.as_bytes())
}

fn missing(what: &str) -> Error {
    Error::Bundle(vec![format!("certs.{what} is required")])
}

/// A `talosconfig` as `talosctl` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Talosconfig {
    /// The current context.
    pub context: String,
    /// Contexts by name.
    pub contexts: BTreeMap<String, TalosContext>,
}

/// One talosconfig context. There is deliberately no `nodes` list: with a default node
/// list, a command meant for one node runs on all of them (talhelper#927: a reset took down
/// a whole cluster); `talosctl -n NODE` names the target every time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TalosContext {
    /// Control-plane addresses talosctl connects through.
    pub endpoints: Vec<String>,
    /// The Talos OS CA (base64 of PEM).
    pub ca: String,
    /// The client certificate (base64 of PEM).
    pub crt: String,
    /// The client key (base64 of PEM).
    #[serde(with = "zeroizing_string")]
    pub key: Zeroizing<String>,
}

impl Talosconfig {
    /// A talosconfig for `cluster` with an `os:admin` client certificate issued now by the
    /// bundle's OS CA.
    pub fn generate(
        cluster: &str,
        endpoints: &[String],
        bundle: &SecretsBundle,
        now: OffsetDateTime,
    ) -> Result<Self, Error> {
        let os = bundle.certs.os.as_ref().ok_or_else(|| missing("os"))?;
        let client = issue(os, &LeafProfile::talos_client(&["os:admin"], now))?;
        let context = TalosContext {
            endpoints: endpoints.to_vec(),
            ca: b64(&os.certificate),
            crt: b64(&client.certificate),
            key: Zeroizing::new(b64(client.key.as_str())),
        };
        Ok(Self {
            context: cluster.to_string(),
            contexts: BTreeMap::from([(cluster.to_string(), context)]),
        })
    }

    /// The file as `talosctl` writes it (4-space indentation, one line per value).
    pub fn to_yaml(&self) -> Zeroizing<String> {
        Zeroizing::new(crate::yaml::to_go_yaml(self))
    }
}

/// A kubeconfig as client-go writes it (keys in alphabetical order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Kubeconfig {
    /// Always `v1`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// Clusters.
    pub clusters: Vec<NamedCluster>,
    /// Contexts.
    pub contexts: Vec<NamedContext>,
    /// The current context.
    pub current_context: String,
    /// Always `Config`.
    pub kind: String,
    /// Always empty.
    pub preferences: BTreeMap<String, String>,
    /// Users.
    pub users: Vec<NamedUser>,
}

/// A named cluster entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedCluster {
    /// The cluster.
    pub cluster: KubeCluster,
    /// Its name.
    pub name: String,
}

/// A cluster: where the API server is and which CA signs its certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct KubeCluster {
    /// The Kubernetes CA (base64 of PEM).
    pub certificate_authority_data: String,
    /// `https://<vip>:6443`.
    pub server: String,
}

/// A named context entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedContext {
    /// The context.
    pub context: KubeContext,
    /// Its name.
    pub name: String,
}

/// A context: a cluster, a user and a namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KubeContext {
    /// Cluster name.
    pub cluster: String,
    /// Default namespace.
    pub namespace: String,
    /// User name.
    pub user: String,
}

/// A named user entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedUser {
    /// Its name.
    pub name: String,
    /// The user.
    pub user: KubeUser,
}

/// A user authenticated by a client certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct KubeUser {
    /// Client certificate (base64 of PEM).
    pub client_certificate_data: String,
    /// Client key (base64 of PEM).
    #[serde(with = "zeroizing_string")]
    pub client_key_data: Zeroizing<String>,
}

impl Kubeconfig {
    /// An admin kubeconfig for `cluster` at `server` as Talos makes it: cluster `<cluster>`,
    /// user and context `admin@<cluster>`, namespace `default`, a `CN=admin,
    /// O=system:masters` certificate from the bundle's Kubernetes CA valid for `lifetime`.
    pub fn admin(
        cluster: &str,
        server: &str,
        bundle: &SecretsBundle,
        now: OffsetDateTime,
        lifetime: Duration,
    ) -> Result<Self, Error> {
        let k8s = bundle.certs.k8s.as_ref().ok_or_else(|| missing("k8s"))?;
        let client = issue(k8s, &LeafProfile::kubernetes_admin(now, lifetime))?;
        let user = format!("admin@{cluster}");
        Ok(Self {
            api_version: "v1".into(),
            clusters: vec![NamedCluster {
                cluster: KubeCluster {
                    certificate_authority_data: b64(&k8s.certificate),
                    server: server.to_string(),
                },
                name: cluster.to_string(),
            }],
            contexts: vec![NamedContext {
                context: KubeContext {
                    cluster: cluster.to_string(),
                    namespace: "default".into(),
                    user: user.clone(),
                },
                name: user.clone(),
            }],
            current_context: user.clone(),
            kind: "Config".into(),
            preferences: BTreeMap::new(),
            users: vec![NamedUser {
                name: user,
                user: KubeUser {
                    client_certificate_data: b64(&client.certificate),
                    client_key_data: Zeroizing::new(b64(client.key.as_str())),
                },
            }],
        })
    }

    /// The file as client-go writes it (2-space indentation).
    pub fn to_yaml(&self) -> Zeroizing<String> {
        Zeroizing::new(crate::yaml::to_kube_yaml(self))
    }
}

mod zeroizing_string {
    use serde::{Deserialize, Deserializer, Serializer};
    use zeroize::Zeroizing;

    pub fn serialize<S: Serializer>(v: &Zeroizing<String>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Zeroizing<String>, D::Error> {
        Ok(Zeroizing::new(String::deserialize(d)?))
    }
}

/// Parses a client config file as a YAML mapping (an empty file is an empty mapping).
fn parse_existing(
    existing: &str,
    what: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
    if existing.trim().is_empty() {
        return Ok(serde_json::Map::new());
    }
    match serde_saphyr::from_str::<serde_json::Value>(existing) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::Merge(format!(
            "the existing {what} is not a YAML mapping"
        ))),
        Err(e) => Err(Error::Merge(format!(
            "the existing {what} does not parse: {e}"
        ))),
    }
}

impl Talosconfig {
    /// Merges this talosconfig into an existing one: its context replaces a context of the
    /// same name and becomes current; every other context is kept as it was.
    pub fn merge_into(&self, existing: &str) -> Result<Zeroizing<String>, Error> {
        if existing.trim().is_empty() {
            return Ok(self.to_yaml());
        }
        let mut doc = parse_existing(existing, "talosconfig")?;
        let ours = serde_json::to_value(self).map_err(|e| Error::Merge(e.to_string()))?;
        let contexts = doc
            .entry("contexts")
            .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
        let contexts = contexts.as_object_mut().ok_or_else(|| {
            Error::Merge("`contexts` of the existing talosconfig is not a mapping".into())
        })?;
        for (name, ctx) in ours["contexts"].as_object().expect("contexts") {
            contexts.insert(name.clone(), ctx.clone());
        }
        doc.insert("context".into(), ours["context"].clone());
        Ok(Zeroizing::new(crate::yaml::to_go_yaml(&doc)))
    }
}

impl Kubeconfig {
    /// Merges this kubeconfig into an existing one (`~/.kube/config`): its cluster, user and
    /// context replace entries of the same names in place or are appended, and its context
    /// becomes current; every other entry is kept as it was.
    pub fn merge_into(&self, existing: &str) -> Result<Zeroizing<String>, Error> {
        if existing.trim().is_empty() {
            return Ok(self.to_yaml());
        }
        let mut doc = parse_existing(existing, "kubeconfig")?;
        let ours = serde_json::to_value(self).map_err(|e| Error::Merge(e.to_string()))?;
        doc.entry("apiVersion").or_insert_with(|| "v1".into());
        doc.entry("kind").or_insert_with(|| "Config".into());
        for list in ["clusters", "users", "contexts"] {
            let entries = doc
                .entry(list)
                .or_insert_with(|| serde_json::Value::Array(Vec::new()));
            if entries.is_null() {
                *entries = serde_json::Value::Array(Vec::new());
            }
            let entries = entries.as_array_mut().ok_or_else(|| {
                Error::Merge(format!("`{list}` of the existing kubeconfig is not a list"))
            })?;
            for new in ours[list].as_array().expect("list") {
                match entries
                    .iter_mut()
                    .find(|e| e.get("name") == new.get("name"))
                {
                    Some(slot) => *slot = new.clone(),
                    None => entries.push(new.clone()),
                }
            }
        }
        doc.insert("current-context".into(), ours["current-context"].clone());
        Ok(Zeroizing::new(crate::yaml::to_kube_yaml(&doc)))
    }
}
