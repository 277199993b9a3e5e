//! Cilium from the model: values the chart accepts (schema and defaults), the Talos
//! settings, and ServiceMonitors that wait for the monitoring stack's CRDs.

mod common;

use infraflux_render::component::{Component, Source, assemble};
use infraflux_render::components::cilium;
use infraflux_render::tree::Tree;
use infraflux_spec::Platform;
use serde_json::json;
use std::path::Path;

fn platform(example: &str) -> Platform {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(example);
    infraflux_spec::load(&path).unwrap().platform
}

fn source() -> Source {
    Source {
        repo_url: "https://git.example.com/platform.git".into(),
        revision: "main".into(),
        path: ".".into(),
    }
}

/// A stand-in for the monitoring stack: the provider of the ServiceMonitor CRD.
fn monitoring_stack() -> Component {
    let mut c = Component::new("kube-prometheus-stack", "monitoring");
    c.provides = vec!["monitoring.coreos.com/ServiceMonitor"];
    c
}

#[test]
fn values_follow_the_model_and_the_chart_accepts_them() {
    for example in ["homelab.yaml", "ha.yaml", "multi-cluster.yaml"] {
        let p = platform(example);
        let mut list = vec![
            cilium::component(&p),
            cilium::config(&p),
            monitoring_stack(),
        ];
        list.extend(cilium::gateway_api_crds(&p));
        list.extend(cilium::monitoring(&p));
        let mut tree = Tree::default();
        let graph = assemble(&list, &source(), &mut tree).unwrap();
        common::assert_clean(&common::validate(&tree));
        // The ServiceMonitors come after both Cilium and the CRD's provider.
        if let Some(w) = graph.wave("cilium-monitoring") {
            assert!(
                w > graph.wave("cilium").unwrap()
                    && w > graph.wave("kube-prometheus-stack").unwrap()
            );
        }
        let v = cilium::values(&p);
        assert_eq!(
            v["kubeProxyReplacement"],
            json!(p.spec.cilium.kube_proxy_replacement),
            "{example}"
        );
        assert_eq!(
            (v["k8sServiceHost"].as_str(), v["k8sServicePort"].as_u64()),
            (Some("localhost"), Some(7445))
        );
        // Cilium's chart renders no ServiceMonitor: the wave-0 CNI needs no later CRD.
        assert_eq!(v["prometheus"]["serviceMonitor"]["enabled"], false);
        assert_eq!(v["hubble"]["metrics"]["serviceMonitor"]["enabled"], false);
        assert_eq!(
            v["operator"]["prometheus"]["serviceMonitor"]["enabled"],
            false
        );
        // Talos: no cgroup mount of its own, no SYS_MODULE.
        assert_eq!(
            v["cgroup"],
            json!({"autoMount": {"enabled": false}, "hostRoot": "/sys/fs/cgroup"})
        );
        let caps = v["securityContext"]["capabilities"]["ciliumAgent"]
            .as_array()
            .unwrap();
        assert!(!caps.contains(&json!("SYS_MODULE")) && caps.contains(&json!("NET_ADMIN")));
    }
}

#[test]
fn the_homelab_turns_on_what_it_asks_for() {
    let p = platform("homelab.yaml");
    let v = cilium::values(&p);
    assert_eq!(
        v["ipv4NativeRoutingCIDR"],
        json!(p.spec.network.pod_cidr.to_string())
    );
    assert_eq!(v["routingMode"], "native");
    assert_eq!(
        v["encryption"],
        json!({"enabled": true, "type": "wireguard"})
    );
    assert_eq!(
        v["loadBalancer"],
        json!({"algorithm": "maglev", "acceleration": "disabled"})
    );
    assert_eq!(v["bandwidthManager"], json!({"enabled": true, "bbr": true}));
    assert_eq!(v["hubble"]["relay"]["enabled"], true);
    assert_eq!(v["hubble"]["ui"]["enabled"], true);
    assert_eq!(v["ingressController"]["default"], true);
    assert_eq!(v["gatewayAPI"]["enabled"], true);
    assert_eq!(v["egressGateway"]["enabled"], true);
    assert_eq!(v["hostFirewall"]["enabled"], true);
}

