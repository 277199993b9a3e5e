//! Reading a manifest document into JSON the way Kubernetes tools read it.
//!
//! kubectl, kubeconform and Helm read YAML through `sigs.k8s.io/yaml`, that is go-yaml v2:
//! YAML 1.1 scalars (`yes`, `on`, `y` are booleans, `0777` is octal, `1_000` is an integer),
//! merge keys (`<<`), and mapping keys turned into strings (`yes:` becomes `"true"`). A
//! validator must see the data the API server will get, so this loader resolves scalars as
//! go-yaml v2 `resolve()` does, not as YAML 1.2 readers (serde-saphyr) do.
//!
//! It builds the JSON value straight from saphyr-parser's events, which is about twice as fast
//! as deserializing through serde-saphyr: parsing is most of the time `validate` spends.
//! saphyr-parser rather than granit-parser (serde-saphyr's parser) because the sops crate
//! turns granit-parser's comment events on for the whole binary, which costs 20 % here.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Span, StrInput, Tag};
use serde_json::{Map, Number, Value};

/// Why a document could not be read, with the byte offset it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// Byte offset in the document's text.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
    /// Whether this is a YAML syntax error (the parser's own message).
    pub syntax: bool,
}

/// Reads one document. With `strict`, a key given twice in a mapping is an error; otherwise
/// the last one wins, as go-yaml v2 decides.
pub fn load(text: &str, strict: bool) -> Result<Value, LoadError> {
    match crate::fast::load(text) {
        Some(value) => Ok(value),
        None => load_events(text, strict),
    }
}

/// The fast reader alone: `None` for documents it leaves to [`load_events`]. Public for the
/// fuzz target that compares the two.
#[doc(hidden)]
pub fn load_fast(text: &str) -> Option<Value> {
    crate::fast::load(text)
}

/// Reads one document from the parser's events: any YAML, with the parser's messages for
/// what is wrong. [`load`] tries a faster reader for common manifests first.
pub fn load_events(text: &str, strict: bool) -> Result<Value, LoadError> {
    let mut loader = Loader {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        strict,
        text,
    };
    loop {
        match loader.next()? {
            None | Some((Event::StreamEnd, _)) => return Ok(Value::Null),
            Some((Event::StreamStart | Event::DocumentStart(..) | Event::Nothing, _)) => {}
            Some((event, span)) => {
                let value = loader.node(event, span)?;
                // The stream splitter gives one document; a second one (after `...`) is
                // not part of it.
                return Ok(value);
            }
        }
    }
}

struct Loader<'a> {
    parser: Parser<'a, StrInput<'a>>,
    anchors: HashMap<usize, Value>,
    strict: bool,
    text: &'a str,
}

impl<'a> Loader<'a> {
    /// The next event that is not a comment.
    fn next(&mut self) -> Result<Option<(Event<'a>, Span)>, LoadError> {
        loop {
            match self.parser.next() {
                None => return Ok(None),
                Some(Err(e)) => {
                    return Err(LoadError {
                        offset: self.offset(e.marker()),
                        message: e.info().to_string(),
                        syntax: true,
                    });
                }
                Some(Ok((Event::Nothing, _))) => {}
                Some(Ok(item)) => return Ok(Some(item)),
            }
        }
    }

    /// The byte offset of a marker (which counts characters).
    fn offset(&self, marker: &Marker) -> usize {
        if self.text.is_ascii() {
            return marker.index().min(self.text.len());
        }
        self.text
            .char_indices()
            .nth(marker.index())
            .map_or(self.text.len(), |(i, _)| i)
    }

    fn error(&self, span: &Span, message: impl Into<String>) -> LoadError {
        LoadError {
            offset: self.offset(&span.start),
            message: message.into(),
            syntax: false,
        }
    }

    fn expect_next(&mut self) -> Result<(Event<'a>, Span), LoadError> {
        self.next()?.ok_or_else(|| LoadError {
            offset: self.text.len(),
            message: "the document ends in the middle of a collection".into(),
            syntax: true,
        })
    }

