//! The document tree sops works on: ordered mappings whose string keys keep their order,
//! sequences, typed scalars, and comments as items of their own, for YAML and JSON.
//!
//! YAML is read from granit-parser's events (the parser serde-saphyr uses), which report
//! comments, and written by a small emitter in the layout sops 3.11 writes (4-space
//! indentation, list items indented under their key, every comment on its own line above
//! what it precedes). No YAML serializer keeps comments, hence the emitter here. Scalars
//! resolve as Go's yaml.v3 resolves them into sops' tree (YAML 1.2 core schema plus Go's
//! integer syntax, so `0777` is 511 and `yes` a string; unquoted dates are timestamps), so
//! that a value gets the same `type:` here as in `sops`.

use serde_json::{Map, Number, Value};
use serde_saphyr::granit_parser::{Event, Parser, Placement, ScalarStyle, Span};

use crate::Error;

/// A node of a document.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A mapping: keys in document order, comments between them.
    Map(Vec<Entry>),
    /// A sequence; may hold [`Node::Comment`] items between its values.
    Seq(Vec<Node>),
    /// A leaf value.
    Scalar(Scalar),
    /// A comment (its text after `#`), only as an item of a sequence.
    Comment(String),
}

/// An item of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// A key and its value.
    Pair(String, Node),
    /// A comment line (its text after `#`).
    Comment(String),
}

/// A typed leaf.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// `null`, `~` or nothing.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
    /// A timestamp, as Go's `time.Time.MarshalText` writes it (RFC 3339 with nanoseconds).
    Time(String),
}

/// A file: one tree per YAML document (JSON has one).
pub type Documents = Vec<Node>;

fn at(span: &Span) -> String {
    format!("line {} column {}", span.start.line(), span.start.col() + 1)
}

/// Reads YAML text into one mapping per document, keeping comments.
pub fn parse_yaml(text: &str) -> Result<Documents, Error> {
    let mut events = Vec::new();
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| Error::Format(format!("not YAML: {e}")))?;
        events.push((event, span));
    }
    let mut reader = Reader {
        events,
        pos: 0,
        anchors: Vec::new(),
        carry: Vec::new(),
        head: Vec::new(),
    };
    let mut docs = Vec::new();
    let mut before = Vec::new();
    loop {
        match reader.next() {
            Some((Event::StreamStart, _)) => {}
            Some((Event::DocumentStart(..), _)) => {
                let mut doc = std::mem::take(&mut before);
                doc.extend(reader.document()?);
                docs.push(Node::Map(doc));
            }
            Some((Event::StreamEnd, _)) | None => break,
            Some((Event::Comment(c, _), _)) => before.push(Entry::Comment(c.into_owned())),
            Some((_, span)) => {
                return Err(Error::Format(format!(
                    "not YAML: unexpected content at {}",
                    at(&span)
                )));
            }
        }
    }
    // Comments after the last document belong to it.
    match docs.last_mut() {
        Some(Node::Map(entries)) => entries.append(&mut before),
        _ if !before.is_empty() => docs.push(Node::Map(before)),
        _ => {}
    }
    Ok(docs)
}

struct Reader<'a> {
    events: Vec<(Event<'a>, Span)>,
    pos: usize,
    anchors: Vec<(usize, Node)>,
    /// Comments less indented than the collection that read them, with their columns:
    /// they belong to an enclosing collection if this one ends right after them.
    carry: Vec<(String, usize)>,
    /// Own-line comments between a key and its collection value: the value's first items.
    head: Vec<String>,
}

impl<'a> Reader<'a> {
    fn next(&mut self) -> Option<(Event<'a>, Span)> {
        let e = self.events.get(self.pos).cloned();
        self.pos += 1;
        e
    }