#[test]
fn without_kube_proxy_replacement_ingress_keeps_node_ports() {
    let mut p = platform("homelab.yaml");
    p.spec.cilium.kube_proxy_replacement = false;
    let v = cilium::values(&p);
    assert_eq!(v["kubeProxyReplacement"], false);
    assert_eq!(v["nodePort"]["enabled"], true);
    p.spec.cilium.ingress_controller.enabled = false;
    p.spec.cilium.gateway_api = false;
    assert!(cilium::values(&p).get("nodePort").is_none());
}

fn kinds_of(c: &Component) -> Vec<&str> {
    c.manifests
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect()
}

/// The LB pools and BGP peers are the spec's, announced the way the spec says.
#[test]
fn load_balancer_pools_and_peers_are_the_specs() {
    let homelab = platform("homelab.yaml");
    let c = cilium::config(&homelab);
    let kinds = kinds_of(&c);
    assert_eq!(
        kinds,
        ["CiliumLoadBalancerIPPool", "CiliumL2AnnouncementPolicy"]
    );
    assert_eq!(
        c.manifests[0]["spec"]["blocks"],
        json!([{"start": "192.168.10.200", "stop": "192.168.10.220"}])
    );
    assert_eq!(cilium::values(&homelab)["l2announcements"]["enabled"], true);

    let ha = platform("ha.yaml");
    let c = cilium::config(&ha);
    let kinds = kinds_of(&c);
    assert_eq!(
        kinds,
        [
            "CiliumLoadBalancerIPPool",
            "CiliumBGPClusterConfig",
            "CiliumBGPPeerConfig",
            "CiliumBGPAdvertisement"
        ]
    );
    let pool = &ha.spec.network.load_balancer.pools[0];
    assert_eq!(
        c.manifests[0]["spec"]["blocks"],
        json!([{"start": pool.start.to_string(), "stop": pool.end.to_string()}])
    );
    let bgp = ha.spec.network.bgp.as_ref().unwrap();
    let instance = &c.manifests[1]["spec"]["bgpInstances"][0];
    assert_eq!(instance["localASN"], json!(bgp.local_asn));
    let peers: Vec<(String, u64)> = instance["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["peerAddress"].as_str().unwrap().to_string(),
                p["peerASN"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, u64)> = bgp
        .peers
        .iter()
        .map(|p| (p.address.to_string(), u64::from(p.asn)))
        .collect();
    assert_eq!(peers, expected);
    // The advertisement is the one the peer config selects.
    assert_eq!(
        c.manifests[2]["spec"]["families"][0]["advertisements"]["matchLabels"],
        c.manifests[3]["metadata"]["labels"]
    );
    assert_eq!(cilium::values(&ha)["bgpControlPlane"]["enabled"], true);
}

/// With Gateway API on, its CRDs (upstream's release, synced as is) come before Cilium.
#[test]
fn gateway_api_crds_come_before_cilium() {
    let p = platform("homelab.yaml");
    assert!(p.spec.cilium.gateway_api);
    let rendered = infraflux_render::render(&p).unwrap();
    assert!(rendered.graph.wave("cilium") > rendered.graph.wave("gateway-api-crds"));
    let app = &rendered.tree.files()["apps/gateway-api-crds.yaml"].documents[0];
    assert_eq!(
        app["spec"]["sources"],
        json!([{"repoURL": "https://github.com/kubernetes-sigs/gateway-api.git", "targetRevision": "v1.3.0", "path": "config/crd/standard"}])
    );
    let mut off = p.clone();
    off.spec.cilium.gateway_api = false;
    let rendered = infraflux_render::render(&off).unwrap();
    assert_eq!(rendered.graph.wave("gateway-api-crds"), None);
    assert_eq!(rendered.graph.wave("cilium"), Some(0));
}