    fn node(&mut self, event: Event<'a>, span: Span) -> Result<Value, LoadError> {
        let (value, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                (self.scalar(text, style, tag.as_deref(), &span)?, anchor)
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.expect_next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, span)?);
                }
                (Value::Array(items), anchor)
            }
            Event::MappingStart(anchor, _) => (Value::Object(self.mapping()?), anchor),
            Event::Alias(id) => {
                return self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| self.error(&span, "an alias to an unknown anchor"));
            }
            other => {
                return Err(self.error(&span, format!("unexpected YAML event {other:?}")));
            }
        };
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
        Ok(value)
    }

    fn mapping(&mut self) -> Result<Map<String, Value>, LoadError> {
        let mut map = Map::new();
        let mut merged: Vec<Map<String, Value>> = Vec::new();
        loop {
            let (event, key_span) = self.expect_next()?;
            let key = match event {
                Event::MappingEnd => break,
                Event::Scalar(text, style, anchor, tag) => {
                    let is_merge = style == ScalarStyle::Plain && tag.is_none() && text == "<<";
                    let key_value = self.scalar(text, style, tag.as_deref(), &key_span)?;
                    if anchor != 0 {
                        self.anchors.insert(anchor, key_value.clone());
                    }
                    if is_merge {
                        let (event, span) = self.expect_next()?;
                        let source = self.node(event, span)?;
                        merged.extend(self.merge_sources(source, &span)?);
                        continue;
                    }
                    key_string(key_value)
                }
                Event::Alias(id) => match self.anchors.get(&id) {
                    Some(Value::Object(_) | Value::Array(_)) => {
                        return Err(self.error(&key_span, "a mapping key must be a scalar"));
                    }
                    Some(v) => key_string(v.clone()),
                    None => return Err(self.error(&key_span, "an alias to an unknown anchor")),
                },
                _ => {
                    return Err(self.error(
                        &key_span,
                        "a mapping key must be a scalar; Kubernetes objects have string keys",
                    ));
                }
            };
            let (event, span) = self.expect_next()?;
            let value = self.node(event, span)?;
            if let Some(key) = insert(&mut map, key, value)
                && self.strict
            {
                return Err(self.error(
                    &key_span,
                    format!("duplicate key `{key}`: the mapping already has it"),
                ));
            }
        }
        if merged.is_empty() {
            return Ok(map);
        }
        // Merge keys: keys written in the mapping win, then earlier merge sources win over
        // later ones, as go-yaml v2 merges.
        let mut out = Map::new();
        for source in merged.iter().rev() {
            for (k, v) in source {
                out.insert(k.clone(), v.clone());
            }
        }
        for (k, v) in map {
            out.insert(k, v);
        }
        Ok(out)
    }

    fn merge_sources(
        &self,
        source: Value,
        span: &Span,
    ) -> Result<Vec<Map<String, Value>>, LoadError> {
        match source {
            Value::Object(m) => Ok(vec![m]),
            Value::Array(items) => items
                .into_iter()
                .map(|i| match i {
                    Value::Object(m) => Ok(m),
                    _ => Err(self.error(span, "a merge (`<<`) list must hold mappings")),
                })
                .collect(),
            _ => Err(self.error(
                span,
                "a merge key (`<<`) needs a mapping or a list of mappings",
            )),
        }
    }

    fn scalar(
        &self,
        text: Cow<'a, str>,
        style: ScalarStyle,
        tag: Option<&Tag>,
        span: &Span,
    ) -> Result<Value, LoadError> {
        let core = tag
            .filter(|t| t.is_yaml_core_schema())
            .map(|t| t.suffix.as_str());
        let value = match (core, tag) {
            (Some("str" | "binary"), _) => return Ok(Value::String(text.into_owned())),
            (Some("null"), _) => return Ok(Value::Null),
            // Any other tag (`!!int`, `!!bool`, a local `!tag`) resolves the text as plain.
            (_, Some(_)) => resolve(&text),
            (None, None) if style == ScalarStyle::Plain => resolve(&text),
            (_, None) => Resolved::Str,
        };
        if matches!(value, Resolved::Float(f) if !f.is_finite()) {
            return Err(self.error(
                span,
                format!("`{text}` is not a number JSON can hold, so Kubernetes cannot receive it; quote it to make it a string"),
            ));
        }
        Ok(value
            .into_value(text)
            .expect("finite numbers are JSON numbers"))
    }
}

/// One step of a path into a document: a mapping key or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step<'p> {
    Key(Cow<'p, str>),
    Index(usize),
}

