//! Where each value of a YAML document is: a map from a field path
//! (`spec.management.controlPlanes[0].ip`) to its location, built from the parser's events.
//!
//! Deserialization gives typed values without positions; semantic checks name the path of
//! the field they complain about and this index turns it into `file:line:column`. Keeping the
//! types free of `Spanned<T>` keeps them plain to use, to serialize and to generate a schema
//! from.

use std::collections::HashMap;

use serde_saphyr::granit_parser::{Event, Parser, Span};

/// A position in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Location {
    /// Line, 1-based.
    pub line: usize,
    /// Column in characters, 1-based.
    pub column: usize,
    /// Byte offset of the start.
    pub offset: usize,
    /// Length in bytes (at least 1 where the source has a character there).
    pub len: usize,
}

/// The locations of one node of the document.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The mapping key that introduced the node, if any.
    key: Option<Location>,
    /// The node itself.
    value: Location,
    /// Whether the node is a scalar (reported at its value) or a collection (at its key).
    scalar: bool,
}

/// Locations of every node of one YAML document, by path.
#[derive(Debug, Default, Clone)]
pub struct SpanIndex {
    entries: HashMap<String, Entry>,
    /// The YAML syntax error that stopped indexing, if any.
    syntax_error: Option<(Location, String)>,
}

enum Frame {
    Map {
        path: String,
        key: Option<(String, Location)>,
    },
    Seq {
        path: String,
        next: usize,
    },
    /// A complex (non-scalar) mapping key: its contents are not indexed.
    Skip,
}

/// Appends a key to a path: `a.b`, or `a["x.y"]` when the key is not a plain identifier.
pub fn join_key(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (path.is_empty(), plain) {
        (true, true) => key.to_string(),
        (false, true) => format!("{path}.{key}"),
        (_, false) => format!("{path}[{key:?}]"),
    }
}

