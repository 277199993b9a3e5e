//! The emitter's YAML reads back as the same data in every reader: go-yaml v2 as
//! Kubernetes tools use it (our YAML 1.1 loader, and kubectl itself), and a YAML 1.2 reader.

use infraflux_render::emit;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Strings that some reader takes for something else when they are not quoted.
const TRICKY: &[&str] = &[
    "y",
    "Y",
    "n",
    "N",
    "yes",
    "No",
    "on",
    "OFF",
    "off",
    "true",
    "False",
    "null",
    "Null",
    "~",
    "",
    "0777",
    "0o17",
    "0x1F",
    "0b101",
    "1_000",
    "1e3",
    "-1.5",
    ".5",
    "+7",
    ".inf",
    "-.Inf",
    ".nan",
    "12:30",
    "1:20:30",
    "2024-01-02",
    "2024-01-02T10:00:00Z",
    "<<",
    "=",
    "- item",
    "a: b",
    "# not a comment",
    "key:",
    "&anchor",
    "*alias",
    "!tag",
    "%directive",
    "@at",
    "`tick",
    "|",
    ">",
    "[x]",
    "{x}",
    "x, y",
    " lead",
    "trail ",
    "multi\nline",
    "tab\there",
    "quote'single",
    "quote\"double",
    "back\\slash",
    "é",
    "---",
    "...",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        proptest::sample::select(TRICKY).prop_map(|s| Value::String(s.to_string())),
        "[a-z0-9 :#.-]{0,12}".prop_map(Value::String),
        any::<i64>().prop_map(|i| json!(i)),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
        (-1.0e6f64..1.0e6).prop_map(|f| json!(f)),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(TRICKY).prop_map(str::to_string),
        "[a-zA-Z0-9._/-]{1,12}",
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// go-yaml v2 (YAML 1.1) and serde-saphyr (YAML 1.2) read what was written.
    #[test]
    fn every_reader_reads_what_was_written(v in value()) {
        let doc = json!({"root": v});
        let text = emit::document(&doc);
        let yaml11 = infraflux_validate::yaml::load(&text, true)
            .map_err(|e| TestCaseError::fail(format!("{e:?} in\n{text}")))?;
        prop_assert_eq!(&yaml11, &doc, "YAML 1.1 reading of\n{}", text);
        let yaml12: Value = serde_saphyr::from_str(&text)
            .map_err(|e| TestCaseError::fail(format!("{e} in\n{text}")))?;
        prop_assert_eq!(&yaml12, &doc, "YAML 1.2 reading of\n{}", text);
    }
}

/// kubectl reads a ConfigMap whose keys and values look like booleans, numbers and nulls
/// as the strings they are.
#[test]
fn kubectl_reads_the_same_configmap() {
    let data: Map<String, Value> = TRICKY
        .iter()
        .filter(|k| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
        })
        .map(|k| (k.to_string(), Value::String(k.to_string())))
        .collect();
    assert!(data.contains_key("y") && data.contains_key("0777") && data.contains_key("on"));
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "tricky"}, "data": data});
    let dir = std::env::temp_dir().join(format!("infraflux-emit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cm.yaml");
    std::fs::write(&path, emit::documents(std::slice::from_ref(&cm))).unwrap();
    let out = std::process::Command::new("kubectl")
        .args(["label", "--local", "-o", "json", "checked=yes", "-f"])
        .arg(&path)
        .output()
        .expect("kubectl is on the machine");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(read["data"], cm["data"]);
}

/// yamllint, strict (warnings fail), passes the emitter's YAML with the documented config.
#[test]
fn yamllint_passes_the_emitted_yaml() {
    let mut docs = Vec::new();
    for (i, k) in TRICKY.iter().enumerate() {
        docs.push(json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": format!("c{i}"), "labels": {"app": "web", *k: *k}},
            "data": {*k: *k, "list": [k, {"nested": [1, 2, {"deep": *k}]}], "empty": {}, "none": []},
        }));
    }
    let dir = std::env::temp_dir().join(format!("infraflux-yamllint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("docs.yaml"), emit::documents(&docs)).unwrap();
    std::fs::write(dir.join("config.yaml"), emit::YAMLLINT_CONFIG).unwrap();
    let out = std::process::Command::new("yamllint")
        .args(["-s", "-f", "parsable", "-c"])
        .arg(dir.join("config.yaml"))
        .arg(dir.join("docs.yaml"))
        .output()
        .expect("yamllint is installed by scripts/test.sh (PyPI)");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