/// Where a path is in a document: byte offsets of the deepest node of the path that the
/// document has, and how many steps of the path that node took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Spot {
    /// The key that introduced the node (none for the root and list items).
    pub key: Option<usize>,
    /// The node itself.
    pub value: usize,
    /// Whether the node is a scalar (or an alias) rather than a collection.
    pub scalar: bool,
    /// Steps of the path found; less than its length when the rest is absent.
    pub depth: usize,
}

/// Finds `path` in a document by walking the parser's events down that one path, skipping
/// every other subtree: the few schema errors of an invalid document are located without
/// indexing all of it. Keys compare as Kubernetes reads them (`yes:` is the key `true`).
/// None when the document has no node at all.
pub(crate) fn locate(text: &str, path: &[Step<'_>]) -> Option<Spot> {
    let mut walker = Loader {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        strict: false,
        text,
    };
    let (mut event, span) = loop {
        match walker.next().ok()?? {
            (Event::StreamStart | Event::DocumentStart(..), _) => {}
            (Event::StreamEnd | Event::DocumentEnd, _) => return None,
            item => break item,
        }
    };
    let is_scalar = |e: &Event<'_>| matches!(e, Event::Scalar(..) | Event::Alias(..));
    let mut spot = Spot {
        key: None,
        value: walker.offset(&span.start),
        scalar: is_scalar(&event),
        depth: 0,
    };
    for (depth, step) in path.iter().enumerate() {
        let found = match (&event, step) {
            (Event::MappingStart(..), Step::Key(want)) => loop {
                let Ok((key, key_span)) = walker.expect_next() else {
                    return Some(spot);
                };
                let matches = match &key {
                    Event::MappingEnd => return Some(spot),
                    Event::Scalar(text, style, ..) => {
                        text == want || (*style == ScalarStyle::Plain && key_text(text) == *want)
                    }
                    _ => {
                        // A complex key: skip it, then its value.
                        walker.skip(key).ok()?;
                        false
                    }
                };
                let Ok((value, value_span)) = walker.expect_next() else {
                    return Some(spot);
                };
                if matches {
                    break Some((Some(walker.offset(&key_span.start)), value, value_span));
                }
                if walker.skip(value).is_err() {
                    return Some(spot);
                }
            },
            (Event::SequenceStart(..), Step::Index(want)) => {
                let mut n = 0;
                loop {
                    let Ok((item, item_span)) = walker.expect_next() else {
                        return Some(spot);
                    };
                    if matches!(item, Event::SequenceEnd) {
                        break None;
                    }
                    if n == *want {
                        break Some((None, item, item_span));
                    }
                    if walker.skip(item).is_err() {
                        return Some(spot);
                    }
                    n += 1;
                }
            }
            _ => None,
        };
        let Some((key, value, value_span)) = found else {
            return Some(spot);
        };
        spot = Spot {
            key,
            value: walker.offset(&value_span.start),
            scalar: is_scalar(&value),
            depth: depth + 1,
        };
        event = value;
    }
    Some(spot)
}

/// A plain key as Kubernetes reads it: `yes` is `true`, `0x1F` is `31`.
fn key_text(text: &str) -> Cow<'_, str> {
    resolve(text)
        .into_value(Cow::Borrowed(text))
        .map_or(Cow::Borrowed(text), |v| Cow::Owned(key_string(v)))
}

impl<'a> Loader<'a> {
    /// Consumes the rest of the node that starts with `event`.
    fn skip(&mut self, event: Event<'a>) -> Result<(), LoadError> {
        let mut open = usize::from(matches!(
            event,
            Event::MappingStart(..) | Event::SequenceStart(..)
        ));
        while open > 0 {
            match self.expect_next()?.0 {
                Event::MappingStart(..) | Event::SequenceStart(..) => open += 1,
                Event::MappingEnd | Event::SequenceEnd => open -= 1,
                _ => {}
            }
        }
        Ok(())
    }
}

/// Inserts into `map`; the key when it was there already.
fn insert(map: &mut Map<String, Value>, key: String, value: Value) -> Option<String> {
    match map.entry(key) {
        serde_json::map::Entry::Occupied(mut o) => {
            o.insert(value);
            Some(o.key().clone())
        }
        serde_json::map::Entry::Vacant(v) => {
            v.insert(value);
            None
        }
    }
}

