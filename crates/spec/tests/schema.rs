//! The published JSON schema (`schema/infraflux.v1alpha1.json`) and the field reference in
//! `docs/spec.md` are generated from the types; these tests fail when either is stale and
//! rewrite them with `INFRAFLUX_BLESS=1`. The examples must validate against the schema.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bless() -> bool {
    std::env::var_os("INFRAFLUX_BLESS").is_some()
}

fn compare_or_bless(path: &Path, generated: &str) {
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    if on_disk != generated {
        if bless() {
            std::fs::write(path, generated).unwrap();
        } else {
            panic!(
                "{} is stale: run `INFRAFLUX_BLESS=1 cargo test -p infraflux-spec --test schema` and commit it",
                path.display()
            );
        }
    }
}

#[test]
fn published_schema_is_generated_from_the_types() {
    let generated = serde_json::to_string_pretty(&infraflux_spec::json_schema()).unwrap() + "\n";
    compare_or_bless(&root().join("schema/infraflux.v1alpha1.json"), &generated);
}

fn yaml_to_json(path: &Path) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&infraflux_spec::json_schema()).expect("the schema compiles")
}

#[test]
fn every_example_validates_against_the_published_schema() {
    let v = validator();
    let mut n = 0;
    for entry in std::fs::read_dir(root().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        let doc = yaml_to_json(&path);
        let errors: Vec<String> = v
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        n += 1;
    }
    assert!(n >= 3);
}

#[test]
fn the_schema_rejects_what_the_loader_rejects() {
    let v = validator();
    let mut doc = yaml_to_json(&root().join("examples/homelab.yaml"));
    doc["spec"]["network"]["nodeCidr"] = "10.0.0.0/24".into();
    assert!(!v.is_valid(&doc), "an unknown field must fail the schema");
    let mut doc = yaml_to_json(&root().join("examples/homelab.yaml"));
    doc["spec"]["cilium"]["encryption"] = "wireguardd".into();
    assert!(
        !v.is_valid(&doc),
        "an unknown enum value must fail the schema"
    );
    let mut doc = yaml_to_json(&root().join("examples/homelab.yaml"));
    doc["spec"]["proxmox"]["tokenSecret"] = serde_json::json!({ "env": "X", "key": "y" });
    assert!(
        !v.is_valid(&doc),
        "a mixed secret reference must fail the schema"
    );
    doc["spec"]["proxmox"]["tokenSecret"] =
        serde_json::json!({ "sopsFile": "secrets/p.sops.yaml", "key": "y" });
    assert!(v.is_valid(&doc));
}

/// One row of the field reference.
struct Row {
    path: String,
    ty: String,
    default: String,
    description: String,
}

fn resolve<'a>(schema: &'a Value, defs: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(&defs[r.trim_start_matches("#/$defs/")], defs),
        None => schema,
    }
}