    fn peek(&self) -> Option<&Event<'a>> {
        self.events.get(self.pos).map(|(e, _)| e)
    }

    /// The comments ahead that belong to a collection indented at `indent`; less indented
    /// ones (and all after them) are carried.
    fn comments_for(&mut self, indent: usize) -> Vec<String> {
        let mut mine = Vec::new();
        for (c, col) in std::mem::take(&mut self.carry) {
            if col >= indent && self.carry.is_empty() {
                mine.push(c);
            } else {
                self.carry.push((c, col));
            }
        }
        while let Some((Event::Comment(c, place), span)) = self.events.get(self.pos) {
            let col = span.start.col();
            if self.carry.is_empty() && (col >= indent || *place == Placement::Right) {
                mine.push(c.to_string());
            } else {
                self.carry.push((c.to_string(), col));
            }
            self.pos += 1;
        }
        mine
    }

    /// Carried comments that turned out not to close the collection: they stay in it.
    fn reclaim(&mut self) -> Vec<String> {
        std::mem::take(&mut self.carry)
            .into_iter()
            .map(|(c, _)| c)
            .collect()
    }

    /// A document's root: a mapping, or nothing (an empty document).
    fn document(&mut self) -> Result<Vec<Entry>, Error> {
        let mut entries: Vec<Entry> = self
            .comments_for(0)
            .into_iter()
            .map(Entry::Comment)
            .collect();
        match self.next() {
            Some((Event::DocumentEnd, _)) | None => return Ok(entries),
            Some((event, span)) => match self.node(event, &span)? {
                Node::Map(items) => entries.extend(items),
                Node::Scalar(Scalar::Null) => {}
                _ => {
                    return Err(Error::Format(
                        "a SOPS YAML document must be a mapping at the top level".into(),
                    ));
                }
            },
        }
        loop {
            let carried = self.reclaim();
            entries.extend(carried.into_iter().map(Entry::Comment));
            match self.next() {
                Some((Event::Comment(c, _), _)) => entries.push(Entry::Comment(c.into_owned())),
                Some((Event::DocumentEnd, _)) | None => return Ok(entries),
                Some((_, span)) => {
                    return Err(Error::Format(format!(
                        "not YAML: unexpected content at {}",
                        at(&span)
                    )));
                }
            }
        }
    }

    fn node(&mut self, event: Event<'a>, span: &Span) -> Result<Node, Error> {
        let (node, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle(), t.suffix()));
                (Node::Scalar(resolve(&text, style, tag.as_deref())), anchor)
            }
            Event::MappingStart(_, anchor, _) => (self.mapping(span.start.col())?, anchor),
            Event::SequenceStart(_, anchor, _) => (self.sequence(span.start.col())?, anchor),
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == id)
                    .map(|(_, n)| n.clone())
                    .ok_or_else(|| {
                        Error::Format(format!("not YAML: unknown alias at {}", at(span)))
                    })?;
                (node, 0)
            }
            _ => {
                return Err(Error::Format(format!(
                    "not YAML: unexpected event at {}",
                    at(span)
                )));
            }
        };
        if anchor != 0 {
            self.anchors.push((anchor, node.clone()));
        }
        Ok(node)
    }

    fn mapping(&mut self, mut indent: usize) -> Result<Node, Error> {
        let mut entries: Vec<Entry> = std::mem::take(&mut self.head)
            .into_iter()
            .map(Entry::Comment)
            .collect();
        loop {
            let comments = self.comments_for(indent);
            entries.extend(comments.into_iter().map(Entry::Comment));
            if self.peek() == Some(&Event::MappingEnd) {
                self.pos += 1;
                return Ok(Node::Map(entries));
            }
            entries.extend(self.reclaim().into_iter().map(Entry::Comment));
            let Some((event, span)) = self.next() else {
                return Err(Error::Format("not YAML: unterminated mapping".into()));
            };
            let key = match event {
                Event::Scalar(text, ..) => text.into_owned(),
                Event::Alias(..) | Event::MappingStart(..) | Event::SequenceStart(..) => {
                    return Err(Error::Format(format!(
                        "only string keys are supported (a complex key at {})",
                        at(&span)
                    )));
                }
                _ => {
                    return Err(Error::Format(format!(
                        "not YAML: unexpected event at {}",
                        at(&span)
                    )));
                }
            };
            if !entries.iter().any(|e| matches!(e, Entry::Pair(..))) {
                indent = span.start.col();
            }
            if key == "<<" {
                return Err(Error::Format(format!(
                    "YAML merge keys (`<<`) are not supported (at {})",
                    at(&span)
                )));
            }
            if entries
                .iter()
                .any(|e| matches!(e, Entry::Pair(k, _) if *k == key))
            {
                return Err(Error::Format(format!(
                    "duplicate key `{key}` at {}",
                    at(&span)
                )));
            }
            // Between a key and its value: a comment on the key's line goes above the key
            // (as sops 3.11 writes it); own-line comments open a collection value.
            let mut own_line = Vec::new();
            while let Some(Event::Comment(c, place)) = self.peek() {
                if *place == Placement::Right {
                    entries.push(Entry::Comment(c.to_string()));
                } else {
                    own_line.push(c.to_string());
                }
                self.pos += 1;
            }
            let (event, span) = self
                .next()
                .ok_or_else(|| Error::Format("not YAML: a key without a value".into()))?;
            if matches!(event, Event::MappingStart(..) | Event::SequenceStart(..)) {
                self.head = own_line;
            } else {
                entries.extend(own_line.into_iter().map(Entry::Comment));
            }
            let value = self.node(event, &span)?;
            let scalar = matches!(value, Node::Scalar(_));
            let at_pair = entries.len();
            entries.push(Entry::Pair(key, value));
            // A comment on the same line as a scalar value also goes above its key.
            if scalar {
                while let Some(Event::Comment(c, Placement::Right)) = self.peek() {
                    entries.insert(at_pair, Entry::Comment(c.to_string()));
                    self.pos += 1;
                }
            }
        }
    }

    fn sequence(&mut self, indent: usize) -> Result<Node, Error> {
        let mut items: Vec<Node> = std::mem::take(&mut self.head)
            .into_iter()
            .map(Node::Comment)
            .collect();
        loop {
            let comments = self.comments_for(indent);
            items.extend(comments.into_iter().map(Node::Comment));
            if self.peek() == Some(&Event::SequenceEnd) {
                self.pos += 1;
                return Ok(Node::Seq(items));
            }
            items.extend(self.reclaim().into_iter().map(Node::Comment));
            let Some((event, span)) = self.next() else {
                return Err(Error::Format("not YAML: unterminated sequence".into()));
            };
            let value = self.node(event, &span)?;
            let scalar = matches!(value, Node::Scalar(_));
            let at_item = items.len();
            items.push(value);
            if scalar {
                while let Some(Event::Comment(c, Placement::Right)) = self.peek() {
                    items.insert(at_item, Node::Comment(c.to_string()));
                    self.pos += 1;
                }
            }
        }
    }
}

