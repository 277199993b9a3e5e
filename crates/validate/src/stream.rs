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
}
