//! Cluster API objects of the workload clusters follow the spec: sizes, replicas, pools,
//! addresses, versions; and every reference between them resolves.

use std::collections::BTreeSet;
use std::path::Path;

use infraflux_render::components::capi;
use serde_json::{Value, json};

fn platform() -> infraflux_spec::Platform {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/multi-cluster.yaml");
    infraflux_spec::load(&path).unwrap().platform
}

#[test]
fn workload_clusters_follow_the_spec_and_references_resolve() {
    let p = platform();
    let list = capi::components(&p);
    assert_eq!(list.len(), 2 + p.spec.clusters.len());
    let all: Vec<&Value> = list.iter().flat_map(|c| &c.manifests).collect();
    let names: BTreeSet<(String, String)> = all
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_string(),
                d["metadata"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let has = |kind: &str, name: &Value| {
        names.contains(&(kind.to_string(), name.as_str().unwrap().to_string()))
    };
    for c in &p.spec.clusters {
        let find = |kind: &str, name: &str| {
            all.iter()
                .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
                .unwrap_or_else(|| panic!("no {kind} {name}"))
        };
        let cluster = find("Cluster", &c.name);
        let pod = c.pod_cidr.unwrap_or(p.spec.network.pod_cidr).to_string();
        assert_eq!(
            cluster["spec"]["clusterNetwork"]["pods"]["cidrBlocks"],
            json!([pod])
        );
        assert!(has(
            "TalosControlPlane",
            &cluster["spec"]["controlPlaneRef"]["name"]
        ));
        assert!(has(
            "ProxmoxCluster",
            &cluster["spec"]["infrastructureRef"]["name"]
        ));
        let px = find("ProxmoxCluster", &c.name);
        assert_eq!(
            px["spec"]["controlPlaneEndpoint"]["host"],
            json!(c.endpoint.vip.to_string())
        );
        assert_eq!(
            px["spec"]["ipv4Config"]["addresses"],
            json!([c.ip_pool.to_string()])
        );
        let tcp = find("TalosControlPlane", &format!("{}-control-plane", c.name));
        assert_eq!(tcp["spec"]["replicas"], json!(c.control_plane.replicas));
        assert_eq!(
            tcp["spec"]["version"],
            json!(p.spec.talos.kubernetes_version)
        );
        assert!(has(
            "ProxmoxMachineTemplate",
            &tcp["spec"]["infrastructureTemplate"]["name"]
        ));
        // The pod CIDR Talos gets is the Cluster's.
        let patches =
            tcp["spec"]["controlPlaneConfig"]["controlplane"]["configPatches"].to_string();
        assert!(patches.contains(&pod), "{patches}");
        for pool in &c.worker_pools {
            let md = find("MachineDeployment", &format!("{}-{}", c.name, pool.name));
            assert_eq!(md["spec"]["replicas"], json!(pool.replicas));
            let t = &md["spec"]["template"]["spec"];
            assert!(has(
                "TalosConfigTemplate",
                &t["bootstrap"]["configRef"]["name"]
            ));
            let tmpl = find(
                "ProxmoxMachineTemplate",
                t["infrastructureRef"]["name"].as_str().unwrap(),
            );
            let size = &p.spec.sizes[pool.size.as_deref().unwrap_or(&c.size)];
            let spec = &tmpl["spec"]["template"]["spec"];
            assert_eq!(
                (spec["numCores"].as_u64(), spec["memoryMiB"].as_u64()),
                (
                    Some(u64::from(size.cores)),
                    Some(u64::from(size.memory_mib))
                )
            );
            assert_eq!(
                spec["checks"],
                json!({"skipCloudInitStatus": true, "skipQemuGuestAgent": true})
            );
            let selector = &md["spec"]["selector"]["matchLabels"];
            for (k, v) in selector.as_object().unwrap() {
                assert_eq!(
                    &md["spec"]["template"]["metadata"]["labels"][k], v,
                    "the selector selects the template"
                );
            }
        }
        find("MachineHealthCheck", &format!("{}-workers", c.name));
    }
    // No ClusterClass: Talos has no TalosControlPlaneTemplate (CACPPT #245).
    assert!(!names.iter().any(|(k, _)| k == "ClusterClass"));
}

#[test]
fn gpu_pool_labels_and_taints_reach_its_nodes() {
    let p = platform();
    let list = capi::components(&p);
    let tct = list
        .iter()
        .flat_map(|c| &c.manifests)
        .find(|d| d["kind"] == "TalosConfigTemplate" && d["metadata"]["name"] == "prod-gpu")
        .unwrap();
    let patches = &tct["spec"]["template"]["spec"]["configPatches"];
    let find = |path: &str| {
        patches
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["path"] == path)
            .unwrap()
    };
    assert_eq!(
        find("/machine/nodeLabels")["value"],
        json!({"example.com/gpu": "true"})
    );
    assert_eq!(
        find("/machine/nodeTaints")["value"],
        json!({"example.com/gpu": ":NoSchedule"})
    );
}
