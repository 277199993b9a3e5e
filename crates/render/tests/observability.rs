//! Alert rules and dashboards: every expression parses as PromQL (GreptimeTeam's
//! promql-parser), every dashboard is JSON with a unique uid and the sidecar's label.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

#[test]
fn rules_parse_and_dashboards_are_unique() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/homelab.yaml");
    let p = infraflux_spec::load(&path).unwrap().platform;
    let tree = infraflux_render::render(&p).unwrap().tree;
    let docs: Vec<&Value> = tree.files().values().flat_map(|f| &f.documents).collect();

    let rules: Vec<&Value> = docs
        .iter()
        .filter(|d| d["kind"] == "PrometheusRule")
        .copied()
        .collect();
    let groups: Vec<&str> = rules
        .iter()
        .flat_map(|r| r["spec"]["groups"].as_array().unwrap())
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    for wanted in [
        "cilium",
        "hubble",
        "tetragon",
        "etcd",
        "longhorn",
        "certificates",
        "nodes",
    ] {
        assert!(groups.contains(&wanted), "no {wanted} rules in {groups:?}");
    }
    let mut alerts = BTreeSet::new();
    for g in rules
        .iter()
        .flat_map(|r| r["spec"]["groups"].as_array().unwrap())
    {
        for rule in g["rules"].as_array().unwrap() {
            let expr = rule["expr"].as_str().unwrap();
            promql_parser::parser::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
            assert!(
                alerts.insert(rule["alert"].as_str().unwrap()),
                "alert {} twice",
                rule["alert"]
            );
        }
    }

    let mut uids = BTreeSet::new();
    let mut titles = BTreeSet::new();
    for cm in docs
        .iter()
        .filter(|d| d["kind"] == "ConfigMap" && d["metadata"]["labels"]["grafana_dashboard"] == "1")
    {
        for (key, text) in cm["data"].as_object().unwrap() {
            let dash: Value = serde_json::from_str(text.as_str().unwrap())
                .unwrap_or_else(|e| panic!("{key}: {e}"));
            assert!(
                uids.insert(dash["uid"].as_str().unwrap().to_string()),
                "uid of {key} not unique"
            );
            titles.insert(dash["title"].as_str().unwrap().to_string());
            for panel in dash["panels"].as_array().unwrap() {
                for t in panel["targets"].as_array().unwrap() {
                    let expr = t["expr"].as_str().unwrap();
                    promql_parser::parser::parse(expr)
                        .unwrap_or_else(|e| panic!("{key}: {expr}: {e}"));
                }
            }
        }
    }
    assert_eq!(
        titles,
        BTreeSet::from(["Cilium".into(), "Hubble".into(), "Tetragon".into()])
    );
}
