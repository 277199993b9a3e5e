//! SOPS documents (YAML and JSON): which values are encrypted, the MAC, the `sops` metadata
//! and the age-wrapped data key.
//!
//! The format follows getsops/sops (observed against `sops` 3.11 and the published test
//! vectors): every leaf value is encrypted with the path of its keys joined by `:` plus a
//! trailing `:` as additional data (list indices are not part of the path); `null` and empty
//! strings stay as they are; the MAC is the upper-case hex SHA-512 of every leaf's bytes in
//! document order (booleans as `True`/`False`), encrypted with `lastmodified` as additional
//! data; the data key is the raw 32 bytes, age-encrypted and armored once per recipient.

use std::io::{Read, Write};
use std::str::FromStr;

use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use crate::Error;
use crate::cipher::{self, DataKey, ValueType};

/// A file format SOPS encrypts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML (sops writes 4-space indentation).
    Yaml,
    /// JSON (sops writes tab indentation).
    Json,
}

impl Format {
    /// The format of a path, by extension as sops decides it (`.json` is JSON, everything
    /// else here YAML).
    pub fn from_path(path: &std::path::Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Format::Json,
            _ => Format::Yaml,
        }
    }
}

/// Which values are encrypted: sops' partial-encryption options. At most one of the four
/// selectors may be set; with none, `unencrypted_suffix: _unencrypted` applies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// Keys with this suffix (and their subtrees) stay in plaintext.
    pub unencrypted_suffix: Option<String>,
    /// Only keys with this suffix (and their subtrees) are encrypted.
    pub encrypted_suffix: Option<String>,
    /// Keys matching this regex (and their subtrees) stay in plaintext.
    pub unencrypted_regex: Option<String>,
    /// Only keys matching this regex (and their subtrees) are encrypted.
    pub encrypted_regex: Option<String>,
    /// The MAC covers only the encrypted values.
    pub mac_only_encrypted: bool,
}

/// The default suffix that keeps a key in plaintext.
pub const DEFAULT_UNENCRYPTED_SUFFIX: &str = "_unencrypted";

struct Selector {
    unencrypted_suffix: Option<String>,
    encrypted_suffix: Option<String>,
    unencrypted_regex: Option<regex::Regex>,
    encrypted_regex: Option<regex::Regex>,
}

impl Selector {
    fn new(rules: &Rules) -> Result<Self, Error> {
        let re = |r: &Option<String>| {
            r.as_deref()
                .map(|r| {
                    regex::Regex::new(r).map_err(|e| Error::Format(format!("bad regex `{r}`: {e}")))
                })
                .transpose()
        };
        let set = [
            rules.unencrypted_suffix.is_some(),
            rules.encrypted_suffix.is_some(),
            rules.unencrypted_regex.is_some(),
            rules.encrypted_regex.is_some(),
        ];
        if set.iter().filter(|s| **s).count() > 1 {
            return Err(Error::Format("only one of unencrypted_suffix, encrypted_suffix, unencrypted_regex and encrypted_regex may be set".into()));
        }
        let none = !set.iter().any(|s| *s);
        Ok(Self {
            unencrypted_suffix: if none {
                Some(DEFAULT_UNENCRYPTED_SUFFIX.to_string())
            } else {
                rules.unencrypted_suffix.clone()
            },
            encrypted_suffix: rules.encrypted_suffix.clone(),
            unencrypted_regex: re(&rules.unencrypted_regex)?,
            encrypted_regex: re(&rules.encrypted_regex)?,
        })
    }

    /// Whether values start out encrypted at the root.
    fn default_encrypted(&self) -> bool {
        self.encrypted_suffix.is_none() && self.encrypted_regex.is_none()
    }

    /// The encryption state below `key`, given the state above it.
    fn below(&self, key: &str, encrypted: bool) -> bool {
        if self
            .unencrypted_suffix
            .as_deref()
            .is_some_and(|s| key.ends_with(s))
            || self
                .unencrypted_regex
                .as_ref()
                .is_some_and(|r| r.is_match(key))
        {
            return false;
        }
        if self
            .encrypted_suffix
            .as_deref()
            .is_some_and(|s| key.ends_with(s))
            || self
                .encrypted_regex
                .as_ref()
                .is_some_and(|r| r.is_match(key))
        {
            return true;
        }
        encrypted
    }
}

