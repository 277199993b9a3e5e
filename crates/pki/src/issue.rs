//! Leaf certificates issued by a CA: the clients of the Talos and Kubernetes APIs (and, for
//! tests and local tools, servers).

use std::net::IpAddr;

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyUsagePurpose, SanType, SerialNumber,
};
use time::{Duration, OffsetDateTime};

use crate::Error;
use crate::ca::{self, CertificateAndKey, KeyAlgorithm};

/// Talos API admin client certificates are valid for one year (Talos
/// `TalosAPIDefaultCertificateValidityDuration`).
pub const TALOS_CLIENT_VALIDITY: Duration = Duration::days(365);
/// Kubernetes admin client certificates default to one year (Talos
/// `KubernetesAdminCertDefaultLifetime`).
pub const KUBERNETES_ADMIN_VALIDITY: Duration = Duration::days(365);
/// Talos back-dates Kubernetes admin certificates by 10 s for clock skew.
const ALLOWED_TIME_SKEW: Duration = Duration::seconds(10);

/// What a leaf certificate says and may do.
#[derive(Debug, Clone)]
pub struct LeafProfile {
    /// Subject common name.
    pub common_name: Option<String>,
    /// Subject organizations (Talos roles, Kubernetes groups).
    pub organizations: Vec<String>,
    /// Key usages.
    pub key_usages: Vec<KeyUsagePurpose>,
    /// Extended key usages.
    pub extended_key_usages: Vec<ExtendedKeyUsagePurpose>,
    /// DNS names and IP addresses (servers).
    pub names: Vec<String>,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
}

impl LeafProfile {
    /// A Talos API client with `roles` (`os:admin`, …) as Talos issues them: roles as
    /// organizations, no common name, digital signature, client auth, valid one year.
    pub fn talos_client(roles: &[&str], now: OffsetDateTime) -> Self {
        let mut organizations: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        organizations.sort();
        Self {
            common_name: None,
            organizations,
            key_usages: vec![KeyUsagePurpose::DigitalSignature],
            extended_key_usages: vec![ExtendedKeyUsagePurpose::ClientAuth],
            names: Vec::new(),
            not_before: now,
            not_after: now + TALOS_CLIENT_VALIDITY,
        }
    }

    /// The Kubernetes cluster admin (`CN=admin`, `O=system:masters`) as Talos issues it.
    pub fn kubernetes_admin(now: OffsetDateTime, lifetime: Duration) -> Self {
        Self {
            common_name: Some("admin".into()),
            organizations: vec!["system:masters".into()],
            key_usages: vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ],
            extended_key_usages: vec![ExtendedKeyUsagePurpose::ClientAuth],
            names: Vec::new(),
            not_before: now - ALLOWED_TIME_SKEW,
            not_after: now + lifetime,
        }
    }

    /// A TLS server for `names` (DNS names or IP addresses).
    pub fn server(names: &[&str], now: OffsetDateTime, validity: Duration) -> Self {
        Self {
            common_name: names.first().map(|n| n.to_string()),
            organizations: Vec::new(),
            key_usages: vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ],
            extended_key_usages: vec![ExtendedKeyUsagePurpose::ServerAuth],
            names: names.iter().map(|n| n.to_string()).collect(),
            not_before: now,
            not_after: now + validity,
        }
    }
}

/// Issues a leaf certificate from `issuer_ca` with a new key of the CA's algorithm (as Talos
/// does: Ed25519 under the OS CA, ECDSA P-256 under the Kubernetes CA).
pub fn issue(
    issuer_ca: &CertificateAndKey,
    profile: &LeafProfile,
) -> Result<CertificateAndKey, Error> {
    let ca_key = ca::decode_key(issuer_ca.key.as_str())?;
    let algorithm = if ca_key.algorithm() == &rcgen::PKCS_ED25519 {
        KeyAlgorithm::Ed25519
    } else {
        KeyAlgorithm::EcdsaP256
    };
    let issuer = Issuer::from_ca_cert_pem(&issuer_ca.certificate, ca_key)?;
    let key = ca::generate_key(algorithm)?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    for org in &profile.organizations {
        dn.push(DnType::OrganizationName, org.as_str());
    }
    if let Some(cn) = &profile.common_name {
        dn.push(DnType::CommonName, cn.as_str());
    }
    params.distinguished_name = dn;
    params.not_before = profile.not_before;
    params.not_after = profile.not_after;
    params.serial_number = Some(SerialNumber::from_slice(&ca::positive_serial()));
    params.is_ca = IsCa::NoCa;
    params.key_usages = profile.key_usages.clone();
    params.extended_key_usages = profile.extended_key_usages.clone();
    params.use_authority_key_identifier_extension = true;
    params.subject_alt_names = profile
        .names
        .iter()
        .map(|n| match n.parse::<IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => Ok(SanType::DnsName(n.as_str().try_into()?)),
        })
        .collect::<Result<_, rcgen::Error>>()?;
    let cert = params.signed_by(&key, &issuer)?;
    Ok(CertificateAndKey {
        certificate: cert.pem(),
        key: ca::encode_key(&key)?,
    })
}
