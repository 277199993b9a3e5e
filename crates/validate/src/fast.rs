//! A fast path for the YAML that manifests are written in: block mappings and sequences,
//! one-line plain and quoted scalars, one-line flow collections, comments.
//!
//! Reading documents is most of the time `validate` spends, and a general YAML parser pays
//! for generality (a token queue, simple-key bookkeeping, a character at a time) that these
//! documents do not need. This reader works on whole lines and bytes, and answers `None`
//! for anything it does not know for certain — anchors, tags, block scalars, multi-line
//! scalars or flow collections, escapes, tabs, non-ASCII text, duplicate or merge keys,
//! anything malformed — and the caller then reads the document with the event-based
//! loader ([`crate::yaml::load_events`]), which also gives every error message. When it
//! answers, the value is the one that loader gives: a fuzz target and the tests compare
//! the two on every input.
//!
//! Written by hand because no YAML crate offers such a subset reader; the general ones are
//! what it avoids.

use serde_json::{Map, Value};

use std::borrow::Cow;

use crate::yaml::{key_string, resolve};

/// The document, when it is within the subset; `None` defers to the full loader.
pub(crate) fn load(text: &str) -> Option<Value> {
    // Control characters (tabs and CR included) and non-ASCII text have rules of their own.
    if text.bytes().any(|b| (b < 0x20 && b != b'\n') || b >= 0x7f) {
        return None;
    }
    let mut lines = Vec::new();
    for raw in text.split('\n') {
        let body = raw.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = raw.len() - body.len();
        // Document markers and directives; indented ones confuse parsers.
        if body.starts_with("---") || body.starts_with("...") || body.starts_with('%') {
            return None;
        }
        lines.push(Line { indent, text: body });
    }
    let Some(first) = lines.first() else {
        return Some(Value::Null);
    };
    let indent = first.indent;
    let mut reader = Reader {
        lines,
        pos: 0,
        depth: 0,
    };
    let value = reader.block(indent)?;
    (reader.pos == reader.lines.len()).then_some(value)
}

/// A line with content: its indentation and the rest.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    indent: usize,
    text: &'a str,
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
    depth: usize,
}

/// Deeper nesting than manifests have is left to the full loader.
const MAX_DEPTH: usize = 64;

/// Whether a line is a block sequence entry (`- x` or `-`).
fn is_entry(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

impl<'a> Reader<'a> {
    /// The block collection whose first line is the current one, at `indent`.
    fn block(&mut self, indent: usize) -> Option<Value> {
        let line = self.lines.get(self.pos)?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let value = if is_entry(line.text) {
            self.sequence(indent)
        } else {
            self.mapping(indent)
        };
        self.depth -= 1;
        value
    }

    fn mapping(&mut self, indent: usize) -> Option<Value> {
        let mut map = Map::new();
        while let Some(line) = self.lines.get(self.pos).copied() {
            if line.indent < indent {
                break;
            }
            if line.indent > indent || is_entry(line.text) {
                return None;
            }
            let (key, rest) = block_key(line.text)?;
            self.pos += 1;
            let value = self.value(indent, rest, true)?;
            if map.insert(key, value).is_some() {
                return None;
            }
        }
        Some(Value::Object(map))
    }

    fn sequence(&mut self, indent: usize) -> Option<Value> {
        let mut items = Vec::new();
        while let Some(line) = self.lines.get(self.pos).copied() {
            if line.indent < indent {
                break;
            }
            if line.indent > indent {
                return None;
            }
            if !is_entry(line.text) {
                // The mapping this sequence is the value of goes on (or the caller fails).
                break;
            }
            let after = &line.text[1..];
            let body = after.trim_start_matches(' ');
            if is_entry(body) {
                return None;
            }
            if !body.is_empty() && !body.starts_with('#') && block_key(body).is_some() {
                // `- key: value`: a mapping whose keys are at the column of the first one.
                let column = indent + 1 + (after.len() - body.len());
                self.lines[self.pos] = Line {
                    indent: column,
                    text: body,
                };
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return None;
                }
                items.push(self.mapping(column)?);
                self.depth -= 1;
                continue;
            }
            self.pos += 1;
            items.push(self.value(indent, body, false)?);
        }
        Some(Value::Array(items))
    }

    /// The value after `key:` or `-` on a line at `indent`: `rest` on the line, or the
    /// block below it, or null.
    fn value(&mut self, indent: usize, rest: &str, in_mapping: bool) -> Option<Value> {
        let rest = rest.trim_start_matches(' ');
        let next = self.lines.get(self.pos).copied();
        if rest.is_empty() || rest.starts_with('#') {
            return match next {
                Some(n) if n.indent > indent => self.block(n.indent),
                // `key:` followed by `- item` at the key's own indentation.
                Some(n) if in_mapping && n.indent == indent && is_entry(n.text) => {
                    self.sequence(indent)
                }
                _ => Some(Value::Null),
            };
        }
        // A deeper line after a value on the line would continue it or be an error.
        if next.is_some_and(|n| n.indent > indent) {
            return None;
        }
        inline(rest)
    }
}