/// The bytes of a plaintext leaf as the MAC and encryption see them: (MAC bytes, encrypted
/// bytes, type), or None for values that are never encrypted.
fn leaf_bytes(value: &Value, format: Format) -> (Vec<u8>, Option<(Vec<u8>, ValueType)>) {
    match value {
        Value::Null => (Vec::new(), None),
        Value::String(s) if s.is_empty() => (Vec::new(), None),
        Value::String(s) => (
            s.as_bytes().to_vec(),
            Some((s.as_bytes().to_vec(), ValueType::Str)),
        ),
        Value::Bool(b) => {
            let mac = if *b { "True" } else { "False" };
            (
                mac.into(),
                Some((b.to_string().into_bytes(), ValueType::Bool)),
            )
        }
        Value::Number(n) => {
            // Go decodes every JSON number as float64; YAML keeps integers.
            let int = format == Format::Yaml && (n.is_i64() || n.is_u64());
            let text = if int {
                n.to_string()
            } else {
                format_float(n.as_f64().unwrap_or_default())
            };
            let ty = if int {
                ValueType::Int
            } else {
                ValueType::Float
            };
            (text.clone().into_bytes(), Some((text.into_bytes(), ty)))
        }
        Value::Array(_) | Value::Object(_) => unreachable!("leaf_bytes is called on leaves"),
    }
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: shortest round-trip digits, no exponent
/// (Rust's `Display` for f64 is the same).
fn format_float(f: f64) -> String {
    let s = f.to_string();
    if s == "-0" { "-0".into() } else { s }
}

/// With `mac_only_encrypted`, sops first feeds the MAC SHA-256("sops"), so that such a MAC
/// can never equal one over all values.
const MAC_ONLY_ENCRYPTED_PREFIX: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

fn new_mac(mac_only_encrypted: bool) -> Sha512 {
    let mut mac = Sha512::new();
    if mac_only_encrypted {
        mac.update(MAC_ONLY_ENCRYPTED_PREFIX);
    }
    mac
}

/// The AAD of a leaf: its keys joined by `:`, with a trailing `:`.
fn aad(path: &[String]) -> String {
    path.iter().map(|p| format!("{p}:")).collect()
}

fn walk_encrypt(
    node: &mut Value,
    path: &mut Vec<String>,
    encrypted: bool,
    ctx: &mut WalkCtx,
) -> Result<(), Error> {
    match node {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                path.push(k.clone());
                let below = ctx.selector.below(k, encrypted);
                walk_encrypt(v, path, below, ctx)?;
                path.pop();
            }
        }
        Value::Array(items) => {
            for v in items {
                walk_encrypt(v, path, encrypted, ctx)?;
            }
        }
        leaf => {
            let (mac, enc) = leaf_bytes(leaf, ctx.format);
            if encrypted || !ctx.mac_only_encrypted {
                ctx.mac.update(&mac);
            }
            if let (true, Some((bytes, ty))) = (encrypted, enc) {
                *leaf = Value::String(cipher::encrypt(ctx.key, &bytes, &aad(path), ty)?);
            }
        }
    }
    Ok(())
}

fn walk_decrypt(node: &mut Value, path: &mut Vec<String>, ctx: &mut WalkCtx) -> Result<(), Error> {
    match node {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                path.push(k.clone());
                walk_decrypt(v, path, ctx)?;
                path.pop();
            }
        }
        Value::Array(items) => {
            for v in items {
                walk_decrypt(v, path, ctx)?;
            }
        }
        Value::String(s) if cipher::is_encrypted(s) => {
            // The data key opened, so a value that does not authenticate was tampered with.
            let (plain, ty) = cipher::decrypt(ctx.key, s, &aad(path)).map_err(|e| match e {
                Error::Crypto(_) => Error::Mac,
                other => other,
            })?;
            let value = typed(&plain, ty, &aad(path))?;
            let (mac, _) = leaf_bytes(&value, Format::Yaml);
            // A float that is integral prints without a fraction, as Go does.
            let mac = if ty == ValueType::Float {
                plain.to_vec()
            } else {
                mac
            };
            ctx.mac.update(&mac);
            *node = value;
        }
        leaf => {
            if !ctx.mac_only_encrypted {
                let (mac, _) = leaf_bytes(leaf, ctx.format);
                ctx.mac.update(&mac);
            }
        }
    }
    Ok(())
}