const CORE: &str = "tag:yaml.org,2002:";

/// A scalar's value as yaml.v3 resolves it into an `interface{}`.
fn resolve(text: &str, style: ScalarStyle, tag: Option<&str>) -> Scalar {
    if let Some(tag) = tag {
        match tag.strip_prefix(CORE) {
            Some("str") | Some("binary") => return Scalar::Str(text.into()),
            Some("null") => return Scalar::Null,
            Some("bool") | Some("int") | Some("float") | Some("timestamp") => {
                return resolve_plain(text).unwrap_or_else(|| Scalar::Str(text.into()));
            }
            // Other tags (`!secret`, `!!set`, …) do not change how the text is read.
            _ => {}
        }
    }
    if style != ScalarStyle::Plain {
        return Scalar::Str(text.into());
    }
    resolve_plain(text).unwrap_or_else(|| Scalar::Str(text.into()))
}

fn resolve_plain(text: &str) -> Option<Scalar> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Scalar::Null),
        "true" | "True" | "TRUE" => return Some(Scalar::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Scalar::Bool(false)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Some(Scalar::Float(f64::INFINITY));
        }
        "-.inf" | "-.Inf" | "-.INF" => return Some(Scalar::Float(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Some(Scalar::Float(f64::NAN)),
        _ => {}
    }
    let first = text.chars().next()?;
    if !(first.is_ascii_digit() || matches!(first, '-' | '+' | '.')) {
        return None;
    }
    if let Some(i) = go_parse_int(text) {
        return Some(Scalar::Int(i));
    }
    if is_yaml_float(text) {
        return text.parse::<f64>().ok().map(Scalar::Float);
    }
    if let Some(o) = text.strip_prefix("0o") {
        return i64::from_str_radix(o, 8).ok().map(Scalar::Int);
    }
    timestamp(text).map(Scalar::Time)
}