/// A mapping key as JSON has it: go-yaml v2 resolves the key, and `sigs.k8s.io/yaml`
/// writes the result as a string (`yes:` becomes `"true"`, `1:` becomes `"1"`).
pub(crate) fn key_string(v: Value) -> String {
    match v {
        Value::String(s) => s,
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// What a plain scalar is, as go-yaml v2 `resolve()` decides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Resolved {
    Str,
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
}

impl Resolved {
    /// The JSON value of a scalar resolved so, whose text is `text`; None for a float JSON
    /// cannot hold (infinities, NaN).
    pub(crate) fn into_value(self, text: Cow<'_, str>) -> Option<Value> {
        Some(match self {
            Resolved::Str => Value::String(text.into_owned()),
            Resolved::Null => Value::Null,
            Resolved::Bool(b) => Value::Bool(b),
            Resolved::Int(i) => Value::Number(i.into()),
            Resolved::Uint(u) => Value::Number(u.into()),
            Resolved::Float(f) => Value::Number(Number::from_f64(f)?),
        })
    }
}

/// go-yaml v2's resolution of a plain scalar.
pub(crate) fn resolve(s: &str) -> Resolved {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Resolved::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Resolved::Bool(false);
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        _ => {}
    }
    let first = s.as_bytes()[0];
    if first == b'.' {
        return go_float(s).map_or(Resolved::Str, Resolved::Float);
    }
    if !(first.is_ascii_digit() || first == b'+' || first == b'-') {
        return Resolved::Str;
    }
    // Timestamps stay strings when decoded into an untyped value (go-yaml v2 keeps them as
    // strings for compatibility), so there is nothing to do for them.
    if is_timestamp(s) {
        return Resolved::Str;
    }
    let plain: Cow<'_, str> = if s.contains('_') {
        Cow::Owned(s.replace('_', ""))
    } else {
        Cow::Borrowed(s)
    };
    if let Some(i) = go_parse_int(&plain) {
        return i;
    }
    if is_yaml_float(&plain)
        && let Some(f) = go_float(&plain)
    {
        return Resolved::Float(f);
    }
    Resolved::Str
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint`: an optional sign, then `0x`/`0o`/`0b`
/// prefixed or `0`-led octal or decimal digits.
fn go_parse_int(s: &str) -> Option<Resolved> {
    let (negative, body) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let lower = body.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits) = match lower.as_deref() {
        Some("0x") => (16, &body[2..]),
        Some("0o") => (8, &body[2..]),
        Some("0b") => (2, &body[2..]),
        _ if body.len() > 1 && body.starts_with('0') => (8, &body[1..]),
        _ => (10, body),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        if magnitude <= i64::MAX as u64 + 1 {
            return Some(Resolved::Int((magnitude as i128).wrapping_neg() as i64));
        }
        return None;
    }
    Some(match i64::try_from(magnitude) {
        Ok(i) => Resolved::Int(i),
        Err(_) => Resolved::Uint(magnitude),
    })
}

/// go-yaml v2's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat` on the forms reaching it here (decimal, with exponent).
fn go_float(s: &str) -> Option<f64> {
    if !s
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    s.parse::<f64>().ok()
}

