//! The Talos secrets bundle: the file `talosctl gen secrets` writes and
//! `talosctl gen config --with-secrets` reads.
//!
//! Layout and generation follow siderolabs/talos v1.11 `pkg/machinery/config/generate/secrets`
//! (read, not copied): keys are the lower-cased Go field names; `crt`/`key` values are
//! standard base64 of the whole PEM text; the cluster ID is 32 random bytes in URL-safe
//! padded base64; the cluster secret and the secretbox encryption secret are 32 random bytes
//! in standard base64; the bootstrap and trustd tokens are `[0-9a-z]{6}.[0-9a-z]{16}`; the
//! CAs are valid for 10 years (etcd, Kubernetes and aggregator: ECDSA P-256; OS: Ed25519);
//! the service-account key is RSA-4096 (PKCS#1), as for every contract after Talos 1.6.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use rand::RngCore;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::Error;
use crate::ca::{self, CertificateAndKey, KeyAlgorithm, PrivateKeyPem};

/// Validity of every CA in the bundle (`87600h`).
pub const CA_VALIDITY: Duration = Duration::hours(87_600);

/// The Talos secrets bundle. Secret strings are wiped from memory when dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretsBundle {
    /// Cluster identity (discovery).
    pub cluster: ClusterSecrets,
    /// Kubernetes secrets.
    pub secrets: Secrets,
    /// trustd.
    pub trustdinfo: TrustdInfo,
    /// Certificate authorities and the service-account key.
    pub certs: Certs,
}

/// Cluster identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSecrets {
    /// Cluster ID (URL-safe base64 of 32 random bytes).
    #[serde(default)]
    pub id: String,
    /// Cluster secret (base64 of 32 random bytes).
    #[serde(default, with = "secret_string")]
    pub secret: Zeroizing<String>,
}

/// Kubernetes bootstrap token and secrets encryption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secrets {
    /// Bootstrap token, `[0-9a-z]{6}.[0-9a-z]{16}`.
    #[serde(default, with = "secret_string")]
    pub bootstraptoken: Zeroizing<String>,
    /// AES-CBC encryption secret (Talos ≤ 1.2 bundles only).
    #[serde(default, with = "secret_string", skip_serializing_if = "is_empty")]
    pub aescbcencryptionsecret: Zeroizing<String>,
    /// secretbox encryption secret (base64 of 32 random bytes).
    #[serde(default, with = "secret_string", skip_serializing_if = "is_empty")]
    pub secretboxencryptionsecret: Zeroizing<String>,
}

/// trustd's token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustdInfo {
    /// Token, `[0-9a-z]{6}.[0-9a-z]{16}`.
    #[serde(default, with = "secret_string")]
    pub token: Zeroizing<String>,
}

/// The bundle's certificate authorities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certs {
    /// etcd CA (ECDSA P-256, `O=etcd`).
    #[serde(default, with = "opt_cert_key")]
    pub etcd: Option<CertificateAndKey>,
    /// Kubernetes CA (ECDSA P-256, `O=kubernetes`).
    #[serde(default, with = "opt_cert_key")]
    pub k8s: Option<CertificateAndKey>,
    /// Kubernetes aggregator (front proxy) CA (ECDSA P-256, empty subject).
    #[serde(default, with = "opt_cert_key")]
    pub k8saggregator: Option<CertificateAndKey>,
    /// Kubernetes service-account signing key (RSA-4096, PKCS#1).
    #[serde(default, with = "opt_key_only")]
    pub k8sserviceaccount: Option<PrivateKeyPem>,
    /// Talos OS CA (Ed25519, `O=talos`).
    #[serde(default, with = "opt_cert_key")]
    pub os: Option<CertificateAndKey>,
}

fn is_empty(s: &Zeroizing<String>) -> bool {
    s.is_empty()
}

/// `[0-9a-z]{n}.[0-9a-z]{m}` from OS randomness, drawn without modulo bias (bytes ≥ 252
/// are redrawn, as Talos does).
fn token(first: usize, second: usize) -> Zeroizing<String> {
    const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Zeroizing::new(String::with_capacity(first + second + 1));
    let mut rng = rand::rngs::OsRng;
    for i in 0..first + second {
        if i == first {
            out.push('.');
        }
        let b = loop {
            let b = (rng.next_u32() & 0xff) as u8;
            if b < 252 {
                break b;
            }
        };
        out.push(ALPHABET[(b % 36) as usize] as char);
    }
    out
}