/// Go's `strconv.ParseInt(s, 0, 64)`: a sign, then decimal, `0x`, `0o`, `0b` or a leading-0
/// octal, with `_` allowed between digits.
fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d, true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d, true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    // Underscores only between digits (or right after a base prefix).
    let bytes = digits.as_bytes();
    if bytes.is_empty() || bytes.last() == Some(&b'_') || (!prefixed && bytes[0] == b'_') {
        return None;
    }
    if digits.contains("__") {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if clean.is_empty() || !clean.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(&clean, radix).ok()?;
    i64::try_from(if neg { -magnitude } else { magnitude }).ok()
}

/// yaml.v3's float syntax: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn is_yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exp_ok = exp.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exp_ok
}

/// A plain timestamp (`2001-12-14` or RFC 3339) as Go's `time.Time.MarshalText` writes it.
fn timestamp(s: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    let b = s.as_bytes();
    let digits_at = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && digits_at(0..4)
        && digits_at(5..7)
        && digits_at(8..10)
    {
        let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u16>().ok();
        let month = time::Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
        let day = u8::try_from(num(8..10)?).ok()?;
        time::Date::from_calendar_date(i32::from(num(0..4)?), month, day).ok()?;
        return Some(format!("{s}T00:00:00Z"));
    }
    let t = time::OffsetDateTime::parse(&s.replacen('t', "T", 1), &Rfc3339).ok()?;
    Some(go_rfc3339_nano(t))
}

/// Go's RFC3339Nano: fraction without trailing zeros, `Z` for UTC.
fn go_rfc3339_nano(t: time::OffsetDateTime) -> String {
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if t.nanosecond() != 0 {
        let frac = format!("{:09}", t.nanosecond());
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    let off = t.offset();
    if off.is_utc() {
        out.push('Z');
    } else {
        let (h, m, _) = off.as_hms();
        let sign = if off.is_negative() { '-' } else { '+' };
        out.push_str(&format!("{sign}{:02}:{:02}", h.abs(), m.abs()));
    }
    out
}

/// Overwrites every string of a tree (keys, values, comments) with zeros.
pub fn zeroize(node: &mut Node) {
    use zeroize::Zeroize;
    match node {
        Node::Map(entries) => {
            for e in entries {
                match e {
                    Entry::Pair(k, v) => {
                        k.zeroize();
                        zeroize(v);
                    }
                    Entry::Comment(c) => c.zeroize(),
                }
            }
        }
        Node::Seq(items) => items.iter_mut().for_each(zeroize),
        Node::Comment(c) | Node::Scalar(Scalar::Str(c) | Scalar::Time(c)) => c.zeroize(),
        Node::Scalar(Scalar::Int(i)) => i.zeroize(),
        Node::Scalar(Scalar::Float(f)) => f.zeroize(),
        Node::Scalar(Scalar::Bool(b)) => *b = false,
        Node::Scalar(Scalar::Null) => {}
    }
}

/// Reads a JSON value into a tree (JSON numbers are floats, as Go decodes them).
pub fn from_json(value: &Value) -> Node {
    match value {
        Value::Object(map) => Node::Map(
            map.iter()
                .map(|(k, v)| Entry::Pair(k.clone(), from_json(v)))
                .collect(),
        ),
        Value::Array(items) => Node::Seq(items.iter().map(from_json).collect()),
        Value::Null => Node::Scalar(Scalar::Null),
        Value::Bool(b) => Node::Scalar(Scalar::Bool(*b)),
        Value::Number(n) => Node::Scalar(Scalar::Float(n.as_f64().unwrap_or_default())),
        Value::String(s) => Node::Scalar(Scalar::Str(s.clone())),
    }
}

/// The tree's data as JSON (comments dropped; integral floats as integers, as Go writes them).
pub fn to_json(node: &Node) -> Value {
    match node {
        Node::Map(entries) => Value::Object(
            entries
                .iter()
                .filter_map(|e| match e {
                    Entry::Pair(k, v) => Some((k.clone(), to_json(v))),
                    Entry::Comment(_) => None,
                })
                .collect::<Map<_, _>>(),
        ),
        Node::Seq(items) => Value::Array(
            items
                .iter()
                .filter(|n| !matches!(n, Node::Comment(_)))
                .map(to_json)
                .collect(),
        ),
        Node::Comment(_) => Value::Null,
        Node::Scalar(s) => match s {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(*b),
            Scalar::Int(i) => Value::Number((*i).into()),
            Scalar::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                Value::Number((*f as i64).into())
            }
            // JSON has no NaN or infinities; Go's encoder refuses them, null is the nearest.
            Scalar::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Scalar::Str(s) | Scalar::Time(s) => Value::String(s.clone()),
        },
    }
}

