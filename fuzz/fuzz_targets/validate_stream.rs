//! Fuzzes the manifest stream splitter and document loader of `infraflux validate`. Besides
//! not panicking: documents are in-order, non-overlapping slices of the input whose first
//! line is where they are; reading the input as a stream gives the same documents; and every
//! finding, of the schema or of a policy rule, points at a line of the input.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run validate_stream fuzz/corpus/validate_stream fuzz/seeds/validate_stream`
#![no_main]

use infraflux_validate::{Options, Policy, SchemaSource, Validator, stream};
use libfuzzer_sys::fuzz_target;

/// Every kind has the same permissive schema, so documents reach validation and location.
struct AnySchema;

impl SchemaSource for AnySchema {
    fn read(&self, _path: &str) -> Result<Option<String>, String> {
        Ok(Some(r#"{"type": "object", "properties": {"metadata": {"type": "object", "properties": {"name": {"type": "string"}}}, "spec": {"type": "object", "additionalProperties": {"type": "integer"}}}}"#.into()))
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let base = text.as_ptr() as usize;
    let mut end = 0;
    for d in stream::split(text) {
        let start = d.text.as_ptr() as usize - base;
        assert!(start >= end, "documents overlap or go backwards");
        end = start + d.text.len();
        assert!(end <= text.len());
        let line = text[..start].matches('\n').count() + 1;
        assert_eq!(d.first_line, line, "a document's first line is wrong");
    }
    let split: Vec<(String, usize, usize)> = stream::split(text)
        .iter()
        .map(|d| (d.text.to_string(), d.first_line, d.index))
        .collect();
    let streamed: Vec<(String, usize, usize)> = stream::Documents::new(text.as_bytes())
        .map(|d| {
            d.map(|d| (d.text, d.first_line, d.index))
                .expect("UTF-8 text reads")
        })
        .collect();
    assert_eq!(streamed, split, "streamed documents differ from split ones");
    let lines = text.matches('\n').count() + 1;
    let options = Options {
        locations: vec![
            infraflux_validate::schemas::parse_location("s/{{.ResourceKind}}.json", None).unwrap(),
        ],
        strict: data.len().is_multiple_of(2),
        policy: Policy::all(),
        ..Options::default()
    };
    for r in Validator::new(options, AnySchema).validate_text("f.yaml", text) {
        for f in &r.findings {
            assert!(
                f.line >= 1 && f.line <= lines,
                "{f:?} is outside the input ({lines} lines)"
            );
        }
    }
});
