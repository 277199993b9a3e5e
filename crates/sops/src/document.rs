//! SOPS documents (YAML and JSON): which values are encrypted, the MAC, the `sops` metadata
//! and the age-wrapped data key.
//!
//! The format follows getsops/sops (observed against `sops` 3.11 and the published test
//! vectors): every leaf value is encrypted with the path of its keys joined by `:` plus a
//! trailing `:` as additional data (list indices are not part of the path); `null` and empty
//! strings stay as they are; the MAC is the upper-case hex SHA-512 of every leaf's bytes in
//! document order (booleans as `True`/`False`), encrypted with `lastmodified` as additional
//! data; the data key is the raw 32 bytes, age-encrypted and armored once per recipient.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::str::FromStr;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256, Sha512};
use zeroize::Zeroizing;

use crate::Error;
use crate::cipher::{self, DataKey, ValueType};
use crate::tree::{self, Documents, Entry, Node, Scalar};

/// A file format SOPS encrypts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML (sops writes 4-space indentation).
    Yaml,
    /// JSON (sops writes tab indentation).
    Json,
    /// dotenv: `KEY=value` lines and `#` comments; values are strings, metadata is
    /// flattened into `sops_…` keys.
    Dotenv,
    /// Any other file: its bytes (UTF-8 here) are the string `data` of a JSON document.
    Binary,
}

impl Format {
    /// The format of a path, by extension as sops decides it: `.yaml`/`.yml`, `.json`,
    /// `.env`, and binary for anything else.
    pub fn from_path(path: &std::path::Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => Format::Yaml,
            Some("json") => Format::Json,
            Some("env") => Format::Dotenv,
            _ => Format::Binary,
        }
    }
}

/// Which values are encrypted: sops' partial-encryption options. At most one of the six
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
    /// Values below a comment matching this regex stay in plaintext.
    pub unencrypted_comment_regex: Option<String>,
    /// Only values below a comment matching this regex are encrypted.
    pub encrypted_comment_regex: Option<String>,
    /// The MAC covers only the encrypted values.
    pub mac_only_encrypted: bool,
}

/// The default suffix that keeps a key in plaintext.
pub const DEFAULT_UNENCRYPTED_SUFFIX: &str = "_unencrypted";

impl Rules {
    fn selectors(&self) -> [(&'static str, &Option<String>); 6] {
        [
            ("unencrypted_suffix", &self.unencrypted_suffix),
            ("encrypted_suffix", &self.encrypted_suffix),
            ("unencrypted_regex", &self.unencrypted_regex),
            ("encrypted_regex", &self.encrypted_regex),
            ("unencrypted_comment_regex", &self.unencrypted_comment_regex),
            ("encrypted_comment_regex", &self.encrypted_comment_regex),
        ]
    }

    /// The rules as written into a file: the default suffix when no selector is set.
    pub fn effective(&self) -> Rules {
        if self.selectors().iter().all(|(_, v)| v.is_none()) {
            Rules {
                unencrypted_suffix: Some(DEFAULT_UNENCRYPTED_SUFFIX.into()),
                ..self.clone()
            }
        } else {
            self.clone()
        }
    }
}

/// sops' `shouldBeEncrypted`: whether a leaf at `path` (below the comments in `stack`) is
/// encrypted. Suffixes and regexes are unanchored searches on each key of the path.
struct Selector {
    unencrypted_suffix: Option<String>,
    encrypted_suffix: Option<String>,
    unencrypted_regex: Option<regex::Regex>,
    encrypted_regex: Option<regex::Regex>,
    unencrypted_comment_regex: Option<regex::Regex>,
    encrypted_comment_regex: Option<regex::Regex>,
}

impl Selector {
    fn new(rules: &Rules) -> Result<Self, Error> {
        let set: Vec<&str> = rules
            .selectors()
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| *k)
            .collect();
        if set.len() > 1 {
            return Err(Error::Format(format!(
                "only one of unencrypted_suffix, encrypted_suffix, unencrypted_regex, encrypted_regex, unencrypted_comment_regex and encrypted_comment_regex may be set, not {}",
                set.join(" and ")
            )));
        }
        let re = |r: &Option<String>| {
            r.as_deref()
                .map(|r| {
                    regex::Regex::new(r).map_err(|e| Error::Format(format!("bad regex `{r}`: {e}")))
                })
                .transpose()
        };
        let rules = rules.effective();
        Ok(Self {
            unencrypted_suffix: rules.unencrypted_suffix.clone(),
            encrypted_suffix: rules.encrypted_suffix.clone(),
            unencrypted_regex: re(&rules.unencrypted_regex)?,
            encrypted_regex: re(&rules.encrypted_regex)?,
            unencrypted_comment_regex: re(&rules.unencrypted_comment_regex)?,
            encrypted_comment_regex: re(&rules.encrypted_comment_regex)?,
        })
    }

