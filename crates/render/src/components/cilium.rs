//! Cilium, the CNI, with the eBPF features the spec turns on, configured for Talos.
//!
//! [`values`] is the one source of Cilium's Helm values: the Argo CD Application here and
//! the Talos inline manifest that installs Cilium at bootstrap (before any CNI exists) both
//! call it, so the two can never drift.
//!
//! Cilium is in the first wave: nothing runs without a CNI, Prometheus included. So its
//! chart renders no ServiceMonitor (their CRD arrives with kube-prometheus-stack, later;
//! cilium-cli#1107): the same ServiceMonitors the chart would render are a separate
//! component, `cilium-monitoring`, that the graph puts after the monitoring stack. The
//! CiliumLoadBalancerIPPool and announcement objects use CRDs the Cilium operator
//! registers when it starts, so they are a component after Cilium too.

use infraflux_spec::Platform;
use infraflux_spec::model::{Acceleration, Encryption, LoadBalancerAlgorithm, RoutingMode};
use serde_json::{Value, json};

use crate::charts;
use crate::component::Component;

/// Cilium's namespace.
pub const NAMESPACE: &str = "kube-system";

/// KubePrism, Talos's local load balancer for the Kubernetes API on every node: Cilium
/// reaches the API server through it, also before kube-proxy (or Cilium) runs.
pub const KUBEPRISM_HOST: &str = "localhost";
/// KubePrism's port: the one the Talos machine configs enable.
pub const KUBEPRISM_PORT: u16 = infraflux_talos::machineconfig::KUBEPRISM_PORT;

/// The capabilities the agent keeps on Talos: Cilium's defaults without `SYS_MODULE`
/// (Talos does not let workloads load kernel modules), as Talos documents.
const AGENT_CAPABILITIES: &[&str] = &[
    "CHOWN",
    "KILL",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "SYS_ADMIN",
    "SYS_RESOURCE",
    "DAC_OVERRIDE",
    "FOWNER",
    "SETGID",
    "SETUID",
];
const CLEAN_STATE_CAPABILITIES: &[&str] = &["NET_ADMIN", "SYS_ADMIN", "SYS_RESOURCE"];

/// Cilium's Helm values for the management cluster: one function for Day 0 and Day 1.
pub fn values(p: &Platform) -> Value {
    let c = &p.spec.cilium;
    let net = &p.spec.network;
    let native = c.routing_mode == RoutingMode::Native;
    let kpr = c.kube_proxy_replacement;
    let monitoring = p.spec.components.monitoring.enabled;
    let mut v = json!({
        "ipam": {"mode": "kubernetes"},
        "kubeProxyReplacement": kpr,
        "k8sServiceHost": KUBEPRISM_HOST,
        "k8sServicePort": KUBEPRISM_PORT,
        "routingMode": if native { "native" } else { "tunnel" },
        "bpf": {"masquerade": kpr},
        "encryption": match c.encryption {
            Encryption::None => json!({"enabled": false}),
            Encryption::Wireguard => json!({"enabled": true, "type": "wireguard"}),
            Encryption::Ipsec => json!({"enabled": true, "type": "ipsec"}),
        },
        "hubble": {
            "enabled": c.hubble.enabled,
            "relay": {"enabled": c.hubble.enabled && c.hubble.relay},
            "ui": {"enabled": c.hubble.enabled && c.hubble.relay && c.hubble.ui},
            "metrics": {
                "enabled": if c.hubble.enabled { c.hubble.metrics.clone() } else { Vec::new() },
                // Rendered by `cilium-monitoring` once the CRD exists.
                "serviceMonitor": {"enabled": false},
            },
        },
        "ingressController": {
            "enabled": c.ingress_controller.enabled,
            "default": c.ingress_controller.enabled && c.ingress_controller.default,
            "loadbalancerMode": "shared",
        },
        "gatewayAPI": {"enabled": c.gateway_api},
        "l7Proxy": c.service_mesh.l7_proxy,
        "bgpControlPlane": {"enabled": c.bgp_control_plane},
        "l2announcements": {"enabled": net.load_balancer.mode == infraflux_spec::model::LoadBalancerMode::L2},
        "loadBalancer": {
            "algorithm": match c.load_balancer.algorithm {
                LoadBalancerAlgorithm::Random => "random",
                LoadBalancerAlgorithm::Maglev => "maglev",
            },
            "acceleration": match c.load_balancer.acceleration {
                Acceleration::Disabled => "disabled",
                Acceleration::Native => "native",
                Acceleration::BestEffort => "best-effort",
            },
        },
        "bandwidthManager": {"enabled": c.bandwidth_manager.enabled, "bbr": c.bandwidth_manager.enabled && c.bandwidth_manager.bbr},
        "egressGateway": {"enabled": c.egress_gateway},
        "hostFirewall": {"enabled": c.host_firewall},
        "cluster": {"name": p.metadata.name, "id": c.cluster_mesh.cluster_id},
        "prometheus": {"enabled": monitoring, "serviceMonitor": {"enabled": false}},
        "operator": {"prometheus": {"enabled": monitoring, "serviceMonitor": {"enabled": false}}},
        // Talos: cgroup v2 is mounted already, and the agent runs without SYS_MODULE.
        "cgroup": {"autoMount": {"enabled": false}, "hostRoot": "/sys/fs/cgroup"},
        "securityContext": {"capabilities": {
            "ciliumAgent": AGENT_CAPABILITIES,
            "cleanCiliumState": CLEAN_STATE_CAPABILITIES,
        }},
    });
    if native {
        v["ipv4NativeRoutingCIDR"] = json!(net.pod_cidr.to_string());
        v["autoDirectNodeRoutes"] = json!(true);
    } else {
        v["tunnelProtocol"] = json!("vxlan");
    }
    if !kpr && (c.ingress_controller.enabled || c.gateway_api) {
        // Cilium's Ingress and Gateway API need its NodePort handling, which only the
        // kube-proxy replacement turns on by itself.
        v["nodePort"] = json!({"enabled": true});
    }
    if c.cluster_mesh.enabled {
        v["clustermesh"] = json!({"useAPIServer": true});
    }
    v
}

