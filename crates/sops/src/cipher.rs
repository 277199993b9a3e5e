//! Value encryption: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`.
//!
//! SOPS encrypts each value with AES-256-GCM under the file's data key, a fresh 32-byte IV
//! (GCM with a 32-byte nonce, not the usual 12) and the value's tree path as additional
//! data; `data`, `iv` and `tag` are standard padded base64.

use aes_gcm::AesGcm;
use aes_gcm::aead::consts::U32;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use zeroize::Zeroizing;

use crate::Error;

/// AES-256-GCM with SOPS' 32-byte nonce.
type SopsGcm = AesGcm<Aes256, U32>;

/// The 32-byte data key every value of a file is encrypted with.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey(pub(crate) Zeroizing<[u8; 32]>);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

impl DataKey {
    /// A new random data key.
    pub fn generate() -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(k.as_mut());
        Self(k)
    }

    /// A data key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| {
            Error::Format(format!("the data key has {} bytes, not 32", bytes.len()))
        })?;
        Ok(Self(Zeroizing::new(arr)))
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// The plaintext type SOPS records with each value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// A string.
    Str,
    /// An integer.
    Int,
    /// A floating-point number.
    Float,
    /// A boolean.
    Bool,
    /// Raw bytes.
    Bytes,
    /// A YAML comment.
    Comment,
    /// A timestamp (RFC 3339).
    Time,
}

impl ValueType {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ValueType::Str => "str",
            ValueType::Int => "int",
            ValueType::Float => "float",
            ValueType::Bool => "bool",
            ValueType::Bytes => "bytes",
            ValueType::Comment => "comment",
            ValueType::Time => "time",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "str" => ValueType::Str,
            "int" => ValueType::Int,
            "float" => ValueType::Float,
            "bool" => ValueType::Bool,
            "bytes" => ValueType::Bytes,
            "comment" => ValueType::Comment,
            "time" => ValueType::Time,
            _ => return None,
        })
    }
}

/// Whether a string is a SOPS-encrypted value.
pub fn is_encrypted(s: &str) -> bool {
    s.starts_with("ENC[AES256_GCM,") && s.ends_with(']')
}

/// Encrypts `plaintext` under `key` with `aad` and a fresh IV.
pub fn encrypt(key: &DataKey, plaintext: &[u8], aad: &str, ty: ValueType) -> Result<String, Error> {
    let mut iv = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut iv);
    encrypt_with_iv(key, plaintext, aad, ty, &iv)
}

/// Encrypts with a given IV (reusing one is only sound for identical plaintext, AAD and key).
pub(crate) fn encrypt_with_iv(
    key: &DataKey,
    plaintext: &[u8],
    aad: &str,
    ty: ValueType,
    iv: &[u8; 32],
) -> Result<String, Error> {
    let cipher = SopsGcm::new(key.as_bytes().into());
    let sealed = cipher
        .encrypt(
            iv.into(),
            Payload {
                msg: plaintext,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| Error::Crypto("AES-GCM encryption failed".into()))?;
    let (data, tag) = sealed.split_at(sealed.len() - 16);
    Ok(format!(
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{}]",
        STANDARD.encode(data),
        STANDARD.encode(iv),
        STANDARD.encode(tag),
        ty.name()
    ))
}

/// The parts of an encrypted value.
pub(crate) struct Sealed {
    pub data: Vec<u8>,
    pub iv: [u8; 32],
    pub tag: Vec<u8>,
    pub ty: ValueType,
}

pub(crate) fn parse(value: &str) -> Result<Sealed, Error> {
    let bad = |why: &str| Error::Format(format!("malformed encrypted value ({why})"));
    let inner = value
        .strip_prefix("ENC[AES256_GCM,")
        .and_then(|v| v.strip_suffix(']'))
        .ok_or_else(|| bad("not ENC[AES256_GCM,…]"))?;
    let (mut data, mut iv, mut tag, mut ty) = (None, None, None, None);
    for part in inner.split(',') {
        let (k, v) = part
            .split_once(':')
            .ok_or_else(|| bad("a field without `:`"))?;
        match k {
            "data" => data = Some(STANDARD.decode(v).map_err(|_| bad("data is not base64"))?),
            "iv" => iv = Some(STANDARD.decode(v).map_err(|_| bad("iv is not base64"))?),
            "tag" => tag = Some(STANDARD.decode(v).map_err(|_| bad("tag is not base64"))?),
            "type" => ty = Some(ValueType::parse(v).ok_or_else(|| bad("unknown type"))?),
            _ => return Err(bad("unknown field")),
        }
    }
    let iv: [u8; 32] = iv
        .ok_or_else(|| bad("no iv"))?
        .try_into()
        .map_err(|_| bad("the iv is not 32 bytes"))?;
    let tag = tag.ok_or_else(|| bad("no tag"))?;
    if tag.len() != 16 {
        return Err(bad("the tag is not 16 bytes"));
    }
    Ok(Sealed {
        data: data.ok_or_else(|| bad("no data"))?,
        iv,
        tag,
        ty: ty.ok_or_else(|| bad("no type"))?,
    })
}

/// Decrypts an encrypted value with its AAD; returns the plaintext bytes and type.
pub fn decrypt(
    key: &DataKey,
    value: &str,
    aad: &str,
) -> Result<(Zeroizing<Vec<u8>>, ValueType), Error> {
    let sealed = parse(value)?;
    let cipher = SopsGcm::new(key.as_bytes().into());
    let mut msg = sealed.data.clone();
    msg.extend_from_slice(&sealed.tag);
    let plain = cipher
        .decrypt((&sealed.iv).into(), Payload { msg: &msg, aad: aad.as_bytes() })
        .map_err(|_| Error::Crypto(format!("a value at `{aad}` does not decrypt (wrong key, or the value, its IV, tag or path was changed)")))?;
    Ok((Zeroizing::new(plain), sealed.ty))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_aad_binding() {
        let key = DataKey::generate();
        let enc = encrypt(&key, b"hunter2", "a:b:", ValueType::Str).unwrap();
        assert!(is_encrypted(&enc));
        let (plain, ty) = decrypt(&key, &enc, "a:b:").unwrap();
        assert_eq!((plain.as_slice(), ty), (&b"hunter2"[..], ValueType::Str));
        assert!(
            decrypt(&key, &enc, "a:c:").is_err(),
            "the path is authenticated"
        );
        assert!(decrypt(&DataKey::generate(), &enc, "a:b:").is_err());
    }
}