    fn encrypted(&self, path: &[String], stack: &[Vec<String>], is_comment: bool) -> bool {
        let mut encrypted = true;
        if let Some(s) = &self.unencrypted_suffix
            && path.iter().any(|p| p.ends_with(s.as_str()))
        {
            encrypted = false;
        }
        if let Some(s) = &self.encrypted_suffix {
            encrypted = path.iter().any(|p| p.ends_with(s.as_str()));
        }
        if let Some(r) = &self.unencrypted_regex
            && path.iter().any(|p| r.is_match(p))
        {
            encrypted = false;
        }
        if let Some(r) = &self.encrypted_regex {
            encrypted = path.iter().any(|p| r.is_match(p));
        }
        if let Some(r) = &self.unencrypted_comment_regex
            && stack.iter().flatten().any(|c| r.is_match(c))
        {
            encrypted = false;
        }
        if let Some(r) = &self.encrypted_comment_regex {
            // A matching comment line itself stays readable; what follows it is encrypted.
            let mut all: Vec<&String> = stack.iter().flatten().collect();
            if is_comment && stack.last().is_some_and(|l| !l.is_empty()) {
                all.pop();
            }
            encrypted = all.iter().any(|c| r.is_match(c));
        }
        encrypted
    }
}

/// The bytes sops feeds the MAC for a value (None: `null` is not part of it).
fn mac_bytes(s: &Scalar) -> Option<Vec<u8>> {
    Some(match s {
        Scalar::Null => return None,
        Scalar::Bool(b) => if *b { "True" } else { "False" }.into(),
        Scalar::Int(i) => i.to_string().into_bytes(),
        Scalar::Float(f) => tree::format_go_float(*f).into_bytes(),
        Scalar::Str(t) | Scalar::Time(t) => t.as_bytes().to_vec(),
    })
}

/// The plaintext sops encrypts for a value and its type (None: `null` and `""` stay).
fn plain_bytes(s: &Scalar) -> Option<(Vec<u8>, ValueType)> {
    Some(match s {
        Scalar::Null => return None,
        Scalar::Str(t) if t.is_empty() => return None,
        Scalar::Str(t) => (t.as_bytes().to_vec(), ValueType::Str),
        Scalar::Bool(b) => (b.to_string().into_bytes(), ValueType::Bool),
        Scalar::Int(i) => (i.to_string().into_bytes(), ValueType::Int),
        Scalar::Float(f) => (tree::format_go_float(*f).into_bytes(), ValueType::Float),
        Scalar::Time(t) => (t.as_bytes().to_vec(), ValueType::Time),
    })
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

/// The AAD of a leaf: its keys joined by `:`, with a trailing `:` (`:` at the top level).
fn aad(path: &[String]) -> String {
    format!("{}:", path.join(":"))
}

/// A leaf as the walk hands it over.
enum Leaf<'a> {
    Value(&'a mut Node),
    Comment(&'a mut String),
}

impl Leaf<'_> {
    fn is_comment(&self) -> bool {
        matches!(self, Leaf::Comment(_) | Leaf::Value(Node::Comment(_)))
    }
}

type Visit<'v> = dyn FnMut(Leaf<'_>, &[String], &[Vec<String>]) -> Result<(), Error> + 'v;

