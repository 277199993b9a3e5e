//! Secrets whose values live outside the spec (an environment variable, a key of a SOPS
//! file in the repository), rendered as SOPS-encrypted Kubernetes Secrets that Argo CD
//! decrypts in the cluster through KSOPS.
//!
//! Encryption is random, so a Secret is only re-encrypted when what it is made of changed.
//! The file records a digest of that (the Secret's shape, where each value comes from,
//! the SOPS sources' MACs, the recipients) in a plaintext annotation: render and
//! `render --check` compare digests without decrypting anything, so an unchanged Secret
//! keeps its bytes, and CI needs no identity. The digest holds no value, not even a hash
//! of one: a SOPS source's MAC is itself encrypted with that file's data key.

use std::collections::BTreeMap;

use infraflux_sops::Rules;
use infraflux_spec::model::SecretRef;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// The annotation holding the digest of what a rendered Secret is made of.
pub const DIGEST_ANNOTATION: &str = "infraflux.dev/sources-digest";

/// Only a Secret's values are encrypted; its metadata stays readable (and in the MAC), as
/// sops documents for Kubernetes manifests.
pub const ENCRYPTED_REGEX: &str = "^(data|stringData)$";

/// The encryption rules of rendered Secrets.
pub fn rules() -> Rules {
    Rules {
        encrypted_regex: Some(ENCRYPTED_REGEX.into()),
        ..Rules::default()
    }
}

/// One value of a Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// Written as is (a URL, a token ID: not secret, but the consumer reads it from here).
    Literal(String),
    /// Taken from a source: the whole value, or one field of a mapping there.
    From {
        /// Where the value is.
        source: SecretRef,
        /// The field of the mapping the source holds; None for a string.
        field: Option<&'static str>,
    },
}

impl Item {
    /// The whole value of `source`.
    pub fn from(source: &SecretRef) -> Self {
        Item::From {
            source: source.clone(),
            field: None,
        }
    }

    /// One field of the mapping `source` holds.
    pub fn field(source: &SecretRef, field: &'static str) -> Self {
        Item::From {
            source: source.clone(),
            field: Some(field),
        }
    }
}

/// A Secret built from sources, SOPS-encrypted in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its `stringData`, key by key.
    pub entries: BTreeMap<String, Item>,
}

impl Sealed {
    /// A Secret with no entries yet.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Sealed {
            name: name.into(),
            namespace: namespace.into(),
            entries: BTreeMap::new(),
        }
    }

    /// Adds an entry.
    pub fn with(mut self, key: impl Into<String>, item: Item) -> Self {
        self.entries.insert(key.into(), item);
        self
    }

    /// Its distinct sources, in order of first use.
    pub fn sources(&self) -> Vec<&SecretRef> {
        let mut out: Vec<&SecretRef> = Vec::new();
        for item in self.entries.values() {
            if let Item::From { source, .. } = item
                && !out.contains(&source)
            {
                out.push(source);
            }
        }
        out
    }

    /// The digest of what the encrypted file is made of: the Secret's shape, the
    /// recipients and rules, and for each source `fingerprint(source)` (for a SOPS file,
    /// something that changes when its values change, such as its encrypted MAC).
    pub fn digest(
        &self,
        recipients: &[String],
        fingerprint: &dyn Fn(&SecretRef) -> String,
    ) -> String {
        let entries: Map<String, Value> = self
            .entries
            .iter()
            .map(|(k, item)| {
                let v = match item {
                    Item::Literal(s) => json!({"literal": s}),
                    Item::From { source, field } => {
                        json!({"source": fingerprint(source), "field": field})
                    }
                };
                (k.clone(), v)
            })
            .collect();
        let basis = json!({
            "format": 1,
            "namespace": self.namespace,
            "name": self.name,
            "entries": entries,
            "recipients": recipients,
            "encryptedRegex": ENCRYPTED_REGEX,
        });
        let hash = Sha256::digest(basis.to_string().as_bytes());
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }

    /// The plaintext Secret, with `value(source, field)` for each sourced entry.
    pub fn document(
        &self,
        digest: &str,
        value: &dyn Fn(&SecretRef, Option<&str>) -> String,
    ) -> Value {
        let data: Map<String, Value> = self
            .entries
            .iter()
            .map(|(k, item)| {
                let v = match item {
                    Item::Literal(s) => s.clone(),
                    Item::From { source, field } => value(source, *field),
                };
                (k.clone(), Value::String(v))
            })
            .collect();
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "annotations": {DIGEST_ANNOTATION: digest},
            },
            "type": "Opaque",
            "stringData": data,
        })
    }

    /// The encrypted file for `plain` (a [`Sealed::document`]), for `recipients`. With the
    /// `previous` file opened (same recipients and rules), unchanged values keep their
    /// ciphertext, and an unchanged Secret its bytes. The text is sops' (4-space
    /// indentation) after a `---` line.
    pub fn seal(
        plain: &Value,
        recipients: &[String],
        previous: Option<&infraflux_sops::Opened>,
        now: time::OffsetDateTime,
    ) -> Result<String, infraflux_sops::Error> {
        let docs = [infraflux_sops::tree::from_json(plain)];
        let text = seal_documents(&docs, &rules(), recipients, previous, now)?;
        // A document start, as every other file of the tree has (sops reads it alike).
        Ok(format!("---\n{text}"))
    }
}