/// Reads dotenv text as sops does: `KEY=value` lines (`\\n` in a value is a newline), `#`
/// comments, blank lines skipped; every value a string.
pub fn parse_dotenv(text: &str) -> Result<Node, Error> {
    let mut entries = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix('#') {
            entries.push(Entry::Comment(c.to_string()));
            continue;
        }
        let (k, v) = line.split_once('=').ok_or_else(|| {
            Error::Format(format!(
                "line {}: expected KEY=value in a dotenv file, found {line:?}",
                i + 1
            ))
        })?;
        entries.push(Entry::Pair(
            k.to_string(),
            Node::Scalar(Scalar::Str(v.replace("\\n", "\n"))),
        ));
    }
    Ok(Node::Map(entries))
}

/// Writes dotenv lines as sops does (newlines in values as `\\n`).
pub fn emit_dotenv(node: &Node) -> String {
    let mut out = String::new();
    let Node::Map(entries) = node else {
        return out;
    };
    for e in entries {
        match e {
            Entry::Comment(c) => {
                out.push('#');
                out.push_str(c);
            }
            Entry::Pair(k, v) => {
                let value = match v {
                    Node::Scalar(Scalar::Str(s)) => s.replace('\n', "\\n"),
                    Node::Scalar(Scalar::Null) => String::new(),
                    Node::Scalar(s) => scalar_text(s, None),
                    other => serde_json::to_string(&to_json(other)).unwrap_or_default(),
                };
                out.push_str(k);
                out.push('=');
                out.push_str(&value);
            }
        }
        out.push('\n');
    }
    out
}

/// Writes JSON as sops does: tab indentation, key order kept, a final newline.
pub fn emit_json(node: &Node) -> String {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(&to_json(node), &mut ser).expect("JSON values serialize");
    out.push(b'\n');
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// Writes YAML documents in sops 3.11's layout, comments on their own lines.
pub fn emit_yaml(docs: &[Node]) -> String {
    let mut out = String::new();
    // A document with nothing but comments has no place of its own when read back (its
    // comments join a neighbour), so they join the previous document (or the next) here.
    let mut merged: Vec<Node> = Vec::new();
    let mut pending: Vec<Entry> = Vec::new();
    for doc in docs {
        let mut doc = doc.clone();
        normalize(&mut doc);
        let Node::Map(entries) = &mut doc else {
            merged.push(doc);
            continue;
        };
        if entries.iter().any(|e| matches!(e, Entry::Pair(..))) {
            entries.splice(0..0, std::mem::take(&mut pending));
            merged.push(doc);
        } else if let Some(Node::Map(last)) = merged.last_mut() {
            last.append(entries);
        } else {
            pending.append(entries);
        }
    }
    if !pending.is_empty() || merged.is_empty() {
        merged.push(Node::Map(pending));
    }
    let docs = merged;
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        match doc {
            Node::Map(entries) if entries.is_empty() => out.push_str("{}\n"),
            Node::Map(entries) => emit_map(entries, 0, false, &mut out),
            other => emit_map(
                &[Entry::Pair(String::new(), other.clone())],
                0,
                false,
                &mut out,
            ),
        }
    }
    out
}

