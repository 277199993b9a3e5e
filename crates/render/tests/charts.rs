//! The chart pins are the versions whose files `../shared/upstream/helm-values/` holds.

use infraflux_render::charts;
use std::path::Path;

fn upstream() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/upstream/helm-values")
}

#[test]
fn pins_match_the_upstream_chart_files() {
    let sources = std::fs::read_to_string(upstream().join("SOURCES.md")).unwrap();
    for chart in charts::ALL {
        let dir = upstream().join(chart.name);
        assert!(
            dir.join("values.yaml").exists(),
            "no upstream values for {}",
            chart.name
        );
        match std::fs::read_to_string(dir.join("Chart.yaml")) {
            Ok(text) => {
                let meta: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
                assert_eq!(meta["name"], chart.name);
                assert_eq!(meta["version"], chart.version, "{}", chart.name);
            }
            // cert-manager stamps its version at release: the source table names the tag.
            Err(_) => {
                let row = sources
                    .lines()
                    .find(|l| l.starts_with(&format!("| {} |", chart.name)))
                    .unwrap_or_else(|| panic!("{} is not in SOURCES.md", chart.name));
                assert!(row.contains(&format!("tag {} ", chart.version)), "{row}");
            }
        }
    }
    // Every chart upstream publishes here is one the platform installs.
    let published = std::fs::read_dir(upstream())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_type().unwrap().is_dir())
        .count();
    assert_eq!(published, charts::ALL.len());
}