/// Encrypts YAML documents for `recipients` under `rules`, or through the `previous`
/// file's encryption (its data key, recipients and rules) when there is one.
pub(crate) fn seal_documents(
    docs: &[infraflux_sops::Node],
    rules: &Rules,
    recipients: &[String],
    previous: Option<&infraflux_sops::Opened>,
    now: time::OffsetDateTime,
) -> Result<String, infraflux_sops::Error> {
    match previous {
        Some(opened) => infraflux_sops::reencrypt(docs, opened, now),
        None => infraflux_sops::encrypt(docs, infraflux_sops::Format::Yaml, recipients, rules, now),
    }
}

/// The digest recorded in a rendered Secret's text, read without decrypting it.
pub fn recorded_digest(text: &str) -> Option<String> {
    let doc: Value = serde_saphyr::from_str(text).ok()?;
    doc["metadata"]["annotations"][DIGEST_ANNOTATION]
        .as_str()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> SecretRef {
        SecretRef::Env { env: name.into() }
    }

    #[test]
    fn the_digest_follows_everything_but_values() {
        let s = Sealed::new("ns", "creds")
            .with("url", Item::Literal("https://x".into()))
            .with("token", Item::from(&env("TOKEN")));
        let r = vec!["age1a".to_string()];
        let fp = |s: &SecretRef| format!("{s:?}");
        let d = s.digest(&r, &fp);
        assert!(d.starts_with("sha256:") && d.len() == 71, "{d}");
        assert_eq!(d, s.clone().digest(&r, &fp), "stable");
        // Each ingredient moves it.
        let other_fp = |s: &SecretRef| format!("{s:?}-changed");
        assert_ne!(d, s.digest(&r, &other_fp));
        assert_ne!(d, s.digest(&["age1b".to_string()], &fp));
        assert_ne!(
            d,
            s.clone()
                .with("url", Item::Literal("https://y".into()))
                .digest(&r, &fp)
        );
        assert_ne!(
            d,
            Sealed {
                name: "other".into(),
                ..s.clone()
            }
            .digest(&r, &fp)
        );
        assert_ne!(
            d,
            s.clone()
                .with("token", Item::field(&env("TOKEN"), "a"))
                .digest(&r, &fp)
        );
    }

    #[test]
    fn sources_are_distinct() {
        let src = env("S3");
        let s = Sealed::new("ns", "s3")
            .with("id", Item::field(&src, "accessKeyID"))
            .with("key", Item::field(&src, "secretAccessKey"))
            .with("other", Item::from(&env("OTHER")));
        assert_eq!(s.sources(), vec![&src, &env("OTHER")]);
    }

    #[test]
    fn the_document_carries_the_digest_and_the_values() {
        let s = Sealed::new("ns", "creds")
            .with("url", Item::Literal("https://x".into()))
            .with("token", Item::from(&env("TOKEN")));
        let doc = s.document("sha256:00", &|src, field| format!("{src:?}/{field:?}"));
        assert_eq!(doc["stringData"]["url"], "https://x");
        assert_eq!(doc["stringData"]["token"], "Env { env: \"TOKEN\" }/None");
        assert_eq!(
            doc["metadata"]["annotations"][DIGEST_ANNOTATION],
            "sha256:00"
        );
        let text = crate::emit::documents(std::slice::from_ref(&doc));
        assert_eq!(recorded_digest(&text).as_deref(), Some("sha256:00"));
    }
}