/// Moves comments to where YAML can hold them and a reader finds them again: `{}` and `[]`
/// hold none, so an empty collection's comments go above its key or `-`; and a comment
/// right after `- ` reads back as the list's, so a list item's leading comments go above
/// its `-`. The key path, and so the AAD, is the same in both places.
fn normalize(node: &mut Node) {
    fn is_empty(n: &Node) -> bool {
        match n {
            Node::Map(e) => !e.iter().any(|e| matches!(e, Entry::Pair(..))),
            Node::Seq(items) => !items.iter().any(|n| !matches!(n, Node::Comment(_))),
            _ => false,
        }
    }
    /// Takes the comments from the front of a collection (all of them when it is empty).
    fn take_leading(n: &mut Node, all: bool) -> Vec<String> {
        let mut taken = Vec::new();
        match n {
            Node::Map(e) => {
                let keep = |x: &Entry| matches!(x, Entry::Pair(..));
                while let Some(first) = e.first() {
                    if keep(first) && !all {
                        break;
                    }
                    match e.remove(0) {
                        Entry::Comment(c) => taken.push(c),
                        pair => {
                            e.insert(0, pair);
                            break;
                        }
                    }
                }
                if all {
                    e.retain(|x| match x {
                        Entry::Comment(c) => {
                            taken.push(c.clone());
                            false
                        }
                        Entry::Pair(..) => true,
                    });
                }
            }
            Node::Seq(items) => {
                while matches!(items.first(), Some(Node::Comment(_))) {
                    if let Node::Comment(c) = items.remove(0) {
                        taken.push(c);
                    }
                }
                if all {
                    items.retain(|x| match x {
                        Node::Comment(c) => {
                            taken.push(c.clone());
                            false
                        }
                        _ => true,
                    });
                }
            }
            _ => {}
        }
        taken
    }
    match node {
        Node::Map(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for mut entry in std::mem::take(entries) {
                if let Entry::Pair(_, v) = &mut entry {
                    normalize(v);
                    if is_empty(v) {
                        out.extend(take_leading(v, true).into_iter().map(Entry::Comment));
                    }
                }
                out.push(entry);
            }
            *entries = out;
        }
        Node::Seq(items) => {
            let mut out = Vec::with_capacity(items.len());
            for mut item in std::mem::take(items) {
                normalize(&mut item);
                if matches!(item, Node::Map(_) | Node::Seq(_)) {
                    let all = is_empty(&item);
                    out.extend(take_leading(&mut item, all).into_iter().map(Node::Comment));
                }
                out.push(item);
            }
            *items = out;
        }
        Node::Scalar(_) | Node::Comment(_) => {}
    }
}

const STEP: usize = 4;

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Emits entries at column `indent`; with `inline`, the cursor already stands there.
fn emit_map(entries: &[Entry], indent: usize, mut inline: bool, out: &mut String) {
    for entry in entries {
        if !std::mem::take(&mut inline) {
            pad(out, indent);
        }
        match entry {
            Entry::Comment(c) => {
                out.push('#');
                out.push_str(c);
                out.push('\n');
            }
            Entry::Pair(k, v) => {
                out.push_str(&scalar_text(&Scalar::Str(k.clone()), None));
                out.push(':');
                emit_value(v, indent + STEP, out);
            }
        }
    }
}

/// Emits a mapping value or sequence item after `key:` or `-`, its children at `child`.
fn emit_value(node: &Node, child: usize, out: &mut String) {
    match node {
        // Empty collections hold no comments after `normalize`.
        Node::Map(e) if !e.iter().any(|e| matches!(e, Entry::Pair(..))) => out.push_str(" {}\n"),
        Node::Seq(items) if !items.iter().any(|n| !matches!(n, Node::Comment(_))) => {
            out.push_str(" []\n")
        }
        Node::Map(e) => {
            out.push('\n');
            emit_map(e, child, false, out);
        }
        Node::Seq(items) => {
            out.push('\n');
            emit_seq(items, child, false, out);
        }
        Node::Scalar(s) => {
            out.push(' ');
            out.push_str(&scalar_text(s, Some(child)));
            out.push('\n');
        }
        Node::Comment(c) => {
            out.push_str(" #");
            out.push_str(c);
            out.push('\n');
        }
    }
}

fn emit_seq(items: &[Node], indent: usize, mut inline: bool, out: &mut String) {
    for item in items {
        if !std::mem::take(&mut inline) {
            pad(out, indent);
        }
        match item {
            Node::Comment(c) => {
                out.push('#');
                out.push_str(c);
                out.push('\n');
            }
            Node::Map(e) if e.iter().any(|e| matches!(e, Entry::Pair(..))) => {
                out.push_str("- ");
                emit_map(e, indent + 2, true, out);
            }
            Node::Seq(s) if s.iter().any(|n| !matches!(n, Node::Comment(_))) => {
                out.push_str("- ");
                emit_seq(s, indent + 2, true, out);
            }
            other => {
                out.push('-');
                emit_value(other, indent + 2, out);
            }
        }
    }
}

