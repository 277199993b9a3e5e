//! The baseline ApplicationSets: the cluster generator merged with the spec's per-cluster
//! values, and Cilium values that the chart's schema accepts once Argo CD fills them in.

use std::path::Path;

use infraflux_render::components::workloads;
use serde_json::{Value, json};

#[test]
fn every_workload_cluster_gets_the_baseline_with_its_own_values() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/multi-cluster.yaml");
    let p = infraflux_spec::load(&path).unwrap().platform;
    let c = workloads::component(&p).unwrap();
    let cilium = c
        .manifests
        .iter()
        .find(|m| m["metadata"]["name"] == "workload-cilium")
        .unwrap();
    let merge = &cilium["spec"]["generators"][0]["merge"];
    assert_eq!(
        merge["generators"][0]["clusters"]["selector"]["matchLabels"],
        json!({workloads::WORKLOAD_LABEL: "true"})
    );
    let elements = merge["generators"][1]["list"]["elements"]
        .as_array()
        .unwrap();
    assert_eq!(elements.len(), p.spec.clusters.len());
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/upstream/helm-values/cilium/values.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let text = cilium["spec"]["template"]["spec"]["source"]["helm"]["values"]
        .as_str()
        .unwrap();
    let mut ids = Vec::new();
    for (i, (cluster, e)) in p.spec.clusters.iter().zip(elements).enumerate() {
        assert_eq!(e["name"], json!(cluster.name));
        assert_eq!(e["values.vip"], json!(cluster.endpoint.vip.to_string()));
        let pod = cluster
            .pod_cidr
            .unwrap_or(p.spec.network.pod_cidr)
            .to_string();
        assert_eq!(e["values.podCIDR"], json!(pod));
        // What Argo CD's template fills in, read as Helm reads it.
        let filled = text
            .replace("{{name}}", &cluster.name)
            .replace(
                "{{values.clusterID}}",
                e["values.clusterID"].as_str().unwrap(),
            )
            .replace("{{values.podCIDR}}", &pod);
        let values = infraflux_validate::yaml::load(&filled, true).unwrap();
        assert!(
            validator.is_valid(&values),
            "{:?}",
            validator
                .iter_errors(&values)
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
        );
        assert_eq!(values["cluster"]["id"], json!(workloads::cluster_id(&p, i)));
        assert_eq!(values["cluster"]["name"], json!(cluster.name));
        if p.spec.cilium.routing_mode == infraflux_spec::model::RoutingMode::Native {
            assert_eq!(values["ipv4NativeRoutingCIDR"], json!(pod));
        }
        ids.push(values["cluster"]["id"].as_u64().unwrap());
    }
    ids.push(u64::from(p.spec.cilium.cluster_mesh.cluster_id));
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "Cilium cluster IDs are unique across the mesh"
    );

    // The AppProject lets the baseline reach each workload cluster's API server.
    let tree = infraflux_render::render(&p).unwrap().tree;
    let project = &tree.files()["projects/platform.yaml"].documents[0];
    for cluster in &p.spec.clusters {
        let server = format!("https://{}:6443", cluster.endpoint.vip);
        assert!(
            project["spec"]["destinations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["server"] == server.as_str()),
            "{server}"
        );
    }
}
