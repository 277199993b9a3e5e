//! The SOPS file format with age recipients, interoperable with `sops`: value encryption
//! (AES-256-GCM, 32-byte IV, path as additional data), the MAC, the age-wrapped data key and
//! the `sops` metadata, for YAML and JSON documents.
//!
//! Pure: no IO beyond the text the caller passes in.
//!
//! YAML comments are kept and encrypted as sops encrypts them (`#ENC[…]` lines, outside the
//! MAC). Not supported: dotenv and binary documents, key services other than age (files
//! that also have them decrypt; their keys are kept but not renewed), Shamir key groups.

pub mod cipher;
pub mod config;
pub mod document;
pub mod tree;

pub use cipher::DataKey;
pub use document::{
    Format, KeyChanges, Metadata, Opened, Rules, decrypt, emit, encrypt, encrypt_value, is_sops,
    metadata, parse, reencrypt, rotate, update_keys,
};
pub use tree::{Documents, Entry, Node, Scalar};

/// What can go wrong with SOPS documents.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The document or a value is malformed.
    #[error("{0}")]
    Format(String),
    /// Encryption or decryption failed.
    #[error("{0}")]
    Crypto(String),
    /// The MAC does not match: the file was changed without its key.
    #[error(
        "MAC mismatch: the file was modified after it was encrypted ({0}); a value, IV, tag, key name or lastmodified changed, or a value was added or removed"
    )]
    Mac(String),
    /// None of the identities opens any of the file's age entries.
    #[error("no identity matched: the file is encrypted for {}", .0.join(", "))]
    NoIdentity(Vec<String>),
    /// The document has no `sops` metadata.
    #[error("the document is not SOPS-encrypted (no `sops` metadata)")]
    NotEncrypted,
    /// The document is encrypted already.
    #[error("the document is already SOPS-encrypted")]
    AlreadyEncrypted,
}

/// Reads age identities (`AGE-SECRET-KEY-1…` lines; comments and blank lines ignored).
pub fn parse_identities(text: &str) -> Result<Vec<age::x25519::Identity>, Error> {
    use std::str::FromStr;
    text.lines()
        .map(str::trim)
        .filter(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .map(|l| {
            age::x25519::Identity::from_str(l)
                .map_err(|e| Error::Format(format!("bad age identity: {e}")))
        })
        .collect()
}
