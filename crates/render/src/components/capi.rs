//! Cluster API: the cluster-api-operator with the core, Talos bootstrap, Talos control-plane
//! and Proxmox (CAPMox) providers, and for every workload cluster the objects that make
//! it: Cluster, ProxmoxCluster (with its node address pool), TalosControlPlane,
//! ProxmoxMachineTemplates, a MachineDeployment and TalosConfigTemplate per worker pool,
//! and a MachineHealthCheck.
//!
//! ClusterClass is not used: the Talos control-plane provider has no
//! TalosControlPlaneTemplate yet (CACPPT #245), so a ClusterClass cannot describe a Talos
//! control plane. The spec's size classes are ours and render explicit objects.

use infraflux_spec::Platform;
use infraflux_spec::model::WorkloadCluster;
use infraflux_talos::Schematic;
use serde_json::{Value, json};

use crate::charts::Chart;
use crate::component::Component;
use crate::secret::{Item, Sealed};

/// cluster-api-operator, whose operator.cluster.x-k8s.io CRDs this release matches.
pub const OPERATOR: Chart = Chart {
    name: "cluster-api-operator",
    repo: "https://kubernetes-sigs.github.io/cluster-api-operator",
    version: "0.28.0",
};
/// Provider releases, matching the CRDs in `../shared/upstream/crds`.
pub const CORE_VERSION: &str = "v1.13.5";
/// Cluster API Bootstrap Provider Talos.
pub const CABPT_VERSION: &str = "v0.6.12";
/// Cluster API Control Plane Provider Talos.
pub const CACPPT_VERSION: &str = "v0.5.12";
/// Cluster API Provider Proxmox (ionos-cloud).
pub const CAPMOX_VERSION: &str = "v0.9.0";

/// The operator's provider kinds.
const PROVIDER_KINDS: &[&str] = &[
    "operator.cluster.x-k8s.io/CoreProvider",
    "operator.cluster.x-k8s.io/BootstrapProvider",
    "operator.cluster.x-k8s.io/ControlPlaneProvider",
    "operator.cluster.x-k8s.io/InfrastructureProvider",
];
/// The kinds of a workload cluster's objects, which the providers bring.
const CLUSTER_KINDS: &[&str] = &[
    "cluster.x-k8s.io/Cluster",
    "cluster.x-k8s.io/MachineDeployment",
    "cluster.x-k8s.io/MachineHealthCheck",
    "controlplane.cluster.x-k8s.io/TalosControlPlane",
    "bootstrap.cluster.x-k8s.io/TalosConfigTemplate",
    "infrastructure.cluster.x-k8s.io/ProxmoxCluster",
    "infrastructure.cluster.x-k8s.io/ProxmoxMachineTemplate",
];

/// The namespace of the workload clusters' objects.
pub const CLUSTERS_NAMESPACE: &str = "capi-clusters";
/// The Secret with the Proxmox API credentials CAPMox uses (`PROXMOX_URL`,
/// `PROXMOX_TOKEN`, `PROXMOX_SECRET`), in CAPMox's namespace.
pub const PROXMOX_CREDENTIALS: &str = "capmox-credentials";
/// The Talos image every workload machine runs, worked out once per render: the tags of
/// the VM template the bootstrap creates on Proxmox for CAPMox to clone, and the installer
/// image.
struct Image {
    tags: Vec<String>,
    installer: String,
}

impl Image {
    fn of(p: &Platform) -> Self {
        let t = &p.spec.talos;
        let schematic = Schematic::from_spec(t);
        let images = schematic.images(&t.image_factory, &t.version);
        Image {
            tags: vec![
                "infraflux".into(),
                format!("talos-{}", t.version),
                format!("schematic-{}", &images.schematic_id[..12]),
            ],
            installer: images.installer,
        }
    }
}

fn namespace(name: &str, ingress: Vec<Value>, egress: Vec<Value>) -> [Value; 2] {
    [
        super::namespace(name, "restricted"),
        super::isolate(name, ingress, egress),
    ]
}