impl SecretsBundle {
    /// A bundle of fixed placeholder strings, never valid key material: a machine config
    /// made with it has every input of the real one except the secrets, which is what
    /// `infraflux render` hashes to know whether a config must be made again.
    pub fn placeholder() -> Self {
        let text = |s: &str| Zeroizing::new(s.to_string());
        let ca = |name: &str| CertificateAndKey {
            certificate: format!("<placeholder {name} certificate>"),
            key: PrivateKeyPem(text(&format!("<placeholder {name} key>"))),
        };
        Self {
            cluster: ClusterSecrets {
                id: "<placeholder cluster id>".into(),
                secret: text("<placeholder cluster secret>"),
            },
            secrets: Secrets {
                bootstraptoken: text("<placeholder bootstrap token>"),
                aescbcencryptionsecret: Zeroizing::default(),
                secretboxencryptionsecret: text("<placeholder secretbox secret>"),
            },
            trustdinfo: TrustdInfo {
                token: text("<placeholder trustd token>"),
            },
            certs: Certs {
                etcd: Some(ca("etcd")),
                k8s: Some(ca("kubernetes")),
                k8saggregator: Some(ca("aggregator")),
                k8sserviceaccount: Some(PrivateKeyPem(text("<placeholder service account key>"))),
                os: Some(ca("os")),
            },
        }
    }

    /// A new bundle, every CA valid from `now`.
    pub fn generate(now: OffsetDateTime) -> Result<Self, Error> {
        let sa = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 4096)
            .map_err(|e| Error::Key(e.to_string()))?;
        let sa_pem = sa
            .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
            .map_err(|e| Error::Key(e.to_string()))?;
        Ok(Self {
            cluster: ClusterSecrets {
                id: URL_SAFE.encode(ca::random_bytes::<32>()),
                secret: Zeroizing::new(STANDARD.encode(Zeroizing::new(ca::random_bytes::<32>()))),
            },
            secrets: Secrets {
                bootstraptoken: token(6, 16),
                aescbcencryptionsecret: Zeroizing::default(),
                secretboxencryptionsecret: Zeroizing::new(
                    STANDARD.encode(Zeroizing::new(ca::random_bytes::<32>())),
                ),
            },
            trustdinfo: TrustdInfo {
                token: token(6, 16),
            },
            certs: Certs {
                etcd: Some(ca::generate_ca(
                    KeyAlgorithm::EcdsaP256,
                    Some("etcd"),
                    now,
                    CA_VALIDITY,
                )?),
                k8s: Some(ca::generate_ca(
                    KeyAlgorithm::EcdsaP256,
                    Some("kubernetes"),
                    now,
                    CA_VALIDITY,
                )?),
                k8saggregator: Some(ca::generate_ca(
                    KeyAlgorithm::EcdsaP256,
                    None,
                    now,
                    CA_VALIDITY,
                )?),
                k8sserviceaccount: Some(PrivateKeyPem(Zeroizing::new(sa_pem.to_string()))),
                os: Some(ca::generate_ca(
                    KeyAlgorithm::Ed25519,
                    Some("talos"),
                    now,
                    CA_VALIDITY,
                )?),
            },
        })
    }

    /// The bundle as `talosctl gen secrets` writes it.
    pub fn to_yaml(&self) -> Zeroizing<String> {
        Zeroizing::new(crate::yaml::to_go_yaml(self))
    }

    /// Reads a bundle and checks it as `talosctl gen config --with-secrets` does, reporting
    /// every problem with talosctl's wording.
    pub fn from_yaml(text: &str) -> Result<Self, Error> {
        let bundle: SecretsBundle =
            serde_saphyr::from_str(text).map_err(|e| Error::Bundle(vec![e.to_string()]))?;
        let problems = bundle.problems();
        if problems.is_empty() {
            Ok(bundle)
        } else {
            Err(Error::Bundle(problems))
        }
    }

    /// What is missing or unreadable in the bundle.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut need = |ok: bool, msg: &str| {
            if !ok {
                out.push(msg.to_string());
            }
        };
        need(!self.cluster.id.is_empty(), "cluster.id is required");
        need(
            !self.cluster.secret.is_empty(),
            "cluster.secret is required",
        );
        need(
            !self.secrets.bootstraptoken.is_empty(),
            "secrets.bootstraptoken is required",
        );
        let (cbc, secretbox) = (
            !self.secrets.aescbcencryptionsecret.is_empty(),
            !self.secrets.secretboxencryptionsecret.is_empty(),
        );
        need(
            cbc || secretbox,
            "one of [secrets.secretboxencryptionsecret, secrets.aescbcencryptionsecret] is required",
        );
        need(
            !(cbc && secretbox),
            "only one of [secrets.secretboxencryptionsecret, secrets.aescbcencryptionsecret] is allowed",
        );
        need(
            !self.trustdinfo.token.is_empty(),
            "trustdinfo.token is required",
        );
        let certs = &self.certs;
        for (name, ck) in [
            ("etcd", &certs.etcd),
            ("k8s", &certs.k8s),
            ("k8saggregator", &certs.k8saggregator),
            ("os", &certs.os),
        ] {
            match ck {
                None => out.push(format!("certs.{name} is required")),
                Some(ck) => {
                    if let Err(e) = ca::decode_key(ck.key.as_str())
                        .map(|_| ())
                        .and_then(|_| check_certificate(&ck.certificate))
                    {
                        out.push(format!("certs.{name} is invalid: {e}"));
                    }
                }
            }
        }
        match &certs.k8sserviceaccount {
            None => out.push("certs.k8sserviceaccount is required".into()),
            Some(key) => {
                let parsed = rsa::RsaPrivateKey::from_pkcs1_pem(key.as_str())
                    .map(|_| ())
                    .or_else(|_| ca::decode_key(key.as_str()).map(|_| ()));
                if parsed.is_err() {
                    out.push("certs.k8sserviceaccount.key is invalid: not an RSA, ECDSA or Ed25519 private key".into());
                }
            }
        }
        out
    }
}