/// A scalar as YAML text; `block` is the indentation a literal block's lines would take
/// (None where only a single line fits, as for keys).
pub(crate) fn scalar_text(s: &Scalar, block: Option<usize>) -> String {
    match s {
        Scalar::Null => "null".into(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) if f.is_nan() => ".nan".into(),
        Scalar::Float(f) if f.is_infinite() => if *f > 0.0 { ".inf" } else { "-.inf" }.into(),
        Scalar::Float(f) => {
            // Keep it a float when read back: `1` would be an int.
            let t = format_go_float(*f);
            if t.contains(['.', 'e', 'E']) {
                t
            } else {
                format!("{t}.0")
            }
        }
        Scalar::Time(t) => t.clone(),
        Scalar::Str(s) => string_text(s, block),
    }
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)` for finite values (Rust's `Display` prints
/// the same shortest digits without an exponent); `NaN` and `±Inf` as Go spells them.
pub(crate) fn format_go_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        f.to_string()
    }
}

/// Words YAML 1.1 readers take for booleans or null; sops (yaml.v3) quotes them too.
const YAML11_WORDS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF", "true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL", "~", "=",
    "<<",
];

fn string_text(s: &str, block: Option<usize>) -> String {
    if s.is_empty() {
        return "\"\"".into();
    }
    let printable = |c: char| !needs_escape(c);
    if s.contains('\n')
        && let Some(indent) = block
        && s.chars().all(|c| c == '\n' || (printable(c) && c != '\r'))
        && !s.starts_with([' ', '\n', '\t'])
    {
        return literal_block(s, indent);
    }
    let first = s.chars().next().expect("not empty");
    // As yaml.v3 decides: plain unless it would read back as another type (here or in a
    // YAML 1.1 reader: old booleans, base-60 numbers, other timestamp spellings) or YAML
    // syntax gets in the way.
    let digits = s.trim_start_matches(['-', '+']);
    let yaml11_number = digits.starts_with(|c: char| c.is_ascii_digit())
        && digits.contains(':')
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '_' | ':' | '.'));
    let timestamp_like =
        s.len() >= 5 && s.as_bytes()[..4].iter().all(u8::is_ascii_digit) && s.as_bytes()[4] == b'-';
    let plain = s.chars().all(printable)
        && !YAML11_WORDS.contains(&s)
        && !yaml11_number
        && !timestamp_like
        && !"-?:,[]{}#&*!|>'\"%@` \t".contains(first)
        && !s.ends_with([' ', '\t', ':'])
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.contains("\t#")
        && !s.contains(":\t")
        && resolve_plain(s).is_none();
    if plain {
        return s.into();
    }
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            '\r' => q.push_str("\\r"),
            c if needs_escape(c) => {
                let n = c as u32;
                if n <= 0xFFFF {
                    q.push_str(&format!("\\u{n:04X}"));
                } else {
                    q.push_str(&format!("\\U{n:08X}"));
                }
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// Characters YAML cannot carry as they are (controls, line and paragraph separators, BOM).
fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}'
        )
}