/// The operator, the providers, and one component per workload cluster; none without
/// workload clusters.
pub fn components(p: &Platform) -> Vec<Component> {
    if p.spec.clusters.is_empty() {
        return Vec::new();
    }
    let mut operator = Component::new("cluster-api-operator", "capi-operator-system");
    operator.depends_on = vec!["cilium", "cert-manager"];
    operator.provides = PROVIDER_KINDS.to_vec();
    // The chart's defaults; it is not in ../shared/upstream/helm-values, so no values are
    // given that could not be checked.
    operator.chart = Some((OPERATOR, Value::Null));

    // Controllers: webhooks called by the API server, their calls to it, CAPMox's to the
    // Proxmox API and the workload clusters' APIs (outside the cluster).
    let controller_ingress =
        vec![json!({"fromEntities": ["kube-apiserver", "host", "remote-node"]})];
    let controller_egress = vec![
        json!({"toEntities": ["kube-apiserver", "host", "remote-node"]}),
        json!({"toEntities": ["world"], "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}, {"port": "8006", "protocol": "TCP"}, {"port": "6443", "protocol": "TCP"}, {"port": "50000", "protocol": "TCP"}]}]}),
    ];
    let mut providers = Component::new("cluster-api-providers", "capi-system");
    providers.uses = PROVIDER_KINDS.to_vec();
    providers.uses.push("cilium.io/CiliumNetworkPolicy");
    // The providers' controllers install these CRDs when the operator deploys them.
    providers.provides = CLUSTER_KINDS.to_vec();
    for (kind, name, ns, version) in [
        ("CoreProvider", "cluster-api", "capi-system", CORE_VERSION),
        ("BootstrapProvider", "talos", "cabpt-system", CABPT_VERSION),
        (
            "ControlPlaneProvider",
            "talos",
            "cacppt-system",
            CACPPT_VERSION,
        ),
        (
            "InfrastructureProvider",
            "proxmox",
            "capmox-system",
            CAPMOX_VERSION,
        ),
    ] {
        providers.manifests.extend(namespace(
            ns,
            controller_ingress.clone(),
            controller_egress.clone(),
        ));
        let mut spec = json!({"version": version});
        if kind == "InfrastructureProvider" {
            spec["configSecret"] = json!({"name": PROXMOX_CREDENTIALS, "namespace": ns});
            // The variables CAPMox reads, as `clusterctl init` takes them.
            let px = &p.spec.proxmox;
            providers.secrets.push(
                Sealed::new(ns, PROXMOX_CREDENTIALS)
                    .with("PROXMOX_URL", Item::Literal(px.endpoint.clone()))
                    .with("PROXMOX_TOKEN", Item::Literal(px.token_id.clone()))
                    .with("PROXMOX_SECRET", Item::from(&px.token_secret)),
            );
        }
        providers.manifests.push(json!({
            "apiVersion": "operator.cluster.x-k8s.io/v1alpha2",
            "kind": kind,
            "metadata": {"name": name, "namespace": ns},
            "spec": spec,
        }));
    }

    let image = Image::of(p);
    let mut out = vec![operator, providers];
    for cluster in &p.spec.clusters {
        out.push(workload(p, &image, cluster));
    }
    out
}

/// Talos machine-config patches every machine of a workload cluster gets.
fn common_patches(p: &Platform, image: &Image, cluster_pod: &str, cluster_svc: &str) -> Vec<Value> {
    let t = &p.spec.talos;
    let mut patches = vec![
        json!({"op": "add", "path": "/machine/install", "value": {"disk": t.install_disk, "image": image.installer}}),
        json!({"op": "add", "path": "/machine/features/kubePrism", "value": {"enabled": true, "port": infraflux_talos::machineconfig::KUBEPRISM_PORT}}),
        json!({"op": "add", "path": "/cluster/network", "value": {
            "cni": {"name": "none"},
            "podSubnets": [cluster_pod],
            "serviceSubnets": [cluster_svc],
        }}),
    ];
    if p.spec.cilium.kube_proxy_replacement {
        patches.push(json!({"op": "add", "path": "/cluster/proxy", "value": {"disabled": true}}));
    }
    patches
}

/// A machine template of `size` on the Proxmox `nodes` the cluster may use.
fn machine_template(
    p: &Platform,
    image: &Image,
    nodes: &[String],
    name: &str,
    size: &str,
) -> Value {
    let s = &p.spec.sizes[size];
    let px = &p.spec.proxmox;
    let mut device = json!({"bridge": px.bridge, "model": "virtio", "defaultIPv4": true});
    if let Some(vlan) = px.vlan {
        device["vlan"] = json!(vlan);
    }
    json!({
        "apiVersion": "infrastructure.cluster.x-k8s.io/v1alpha2",
        "kind": "ProxmoxMachineTemplate",
        "metadata": {"name": name, "namespace": CLUSTERS_NAMESPACE},
        "spec": {"template": {"spec": {
            // The Talos nocloud image, as a VM template the bootstrap tagged.
            "templateSelector": {"matchTags": image.tags},
            "full": true,
            "storage": px.storage,
            "format": "raw",
            "allowedNodes": nodes,
            "numSockets": 1,
            "numCores": s.cores,
            "memoryMiB": s.memory_mib,
            "disks": {"bootVolume": {"disk": "scsi0", "sizeGb": s.disk_gib}},
            "network": {"networkDevices": [device]},
            // Talos runs no cloud-init and answers no guest-agent status checks at boot.
            "checks": {"skipCloudInitStatus": true, "skipQemuGuestAgent": true},
        }}},
    })
}

/// A workload cluster's pod CIDR: its own, else the platform's.
pub(crate) fn pod_cidr(p: &Platform, c: &WorkloadCluster) -> String {
    c.pod_cidr.unwrap_or(p.spec.network.pod_cidr).to_string()
}

fn workload(p: &Platform, image: &Image, c: &WorkloadCluster) -> Component {
    let net = &p.spec.network;
    let name = c.name.as_str();
    let pod = pod_cidr(p, c);
    let svc = c.service_cidr.unwrap_or(net.service_cidr).to_string();
    let ns = CLUSTERS_NAMESPACE;
    let k8s = &p.spec.talos.kubernetes_version;
    let talos = &p.spec.talos.version;
    let mut comp = Component::new(format!("cluster-{name}"), ns);
    comp.uses = CLUSTER_KINDS.to_vec();
    let m = &mut comp.manifests;
    m.push(json!({
        "apiVersion": "cluster.x-k8s.io/v1beta2",
        "kind": "Cluster",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "clusterNetwork": {"pods": {"cidrBlocks": [pod]}, "services": {"cidrBlocks": [svc]}},
            "controlPlaneRef": {"apiGroup": "controlplane.cluster.x-k8s.io", "kind": "TalosControlPlane", "name": format!("{name}-control-plane")},
            "infrastructureRef": {"apiGroup": "infrastructure.cluster.x-k8s.io", "kind": "ProxmoxCluster", "name": name},
        },
    }));
    let dns: Vec<String> = net.nameservers.iter().map(ToString::to_string).collect();
    let dns = if dns.is_empty() {
        vec![net.gateway.to_string()]
    } else {
        dns
    };
    let nodes = if c.proxmox_nodes.is_empty() {
        &p.spec.proxmox.nodes
    } else {
        &c.proxmox_nodes
    };
    m.push(json!({
        "apiVersion": "infrastructure.cluster.x-k8s.io/v1alpha2",
        "kind": "ProxmoxCluster",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "controlPlaneEndpoint": {"host": c.endpoint.vip.to_string(), "port": 6443},
            // The node address pool: CAPMox hands it to the in-cluster IPAM provider.
            "ipv4Config": {
                "addresses": [c.ip_pool.to_string()],
                "prefix": net.node_cidr.prefix_len(),
                "gateway": net.gateway.to_string(),
            },
            "dnsServers": dns,
            "allowedNodes": nodes,
        },
    }));
    let cp_size = c.control_plane.size.as_deref().unwrap_or(&c.size);
    m.push(machine_template(
        p,
        image,
        nodes,
        &format!("{name}-control-plane"),
        cp_size,
    ));
    let common = common_patches(p, image, &pod, &svc);
    let mut cp_patches = common.clone();
    // The control planes share the cluster's VIP (Talos VIP on their interface).
    cp_patches.push(json!({"op": "add", "path": "/machine/network/interfaces", "value": [{
        "deviceSelector": {"physical": true}, "dhcp": true, "vip": {"ip": c.endpoint.vip.to_string()},
    }]}));
    m.push(json!({
        "apiVersion": "controlplane.cluster.x-k8s.io/v1alpha3",
        "kind": "TalosControlPlane",
        "metadata": {"name": format!("{name}-control-plane"), "namespace": ns},
        "spec": {
            "version": k8s,
            "replicas": c.control_plane.replicas,
            "infrastructureTemplate": {
                "apiVersion": "infrastructure.cluster.x-k8s.io/v1alpha2",
                "kind": "ProxmoxMachineTemplate",
                "name": format!("{name}-control-plane"),
            },
            "controlPlaneConfig": {"controlplane": {
                "generateType": "controlplane",
                "talosVersion": talos,
                "configPatches": cp_patches,
            }},
        },
    }));
    for pool in &c.worker_pools {
        let pool_name = format!("{name}-{}", pool.name);
        let size = pool.size.as_deref().unwrap_or(&c.size);
        m.push(machine_template(p, image, nodes, &pool_name, size));
        let mut patches = common.clone();
        if !pool.labels.is_empty() {
            patches.push(json!({"op": "add", "path": "/machine/nodeLabels", "value": pool.labels}));
        }
        if !pool.taints.is_empty() {
            let taints = infraflux_talos::machineconfig::node_taints(&pool.taints);
            patches.push(json!({"op": "add", "path": "/machine/nodeTaints", "value": taints}));
        }
        m.push(json!({
            "apiVersion": "bootstrap.cluster.x-k8s.io/v1alpha3",
            "kind": "TalosConfigTemplate",
            "metadata": {"name": pool_name, "namespace": ns},
            "spec": {"template": {"spec": {"generateType": "worker", "talosVersion": talos, "configPatches": patches}}},
        }));
        m.push(json!({
            "apiVersion": "cluster.x-k8s.io/v1beta2",
            "kind": "MachineDeployment",
            "metadata": {"name": pool_name, "namespace": ns},
            "spec": {
                "clusterName": name,
                "replicas": pool.replicas,
                "selector": {"matchLabels": {"cluster.x-k8s.io/cluster-name": name, "infraflux.dev/pool": pool.name}},
                "template": {
                    "metadata": {"labels": {"cluster.x-k8s.io/cluster-name": name, "infraflux.dev/pool": pool.name}},
                    "spec": {
                        "clusterName": name,
                        "version": k8s,
                        "bootstrap": {"configRef": {"apiGroup": "bootstrap.cluster.x-k8s.io", "kind": "TalosConfigTemplate", "name": pool_name}},
                        "infrastructureRef": {"apiGroup": "infrastructure.cluster.x-k8s.io", "kind": "ProxmoxMachineTemplate", "name": pool_name},
                    },
                },
            },
        }));
    }
    // Worker machines whose node stays NotReady or unreachable for 5 minutes are replaced.
    m.push(json!({
        "apiVersion": "cluster.x-k8s.io/v1beta2",
        "kind": "MachineHealthCheck",
        "metadata": {"name": format!("{name}-workers"), "namespace": ns},
        "spec": {
            "clusterName": name,
            "selector": {"matchExpressions": [{"key": "infraflux.dev/pool", "operator": "Exists"}]},
            "checks": {
                "nodeStartupTimeoutSeconds": 900,
                "unhealthyNodeConditions": [
                    {"type": "Ready", "status": "Unknown", "timeoutSeconds": 300},
                    {"type": "Ready", "status": "False", "timeoutSeconds": 300},
                ],
            },
        },
    }));
    comp
}
