//! Splitting a YAML stream into documents, each with the line it starts on.
//!
//! A document boundary is a line that is `---` (optionally followed by a space and content,
//! as in `--- !tag` or `--- |`) or `...` at column 1, as kubeconform splits streams. Inside
//! a document, such a line could only be content of a block scalar at indentation 0, which
//! YAML does not allow for a mapping's values, so splitting on lines is exact for manifests.

/// One document of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Document<'a> {
    /// The document's text, marker line excluded.
    pub text: &'a str,
    /// The 1-based line of the stream on which `text` starts.
    pub first_line: usize,
    /// The document's position in the stream (0-based, counting empty documents).
    pub index: usize,
}

impl Document<'_> {
    /// Whether the document holds nothing but blank lines and comments.
    pub fn is_empty(&self) -> bool {
        self.text.lines().all(|l| {
            let t = l.trim();
            t.is_empty() || t.starts_with('#')
        })
    }
}

/// Whether a line starts a new document (`---`), and the content after the marker.
fn marker(line: &str) -> Option<&str> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line == "---" || line == "..." {
        return Some("");
    }
    line.strip_prefix("--- ")
        .or_else(|| line.strip_prefix("---\t"))
}

/// The documents of a YAML stream, in order. JSON text is one document.
pub fn split(text: &str) -> Vec<Document<'_>> {
    let mut docs = Vec::new();
    let mut start = 0; // byte offset of the current document's text
    let mut first_line = 1;
    let mut offset = 0;
    for (line_index, line) in text.split_inclusive('\n').enumerate() {
        let line_no = line_index + 1;
        let bare = line.strip_suffix('\n').unwrap_or(line);
        if let Some(rest) = marker(bare) {
            docs.push(Document {
                text: &text[start..offset],
                first_line,
                index: 0,
            });
            // Content after the marker (`--- |`, `--- {a: 1}`) belongs to the new document.
            let content_at = offset + (bare.len() - rest.len());
            if rest.trim().is_empty() {
                start = offset + line.len();
                first_line = line_no + 1;
            } else {
                start = content_at;
                first_line = line_no;
            }
        }
        offset += line.len();
    }
    docs.push(Document {
        text: &text[start..],
        first_line,
        index: 0,
    });
    // A leading `---`, or `---` right after `...`, opens a document rather than closing an
    // empty one: zero-length pieces are not documents (unless the stream is empty).
    if docs.len() > 1 {
        docs.retain(|d| !d.text.is_empty());
    }
    for (i, d) in docs.iter_mut().enumerate() {
        d.index = i;
    }
    docs
}

/// One document of a stream read incrementally, owning its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedDocument {
    /// The document's text, marker line excluded.
    pub text: String,
    /// The 1-based line of the stream on which `text` starts.
    pub first_line: usize,
    /// The document's position in the stream (0-based, counting empty documents).
    pub index: usize,
}

impl OwnedDocument {
    /// Whether the document holds nothing but blank lines and comments.
    pub fn is_empty(&self) -> bool {
        self.as_document().is_empty()
    }

    /// A borrowed view.
    pub fn as_document(&self) -> Document<'_> {
        Document {
            text: &self.text,
            first_line: self.first_line,
            index: self.index,
        }
    }
}

/// The documents of a YAML stream read line by line, so a large file or stdin is never
/// held whole: exactly the documents [`split`] gives for the same text.
pub struct Documents<R> {
    reader: R,
    line: Vec<u8>,
    line_no: usize,
    current: String,
    first_line: usize,
    pieces: usize,
    emitted: usize,
    done: bool,
}

impl<R: std::io::BufRead> Documents<R> {
    /// Documents read from `reader`.
    pub fn new(reader: R) -> Self {
        Documents {
            reader,
            line: Vec::new(),
            line_no: 0,
            current: String::new(),
            first_line: 1,
            pieces: 0,
            emitted: 0,
            done: false,
        }
    }

