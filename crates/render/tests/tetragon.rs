//! Tetragon: a TracingPolicy per policy the spec names, after Tetragon; its ServiceMonitors
//! after the monitoring stack's CRDs.

use infraflux_render::components::tetragon;
use std::path::Path;

#[test]
fn named_policies_become_tracing_policies_in_order() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/homelab.yaml");
    let p = infraflux_spec::load(&path).unwrap().platform;
    assert_eq!(p.spec.components.tetragon.policies.len(), 3);
    let list = tetragon::components(&p);
    let names: Vec<&str> = list[1]
        .manifests
        .iter()
        .map(|m| m["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["process-exec", "sensitive-files", "privilege-escalation"]
    );
    let rendered = infraflux_render::render(&p).unwrap();
    let g = &rendered.graph;
    assert!(g.wave("tetragon-policies") > g.wave("tetragon"));
    assert!(g.wave("tetragon") > g.wave("kube-prometheus-stack"));
    let sensitive = &list[1].manifests[1]["spec"]["kprobes"];
    for probe in sensitive.as_array().unwrap() {
        let values = &probe["selectors"][0]["matchArgs"][0]["values"];
        assert!(
            values.as_array().unwrap().contains(&"/etc/shadow".into()),
            "{probe}"
        );
    }
    let mut off = p.clone();
    off.spec.components.tetragon.enabled = false;
    assert!(tetragon::components(&off).is_empty());
}
