//! Golden snapshots of the homelab's rendered tree, one per file: a change to any rendered
//! file shows up as a reviewable diff (`cargo insta review`). Every snapshotted document
//! is also validated upstream by `render.rs`.

use std::path::Path;

#[test]
fn homelab_tree() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/homelab.yaml");
    let p = infraflux_spec::load(&path).unwrap().platform;
    let texts = infraflux_render::render(&p).unwrap().tree.texts();
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