    fn emit(&mut self, text: String, first_line: usize) -> OwnedDocument {
        self.emitted += 1;
        OwnedDocument {
            text,
            first_line,
            index: self.emitted - 1,
        }
    }
}

impl<R: std::io::BufRead> Iterator for Documents<R> {
    type Item = std::io::Result<OwnedDocument>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            self.line.clear();
            match self.reader.read_until(b'\n', &mut self.line) {
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Ok(0) => {
                    self.done = true;
                    self.pieces += 1;
                    let text = std::mem::take(&mut self.current);
                    // As in `split`: an empty piece is a document only when it is the
                    // whole stream.
                    if !text.is_empty() || self.pieces == 1 {
                        return Some(Ok(self.emit(text, self.first_line)));
                    }
                    return None;
                }
                Ok(_) => {}
            }
            self.line_no += 1;
            let Ok(line) = std::str::from_utf8(&self.line) else {
                self.done = true;
                return Some(Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("line {} is not UTF-8", self.line_no),
                )));
            };
            let bare = line.strip_suffix('\n').unwrap_or(line);
            let Some(rest) = marker(bare) else {
                self.current.push_str(line);
                continue;
            };
            self.pieces += 1;
            let finished = std::mem::take(&mut self.current);
            let finished_line = self.first_line;
            if rest.trim().is_empty() {
                self.first_line = self.line_no + 1;
            } else {
                // Content after the marker (`--- |`) belongs to the new document.
                self.current.push_str(&line[bare.len() - rest.len()..]);
                self.first_line = self.line_no;
            }
            if !finished.is_empty() {
                return Some(Ok(self.emit(finished, finished_line)));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_their_first_line() {
        let text = "---\na: 1\n---\n# only a comment\n---\nb: 2\nc: 3\n...\n--- {d: 4}\n";
        let docs = split(text);
        let summary: Vec<(&str, usize, bool)> = docs
            .iter()
            .map(|d| (d.text, d.first_line, d.is_empty()))
            .collect();
        assert_eq!(
            summary,
            [
                ("a: 1\n", 2, false),
                ("# only a comment\n", 4, true),
                ("b: 2\nc: 3\n", 6, false),
                ("{d: 4}\n", 9, false),
            ]
        );
        assert_eq!(
            docs.iter().map(|d| d.index).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
    }

    #[test]
    fn no_marker_is_one_document_and_indented_dashes_are_content() {
        let docs = split("a: |\n  ---\n  text\n");
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].text, "a: |\n  ---\n  text\n");
        assert_eq!(split("").len(), 1);
        assert!(split("")[0].is_empty());
    }

    #[test]
    fn read_incrementally_the_documents_are_those_of_split() {
        for text in [
            "---\na: 1\n---\n# only a comment\n---\nb: 2\nc: 3\n...\n--- {d: 4}\n",
            "",
            "---\n",
            "---\n---\n",
            "a: 1",
            "a: 1\r\n---\r\nb: 2\r\n",
            "--- |\n  x\n--- >\n  y",
            "...\n---\na: |\n  ---\n",
        ] {
            let split: Vec<(String, usize, usize)> = split(text)
                .iter()
                .map(|d| (d.text.to_string(), d.first_line, d.index))
                .collect();
            let read: Vec<(String, usize, usize)> = Documents::new(text.as_bytes())
                .map(|d| {
                    let d = d.unwrap();
                    (d.text, d.first_line, d.index)
                })
                .collect();
            assert_eq!(read, split, "{text:?}");
        }
    }

    #[test]
    fn a_line_that_is_not_utf8_is_an_error_naming_it() {
        let mut docs = Documents::new(&b"a: 1\nb: \xff\n"[..]);
        let e = docs.next().unwrap().unwrap_err();
        assert_eq!(e.to_string(), "line 2 is not UTF-8");
        assert!(docs.next().is_none());
    }
}