/// A decrypted value of `ty` as a tree node.
fn typed(plain: &[u8], ty: ValueType, at: &str) -> Result<Value, Error> {
    let text = || {
        String::from_utf8(plain.to_vec())
            .map_err(|_| Error::Format(format!("the value at `{at}` is not UTF-8")))
    };
    Ok(match ty {
        ValueType::Str | ValueType::Comment | ValueType::Bytes => Value::String(text()?),
        ValueType::Int => Value::Number(
            text()?
                .parse::<i64>()
                .map(Number::from)
                .map_err(|_| Error::Format(format!("`{at}` is typed int but is not one")))?,
        ),
        ValueType::Float => {
            let t = text()?;
            let f: f64 = t
                .parse()
                .map_err(|_| Error::Format(format!("`{at}` is typed float but is not one")))?;
            // Go prints an integral float64 as an integer; keep that form.
            match (t.contains(['.', 'e', 'E']), t.parse::<i64>()) {
                (false, Ok(i)) => Value::Number(Number::from(i)),
                _ => Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| Error::Format(format!("`{at}` is not a finite number")))?,
            }
        }
        ValueType::Bool => Value::Bool(match text()?.as_str() {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => true,
            "0" | "f" | "F" | "FALSE" | "false" | "False" => false,
            _ => {
                return Err(Error::Format(format!(
                    "`{at}` is typed bool but is not one"
                )));
            }
        }),
    })
}

struct WalkCtx<'a> {
    key: &'a DataKey,
    selector: Selector,
    format: Format,
    mac_only_encrypted: bool,
    mac: Sha512,
}

/// An age recipient entry of the metadata.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgeEntry {
    /// The recipient (`age1…`).
    pub recipient: String,
    /// The data key, age-encrypted to the recipient and armored.
    pub enc: String,
}

/// The `sops` metadata block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// age recipients with the wrapped data key.
    pub age: Vec<AgeEntry>,
    /// Time of the last change (RFC 3339, seconds, UTC), the MAC's additional data.
    pub lastmodified: String,
    /// The encrypted MAC.
    pub mac: String,
    /// Partial-encryption rules in force.
    pub rules: Rules,
    /// The sops format version.
    pub version: String,
    /// Metadata this crate does not interpret (other key services), kept as it was.
    pub other: Map<String, Value>,
}

/// The sops version this crate writes (the format of sops 3.11).
pub const FORMAT_VERSION: &str = "3.11.0";

impl Metadata {
    fn from_value(v: Value) -> Result<Self, Error> {
        let Value::Object(mut m) = v else {
            return Err(Error::Format("`sops` is not a mapping".into()));
        };
        let take_str = |m: &mut Map<String, Value>, k: &str| match m.remove(k) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        let age = match m.remove("age") {
            Some(Value::Null) | None => Vec::new(),
            Some(v) => serde_json::from_value(v)
                .map_err(|e| Error::Format(format!("bad `sops.age`: {e}")))?,
        };
        let rules = Rules {
            unencrypted_suffix: take_str(&mut m, "unencrypted_suffix"),
            encrypted_suffix: take_str(&mut m, "encrypted_suffix"),
            unencrypted_regex: take_str(&mut m, "unencrypted_regex"),
            encrypted_regex: take_str(&mut m, "encrypted_regex"),
            mac_only_encrypted: matches!(m.remove("mac_only_encrypted"), Some(Value::Bool(true))),
        };
        Ok(Self {
            age,
            lastmodified: take_str(&mut m, "lastmodified")
                .ok_or_else(|| Error::Format("no `sops.lastmodified`".into()))?,
            mac: take_str(&mut m, "mac").ok_or_else(|| Error::Format("no `sops.mac`".into()))?,
            version: take_str(&mut m, "version").unwrap_or_default(),
            rules,
            other: m,
        })
    }