fn describe(schema: &Value, defs: &Value, path: &str, rows: &mut Vec<Row>) -> String {
    let s = resolve(schema, defs);
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        return values
            .iter()
            .map(|v| format!("`{}`", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(" \\| ");
    }
    if let Some(alts) = s.get("oneOf").and_then(Value::as_array)
        && alts.iter().all(|a| a.get("const").is_some())
    {
        return alts
            .iter()
            .map(|a| format!("`{}`", a["const"].as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(" \\| ");
    }
    if let Some(alts) = s.get("anyOf").and_then(Value::as_array) {
        let non_null: Vec<&Value> = alts
            .iter()
            .filter(|a| a.get("type") != Some(&Value::from("null")))
            .collect();
        if non_null.len() == 1 {
            return describe(non_null[0], defs, path, rows);
        }
        if non_null
            .iter()
            .all(|a| resolve(a, defs).get("properties").is_some())
        {
            return non_null
                .iter()
                .map(|a| {
                    let keys: Vec<String> = resolve(a, defs)["properties"]
                        .as_object()
                        .unwrap()
                        .keys()
                        .cloned()
                        .collect();
                    format!("`{{{}}}`", keys.join(", "))
                })
                .collect::<Vec<_>>()
                .join(" or ");
        }
        return non_null
            .iter()
            .map(|a| a.get("type").and_then(Value::as_str).unwrap_or("value"))
            .collect::<Vec<_>>()
            .join(" or ");
    }
    let ty = match s.get("type") {
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("value"),
        Some(Value::String(t)) => t.as_str(),
        _ => {
            return if s.as_bool() == Some(true) || s.as_object().is_some_and(|o| o.is_empty()) {
                "any".into()
            } else {
                "value".into()
            };
        }
    };
    match ty {
        "array" => format!(
            "list of {}",
            describe(&s["items"], defs, &format!("{path}[]"), rows)
        ),
        "object" if s.get("properties").is_some() => {
            fields(s, defs, path, rows);
            "object".into()
        }
        "object" => match s.get("additionalProperties") {
            Some(inner) if inner.is_object() => format!(
                "map of {}",
                describe(inner, defs, &format!("{path}.<name>"), rows)
            ),
            _ => "map of string".into(),
        },
        "integer" => "integer".into(),
        other => other.into(),
    }
}

fn fields(s: &Value, defs: &Value, path: &str, rows: &mut Vec<Row>) {
    let required: Vec<&str> = s
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (name, prop) in s["properties"].as_object().unwrap() {
        let field_path = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}.{name}")
        };
        let index = rows.len();
        rows.push(Row {
            path: field_path.clone(),
            ty: String::new(),
            default: String::new(),
            description: String::new(),
        });
        let ty = describe(prop, defs, &field_path, rows);
        let description = prop
            .get("description")
            .or_else(|| resolve(prop, defs).get("description"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .replace('\n', " ");
        let default = match prop.get("default") {
            Some(d) if d.is_object() => "see fields".into(),
            Some(d) => format!("`{}`", serde_json::to_string(d).unwrap()),
            None if required.contains(&name.as_str()) => "required".into(),
            None => "—".into(),
        };
        rows[index] = Row {
            path: field_path,
            ty,
            default,
            description,
        };
    }
}

/// Every value at a reference path (`spec.clusters[].name`) in a document: `[]` goes into
/// every element of a list, `<name>` into every entry of a map.
fn lookup<'a>(v: &'a Value, segments: &[&str], out: &mut Vec<&'a Value>) {
    let Some((seg, rest)) = segments.split_first() else {
        out.push(v);
        return;
    };
    let key = seg.trim_end_matches("[]");
    let children: Vec<&Value> = if key == "<name>" {
        v.as_object()
            .map(|o| o.values().collect())
            .unwrap_or_default()
    } else {
        v.get(key).into_iter().collect()
    };
    for mut child in children {
        let mut level = vec![child];
        for _ in 0..seg.matches("[]").count() {
            level = level
                .iter()
                .flat_map(|c| c.as_array().into_iter().flatten())
                .collect();
        }
        for c in level.drain(..) {
            child = c;
            lookup(child, rest, out);
        }
    }
}

/// An example value for a field from the example specs (which the tests validate): the
/// first one short enough for a table cell. Object-typed rows show their fields instead.
fn example(examples: &[Value], path: &str, ty: &str) -> String {
    if ty == "object" {
        return String::new();
    }
    let segments: Vec<&str> = path.split('.').collect();
    let mut found = Vec::new();
    for doc in examples {
        lookup(doc, &segments, &mut found);
    }
    found
        .into_iter()
        .map(|v| serde_json::to_string(v).unwrap())
        .find(|s| s.len() <= 70)
        .map(|s| format!("`{}`", s.replace('|', "\\|")))
        .unwrap_or_default()
}

#[test]
fn docs_spec_md_reference_is_generated_from_the_schema() {
    let schema = infraflux_spec::json_schema();
    let defs = schema.get("$defs").cloned().unwrap_or_default();
    let mut rows = Vec::new();
    fields(&schema, &defs, "", &mut rows);
    let examples: Vec<Value> = ["homelab", "ha", "multi-cluster"]
        .iter()
        .map(|n| yaml_to_json(&root().join(format!("examples/{n}.yaml"))))
        .collect();
    let mut table =
        String::from("| field | type | default | example | meaning |\n|---|---|---|---|---|\n");
    for r in &rows {
        let description = r.description.replace('|', "\\|");
        table.push_str(&format!(
            "| `{}` | {} | {} | {} | {description} |\n",
            r.path,
            r.ty,
            r.default,
            example(&examples, &r.path, &r.ty)
        ));
    }
    const BEGIN: &str =
        "<!-- BEGIN GENERATED REFERENCE: edit the doc comments in crates/spec/src/model.rs -->\n";
    const END: &str = "<!-- END GENERATED REFERENCE -->";
    let path = root().join("docs/spec.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (head, rest) = doc
        .split_once(BEGIN)
        .expect("docs/spec.md has the BEGIN marker");
    let (_, tail) = rest
        .split_once(END)
        .expect("docs/spec.md has the END marker");
    compare_or_bless(&path, &format!("{head}{BEGIN}{table}{END}{tail}"));
    // Every field of the homelab example is documented.
    assert!(rows.iter().any(|r| r.path == "spec.network.nodeCIDR"));
    assert!(
        rows.iter()
            .any(|r| r.path == "spec.clusters[].workerPools[].replicas")
    );
}