/// Appends an index to a path: `a[3]`.
pub fn join_index(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

impl SpanIndex {
    /// Indexes the first document of `source`. A source that does not parse yields the
    /// part indexed before the error (the deserializer reports the error itself).
    pub fn build(source: &str) -> Self {
        let lines = LineStarts::new(source);
        let mut index = SpanIndex::default();
        let mut stack: Vec<Frame> = Vec::new();
        let mut seen_document = false;
        for item in Parser::new_from_str(source) {
            let (event, span) = match item {
                Ok(ok) => ok,
                Err(e) => {
                    let m = e.marker();
                    let loc = lines.point(source, m.line().max(1), m.col() + 1);
                    index.syntax_error = Some((loc, e.info()));
                    break;
                }
            };
            let loc = lines.location(source, &span);
            match event {
                Event::DocumentStart(..) => {
                    if seen_document {
                        break;
                    }
                    seen_document = true;
                }
                Event::Scalar(text, ..) => {
                    if let Some(Frame::Map {
                        key: key @ None, ..
                    }) = stack.last_mut()
                    {
                        *key = Some((text.into_owned(), loc));
                    } else {
                        index.add_node(&mut stack, loc, true);
                    }
                }
                Event::Alias(..) => {
                    if let Some(Frame::Map {
                        key: key @ None, ..
                    }) = stack.last_mut()
                    {
                        *key = Some(("*".into(), loc));
                    } else {
                        index.add_node(&mut stack, loc, true);
                    }
                }
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    let is_map = matches!(event, Event::MappingStart(..));
                    let frame = match index.add_node(&mut stack, loc, false) {
                        Some(path) if is_map => Frame::Map { path, key: None },
                        Some(path) => Frame::Seq { path, next: 0 },
                        None => Frame::Skip,
                    };
                    stack.push(frame);
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    // After a complex (collection) key, its value follows: give it a
                    // placeholder key so that the value is not taken for the next key.
                    if let (
                        Some(Frame::Skip),
                        Some(Frame::Map {
                            key: key @ None, ..
                        }),
                    ) = (stack.pop(), stack.last_mut())
                    {
                        *key = Some(("?".into(), loc));
                    }
                }
                _ => {}
            }
        }
        index
    }

    /// Records a node at the position the stack says, and returns its path (None inside a
    /// skipped region or for a complex key).
    fn add_node(&mut self, stack: &mut [Frame], value: Location, scalar: bool) -> Option<String> {
        let (path, key) = match stack.last_mut() {
            None => (String::new(), None),
            Some(Frame::Skip) => return None,
            Some(Frame::Seq { path, next }) => {
                let p = join_index(path, *next);
                *next += 1;
                (p, None)
            }
            Some(Frame::Map { path, key }) => match key.take() {
                Some((k, key_loc)) => (join_key(path, &k), Some(key_loc)),
                // A collection used as a mapping key.
                None => return None,
            },
        };
        self.entries
            .insert(path.clone(), Entry { key, value, scalar });
        Some(path)
    }

    /// Where to point for the field at `path`: the value of a scalar, the key of a
    /// collection. A path that is absent from the document (a default) falls back to its
    /// nearest present ancestor.
    pub fn locate(&self, path: &str) -> Option<Location> {
        let mut p = path;
        loop {
            if let Some(e) = self.entries.get(p) {
                return Some(if e.scalar {
                    e.value
                } else {
                    e.key.unwrap_or(e.value)
                });
            }
            p = parent(p)?;
        }
    }

    /// The location of the key that introduced `path`, falling back like [`Self::locate`].
    pub fn locate_key(&self, path: &str) -> Option<Location> {
        let mut p = path;
        loop {
            if let Some(e) = self.entries.get(p) {
                return Some(e.key.unwrap_or(e.value));
            }
            p = parent(p)?;
        }
    }

    /// The path of the node that starts at byte `offset`: the shortest path whose value
    /// starts there (a mapping and its first key start at the same place), else the path
    /// whose key starts there.
    pub fn path_at(&self, offset: usize) -> Option<String> {
        self.node_at(offset).map(|(p, _)| p)
    }

    /// The path whose mapping key starts at byte `offset`.
    pub fn key_path_at(&self, offset: usize) -> Option<String> {
        self.entries
            .iter()
            .filter(|(_, e)| e.key.is_some_and(|k| k.offset == offset))
            .map(|(p, _)| p)
            .max_by_key(|p| (p.len(), p.as_str()))
            .cloned()
    }

    /// Like [`Self::path_at`], also saying whether the match was the node's value (true)
    /// or its key (false).
    pub fn node_at(&self, offset: usize) -> Option<(String, bool)> {
        let by_value = self
            .entries
            .iter()
            .filter(|(_, e)| e.value.offset == offset)
            .map(|(p, _)| p)
            .min_by_key(|p| (p.len(), p.as_str()));
        if let Some(p) = by_value {
            return Some((p.clone(), true));
        }
        self.key_path_at(offset).map(|p| (p, false))
    }

    /// The YAML syntax error of the document, with its location.
    pub fn syntax_error(&self) -> Option<&(Location, String)> {
        self.syntax_error.as_ref()
    }

    /// Whether the node at `path` is a collection (mapping or sequence).
    pub fn is_collection(&self, path: &str) -> bool {
        self.entries.get(path).is_some_and(|e| !e.scalar)
    }

    /// The location of the scalar written at `path`, with its text.
    pub fn scalar_text<'s>(&self, source: &'s str, path: &str) -> Option<&'s str> {
        let e = self.entries.get(path).filter(|e| e.scalar)?;
        source.get(e.value.offset..e.value.offset + e.value.len)
    }

    /// Whether `path` is written in the document.
    pub fn contains(&self, path: &str) -> bool {
        self.entries.contains_key(path)
    }
}

/// The parent of a path (`a.b[2]` → `a.b`, `a.b` → `a`, `a` → ``); None for the root.
pub fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    let cut = if path.ends_with(']') {
        // `[...]` may hold a quoted key with dots or brackets; find its opening bracket.
        let bytes = path.as_bytes();
        let mut i = path.len() - 1;
        let mut in_quotes = false;
        loop {
            if i == 0 {
                break 0;
            }
            i -= 1;
            match bytes[i] {
                b'"' if bytes.get(i.wrapping_sub(1)) != Some(&b'\\') => in_quotes = !in_quotes,
                b'[' if !in_quotes => break i,
                _ => {}
            }
        }
    } else {
        path.rfind(['.', ']'])
            .map(|i| if path.as_bytes()[i] == b']' { i + 1 } else { i })
            .unwrap_or(0)
    };
    Some(&path[..cut])
}

