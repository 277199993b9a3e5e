//! Differential fuzzing of `infraflux validate`'s fast YAML reader: whenever it reads a
//! document instead of deferring, the event-based loader must read the very same value
//! (and accept the document, strictly).
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run yaml_fast fuzz/corpus/yaml_fast fuzz/seeds/yaml_fast`
#![no_main]

use infraflux_validate::yaml::{load_events, load_fast};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(fast) = load_fast(text) {
        match load_events(text, true) {
            Ok(full) => assert_eq!(fast, full, "the readers differ on {text:?}"),
            Err(e) => panic!("the fast reader accepted {text:?}, the loader says {e:?}"),
        }
    }
});
