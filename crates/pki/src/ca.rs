//! Certificate authorities and keys, encoded the way Talos encodes them.
//!
//! Talos (siderolabs/crypto `x509`) writes ECDSA keys as SEC1 under `EC PRIVATE KEY`, Ed25519
//! keys as PKCS#8 under the non-standard label `ED25519 PRIVATE KEY`, and RSA keys as PKCS#1
//! under `RSA PRIVATE KEY`. Its CA certificates carry only `O=<organization>` as subject, a
//! random 128-bit serial, a random 20-byte subject key identifier, critical `CA:TRUE`,
//! critical key usage `Digital Signature, Certificate Sign`, extended key usage server and
//! client auth, and no authority key identifier.

use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rand::RngCore;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyIdMethod, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, PKCS_ED25519, SerialNumber,
};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::Error;

/// PEM label of a certificate.
pub const CERTIFICATE: &str = "CERTIFICATE";
/// PEM label Talos uses for ECDSA keys (SEC1).
pub const EC_PRIVATE_KEY: &str = "EC PRIVATE KEY";
/// PEM label Talos uses for Ed25519 keys (PKCS#8 content).
pub const ED25519_PRIVATE_KEY: &str = "ED25519 PRIVATE KEY";
/// PEM label of RSA keys (PKCS#1).
pub const RSA_PRIVATE_KEY: &str = "RSA PRIVATE KEY";
/// PEM label of generic PKCS#8 keys.
pub const PRIVATE_KEY: &str = "PRIVATE KEY";

/// Key algorithms of the Talos PKI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// ECDSA on P-256 with SHA-256 (etcd, Kubernetes and aggregator CAs, Kubernetes clients).
    EcdsaP256,
    /// Ed25519 (the Talos OS CA and talosconfig clients).
    Ed25519,
}

/// A private key: its PEM text in Talos' encoding, wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateKeyPem(pub Zeroizing<String>);

impl std::fmt::Debug for PrivateKeyPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKeyPem(<redacted>)")
    }
}

impl PrivateKeyPem {
    /// The PEM text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A certificate and its key, PEM-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateAndKey {
    /// The certificate (`CERTIFICATE`).
    pub certificate: String,
    /// The private key, in Talos' encoding for its algorithm.
    pub key: PrivateKeyPem,
}

/// A new key pair.
pub fn generate_key(algorithm: KeyAlgorithm) -> Result<KeyPair, Error> {
    let alg = match algorithm {
        KeyAlgorithm::EcdsaP256 => &PKCS_ECDSA_P256_SHA256,
        KeyAlgorithm::Ed25519 => &PKCS_ED25519,
    };
    Ok(KeyPair::generate_for(alg)?)
}

/// The key in Talos' PEM encoding for its algorithm.
pub fn encode_key(key: &KeyPair) -> Result<PrivateKeyPem, Error> {
    let pkcs8 = Zeroizing::new(key.serialize_der());
    let (label, der) = if key.algorithm() == &PKCS_ED25519 {
        (ED25519_PRIVATE_KEY, pkcs8)
    } else if key.algorithm() == &PKCS_ECDSA_P256_SHA256 {
        let secret =
            p256::SecretKey::from_pkcs8_der(&pkcs8).map_err(|e| Error::Key(e.to_string()))?;
        (EC_PRIVATE_KEY, sec1_with_curve(&secret)?)
    } else {
        return Err(Error::Key(format!(
            "unsupported key algorithm {:?}",
            key.algorithm()
        )));
    };
    Ok(PrivateKeyPem(Zeroizing::new(encode_pem(label, &der))))
}

/// SEC1 `ECPrivateKey` with the named-curve parameters and the public key, as Go's
/// `x509.MarshalECPrivateKey` writes it; OpenSSL cannot read a SEC1 key without the curve.
fn sec1_with_curve(secret: &p256::SecretKey) -> Result<Zeroizing<Vec<u8>>, Error> {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    use p256::pkcs8::AssociatedOid;
    use sec1::der::Encode;
    let scalar = Zeroizing::new(secret.to_bytes());
    let point = secret.public_key().to_encoded_point(false);
    let key = sec1::EcPrivateKey {
        private_key: scalar.as_slice(),
        parameters: Some(sec1::EcParameters::NamedCurve(p256::NistP256::OID)),
        public_key: Some(point.as_bytes()),
    };
    Ok(Zeroizing::new(
        key.to_der().map_err(|e| Error::Key(e.to_string()))?,
    ))
}

/// PEM with LF line endings, as Go's `encoding/pem` writes it (the `pem` crate defaults to
/// CRLF).
pub fn encode_pem(label: &str, der: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(label, der.to_vec()), config)
}

/// Reads a key in any encoding Talos accepts (`EC PRIVATE KEY`, `ED25519 PRIVATE KEY`,
/// `PRIVATE KEY`) into a signing key. RSA keys are not signing keys here.
pub fn decode_key(pem_text: &str) -> Result<KeyPair, Error> {
    let block = pem::parse(pem_text).map_err(|e| Error::Key(format!("not PEM: {e}")))?;
    let pkcs8 = match block.tag() {
        EC_PRIVATE_KEY => {
            let secret = p256::SecretKey::from_sec1_der(block.contents())
                .map_err(|e| Error::Key(format!("bad EC key: {e}")))?;
            Zeroizing::new(
                secret
                    .to_pkcs8_der()
                    .map_err(|e| Error::Key(e.to_string()))?
                    .as_bytes()
                    .to_vec(),
            )
        }
        ED25519_PRIVATE_KEY | PRIVATE_KEY => Zeroizing::new(block.contents().to_vec()),
        other => return Err(Error::Key(format!("unexpected PEM block `{other}`"))),
    };
    // rcgen recognises the algorithm from the PKCS#8 structure.
    Ok(KeyPair::try_from(pkcs8.as_slice())?)
}

/// Random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

/// A self-signed CA as Talos makes them: `O=organization` (or an empty subject), valid from
/// `not_before` for `validity`.
pub fn generate_ca(
    algorithm: KeyAlgorithm,
    organization: Option<&str>,
    not_before: OffsetDateTime,
    validity: Duration,
) -> Result<CertificateAndKey, Error> {
    let key = generate_key(algorithm)?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    if let Some(org) = organization {
        dn.push(DnType::OrganizationName, org);
    }
    params.distinguished_name = dn;
    params.not_before = not_before;
    params.not_after = not_before + validity;
    params.serial_number = Some(SerialNumber::from_slice(&positive_serial()));
    params.key_identifier_method = KeyIdMethod::PreSpecified(random_bytes::<20>().to_vec());
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.use_authority_key_identifier_extension = false;
    let cert = params.self_signed(&key)?;
    Ok(CertificateAndKey {
        certificate: cert.pem(),
        key: encode_key(&key)?,
    })
}

/// A random 128-bit serial, encoded as a positive DER integer.
pub(crate) fn positive_serial() -> Vec<u8> {
    let mut serial = random_bytes::<16>().to_vec();
    // Keep it positive and minimal: a leading zero byte would be dropped by DER anyway.
    serial[0] &= 0x7f;
    if serial[0] == 0 {
        serial[0] = 1;
    }
    serial
}
