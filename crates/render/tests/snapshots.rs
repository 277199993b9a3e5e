//! Golden snapshots of the homelab's rendered tree, one per file: a change to any rendered
//! file shows up as a reviewable diff (`cargo insta review`). Every snapshotted document
//! is also validated upstream by `render.rs`. Secrets built from sources are encrypted at
//! random, so their snapshot is the plaintext Secret with each value naming its source.

use std::path::Path;

use infraflux_spec::model::SecretRef;

#[test]
fn homelab_tree() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/homelab.yaml");
    let p = infraflux_spec::load(&path).unwrap().platform;
    let tree = infraflux_render::render(&p).unwrap().tree;
    let mut texts = tree.texts();
    for (path, sealed) in tree.sealed() {
        let doc = sealed.document("<digest>", &|source, field| {
            let at = match source {
                SecretRef::Env { env } => format!("env {env}"),
                SecretRef::Sops { sops_file, key } => format!("{sops_file} key {key}"),
            };
            match field {
                Some(f) => format!("<{at}, field {f}>"),
                None => format!("<{at}>"),
            }
        });
        texts.insert(
            format!("{path}.plain"),
            infraflux_render::emit::documents(&[doc]),
        );
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots/homelab");
    settings.bind(|| {
        for (file, text) in &texts {
            let name = file.trim_start_matches('.').replace('/', "__");
            insta::assert_snapshot!(name, text);
        }
    });
}
