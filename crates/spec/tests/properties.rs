//! Property tests: valid specs, generated across the dimensions the checks look at, never
//! produce errors; and resolve → serialize → load → resolve is the identity.

use std::net::Ipv4Addr;

use infraflux_spec::model::*;
use infraflux_spec::{IpRange, Platform, Source, analyze, to_yaml};
use proptest::prelude::*;

fn base() -> Platform {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/homelab.yaml"
    ))
    .unwrap();
    infraflux_spec::load_str("homelab.yaml", &text)
        .unwrap()
        .platform
}

fn ip(net: u8, host: u32) -> Ipv4Addr {
    Ipv4Addr::new(192, 168, net, host as u8)
}

/// Parameters of a valid platform.
#[derive(Debug, Clone)]
struct Params {
    name: String,
    subnet: u8,
    control_planes: usize,
    workers: usize,
    clusters: Vec<(u32, Vec<u32>)>,
    talos_minor: u32,
    kube_offset: u32,
    kpr: bool,
    encryption: Encryption,
    routing: RoutingMode,
    bgp: bool,
    mesh: bool,
    ingress: bool,
    acceleration: bool,
    longhorn: bool,
    tetragon: bool,
    etcd_backup: bool,
    namespaces: usize,
}

fn params() -> impl Strategy<Value = Params> {
    let odd = prop_oneof![Just(1usize), Just(3), Just(5)];
    let cluster = (
        prop_oneof![Just(1u32), Just(3), Just(5)],
        prop::collection::vec(0u32..6, 0..3),
    );
    (
        "[a-z][a-z0-9-]{0,12}[a-z0-9]",
        0u8..=254,
        odd,
        0usize..5,
        prop::collection::vec(cluster, 0..4),
        7u32..=12,
        0u32..6,
        any::<bool>(),
        prop_oneof![
            Just(Encryption::None),
            Just(Encryption::Wireguard),
            Just(Encryption::Ipsec)
        ],
        prop_oneof![Just(RoutingMode::Native), Just(RoutingMode::Tunnel)],
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        (any::<bool>(), any::<bool>(), any::<bool>(), 0usize..4),
    )
        .prop_map(
            |(
                name,
                subnet,
                control_planes,
                workers,
                clusters,
                talos_minor,
                kube_offset,
                kpr,
                encryption,
                routing,
                (bgp, mesh, ingress, acceleration),
                (longhorn, tetragon, etcd_backup, namespaces),
            )| Params {
                name,
                subnet,
                control_planes,
                workers,
                clusters,
                talos_minor,
                kube_offset,
                kpr,
                encryption,
                routing,
                bgp,
                mesh,
                ingress,
                acceleration,
                longhorn,
                tetragon,
                etcd_backup,
                namespaces,
            },
        )
}