/// A block mapping key and the text after its `:`.
fn block_key(text: &str) -> Option<(String, &str)> {
    let (key, after) = match text.as_bytes()[0] {
        b'"' => double_quoted(text)?,
        b'\'' => single_quoted(text)?,
        _ => {
            if !plain_start(text, false) {
                return None;
            }
            let b = text.as_bytes();
            let colon =
                (0..b.len()).find(|&i| b[i] == b':' && b.get(i + 1).is_none_or(|&c| c == b' '))?;
            let key = &text[..colon];
            if key.ends_with(' ') || key.contains(" #") || key == "<<" {
                return None;
            }
            (key_string(plain(key)?), &text[colon..])
        }
    };
    // YAML limits implicit keys to 1024 characters.
    if text.len() - after.len() > 1000 {
        return None;
    }
    let rest = after.strip_prefix(':')?;
    (rest.is_empty() || rest.starts_with(' ')).then_some((key, rest))
}

/// A value written on one line after `key: ` or `- `, with an optional comment after it.
fn inline(text: &str) -> Option<Value> {
    let (value, after) = match text.as_bytes()[0] {
        b'"' => {
            let (s, after) = double_quoted(text)?;
            (Value::String(s), after)
        }
        b'\'' => {
            let (s, after) = single_quoted(text)?;
            (Value::String(s), after)
        }
        b'[' | b'{' => {
            let mut flow = Flow {
                s: text,
                i: 0,
                depth: 0,
            };
            let v = flow.node()?;
            (v, &text[flow.i..])
        }
        _ => {
            if !plain_start(text, false) {
                return None;
            }
            let end = text.find(" #").unwrap_or(text.len());
            let scalar = text[..end].trim_end_matches(' ');
            if scalar.contains(": ") || scalar.ends_with(':') || odd_words(scalar, false) {
                return None;
            }
            return plain(scalar);
        }
    };
    line_end(after).then_some(value)
}

/// Whether only spaces and a comment follow.
fn line_end(after: &str) -> bool {
    let rest = after.trim_start_matches(' ');
    rest.is_empty() || (rest.starts_with('#') && rest.len() < after.len())
}

/// Whether a plain scalar may start here (YAML's `ns-plain-first`).
fn plain_start(text: &str, flow: bool) -> bool {
    let b = text.as_bytes();
    match b.first() {
        None => false,
        Some(b'-' | b'?' | b':') => match b.get(1) {
            None | Some(b' ') => false,
            Some(c) => !(flow && b",[]{}".contains(c)),
        },
        Some(c) => !b",[]{}#&*!|>'\"%@`".contains(c),
    }
}

/// Whether a word inside a plain scalar starts like an indicator (`-`, `?` or `:` before a
/// space, its end or, in a flow, a flow indicator): valid YAML that parsers disagree on.
fn odd_words(text: &str, flow: bool) -> bool {
    let b = text.as_bytes();
    (1..b.len()).any(|i| {
        b[i - 1] == b' '
            && matches!(b[i], b'-' | b'?' | b':')
            && b.get(i + 1)
                .is_none_or(|c| *c == b' ' || (flow && b",[]{}".contains(c)))
    })
}