/// go-yaml v2's timestamp forms: `2006-1-2`, optionally followed by `T`/`t`/` ` and a time.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let part = |i: &mut usize, min: usize, max: usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        (min..=max).contains(&(*i - start))
    };
    if !(part(&mut i, 4, 4) && b.get(i) == Some(&b'-')) {
        return false;
    }
    i += 1;
    if !(part(&mut i, 1, 2) && b.get(i) == Some(&b'-')) {
        return false;
    }
    i += 1;
    if !part(&mut i, 1, 2) {
        return false;
    }
    if i == b.len() {
        return true;
    }
    // A time follows; go-yaml accepts it when Go's time parser does, which needs an hour.
    matches!(b[i], b'T' | b't' | b' ') && b.get(i + 1).is_some_and(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_resolve_as_go_yaml_v2() {
        let doc = "a: yes\nb: on\nc: y\nd: NO\ne: 0777\nf: 0x1F\ng: 1_000\nh: -12\ni: 1.5e3\nj: .5\nk: ~\nl: null\nm: 2024-01-02\nn1: '0777'\no: \"yes\"\np: 12abc\nq: 0b101\nr: 08\ns: +7\nt: 18446744073709551615\nu: |\n  yes\nv: !!str 12\nw: !!int \"12\"\nx:\ny1: 1e\nz: Yes please\n";
        let v = load(doc, true).unwrap();
        assert_eq!(
            v,
            json!({"a": true, "b": true, "c": true, "d": false, "e": 511, "f": 31, "g": 1000,
                "h": -12, "i": 1500.0, "j": 0.5, "k": null, "l": null, "m": "2024-01-02",
                "n1": "0777", "o": "yes", "p": "12abc", "q": 5, "r": 8.0, "s": 7,
                "t": 18446744073709551615u64, "u": "yes\n", "v": "12", "w": 12, "x": null,
                "y1": "1e", "z": "Yes please"})
        );
    }

    #[test]
    fn keys_become_strings_as_kubernetes_reads_them() {
        let v = load("yes: 1\n1: 2\nnull: 3\n'on': 4\nn: 5\n", true).unwrap();
        assert_eq!(
            v,
            json!({"true": 1, "1": 2, "null": 3, "on": 4, "false": 5})
        );
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let doc = "base: &b {a: 1, b: 2}\nother: &o {b: 20, c: 30}\nm:\n  <<: [*b, *o]\n  a: 10\nlist: &l [1, 2]\ncopy: *l\n";
        let v = load(doc, true).unwrap();
        assert_eq!(v["m"], json!({"a": 10, "b": 2, "c": 30}));
        assert_eq!(v["copy"], json!([1, 2]));
    }

    #[test]
    fn duplicate_keys_are_errors_only_when_strict() {
        let doc = "a: 1\nb: 2\na: 3\n";
        assert_eq!(load(doc, false).unwrap(), json!({"a": 3, "b": 2}));
        let e = load(doc, true).unwrap_err();
        assert_eq!(e.offset, 10);
        assert!(e.message.contains("duplicate key `a`"), "{e:?}");
        assert!(!e.syntax);
    }

    #[test]
    fn syntax_errors_and_unrepresentable_values_are_located() {
        let e = load("a: [1, 2\nb: 3\n", false).unwrap_err();
        assert!(e.syntax, "{e:?}");
        let e = load("a: 1\nb: .nan\n", false).unwrap_err();
        assert_eq!((e.offset, e.syntax), (8, false));
        let e = load("? [a]\n: 1\n", false).unwrap_err();
        assert!(e.message.contains("must be a scalar"), "{e:?}");
    }

    #[test]
    fn locate_walks_one_path_and_falls_back_to_the_nearest_ancestor() {
        let doc = "kind: Pod\nspec:\n  yes: 1\n  containers:\n  - name: a\n  - {name: é, image: x}\n  other: [1, 2]\n";
        let key = |k: &'static str| Step::Key(k.into());
        let at = |path: &[Step<'_>]| locate(doc, path).unwrap();
        // A scalar: its value; a collection: its key.
        let s = at(&[key("kind")]);
        assert_eq!((s.key, s.value, s.scalar, s.depth), (Some(0), 6, true, 1));
        let s = at(&[key("spec"), key("containers")]);
        assert_eq!(
            (s.key, s.scalar, s.depth),
            (Some(doc.find("containers").unwrap()), false, 2)
        );
        // Keys as Kubernetes reads them, list items, flow style, non-ASCII before the spot.
        let s = at(&[key("spec"), key("true")]);
        assert_eq!((s.value, s.depth), (doc.find("1\n").unwrap(), 2));
        let s = at(&[key("spec"), key("containers"), Step::Index(1), key("image")]);
        assert_eq!(
            (s.key, s.value, s.depth),
            (doc.find("image"), doc.find("x}").unwrap(), 4)
        );
        // Absent: the deepest present ancestor, with how far the path got.
        let s = at(&[key("spec"), key("containers"), Step::Index(5), key("name")]);
        assert_eq!((s.key, s.depth), (doc.find("containers"), 2));
        let s = at(&[key("spec"), key("other"), key("x")]);
        assert_eq!((s.key, s.depth), (doc.find("other"), 2));
        assert_eq!(at(&[]).depth, 0);
        assert_eq!(locate("", &[key("a")]), None);
        assert_eq!(locate("# only a comment\n", &[key("a")]), None);
    }

    #[test]
    fn empty_and_comment_only_documents_are_null() {
        assert_eq!(load("", false).unwrap(), Value::Null);
        assert_eq!(load("# nothing\n", false).unwrap(), Value::Null);
    }
}