    fn to_value(&self) -> Value {
        let mut m = self.other.clone();
        // sops 3.11's order: key services, lastmodified, mac, rules, version.
        m.insert(
            "age".into(),
            serde_json::to_value(&self.age).expect("plain data"),
        );
        m.insert(
            "lastmodified".into(),
            Value::String(self.lastmodified.clone()),
        );
        m.insert("mac".into(), Value::String(self.mac.clone()));
        let r = &self.rules;
        for (k, v) in [
            ("unencrypted_suffix", &r.unencrypted_suffix),
            ("encrypted_suffix", &r.encrypted_suffix),
            ("unencrypted_regex", &r.unencrypted_regex),
            ("encrypted_regex", &r.encrypted_regex),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), Value::String(v.clone()));
            }
        }
        if r.mac_only_encrypted {
            m.insert("mac_only_encrypted".into(), Value::Bool(true));
        }
        m.insert("version".into(), Value::String(self.version.clone()));
        Value::Object(m)
    }
}

/// Parses a file's text into a tree.
pub fn parse(text: &str, format: Format) -> Result<Value, Error> {
    match format {
        Format::Json => {
            serde_json::from_str(text).map_err(|e| Error::Format(format!("not JSON: {e}")))
        }
        Format::Yaml => {
            serde_saphyr::from_str(text).map_err(|e| Error::Format(format!("not YAML: {e}")))
        }
    }
}

/// Writes a tree as sops writes files: YAML with 4-space indentation, JSON with tabs.
pub fn emit(tree: &Value, format: Format) -> String {
    match format {
        Format::Json => {
            let mut out = Vec::new();
            let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
            let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
            serde::Serialize::serialize(tree, &mut ser).expect("JSON values serialize");
            out.push(b'\n');
            String::from_utf8(out).expect("JSON is UTF-8")
        }
        Format::Yaml => {
            let mut options = serde_saphyr::SerializerOptions::default();
            options.indent_step = 4;
            options.compact_list_indent = false;
            options.prefer_block_scalars = false;
            serde_saphyr::to_string_with_options(tree, options).expect("JSON values serialize")
        }
    }
}

/// Whether a parsed tree is a SOPS-encrypted document.
pub fn is_sops(tree: &Value) -> bool {
    tree.get("sops")
        .is_some_and(|s| s.get("mac").is_some() && s.get("lastmodified").is_some())
}

fn wrap_key(key: &DataKey, recipient: &str) -> Result<AgeEntry, Error> {
    let r = age::x25519::Recipient::from_str(recipient)
        .map_err(|e| Error::Format(format!("`{recipient}` is not an age recipient: {e}")))?;
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&r as &dyn age::Recipient))
        .map_err(|e| Error::Crypto(e.to_string()))?;
    let mut armored = Vec::new();
    let armor =
        age::armor::ArmoredWriter::wrap_output(&mut armored, age::armor::Format::AsciiArmor)
            .map_err(|e| Error::Crypto(e.to_string()))?;
    let mut w = encryptor
        .wrap_output(armor)
        .map_err(|e| Error::Crypto(e.to_string()))?;
    w.write_all(key.as_bytes())
        .map_err(|e| Error::Crypto(e.to_string()))?;
    w.finish()
        .and_then(|a| a.finish())
        .map_err(|e| Error::Crypto(e.to_string()))?;
    Ok(AgeEntry {
        recipient: recipient.to_string(),
        enc: String::from_utf8(armored).expect("armor is ASCII"),
    })
}

fn unwrap_key(
    entries: &[AgeEntry],
    identities: &[age::x25519::Identity],
) -> Result<DataKey, Error> {
    for entry in entries {
        let reader = age::armor::ArmoredReader::new(entry.enc.as_bytes());
        let Ok(decryptor) = age::Decryptor::new(reader) else {
            continue;
        };
        let Ok(mut r) = decryptor.decrypt(identities.iter().map(|i| i as &dyn age::Identity))
        else {
            continue;
        };
        let mut key = Zeroizing::new(Vec::new());
        if r.read_to_end(&mut key).is_ok() {
            return DataKey::from_bytes(&key);
        }
    }
    Err(Error::NoIdentity(
        entries.iter().map(|e| e.recipient.clone()).collect(),
    ))
}