/// A plain scalar's value, as go-yaml v2 resolves it; `None` for what JSON cannot hold.
fn plain(text: &str) -> Option<Value> {
    resolve(text).into_value(Cow::Borrowed(text))
}

/// `"..."` without escapes, and the text after it.
fn double_quoted(text: &str) -> Option<(String, &str)> {
    let end = 1 + text[1..].find(['"', '\\'])?;
    (text.as_bytes()[end] == b'"').then(|| (text[1..end].to_string(), &text[end + 1..]))
}

/// `'...'` (where `''` is a quote), and the text after it.
fn single_quoted(text: &str) -> Option<(String, &str)> {
    let b = text.as_bytes();
    let mut out = String::new();
    let mut start = 1;
    let mut i = 1;
    loop {
        match b.get(i)? {
            b'\'' if b.get(i + 1) == Some(&b'\'') => {
                out.push_str(&text[start..=i]);
                i += 2;
                start = i;
            }
            b'\'' => {
                out.push_str(&text[start..i]);
                return Some((out, &text[i + 1..]));
            }
            _ => i += 1,
        }
    }
}

/// A flow collection on one line.
struct Flow<'a> {
    s: &'a str,
    i: usize,
    depth: usize,
}

impl<'a> Flow<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    fn spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    fn node(&mut self) -> Option<Value> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let value = self.node_inner();
        self.depth -= 1;
        value
    }

    fn node_inner(&mut self) -> Option<Value> {
        self.spaces();
        match self.peek()? {
            b'[' => {
                let mut items = Vec::new();
                if self.open(b']') {
                    return Some(Value::Array(items));
                }
                loop {
                    items.push(self.node()?);
                    if self.separator(b']')? {
                        return Some(Value::Array(items));
                    }
                }
            }
            b'{' => {
                let mut map = Map::new();
                if self.open(b'}') {
                    return Some(Value::Object(map));
                }
                loop {
                    let key = self.key()?;
                    let value = self.node()?;
                    if map.insert(key, value).is_some() {
                        return None;
                    }
                    if self.separator(b'}')? {
                        return Some(Value::Object(map));
                    }
                }
            }
            b'"' => {
                let (s, after) = double_quoted(&self.s[self.i..])?;
                self.i = self.s.len() - after.len();
                Some(Value::String(s))
            }
            b'\'' => {
                let (s, after) = single_quoted(&self.s[self.i..])?;
                self.i = self.s.len() - after.len();
                Some(Value::String(s))
            }
            _ => {
                let text = self.plain_text()?;
                if self.peek() == Some(b':') {
                    return None;
                }
                plain(text)
            }
        }
    }

    /// Past an opening bracket: true when the collection closes at once (`[]`, `{}`).
    fn open(&mut self, close: u8) -> bool {
        self.i += 1;
        self.spaces();
        let empty = self.peek() == Some(close);
        if empty {
            self.i += 1;
        }
        empty
    }

    /// After an item: `,` then another (false), or the closing bracket (true).
    fn separator(&mut self, close: u8) -> Option<bool> {
        self.spaces();
        match self.peek()? {
            b',' => {
                self.i += 1;
                self.spaces();
                // A trailing comma, or an empty entry.
                (!matches!(self.peek()?, b']' | b'}' | b',')).then_some(false)
            }
            c if c == close => {
                self.i += 1;
                Some(true)
            }
            _ => None,
        }
    }

    /// A plain scalar in a flow collection: up to an indicator, trailing spaces trimmed.
    fn plain_text(&mut self) -> Option<&'a str> {
        let s: &'a str = self.s;
        let rest = &s[self.i..];
        if !plain_start(rest, true) {
            return None;
        }
        // It ends at a flow indicator, or at a `:` before a space, an indicator or the end
        // (`image: busybox:1.36` holds one that does not end it).
        let b = rest.as_bytes();
        let flow_end = |c: Option<&u8>| c.is_none_or(|c| b" ,[]{}".contains(c));
        let len = (0..b.len())
            .find(|&i| match b[i] {
                b',' | b'[' | b']' | b'{' | b'}' | b'#' => true,
                b':' => flow_end(b.get(i + 1)),
                _ => false,
            })
            .unwrap_or(b.len());
        if b.get(len) == Some(&b'#') {
            return None;
        }
        self.i += len;
        let text = rest[..len].trim_end_matches(' ');
        (!odd_words(&rest[..len], true)).then_some(text)
    }

    /// A flow mapping key and its `:`.
    fn key(&mut self) -> Option<String> {
        self.spaces();
        let start = self.i;
        let key = self.key_text()?;
        // YAML limits implicit keys to 1024 characters.
        (self.i - start <= 1000).then_some(key)
    }

    fn key_text(&mut self) -> Option<String> {
        let key = match self.peek()? {
            b'"' | b'\'' => {
                let Value::String(s) = self.node()? else {
                    return None;
                };
                // JSON-like `"a":1` needs no space after the colon.
                self.s.as_bytes().get(self.i).filter(|&&c| c == b':')?;
                self.i += 1;
                return Some(s);
            }
            _ => self.plain_text()?,
        };
        if key == "<<" {
            return None;
        }
        let key = key_string(plain(key)?);
        // A plain key: its colon, then a space.
        (self.s.as_bytes().get(self.i..self.i + 2) == Some(b": ")).then_some(())?;
        self.i += 2;
        Some(key)
    }
}

