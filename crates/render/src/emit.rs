//! YAML that every reader reads alike.
//!
//! Kubernetes tools read YAML through go-yaml v2 (YAML 1.1): an unquoted `y`, `no`, `on`,
//! `0777` or `1_000` is a boolean or a number there, keys included (an API server stored a
//! ConfigMap's unquoted `y`/`on` keys as `"true"`), while YAML 1.2 readers see strings. So
//! every string that any of them could read as something else is quoted. serde-saphyr's
//! emitter does this in its default (YAML 1.1-compatible) mode, for keys as well as values;
//! the tests hold it to that with a go-yaml v2 reader and with kubectl itself.

use serde_json::Value;

/// The emitter's settings: two-space indentation with list items indented under their key
/// (the layout yamllint's default `indentation` rule accepts), no folding of long strings
/// (a folded string's line breaks are easy to misread), YAML 1.1-safe quoting.
fn options() -> serde_saphyr::SerializerOptions {
    let mut options = serde_saphyr::SerializerOptions::default();
    options.indent_step = 2;
    options.compact_list_indent = false;
    options.prefer_block_scalars = false;
    options
}

/// One document.
pub fn document(value: &Value) -> String {
    serde_saphyr::to_string_with_options(value, options()).expect("JSON values always serialize")
}

/// A file of documents, each opened with `---`.
pub fn documents(values: &[Value]) -> String {
    let mut out = String::new();
    for v in values {
        out.push_str("---\n");
        out.push_str(&document(v));
    }
    out
}

/// The yamllint configuration the emitted YAML passes, written into rendered trees.
pub const YAMLLINT_CONFIG: &str = include_str!("yamllint.yaml");