/// sops' tree walk: leaves in document order with their key path (list indices are not part
/// of it) and the comments above them, level by level; a value clears its level's comments.
fn walk(
    node: &mut Node,
    path: &mut Vec<String>,
    stack: &mut Vec<Vec<String>>,
    visit: &mut Visit<'_>,
) -> Result<(), Error> {
    match node {
        Node::Map(entries) => {
            stack.push(Vec::new());
            for entry in entries.iter_mut() {
                match entry {
                    Entry::Comment(c) => {
                        stack.last_mut().expect("pushed").push(c.clone());
                        visit(Leaf::Comment(c), path, stack)?;
                    }
                    Entry::Pair(k, v) => {
                        path.push(k.clone());
                        walk(v, path, stack, visit)?;
                        path.pop();
                        stack.last_mut().expect("pushed").clear();
                    }
                }
            }
            stack.pop();
        }
        Node::Seq(items) => {
            stack.push(Vec::new());
            for item in items.iter_mut() {
                if let Node::Comment(c) = item {
                    // sops 3.11 writes an encrypted comment in a list as a list item.
                    stack.last_mut().expect("pushed").push(c.clone());
                    visit(Leaf::Value(item), path, stack)?;
                } else {
                    walk(item, path, stack, visit)?;
                    stack.last_mut().expect("pushed").clear();
                }
            }
            stack.pop();
        }
        Node::Comment(_) | Node::Scalar(_) => visit(Leaf::Value(node), path, stack)?,
    }
    Ok(())
}

/// Ciphertexts of a file by (path, type, plaintext) digest, so that re-encrypting an
/// unchanged value under the same data key yields the same bytes. Only digests are kept.
#[derive(Default)]
struct Reuse(HashMap<[u8; 32], String>);

impl Reuse {
    fn digest(aad: &str, ty: ValueType, plain: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(aad.as_bytes());
        h.update([0]);
        h.update(ty.name().as_bytes());
        h.update([0]);
        h.update(plain);
        h.finalize().into()
    }
}

/// Encrypts the documents' values under `key`; returns the MAC (upper-case hex) over them.
fn seal(
    docs: &mut [Node],
    key: &DataKey,
    rules: &Rules,
    reuse: Option<&Reuse>,
) -> Result<String, Error> {
    let selector = Selector::new(rules)?;
    let mac_only = rules.mac_only_encrypted;
    let mut mac = new_mac(mac_only);
    let encrypt = |plain: &[u8], ty: ValueType, aad: &str| -> Result<String, Error> {
        if let Some(c) = reuse.and_then(|r| r.0.get(&Reuse::digest(aad, ty, plain))) {
            return Ok(c.clone());
        }
        cipher::encrypt(key, plain, aad, ty)
    };
    for doc in docs.iter_mut() {
        walk(
            doc,
            &mut Vec::new(),
            &mut Vec::new(),
            &mut |leaf, path, stack| {
                let encrypted = selector.encrypted(path, stack, leaf.is_comment());
                match leaf {
                    Leaf::Comment(c) => {
                        if encrypted {
                            *c = encrypt(c.as_bytes(), ValueType::Comment, &aad(path))?;
                        }
                    }
                    Leaf::Value(node) => match node {
                        Node::Comment(c) => {
                            if encrypted {
                                let sealed = encrypt(c.as_bytes(), ValueType::Comment, &aad(path))?;
                                *node = Node::Scalar(Scalar::Str(sealed));
                            }
                        }
                        Node::Scalar(s) => {
                            if let Some(bytes) = mac_bytes(s)
                                && (!mac_only || encrypted)
                            {
                                mac.update(bytes);
                            }
                            if encrypted && let Some((plain, ty)) = plain_bytes(s) {
                                *s = Scalar::Str(encrypt(&plain, ty, &aad(path))?);
                            }
                        }
                        Node::Map(_) | Node::Seq(_) => unreachable!("leaves only"),
                    },
                }
                Ok(())
            },
        )?;
    }
    Ok(hex_upper(&mac.finalize()))
}