#[cfg(test)]
mod tests {
    use super::load;
    use crate::yaml::load_events;

    /// The fast path either defers or agrees with the event-based loader.
    fn agrees(doc: &str) -> bool {
        let fast = load(doc);
        if let Some(v) = &fast {
            let full = load_events(doc, true);
            assert_eq!(Some(v), full.as_ref().ok(), "the readers differ on {doc:?}");
        }
        fast.is_some()
    }

    #[test]
    fn manifests_take_the_fast_path_and_read_the_same() {
        for doc in [
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a # the name\n  labels: {app: web, 'x': \"y\"}\ndata:\n  key: value\n  other: \"42\"\n  yes: on\n  n: 0777\n",
            "spec:\n  containers:\n    - name: web\n      image: nginx:1.27\n      ports: [{containerPort: 80}]\n      args: [sh, -c, \"echo hi\", 'it''s']\n    -\n      name: b\n  list:\n  - a\n  - 1.5\n  -\n  - ~\n",
            "# comment\n\na:\n  b:\n    c: [1, [2, 3], {}, []]\n  d: {\"e\":1, f: {g: h}}\nz: -1\nq: ?x\nurl: http://x:80/y\n",
            "- a: 1\n  b: 2\n- c\n- - x\n",
            "  indented: 1\n  root: 2\n",
            "",
            "# only a comment\n",
        ] {
            // The last but one is not in the subset (a nested compact sequence).
            let _ = agrees(doc);
        }
        assert!(agrees(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a # the name\n  labels: {app: web, 'x': \"y\"}\ndata:\n  key: value\n  yes: on\n"
        ));
        assert!(agrees(
            "spec:\n  containers:\n    - name: web\n      ports: [{containerPort: 80}]\n      args: [sh, -c, \"echo hi\", 'it''s']\n    -\n      name: b\n  list:\n  - a\n  -\n  - ~\n"
        ));
        assert!(agrees("  indented: 1\n  root: 2\n"));
        assert!(agrees(""));
    }

    #[test]
    fn anything_outside_the_subset_defers() {
        for doc in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: |\n  text\n",
            "a: >\n  text\n",
            "a: plain\n  continued\n",
            "a: [1,\n  2]\n",
            "a: \"esc\\n\"\n",
            "a:\tb\n",
            "a: é\n",
            "a: 1\na: 2\n",
            "<<: {a: 1}\n",
            "a: b: c\n",
            "? complex\n: value\n",
            "a: .nan\n",
            "a: [1, ]\n",
            "a: {b}\n",
            "a: [b: c]\n",
            "a: 1\n  b: 2\n",
            "- a\nb: 1\n",
            "a: 1\r\n",
            "- - x\n",
            "a:\n    - x\n  b: 1\n",
            "just a scalar\n",
        ] {
            assert!(!agrees(doc), "{doc:?} should take the full loader");
        }
    }
}