fn literal_block(s: &str, indent: usize) -> String {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    let chomp = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let mut out = format!("|{chomp}");
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            pad(&mut out, indent);
            out.push_str(line);
        }
    }
    // Keep-chomping: the extra line breaks are content.
    for _ in 1..trailing {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(text: &str) -> String {
        emit_yaml(&parse_yaml(text).unwrap())
    }

    #[test]
    fn resolves_scalars_as_yaml_v3() {
        let docs = parse_yaml(
            "a: 0777\nb: yes\nc: 1_000\nd: 0x1F\ne: 1.50\nf: 2001-12-14\ng: ~\nh: '1'\ni: .5\nj: 1e3\nk: -0b101\nl: 1.2.3\nm: 4002-12-+4\n",
        )
        .unwrap();
        let Node::Map(entries) = &docs[0] else {
            panic!()
        };
        let values: Vec<&Node> = entries
            .iter()
            .map(|e| match e {
                Entry::Pair(_, v) => v,
                Entry::Comment(_) => panic!(),
            })
            .collect();
        use Scalar::*;
        let expected = [
            Int(511),
            Str("yes".into()),
            Int(1000),
            Int(31),
            Float(1.5),
            Time("2001-12-14T00:00:00Z".into()),
            Null,
            Str("1".into()),
            Float(0.5),
            Float(1000.0),
            Int(-5),
            Str("1.2.3".into()),
            Str("4002-12-+4".into()),
        ];
        for (v, e) in values.iter().zip(expected) {
            assert_eq!(**v, Node::Scalar(e));
        }
    }

    #[test]
    fn comments_land_above_what_they_describe() {
        let src = "# top\nname: demo # inline\nnested:\n  # head\n  child: 1\nlist: # on key\n  - a # item\n  # before b\n  - b\n  - name: x\n    port: 80\n# foot\n";
        let expected = "# top\n# inline\nname: demo\nnested:\n    # head\n    child: 1\n# on key\nlist:\n    # item\n    - a\n    # before b\n    - b\n    - name: x\n      port: 80\n# foot\n";
        assert_eq!(round(src), expected);
        assert_eq!(round(expected), expected, "the layout is a fixed point");
    }

    #[test]
    fn strings_that_would_change_type_are_quoted() {
        for s in [
            "yes",
            "on",
            "0777",
            "1.5",
            "null",
            "~",
            "",
            " pad",
            "a: b",
            "x #y",
            "-a",
            "2001-12-14",
            "tab\there",
            "é\u{85}",
        ] {
            let text = emit_yaml(&[Node::Map(vec![Entry::Pair(
                s.into(),
                Node::Scalar(Scalar::Str(s.into())),
            )])]);
            let back = parse_yaml(&text).unwrap();
            assert_eq!(
                back[0],
                Node::Map(vec![Entry::Pair(
                    s.into(),
                    Node::Scalar(Scalar::Str(s.into()))
                )]),
                "{s:?} as {text}"
            );
        }
    }

    #[test]
    fn multi_line_strings_are_literal_blocks() {
        for s in ["a\nb", "a\nb\n", "a\n\nb\n\n\n", "x\n  indented\n"] {
            let doc = Node::Map(vec![
                Entry::Pair("k".into(), Node::Scalar(Scalar::Str(s.into()))),
                Entry::Pair(
                    "l".into(),
                    Node::Seq(vec![Node::Scalar(Scalar::Str(s.into()))]),
                ),
                Entry::Pair("z".into(), Node::Scalar(Scalar::Int(1))),
            ]);
            let text = emit_yaml(std::slice::from_ref(&doc));
            assert!(text.starts_with("k: |"), "{text}");
            assert_eq!(parse_yaml(&text).unwrap(), vec![doc], "{s:?} as {text}");
        }
    }

    /// Found by the fuzzer: documents with only comments.
    #[test]
    fn comment_only_documents_join_their_neighbours() {
        for src in [
            "# a\n---\n# b\n---\n# c\n",
            "a: 1\n---\n# b\n---\nc: 2\n",
            "# a\n# b\n",
        ] {
            let once = round(src);
            assert_eq!(round(&once), once, "{src:?}");
        }
        assert_eq!(
            round("a: 1\n---\n# b\n---\nc: 2\n"),
            "a: 1\n# b\n---\nc: 2\n"
        );
    }

    /// Found by the fuzzer: comments of empty collections.
    #[test]
    fn comments_of_empty_collections_go_above_them() {
        let src = "a:\n  # c\n  []\nl:\n  - # d\n    {}\n";
        let once = round(src);
        assert_eq!(round(&once), once);
        assert_eq!(once, "# c\na: []\nl:\n    # d\n    - {}\n");
    }

    /// Found by the fuzzer: a comment heading a mapping inside a list.
    #[test]
    fn comments_heading_a_list_item_stay_put() {
        let src = "l:\n    - # c\n      a: 1\n    - - # d\n        - x\n";
        let once = round(src);
        assert_eq!(round(&once), once);
        assert_eq!(once, "l:\n    # c\n    - a: 1\n    # d\n    - - - x\n");
    }

    #[test]
    fn anchors_expand_and_documents_split() {
        let docs = parse_yaml("a: &x {b: 1}\nc: *x\n---\nd: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(
            to_json(&docs[0]),
            serde_json::json!({"a": {"b": 1}, "c": {"b": 1}})
        );
    }

    #[test]
    fn bad_yaml_and_duplicates_are_errors() {
        assert!(parse_yaml("a: 1\na: 2\n").is_err());
        assert!(parse_yaml("- 1\n").is_err());
        assert!(parse_yaml("a: [1\n").is_err());
    }
}