/// Decrypts the documents' values; returns the MAC over the plaintext and the ciphertexts
/// for reuse.
fn open(docs: &mut [Node], key: &DataKey, rules: &Rules) -> Result<(String, Reuse), Error> {
    let selector = Selector::new(rules)?;
    let mac_only = rules.mac_only_encrypted;
    let mut mac = new_mac(mac_only);
    let mut reuse = Reuse::default();
    for doc in docs.iter_mut() {
        walk(
            doc,
            &mut Vec::new(),
            &mut Vec::new(),
            &mut |leaf, path, stack| {
                let encrypted = selector.encrypted(path, stack, leaf.is_comment());
                let at = aad(path);
                match leaf {
                    Leaf::Comment(c) => {
                        // Comments are outside the MAC; one that does not open is kept as it
                        // is, as sops does (files from old sops versions have plain ones).
                        if encrypted
                            && cipher::is_encrypted(c)
                            && let Ok((plain, _)) = cipher::decrypt(key, c, &at)
                        {
                            let text = String::from_utf8(plain.to_vec()).map_err(|_| {
                                Error::Format(format!("a comment at `{at}` is not UTF-8"))
                            })?;
                            reuse
                                .0
                                .insert(Reuse::digest(&at, ValueType::Comment, &plain), c.clone());
                            *c = text;
                        }
                    }
                    Leaf::Value(node) => {
                        if let Node::Comment(c) = node {
                            if encrypted
                                && cipher::is_encrypted(c)
                                && let Ok((plain, _)) = cipher::decrypt(key, c, &at)
                            {
                                *c = String::from_utf8(plain.to_vec()).map_err(|_| {
                                    Error::Format(format!("a comment at `{at}` is not UTF-8"))
                                })?;
                            }
                            return Ok(());
                        }
                        let Node::Scalar(s) = node else {
                            unreachable!("leaves only")
                        };
                        if encrypted {
                            match s {
                                Scalar::Null => {}
                                Scalar::Str(t) if t.is_empty() => {}
                                Scalar::Str(t) => {
                                    // The data key opened, so a value that does not
                                    // authenticate was changed.
                                    let (plain, ty) = cipher::decrypt(key, t, &at).map_err(|e| {
                                        Error::Mac(if cipher::is_encrypted(t) {
                                            format!("the value at `{at}` does not authenticate: {e}")
                                        } else {
                                            format!("the value at `{at}` should be encrypted but is not")
                                        })
                                    })?;
                                    reuse.0.insert(Reuse::digest(&at, ty, &plain), t.clone());
                                    if ty == ValueType::Comment {
                                        // A list's comment, outside the MAC.
                                        *node = Node::Comment(
                                            String::from_utf8(plain.to_vec()).map_err(|_| {
                                                Error::Format(format!(
                                                    "a comment at `{at}` is not UTF-8"
                                                ))
                                            })?,
                                        );
                                        return Ok(());
                                    }
                                    *s = typed(&plain, ty, &at)?;
                                }
                                _ => {
                                    return Err(Error::Mac(format!(
                                        "the value at `{at}` should be encrypted but is not"
                                    )));
                                }
                            }
                        }
                        if let Some(bytes) = mac_bytes(s)
                            && (!mac_only || encrypted)
                        {
                            mac.update(bytes);
                        }
                    }
                }
                Ok(())
            },
        )?;
    }
    Ok((hex_upper(&mac.finalize()), reuse))
}