/// The Gateway API release Cilium 1.18 implements (standard channel), whose CRDs must
/// exist before Cilium starts with Gateway API on.
pub const GATEWAY_API: crate::component::Remote = crate::component::Remote {
    repo_url: "https://github.com/kubernetes-sigs/gateway-api.git",
    path: "config/crd/standard",
    revision: "v1.3.0",
};

/// The Gateway API CRDs, synced from the upstream release; None when Gateway API is off.
pub fn gateway_api_crds(p: &Platform) -> Option<Component> {
    if !p.spec.cilium.gateway_api {
        return None;
    }
    let mut c = Component::new("gateway-api-crds", NAMESPACE);
    c.provides = vec![
        "gateway.networking.k8s.io/GatewayClass",
        "gateway.networking.k8s.io/Gateway",
        "gateway.networking.k8s.io/HTTPRoute",
        "gateway.networking.k8s.io/GRPCRoute",
        "gateway.networking.k8s.io/ReferenceGrant",
    ];
    c.remote = Some(GATEWAY_API);
    Some(c)
}

/// The Cilium component.
pub fn component(p: &Platform) -> Component {
    let mut c = Component::new("cilium", NAMESPACE);
    if p.spec.cilium.gateway_api {
        // Cilium's operator sets Gateway API up only when the CRDs are there at start.
        c.depends_on.push("gateway-api-crds");
    }
    c.provides = vec![
        "cilium.io/CiliumNetworkPolicy",
        "cilium.io/CiliumClusterwideNetworkPolicy",
        "cilium.io/CiliumLoadBalancerIPPool",
        "cilium.io/CiliumL2AnnouncementPolicy",
        "cilium.io/CiliumBGPClusterConfig",
        "cilium.io/CiliumBGPPeerConfig",
        "cilium.io/CiliumBGPAdvertisement",
        "cilium.io/CiliumEgressGatewayPolicy",
    ];
    c.chart = Some((charts::CILIUM, values(p)));
    c
}

