//! The baseline ApplicationSets: the cluster generator merged with the spec's per-cluster
//! values, and Cilium values that the chart's schema accepts once Argo CD fills them in.

mod common;

use std::path::Path;

use infraflux_render::components::workloads;
use serde_json::{Value, json};

#[test]
fn every_workload_cluster_gets_the_baseline_with_its_own_values() {
    let p = common::example("multi-cluster");
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

/// The rest of the baseline: the management cluster's policies and tenants from this
/// repository, and monitoring agents writing to the management Prometheus, which accepts
/// writes from the node network only.
#[test]
fn workload_clusters_get_the_policies_and_agents_that_report_home() {
    let p = common::example("multi-cluster");
    let tree = infraflux_render::render(&p).unwrap().tree;
    let baseline = &tree.files();
    let appset = |name: &str| -> Value {
        baseline
            .values()
            .flat_map(|f| &f.documents)
            .find(|d| d["kind"] == "ApplicationSet" && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"))
            .clone()
    };
    // Policies: the directory the management cluster's tenancy Application reads.
    let policies = appset("workload-policies");
    let template = &policies["spec"]["template"]["spec"];
    let dir = template["source"]["path"].as_str().unwrap();
    let tenancy = &tree.files()["apps/tenancy.yaml"].documents[0];
    let own = tenancy["spec"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"].is_string())
        .unwrap();
    assert_eq!(dir, own["path"].as_str().unwrap());
    assert_eq!(template["source"]["repoURL"], own["repoURL"]);
    assert!(
        tree.files()
            .keys()
            .any(|k| k.starts_with("components/tenancy/ciliumclusterwidenetworkpolicy"))
    );
    let options = template["syncPolicy"]["syncOptions"].to_string();
    assert!(
        options.contains("SkipDryRunOnMissingResource=true"),
        "{options}"
    );

    // Agents: Prometheus in agent mode, labelled per cluster, writing to the address the
    // management cluster's Service holds.
    let agents = appset("workload-monitoring");
    let v = &agents["spec"]["template"]["spec"]["source"]["helm"]["valuesObject"];
    assert_eq!(v["prometheus"]["agentMode"], true);
    assert_eq!(
        v["prometheus"]["prometheusSpec"]["externalLabels"]["cluster"],
        "{{name}}"
    );
    assert_eq!(v["grafana"]["enabled"], false);
    let url = v["prometheus"]["prometheusSpec"]["remoteWrite"][0]["url"]
        .as_str()
        .unwrap();
    let service =
        &tree.files()["components/kube-prometheus-stack/service-prometheus-remote-write.yaml"]
            .documents[0];
    let ip = service["metadata"]["annotations"]["lbipam.cilium.io/ips"]
        .as_str()
        .unwrap();
    assert_eq!(url, format!("http://{ip}:9090/api/v1/write"));
    let last_pool = p.spec.network.load_balancer.pools.last().unwrap();
    assert_eq!(ip, last_pool.end.to_string());
    assert_eq!(
        service["spec"]["loadBalancerSourceRanges"],
        json!([p.spec.network.node_cidr.to_string()])
    );
    let mgmt = &tree.files()["apps/kube-prometheus-stack.yaml"].documents[0];
    assert_eq!(
        mgmt["spec"]["sources"][0]["helm"]["valuesObject"]["prometheus"]["prometheusSpec"]["enableRemoteWriteReceiver"],
        true
    );
}

/// The agents' values are kube-prometheus-stack values: as an Application of that chart,
/// they pass the chart checks (no key absent from its default values.yaml).
#[test]
fn the_agents_values_are_the_charts() {
    let p = common::example("multi-cluster");
    let address = infraflux_render::components::monitoring::remote_write_address(&p).unwrap();
    let chart = infraflux_render::charts::KUBE_PROMETHEUS_STACK;
    let mut tree = infraflux_render::tree::Tree::default();
    tree.add(
        "apps/agents.yaml",
        json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "agents", "namespace": "argocd", "annotations": {"argocd.argoproj.io/sync-wave": "1"}},
            "spec": {
                "project": "platform",
                "source": {"repoURL": chart.repo, "chart": chart.name, "targetRevision": chart.version,
                    "helm": {"releaseName": "kube-prometheus-stack", "valuesObject": workloads::monitoring_values(&p, address)}},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "monitoring"},
            },
        }),
    );
    common::assert_clean(&common::validate(&tree));
}
