//! Fuzzes the SOPS decoder: YAML/JSON/dotenv/binary parsing with comments, metadata, key unwrapping, value
//! decryption and the MAC. Besides not panicking: any parsed document re-emits to a fixed
//! point, and a file that decrypts re-encrypts (reusing its ciphertexts) to a file that
//! decrypts to the same documents.
//!
//! The seeds are encrypted for the fixed test identity below, so that inputs reach the
//! value and MAC code, not only the parser.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run sops_decode fuzz/corpus/sops_decode fuzz/seeds/sops_decode`
#![no_main]

use std::str::FromStr;

use infraflux_sops::{Format, decrypt, emit, parse, reencrypt};
use libfuzzer_sys::fuzz_target;

/// A throwaway identity made for this target; it protects nothing.
const IDENTITY: &str = "AGE-SECRET-KEY-1N7ZHUW590K4YKYDV56NQASDM989UM4LJ53UALLJFA5DWRTDGTM9QNA7C88";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let id = age::x25519::Identity::from_str(IDENTITY).expect("a valid identity");
    // Every input is tried as each format.
    for format in [Format::Yaml, Format::Json, Format::Dotenv, Format::Binary] {
        if let Ok(docs) = parse(text, format) {
            let once = emit(&docs, format);
            let again = parse(&once, format).expect("what we emit parses");
            assert_eq!(
                emit(&again, format),
                once,
                "{format:?}: emit is not a fixed point"
            );
        }
        let Ok(opened) = decrypt(text, format, std::slice::from_ref(&id)) else {
            continue;
        };
        let now = time::OffsetDateTime::UNIX_EPOCH;
        let Ok(sealed) = reencrypt(&opened.docs, &opened, now) else {
            continue;
        };
        let reopened = decrypt(&sealed, format, std::slice::from_ref(&id))
            .expect("our re-encryption decrypts");
        assert_eq!(emit(&reopened.docs, format), emit(&opened.docs, format));
    }
});