/// A valid platform for the parameters: addresses are laid out so that nothing collides
/// (nodes .11-.49, clusters .100-.189 in blocks of 30, LoadBalancer pool .200-.220).
fn platform(p: &Params) -> Platform {
    let mut pf = base();
    pf.metadata.name = p.name.clone();
    let s = &mut pf.spec;
    let net = p.subnet;
    s.network.node_cidr = format!("192.168.{net}.0/24").parse().unwrap();
    s.network.gateway = ip(net, 1);
    s.network.nameservers = vec![ip(net, 1).into()];
    s.network.load_balancer.pools = vec![IpRange::new(ip(net, 200), ip(net, 220))];
    s.proxmox.nodes = vec!["pve1".into(), "pve2".into(), "pve3".into()];
    let node = |name: String, host: u32, i: usize| Node {
        name,
        ip: ip(net, host),
        proxmox_node: format!("pve{}", i % 3 + 1),
        size: if host < 31 {
            "medium".into()
        } else {
            "large".into()
        },
        vmid: Some(1000 + host),
        labels: Default::default(),
        taints: Vec::new(),
    };
    let m = &mut s.management;
    m.endpoint.vip = ip(net, 10);
    m.control_planes = (0..p.control_planes)
        .map(|i| node(format!("cp-{i}"), 11 + i as u32, i))
        .collect();
    m.workers = (0..p.workers)
        .map(|i| node(format!("worker-{i}"), 31 + i as u32, i))
        .collect();
    s.talos.patches.retain(|patch| patch.node.is_none());

    s.clusters = p
        .clusters
        .iter()
        .enumerate()
        .map(|(k, (cps, pools))| {
            let base = 100 + 30 * k as u32;
            WorkloadCluster {
                name: format!("wl-{k}"),
                size: "medium".into(),
                endpoint: Endpoint { vip: ip(net, base) },
                ip_pool: IpRange::new(ip(net, base + 1), ip(net, base + 29)),
                control_plane: ControlPlane {
                    replicas: *cps,
                    size: None,
                },
                worker_pools: pools
                    .iter()
                    .enumerate()
                    .map(|(j, r)| WorkerPool {
                        name: format!("pool-{j}"),
                        replicas: *r,
                        size: None,
                        labels: Default::default(),
                        taints: Vec::new(),
                    })
                    .collect(),
                proxmox_nodes: Vec::new(),
                pod_cidr: p
                    .mesh
                    .then(|| format!("10.{}.0.0/16", 200 + k).parse().unwrap()),
                service_cidr: None,
            }
        })
        .collect();

    let minor = p.talos_minor;
    let (min, max) =
        [(25, 30), (26, 31), (27, 32), (28, 33), (29, 34), (30, 35)][(minor - 7) as usize];
    s.talos.version = format!("v1.{minor}.0");
    s.talos.kubernetes_version = format!(
        "v1.{}.{}",
        min + p.kube_offset.min(max - min),
        p.kube_offset
    );

    let c = &mut s.cilium;
    c.kube_proxy_replacement = p.kpr;
    c.encryption = p.encryption;
    c.routing_mode = p.routing;
    c.egress_gateway = p.kpr;
    c.load_balancer.acceleration =
        if p.kpr && p.acceleration && p.encryption != Encryption::Wireguard {
            Acceleration::Native
        } else {
            Acceleration::Disabled
        };
    c.host_firewall = p.encryption != Encryption::Ipsec;
    c.ingress_controller = IngressController {
        enabled: p.ingress,
        default: p.ingress,
    };
    c.bgp_control_plane = p.bgp;
    c.cluster_mesh = ClusterMesh {
        enabled: p.mesh,
        cluster_id: 1,
    };
    if p.bgp {
        s.network.load_balancer.mode = LoadBalancerMode::Bgp;
        s.network.bgp = Some(Bgp {
            local_asn: 64512,
            peers: vec![BgpPeer {
                address: ip(net, 1).into(),
                asn: 64513,
            }],
        });
    }

    let schedulable = if p.workers == 0 {
        p.control_planes
    } else {
        p.workers
    } as u32;
    let comps = &mut s.components;
    comps.longhorn.enabled = p.longhorn;
    comps.longhorn.replicas = schedulable.min(3);
    comps.tetragon.enabled = p.tetragon;
    comps.etcd_backup.enabled = p.etcd_backup;
    s.tenancy.namespaces = (0..p.namespaces)
        .map(|i| TenantNamespace {
            name: format!("team-{i}"),
            pod_security: PodSecurity::Restricted,
            quota: None,
        })
        .collect();
    pf
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn generated_valid_specs_never_produce_errors_and_round_trip(p in params()) {
        let resolved = platform(&p).resolve();
        let yaml = to_yaml(&resolved);
        let analysis = analyze(&Source::new("generated.yaml", yaml.clone()));
        let errors: Vec<String> = analysis.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.one_line("generated.yaml")).collect();
        prop_assert!(errors.is_empty(), "{errors:#?}\n{yaml}");
        let reloaded = analysis.platform.expect("a spec without errors has a platform");
        prop_assert_eq!(&reloaded, &resolved, "resolve → serialize → load → resolve changed the model:\n{}", yaml);
        // Resolving is idempotent.
        prop_assert_eq!(reloaded.clone().resolve(), reloaded);
    }
}

#[test]
fn examples_round_trip_through_their_resolved_form() {
    for name in ["homelab", "ha", "multi-cluster"] {
        let text = std::fs::read_to_string(format!(
            "{}/../../examples/{name}.yaml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let first = infraflux_spec::load_str(name, &text).unwrap().platform;
        let again = infraflux_spec::load_str(name, &to_yaml(&first))
            .unwrap()
            .platform;
        assert_eq!(first, again, "{name}");
    }
}

#[test]
fn derived_requirements_are_added() {
    let mut p = base();
    p.spec.talos.schematic.extensions.clear();
    p.spec.components.longhorn.enabled = true;
    let ext = p.resolve().spec.talos.schematic.extensions;
    assert_eq!(
        ext,
        [
            "siderolabs/iscsi-tools",
            "siderolabs/qemu-guest-agent",
            "siderolabs/util-linux-tools"
        ]
    );
    let mut p = base();
    p.spec.talos.schematic.extensions.clear();
    p.spec.components.longhorn.enabled = false;
    assert_eq!(
        p.resolve().spec.talos.schematic.extensions,
        ["siderolabs/qemu-guest-agent"]
    );
}
