//! The whole rendered tree of every example: every document valid against upstream's
//! schemas (none without one), every Helm value known to its chart, every policy rule
//! satisfied, and the same bytes every time.

mod common;

use infraflux_spec::Platform;
use std::path::Path;

fn examples() -> Vec<(String, Platform)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut out: Vec<(String, Platform)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| {
            (
                p.display().to_string(),
                infraflux_spec::load(&p).unwrap().platform,
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 3);
    out
}

#[test]
fn every_document_of_every_example_validates_upstream() {
    for (name, p) in examples() {
        let rendered = infraflux_render::render(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
        let results = common::validate(&rendered.tree);
        assert!(results.len() > 5, "{name}: {} documents", results.len());
        common::assert_clean(&results);
    }
}

#[test]
fn rendering_twice_gives_the_same_bytes() {
    for (name, p) in examples() {
        let a = infraflux_render::render(&p).unwrap().tree.texts();
        let b = infraflux_render::render(&p).unwrap().tree.texts();
        assert_eq!(a, b, "{name}");
    }
}

/// yamllint (strict) passes every rendered file with the documented configuration, the
/// encrypted Secrets included.
#[test]
fn yamllint_passes_the_rendered_trees() {
    for (name, p) in examples() {
        let tree = infraflux_render::render(&p).unwrap().tree;
        let (texts, _) = common::texts_with_secrets(&tree);
        let dir = std::env::temp_dir().join(format!(
            "infraflux-render-lint-{}-{}",
            std::process::id(),
            Path::new(&name).file_stem().unwrap().to_string_lossy()
        ));
        for (path, text) in &texts {
            let file = dir.join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, text).unwrap();
        }
        let config = dir.with_extension("yamllint");
        std::fs::write(&config, infraflux_render::emit::YAMLLINT_CONFIG).unwrap();
        let out = std::process::Command::new("yamllint")
            .args(["-s", "-f", "parsable", "-c"])
            .arg(&config)
            .arg(&dir)
            .output()
            .expect("yamllint is installed by scripts/test.sh (PyPI)");
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_file(&config).unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// Waves only order an app of apps when Argo CD assesses Applications' health: the Argo CD
/// values carry the health check that makes it wait for each wave.
#[test]
fn argo_cd_waits_for_each_wave() {
    let (_, p) = examples().remove(0);
    let rendered = infraflux_render::render(&p).unwrap();
    let app = &rendered.tree.files()["apps/argo-cd.yaml"].documents[0];
    let check = app["spec"]["sources"][0]["helm"]["valuesObject"]["configs"]["cm"]
        ["resource.customizations.health.argoproj.io_Application"]
        .as_str()
        .unwrap();
    assert!(
        check.contains("hs.status = obj.status.health.status"),
        "{check}"
    );
}

/// KSOPS in the repo server decrypts SOPS files in the tree with the age identity from the
/// `sops-age` Secret, which is never in Git.
#[test]
fn argo_cd_decrypts_sops_files_with_ksops() {
    let (_, p) = examples().remove(0);
    let tree = infraflux_render::render(&p).unwrap().tree;
    let app = &tree.files()["apps/argo-cd.yaml"].documents[0];
    let v = &app["spec"]["sources"][0]["helm"]["valuesObject"];
    assert_eq!(
        v["configs"]["cm"]["kustomize.buildOptions"],
        "--enable-alpha-plugins --enable-exec"
    );
    let repo = &v["repoServer"];
    assert!(
        repo["initContainers"][0]["image"]
            .as_str()
            .unwrap()
            .starts_with("viaductoss/ksops:v")
    );
    let env = repo["env"].to_string();
    assert!(env.contains("SOPS_AGE_KEY_FILE"), "{env}");
    let secret = repo["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "sops-age")
        .unwrap();
    assert_eq!(secret["secret"]["secretName"], "sops-age");
    // The identity itself is nowhere in the tree.
    for (path, text) in tree.texts() {
        assert!(
            !text.contains("AGE-SECRET-KEY-"),
            "{path} holds an age identity"
        );
    }
}
