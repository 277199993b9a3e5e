//! Fuzzes the spec loader: YAML parsing, the span index, deserialization, resolution and
//! every semantic check. Besides not panicking, every diagnostic must point inside the
//! input on a character boundary, and a spec without errors must survive serialize → load.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run spec_load fuzz/corpus/spec_load fuzz/seeds/spec_load`
//! (new inputs go to the first, git-ignored directory; the seeds stay as committed).
#![no_main]

use infraflux_spec::{Source, analyze, load_str, to_yaml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let analysis = analyze(&Source::new("fuzz.yaml", text));
    for d in &analysis.diagnostics {
        if let Some(l) = d.location {
            assert!(l.offset + l.len <= text.len(), "{d:?} points past the end");
            assert!(
                text.is_char_boundary(l.offset) && text.is_char_boundary(l.offset + l.len),
                "{d:?} splits a character"
            );
            assert!(l.line >= 1 && l.column >= 1);
        }
        assert!(d.hint.is_some(), "{d:?} has no hint");
    }
    if let (Some(platform), false) = (&analysis.platform, analysis.has_errors()) {
        let yaml = to_yaml(platform);
        let again = load_str("again.yaml", &yaml).expect("a resolved valid spec reloads");
        assert_eq!(&again.platform, platform, "round trip changed the model");
    }
});