/// The largest char boundary of `source` at or below `i`.
fn char_floor(source: &str, i: usize) -> usize {
    let mut i = i.min(source.len());
    while !source.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Byte offsets of line starts, to turn (line, char column) into a byte offset.
pub(crate) struct LineStarts(Vec<usize>);

impl LineStarts {
    pub(crate) fn new(source: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        Self(starts)
    }

    /// Byte offset of a 1-based line and 0-based character column.
    pub(crate) fn offset(&self, source: &str, line: usize, col0: usize) -> usize {
        let start = self
            .0
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(source.len());
        let start = start.min(source.len());
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        // A column past the end of its line (a parser reporting the end of input) is
        // clamped to the line's end.
        source[start..line_end]
            .char_indices()
            .nth(col0)
            .map_or(line_end, |(i, _)| start + i)
    }

    /// A [`Location`] for a 1-based line and column, one character long.
    pub(crate) fn point(&self, source: &str, line: usize, column: usize) -> Location {
        let offset = self.offset(source, line, column.saturating_sub(1));
        let len = source[offset..].chars().next().map_or(0, char::len_utf8);
        Location {
            line,
            column,
            offset,
            len,
        }
    }

    fn location(&self, source: &str, span: &Span) -> Location {
        let (sl, sc) = (span.start.line(), span.start.col());
        let offset = span
            .start
            .byte_offset()
            .unwrap_or_else(|| self.offset(source, sl, sc));
        let end = span
            .end
            .byte_offset()
            .unwrap_or_else(|| self.offset(source, span.end.line(), span.end.col()));
        let (offset, end) = (char_floor(source, offset), char_floor(source, end));
        let mut len = end.saturating_sub(offset);
        if len == 0 {
            len = source[offset.min(source.len())..]
                .chars()
                .next()
                .map_or(0, char::len_utf8);
        }
        Location {
            line: sl,
            column: sc + 1,
            offset,
            len,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
spec:
  network:
    nodeCIDR: 192.168.10.0/24
    pools: [a, b]
  nodes:
    - name: cp-1
      labels:
        node.kubernetes.io/role: x
";

    #[test]
    fn scalars_point_at_their_value_and_collections_at_their_key() {
        let idx = SpanIndex::build(DOC);
        let l = idx.locate("spec.network.nodeCIDR").unwrap();
        assert_eq!((l.line, l.column), (3, 15));
        assert_eq!(&DOC[l.offset..l.offset + l.len], "192.168.10.0/24");
        let l = idx.locate("spec.network").unwrap();
        assert_eq!((l.line, l.column), (2, 3));
        let l = idx.locate("spec.network.pools[1]").unwrap();
        assert_eq!((l.line, l.column), (4, 16));
        let l = idx.locate("spec.nodes[0].name").unwrap();
        assert_eq!((l.line, l.column), (6, 13));
        let l = idx
            .locate(r#"spec.nodes[0].labels["node.kubernetes.io/role"]"#)
            .unwrap();
        assert_eq!((l.line, l.column), (8, 34));
    }

    #[test]
    fn absent_paths_fall_back_to_the_nearest_ancestor() {
        let idx = SpanIndex::build(DOC);
        let l = idx.locate("spec.network.podCIDR").unwrap();
        assert_eq!((l.line, l.column), (2, 3));
        let l = idx.locate(r#"spec.nodes[0].labels["x.y"].z"#).unwrap();
        assert_eq!((l.line, l.column), (7, 7));
        assert!(SpanIndex::build("").locate("a").is_none());
    }

    #[test]
    fn complex_and_alias_keys_do_not_shift_later_paths() {
        let doc = "a: &x k\n? [1, 2]\n: v\n*x : w\nb: 3\n";
        let idx = SpanIndex::build(doc);
        let l = idx.locate("b").unwrap();
        assert_eq!((l.line, l.column), (5, 4));
    }

    #[test]
    fn locations_stay_on_char_boundaries() {
        let source = "&h2\u{15f}";
        let lines = LineStarts::new(source);
        for col in 1..10 {
            let l = lines.point(source, 1, col);
            assert!(source.is_char_boundary(l.offset) && source.is_char_boundary(l.offset + l.len));
        }
        let _ = SpanIndex::build(source);
    }

    #[test]
    fn parent_handles_indexes_and_quoted_keys() {
        assert_eq!(parent("a.b[2]"), Some("a.b"));
        assert_eq!(parent("a.b"), Some("a"));
        assert_eq!(parent("a"), Some(""));
        assert_eq!(parent(r#"a["x.[y]"]"#), Some("a"));
        assert_eq!(parent(r#"a["x"].b"#), Some(r#"a["x"]"#));
        assert_eq!(parent(""), None);
    }
}