/// The ServiceMonitors the chart would render (same selectors, ports and labels, from
/// its templates), as their own component after the monitoring stack; None when
/// monitoring is off.
pub fn monitoring(p: &Platform) -> Option<Component> {
    if !p.spec.components.monitoring.enabled {
        return None;
    }
    let monitor = |name: &str, selector: Value, port: &str, target: Option<&str>| {
        let mut spec = json!({
            "selector": {"matchLabels": selector},
            "namespaceSelector": {"matchNames": [NAMESPACE]},
        });
        if let Some(t) = target {
            spec["targetLabels"] = json!([t]);
        }
        spec["endpoints"] = json!([{"port": port, "interval": "30s", "honorLabels": true,
            "path": "/metrics", "scheme": "http"}]);
        json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "ServiceMonitor",
            "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app.kubernetes.io/part-of": "cilium"}},
            "spec": spec,
        })
    };
    let mut c = Component::new("cilium-monitoring", NAMESPACE);
    c.depends_on = vec!["cilium"];
    c.uses = vec!["monitoring.coreos.com/ServiceMonitor"];
    c.manifests = vec![
        monitor(
            "cilium-agent",
            json!({"k8s-app": "cilium"}),
            "metrics",
            Some("k8s-app"),
        ),
        monitor(
            "cilium-operator",
            json!({"io.cilium/app": "operator", "name": "cilium-operator"}),
            "metrics",
            Some("io.cilium/app"),
        ),
    ];
    if p.spec.cilium.hubble.enabled && !p.spec.cilium.hubble.metrics.is_empty() {
        c.manifests.push(monitor(
            "hubble",
            json!({"k8s-app": "hubble"}),
            "hubble-metrics",
            None,
        ));
    }
    Some(c)
}

/// The LoadBalancer IP pool and how its addresses are announced (ARP for `l2`, BGP for
/// `bgp`): objects of CRDs the Cilium operator registers when it starts, so a component
/// after Cilium.
pub fn config(p: &Platform) -> Component {
    use infraflux_spec::model::LoadBalancerMode;
    let net = &p.spec.network;
    let mut c = Component::new("cilium-config", NAMESPACE);
    c.depends_on = vec!["cilium"];
    c.uses = vec!["cilium.io/CiliumLoadBalancerIPPool"];
    let blocks: Vec<Value> = net
        .load_balancer
        .pools
        .iter()
        .map(|r| json!({"start": r.start.to_string(), "stop": r.end.to_string()}))
        .collect();
    if !blocks.is_empty() {
        c.manifests.push(json!({
            "apiVersion": "cilium.io/v2",
            "kind": "CiliumLoadBalancerIPPool",
            "metadata": {"name": "default"},
            "spec": {"blocks": blocks},
        }));
    }
    match net.load_balancer.mode {
        LoadBalancerMode::L2 => {
            c.uses.push("cilium.io/CiliumL2AnnouncementPolicy");
            c.manifests.push(json!({
                "apiVersion": "cilium.io/v2alpha1",
                "kind": "CiliumL2AnnouncementPolicy",
                "metadata": {"name": "load-balancer-ips"},
                "spec": {"loadBalancerIPs": true},
            }));
        }
        LoadBalancerMode::Bgp => {
            c.uses.extend([
                "cilium.io/CiliumBGPClusterConfig",
                "cilium.io/CiliumBGPPeerConfig",
                "cilium.io/CiliumBGPAdvertisement",
            ]);
            if let Some(bgp) = &net.bgp {
                let peers: Vec<Value> = bgp
                    .peers
                    .iter()
                    .enumerate()
                    .map(|(i, peer)| {
                        json!({
                            "name": format!("peer-{i}"),
                            "peerASN": peer.asn,
                            "peerAddress": peer.address.to_string(),
                            "peerConfigRef": {"name": "default"},
                        })
                    })
                    .collect();
                c.manifests.push(json!({
                    "apiVersion": "cilium.io/v2",
                    "kind": "CiliumBGPClusterConfig",
                    "metadata": {"name": "default"},
                    "spec": {"bgpInstances": [{"name": "default", "localASN": bgp.local_asn, "peers": peers}]},
                }));
            }
            c.manifests.push(json!({
                "apiVersion": "cilium.io/v2",
                "kind": "CiliumBGPPeerConfig",
                "metadata": {"name": "default"},
                "spec": {"families": [{
                    "afi": "ipv4",
                    "safi": "unicast",
                    "advertisements": {"matchLabels": {"advertise": "load-balancer-ips"}},
                }]},
            }));
            c.manifests.push(json!({
                "apiVersion": "cilium.io/v2",
                "kind": "CiliumBGPAdvertisement",
                "metadata": {"name": "load-balancer-ips", "labels": {"advertise": "load-balancer-ips"}},
                // Every Service's LoadBalancer IP: a selector no Service fails, as Cilium
                // documents for "all".
                "spec": {"advertisements": [{
                    "advertisementType": "Service",
                    "service": {"addresses": ["LoadBalancerIP"]},
                    "selector": {"matchExpressions": [
                        {"key": "infraflux.dev/no-bgp", "operator": "NotIn", "values": ["true"]},
                    ]},
                }]},
            }));
        }
    }
    c
}