fn check_certificate(pem_text: &str) -> Result<(), Error> {
    let block = pem::parse(pem_text).map_err(|e| Error::Certificate(format!("not PEM: {e}")))?;
    x509_parser::parse_x509_certificate(block.contents())
        .map_err(|e| Error::Certificate(e.to_string()))?;
    Ok(())
}

/// base64 of PEM text, the encoding of every `crt` and `key` in Talos files.
fn encode_b64(pem_text: &str) -> String {
    STANDARD.encode(pem_text.as_bytes())
}

fn decode_b64(value: &str) -> Result<Zeroizing<String>, String> {
    let bytes = Zeroizing::new(
        STANDARD
            .decode(value.trim())
            .map_err(|e| format!("bad base64: {e}"))?,
    );
    String::from_utf8(bytes.to_vec())
        .map(Zeroizing::new)
        .map_err(|_| "not UTF-8 PEM".into())
}

mod secret_string {
    use super::*;
    pub fn serialize<S: Serializer>(v: &Zeroizing<String>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Zeroizing<String>, D::Error> {
        Ok(Zeroizing::new(String::deserialize(d)?))
    }
}

#[derive(Serialize, Deserialize)]
struct CrtKey {
    #[serde(default)]
    crt: String,
    #[serde(default)]
    key: String,
}

#[derive(Serialize, Deserialize)]
struct KeyOnly {
    #[serde(default)]
    key: String,
}

mod opt_cert_key {
    use super::*;
    pub fn serialize<S: Serializer>(
        v: &Option<CertificateAndKey>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        v.as_ref()
            .map(|ck| CrtKey {
                crt: encode_b64(&ck.certificate),
                key: encode_b64(ck.key.as_str()),
            })
            .serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<CertificateAndKey>, D::Error> {
        let Some(raw) = Option::<CrtKey>::deserialize(d)? else {
            return Ok(None);
        };
        if raw.crt.is_empty() && raw.key.is_empty() {
            return Ok(None);
        }
        let certificate = decode_b64(&raw.crt)
            .map_err(serde::de::Error::custom)?
            .to_string();
        let key = PrivateKeyPem(decode_b64(&raw.key).map_err(serde::de::Error::custom)?);
        Ok(Some(CertificateAndKey { certificate, key }))
    }
}

mod opt_key_only {
    use super::*;
    pub fn serialize<S: Serializer>(v: &Option<PrivateKeyPem>, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref()
            .map(|k| KeyOnly {
                key: encode_b64(k.as_str()),
            })
            .serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PrivateKeyPem>, D::Error> {
        let Some(raw) = Option::<KeyOnly>::deserialize(d)? else {
            return Ok(None);
        };
        if raw.key.is_empty() {
            return Ok(None);
        }
        Ok(Some(PrivateKeyPem(
            decode_b64(&raw.key).map_err(serde::de::Error::custom)?,
        )))
    }
}