/// Decrypts a SOPS document, verifying its MAC; returns the plaintext tree (without `sops`)
/// and its metadata.
pub fn decrypt(
    text: &str,
    format: Format,
    identities: &[age::x25519::Identity],
) -> Result<(Value, Metadata), Error> {
    let mut tree = parse(text, format)?;
    let Value::Object(map) = &mut tree else {
        return Err(Error::Format("the document is not a mapping".into()));
    };
    let meta = Metadata::from_value(map.shift_remove("sops").ok_or(Error::NotEncrypted)?)?;
    let key = unwrap_key(&meta.age, identities)?;
    let mut ctx = WalkCtx {
        key: &key,
        selector: Selector::new(&meta.rules)?,
        format,
        mac_only_encrypted: meta.rules.mac_only_encrypted,
        mac: new_mac(meta.rules.mac_only_encrypted),
    };
    walk_decrypt(&mut tree, &mut Vec::new(), &mut ctx)?;
    let computed = hex_upper(&ctx.mac.finalize());
    let (stored, _) =
        cipher::decrypt(&key, &meta.mac, &meta.lastmodified).map_err(|_| Error::Mac)?;
    if !stored.eq_ignore_ascii_case(computed.as_bytes()) {
        return Err(Error::Mac);
    }
    Ok((tree, meta))
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Encrypts a plaintext tree for `recipients` with a new data key, as `sops -e` does.
pub fn encrypt(
    plain: &Value,
    format: Format,
    recipients: &[String],
    rules: &Rules,
    now: time::OffsetDateTime,
) -> Result<String, Error> {
    encrypt_with_key(plain, format, recipients, rules, now, &DataKey::generate())
}

/// Encrypts with a given data key (`updatekeys`-style re-wrapping keeps the key).
pub fn encrypt_with_key(
    plain: &Value,
    format: Format,
    recipients: &[String],
    rules: &Rules,
    now: time::OffsetDateTime,
    key: &DataKey,
) -> Result<String, Error> {
    if recipients.is_empty() {
        return Err(Error::Format(
            "no recipients: nobody could decrypt the file".into(),
        ));
    }
    let mut tree = plain.clone();
    let Value::Object(map) = &mut tree else {
        return Err(Error::Format("the document is not a mapping".into()));
    };
    if map.contains_key("sops") {
        return Err(Error::AlreadyEncrypted);
    }
    let selector = Selector::new(rules)?;
    let start = selector.default_encrypted();
    let mut ctx = WalkCtx {
        key,
        selector,
        format,
        mac_only_encrypted: rules.mac_only_encrypted,
        mac: new_mac(rules.mac_only_encrypted),
    };
    walk_encrypt(&mut tree, &mut Vec::new(), start, &mut ctx)?;
    let lastmodified = now
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .expect("0 is a valid nanosecond")
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| Error::Format(e.to_string()))?;
    let mac = cipher::encrypt(
        key,
        hex_upper(&ctx.mac.finalize()).as_bytes(),
        &lastmodified,
        ValueType::Str,
    )?;
    let age = recipients
        .iter()
        .map(|r| wrap_key(key, r))
        .collect::<Result<Vec<_>, _>>()?;
    let effective = if rules == &Rules::default() {
        Rules {
            unencrypted_suffix: Some(DEFAULT_UNENCRYPTED_SUFFIX.into()),
            ..Rules::default()
        }
    } else {
        rules.clone()
    };
    let meta = Metadata {
        age,
        lastmodified,
        mac,
        rules: effective,
        version: FORMAT_VERSION.into(),
        other: Map::new(),
    };
    if let Value::Object(map) = &mut tree {
        map.insert("sops".into(), meta.to_value());
    }
    Ok(emit(&tree, format))
}