/// A decrypted value of `ty` as a scalar.
fn typed(plain: &[u8], ty: ValueType, at: &str) -> Result<Scalar, Error> {
    let text = std::str::from_utf8(plain)
        .map_err(|_| Error::Format(format!("the value at `{at}` is not UTF-8")))?;
    let bad = |what: &str| Error::Format(format!("`{at}` is typed {what} but is not one"));
    Ok(match ty {
        ValueType::Str | ValueType::Comment | ValueType::Bytes => Scalar::Str(text.into()),
        ValueType::Int => Scalar::Int(text.parse().map_err(|_| bad("int"))?),
        ValueType::Float => Scalar::Float(text.parse().map_err(|_| bad("float"))?),
        ValueType::Time => {
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .map_err(|_| bad("time"))?;
            Scalar::Time(text.into())
        }
        // Go's strconv.ParseBool.
        ValueType::Bool => Scalar::Bool(match text {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => true,
            "0" | "f" | "F" | "FALSE" | "false" | "False" => false,
            _ => return Err(bad("bool")),
        }),
    })
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
            unencrypted_comment_regex: take_str(&mut m, "unencrypted_comment_regex"),
            encrypted_comment_regex: take_str(&mut m, "encrypted_comment_regex"),
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
        for (k, v) in r.selectors() {
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

/// Parses a plaintext file into documents (YAML keeps comments; the other formats have one
/// document).
pub fn parse(text: &str, format: Format) -> Result<Documents, Error> {
    match format {
        Format::Json => {
            let v: Value =
                serde_json::from_str(text).map_err(|e| Error::Format(format!("not JSON: {e}")))?;
            if !v.is_object() {
                return Err(Error::Format(
                    "a SOPS JSON document must be an object at the top level".into(),
                ));
            }
            Ok(vec![tree::from_json(&v)])
        }
        Format::Yaml => {
            let docs = tree::parse_yaml(text)?;
            Ok(if docs.is_empty() {
                vec![Node::Map(Vec::new())]
            } else {
                docs
            })
        }
        Format::Dotenv => Ok(vec![tree::parse_dotenv(text)?]),
        Format::Binary => Ok(vec![Node::Map(vec![Entry::Pair(
            "data".into(),
            Node::Scalar(Scalar::Str(text.into())),
        )])]),
    }
}

/// Parses an encrypted file (a binary file's encryption is JSON).
fn parse_encrypted(text: &str, format: Format) -> Result<Documents, Error> {
    match format {
        Format::Binary => parse(text, Format::Json),
        other => parse(text, other),
    }
}

/// Writes plaintext documents as `sops -d` writes them: YAML with 4-space indentation and
/// comments on their own lines, JSON with tabs, dotenv lines, a binary file's bytes.
pub fn emit(docs: &[Node], format: Format) -> String {
    let first = || docs.first().cloned().unwrap_or(Node::Map(Vec::new()));
    match format {
        Format::Json => tree::emit_json(&first()),
        Format::Yaml => tree::emit_yaml(docs),
        Format::Dotenv => tree::emit_dotenv(&first()),
        Format::Binary => match tree::to_json(&first()).get("data") {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        },
    }
}

/// Writes an encrypted file.
fn emit_encrypted(docs: &[Node], format: Format) -> String {
    match format {
        Format::Binary => emit(docs, Format::Json),
        other => emit(docs, other),
    }
}

/// dotenv keeps metadata as flat `sops_…` keys: nested keys joined with `__map_`, list
/// items with `__list_N`, newlines as `\n`, `mac_only_encrypted` as a string.
const DOTENV_PREFIX: &str = "sops_";

fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                flatten(&format!("{prefix}__map_{k}"), v, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{prefix}__list_{i}"), v, out);
            }
        }
        Value::Null => {}
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

fn unflatten(flat: Vec<(String, String)>) -> Value {
    let mut root = Value::Object(Map::new());
    for (key, value) in flat {
        let mut tokens: Vec<Result<String, usize>> = Vec::new();
        let mut rest = key.as_str();
        let first_end = rest
            .find("__map_")
            .into_iter()
            .chain(rest.find("__list_"))
            .min();
        tokens.push(Ok(rest[..first_end.unwrap_or(rest.len())].to_string()));
        rest = &rest[first_end.unwrap_or(rest.len())..];
        while !rest.is_empty() {
            let (is_map, body) = match (rest.strip_prefix("__map_"), rest.strip_prefix("__list_")) {
                (Some(b), _) => (true, b),
                (_, Some(b)) => (false, b),
                _ => break,
            };
            let end = body
                .find("__map_")
                .into_iter()
                .chain(body.find("__list_"))
                .min()
                .unwrap_or(body.len());
            let part = &body[..end];
            tokens.push(if is_map {
                Ok(part.to_string())
            } else {
                Err(part.parse().unwrap_or(0))
            });
            rest = &body[end..];
        }
        let value = if key == "mac_only_encrypted" {
            Value::Bool(value == "true")
        } else {
            Value::String(value)
        };
        let mut node = &mut root;
        for (i, t) in tokens.iter().enumerate() {
            let last = i + 1 == tokens.len();
            let next_is_list = tokens.get(i + 1).is_some_and(|t| t.is_err());
            let fresh = || {
                if next_is_list {
                    Value::Array(Vec::new())
                } else {
                    Value::Object(Map::new())
                }
            };
            node = match t {
                Ok(k) => {
                    if !node.is_object() {
                        *node = Value::Object(Map::new());
                    }
                    let m = node.as_object_mut().expect("made an object");
                    if last {
                        m.insert(k.clone(), value.clone());
                        break;
                    }
                    m.entry(k.clone()).or_insert_with(fresh)
                }
                Err(idx) => {
                    if !node.is_array() {
                        *node = Value::Array(Vec::new());
                    }
                    let a = node.as_array_mut().expect("made an array");
                    while a.len() <= *idx {
                        a.push(Value::Null);
                    }
                    if last {
                        a[*idx] = value.clone();
                        break;
                    }
                    if a[*idx].is_null() {
                        a[*idx] = fresh();
                    }
                    &mut a[*idx]
                }
            };
        }
    }
    root
}

/// Removes the metadata from every document; returns the first one's.
fn take_metadata(docs: &mut [Node], format: Format) -> Option<Value> {
    if format == Format::Dotenv {
        let Node::Map(entries) = docs.first_mut()? else {
            return None;
        };
        let mut flat = Vec::new();
        entries.retain(|e| match e {
            Entry::Pair(k, Node::Scalar(Scalar::Str(v))) if k.starts_with(DOTENV_PREFIX) => {
                flat.push((k[DOTENV_PREFIX.len()..].to_string(), v.clone()));
                false
            }
            _ => true,
        });
        return (!flat.is_empty()).then(|| unflatten(flat));
    }
    let mut found = None;
    for doc in docs.iter_mut() {
        if let Node::Map(entries) = doc
            && let Some(i) = entries
                .iter()
                .position(|e| matches!(e, Entry::Pair(k, _) if k == "sops"))
        {
            let Entry::Pair(_, v) = entries.remove(i) else {
                unreachable!("matched a pair")
            };
            found.get_or_insert(v);
        }
    }
    found.map(|n| tree::to_json(&n))
}

fn put_metadata(docs: &mut [Node], meta: &Metadata, format: Format) {
    let value = meta.to_value();
    if format == Format::Dotenv {
        let mut flat = Vec::new();
        if let Value::Object(m) = &value {
            for (k, v) in m {
                flatten(k, v, &mut flat);
            }
        }
        flat.sort();
        if let Some(Node::Map(entries)) = docs.first_mut() {
            entries.extend(flat.into_iter().map(|(k, v)| {
                Entry::Pair(format!("{DOTENV_PREFIX}{k}"), Node::Scalar(Scalar::Str(v)))
            }));
        }
        return;
    }
    let node = tree::from_json(&value);
    for doc in docs.iter_mut() {
        if let Node::Map(entries) = doc {
            entries.push(Entry::Pair("sops".into(), node.clone()));
        }
    }
}

/// Whether a file's text is a SOPS document (has `sops` metadata with a MAC).
pub fn is_sops(text: &str, format: Format) -> bool {
    let Ok(mut docs) = parse_encrypted(text, format) else {
        return false;
    };
    take_metadata(&mut docs, format)
        .is_some_and(|v| v.get("mac").is_some() && v.get("lastmodified").is_some())
}

/// A SOPS document's metadata, read without decrypting anything: who it is for, its
/// rules, and its (encrypted) MAC, which changes whenever a value does.
pub fn metadata(text: &str, format: Format) -> Result<Metadata, Error> {
    let mut docs = parse_encrypted(text, format)?;
    Metadata::from_value(take_metadata(&mut docs, format).ok_or(Error::NotEncrypted)?)
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

/// Key services other than age that sops may have written; their wrapped keys cannot be
/// renewed here.
const OTHER_KEY_SERVICES: &[&str] = &[
    "kms",
    "gcp_kms",
    "azure_kv",
    "hc_vault",
    "hckms",
    "pgp",
    "key_groups",
];

/// A decrypted SOPS file: its plaintext documents (comments kept), its metadata, and what
/// re-encrypting it needs (the data key, the plaintext MAC, the old ciphertexts).
pub struct Opened {
    /// The file's format.
    pub format: Format,
    /// The plaintext documents, without `sops` metadata.
    pub docs: Documents,
    /// The file's metadata.
    pub meta: Metadata,
    key: DataKey,
    mac: String,
    reuse: Reuse,
}

impl Drop for Opened {
    /// The plaintext is wiped when the file is closed.
    fn drop(&mut self) {
        for doc in &mut self.docs {
            tree::zeroize(doc);
        }
    }
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("format", &self.format)
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

impl Opened {
    /// The first document's data as JSON (comments dropped).
    pub fn data(&self) -> Value {
        self.docs.first().map(tree::to_json).unwrap_or_default()
    }

    /// The plaintext file, as `sops -d` writes it.
    pub fn emit(&self) -> String {
        emit(&self.docs, self.format)
    }

    /// The age recipients the file is encrypted for.
    pub fn recipients(&self) -> Vec<String> {
        self.meta.age.iter().map(|a| a.recipient.clone()).collect()
    }

    /// Whether the file uses key services this crate cannot re-wrap keys for.
    fn other_key_services(&self) -> Vec<&str> {
        OTHER_KEY_SERVICES
            .iter()
            .copied()
            .filter(|k| {
                self.meta
                    .other
                    .get(*k)
                    .is_some_and(|v| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
            })
            .collect()
    }
}

/// Decrypts a SOPS document, verifying its MAC.
pub fn decrypt(
    text: &str,
    format: Format,
    identities: &[age::x25519::Identity],
) -> Result<Opened, Error> {
    let mut docs = parse_encrypted(text, format)?;
    let meta = Metadata::from_value(take_metadata(&mut docs, format).ok_or(Error::NotEncrypted)?)?;
    if meta.other.contains_key("key_groups") {
        return Err(Error::Format(
            "the file splits its data key over several key groups (Shamir), which is not supported"
                .into(),
        ));
    }
    let key = unwrap_key(&meta.age, identities)?;
    let (computed, reuse) = open(&mut docs, &key, &meta.rules)?;
    let (stored, _) = cipher::decrypt(&key, &meta.mac, &meta.lastmodified)
        .map_err(|_| Error::Mac("the MAC does not authenticate with its lastmodified".into()))?;
    let stored = String::from_utf8_lossy(&stored).to_uppercase();
    if stored != computed {
        return Err(Error::Mac(format!(
            "the file has {stored}, the values give {computed}"
        )));
    }
    Ok(Opened {
        format,
        docs,
        meta,
        key,
        mac: computed,
        reuse,
    })
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn rfc3339(now: time::OffsetDateTime) -> Result<String, Error> {
    now.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .expect("0 is a valid nanosecond")
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| Error::Format(e.to_string()))
}

fn check_plain(docs: &[Node]) -> Result<(), Error> {
    let has_sops = docs.iter().any(|d| {
        matches!(d, Node::Map(entries) if entries.iter().any(|e| matches!(e, Entry::Pair(k, _) if k == "sops")))
    });
    if has_sops {
        return Err(Error::AlreadyEncrypted);
    }
    Ok(())
}

fn age_entries(
    key: &DataKey,
    recipients: &[String],
    keep: &[AgeEntry],
) -> Result<Vec<AgeEntry>, Error> {
    if recipients.is_empty() {
        return Err(Error::Format(
            "no recipients: nobody could decrypt the file".into(),
        ));
    }
    let mut out: Vec<AgeEntry> = Vec::new();
    for r in recipients {
        if out.iter().any(|e| e.recipient == *r) {
            continue;
        }
        match keep.iter().find(|e| e.recipient == *r) {
            Some(e) => out.push(e.clone()),
            None => out.push(wrap_key(key, r)?),
        }
    }
    Ok(out)
}

/// Encrypts plaintext documents for `recipients` with a new data key, as `sops -e` does.
pub fn encrypt(
    plain: &[Node],
    format: Format,
    recipients: &[String],
    rules: &Rules,
    now: time::OffsetDateTime,
) -> Result<String, Error> {
    check_plain(plain)?;
    let key = DataKey::generate();
    let age = age_entries(&key, recipients, &[])?;
    let mut docs = plain.to_vec();
    let mac = seal(&mut docs, &key, rules, None)?;
    let lastmodified = rfc3339(now)?;
    let meta = Metadata {
        age,
        mac: cipher::encrypt(&key, mac.as_bytes(), &lastmodified, ValueType::Str)?,
        lastmodified,
        rules: rules.effective(),
        version: FORMAT_VERSION.into(),
        other: Map::new(),
    };
    put_metadata(&mut docs, &meta, format);
    Ok(emit_encrypted(&docs, format))
}

/// Encrypts a JSON value (one document), as [`encrypt`].
pub fn encrypt_value(
    plain: &Value,
    format: Format,
    recipients: &[String],
    rules: &Rules,
    now: time::OffsetDateTime,
) -> Result<String, Error> {
    encrypt(&[tree::from_json(plain)], format, recipients, rules, now)
}

/// Re-encrypts changed plaintext of an opened file under its data key, recipients and
/// rules. Unchanged values keep their ciphertext, and when nothing changed at all, the
/// result is the file as it was (same `lastmodified` and MAC): no churn in git.
pub fn reencrypt(
    plain: &[Node],
    opened: &Opened,
    now: time::OffsetDateTime,
) -> Result<String, Error> {
    check_plain(plain)?;
    let mut docs = plain.to_vec();
    let mac = seal(
        &mut docs,
        &opened.key,
        &opened.meta.rules,
        Some(&opened.reuse),
    )?;
    let mut meta = opened.meta.clone();
    if mac != opened.mac {
        meta.lastmodified = rfc3339(now)?;
        meta.mac = cipher::encrypt(
            &opened.key,
            mac.as_bytes(),
            &meta.lastmodified,
            ValueType::Str,
        )?;
        meta.version = FORMAT_VERSION.into();
    }
    put_metadata(&mut docs, &meta, opened.format);
    Ok(emit_encrypted(&docs, opened.format))
}

/// What [`update_keys`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyChanges {
    /// Recipients that can now decrypt.
    pub added: Vec<String>,
    /// Recipients that no longer can.
    pub removed: Vec<String>,
    /// Whether the data key was renewed (because a recipient was removed).
    pub rotated: bool,
}

/// Re-wraps the file's data key for exactly `recipients`. Adding recipients keeps the data
/// key and every value as it is (as `sops updatekeys` does). Removing one also renews the
/// data key and re-encrypts every value: a removed recipient may have kept the old data
/// key, and must not be able to read later versions.
/// `text` is the encrypted file `opened` was decrypted from.
pub fn update_keys(
    text: &str,
    opened: &Opened,
    recipients: &[String],
    now: time::OffsetDateTime,
) -> Result<(String, KeyChanges), Error> {
    let format = opened.format;
    let before = opened.recipients();
    let changes = KeyChanges {
        added: recipients
            .iter()
            .filter(|r| !before.contains(r))
            .cloned()
            .collect(),
        removed: before
            .iter()
            .filter(|r| !recipients.contains(r))
            .cloned()
            .collect(),
        rotated: false,
    };
    if !changes.removed.is_empty() {
        let out = rotate_opened(opened, Some(recipients), now)?;
        return Ok((
            out,
            KeyChanges {
                rotated: true,
                ..changes
            },
        ));
    }
    let mut docs = parse_encrypted(text, format)?;
    take_metadata(&mut docs, format);
    let mut meta = opened.meta.clone();
    meta.age = age_entries(&opened.key, recipients, &opened.meta.age)?;
    put_metadata(&mut docs, &meta, format);
    Ok((emit_encrypted(&docs, format), changes))
}

/// Renews the data key: every value is re-encrypted under a new one, for the same
/// recipients (or `recipients`, when given).
pub fn rotate(opened: &Opened, now: time::OffsetDateTime) -> Result<String, Error> {
    rotate_opened(opened, None, now)
}

fn rotate_opened(
    opened: &Opened,
    recipients: Option<&[String]>,
    now: time::OffsetDateTime,
) -> Result<String, Error> {
    let others = opened.other_key_services();
    if !others.is_empty() {
        return Err(Error::Format(format!(
            "the file's data key is also wrapped by {}, which infraflux cannot renew; rotate it with `sops rotate`",
            others.join(", ")
        )));
    }
    let recipients = recipients.map_or_else(|| opened.recipients(), <[String]>::to_vec);
    encrypt(
        &opened.docs,
        opened.format,
        &recipients,
        &opened.meta.rules,
        now,
    )
}
