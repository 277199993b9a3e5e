//! The types of `infraflux.yaml` (`apiVersion: infraflux.dev/v1alpha1`, `kind: Platform`).
//!
//! Every field's doc comment is also its description in the published JSON schema and in
//! `docs/spec.md`, so it is written for users. Defaults live in `#[serde(default)]` functions
//! here; defaults that depend on other fields (and derived requirements) are filled in by
//! [`Platform::resolve`](crate::Platform::resolve).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::Ipv4Net;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::range::{IpRange, Quantity};

/// The `apiVersion` this build reads.
pub const API_VERSION: &str = "infraflux.dev/v1alpha1";

/// A whole InfraFlux platform: the management cluster, the workload clusters and the
/// platform components delivered to them by GitOps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "InfraFlux Platform")]
pub struct Platform {
    /// Always `infraflux.dev/v1alpha1`.
    pub api_version: ApiVersion,
    /// Always `Platform`.
    pub kind: Kind,
    /// Identity of the platform.
    pub metadata: Metadata,
    /// What the platform is made of.
    pub spec: PlatformSpec,
}

/// The spec's API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ApiVersion {
    /// The first, alpha version of the spec.
    #[serde(rename = "infraflux.dev/v1alpha1")]
    V1alpha1,
}

/// The spec's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Kind {
    /// A whole platform.
    Platform,
}

/// Identity of the platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metadata {
    /// Name of the platform (DNS-1123 label). Example: `homelab`.
    pub name: String,
}

/// What the platform is made of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlatformSpec {
    /// The Git repository Argo CD reconciles the rendered platform from.
    pub git: Git,
    /// Who can decrypt the SOPS-encrypted files in the repository.
    pub secrets: Secrets,
    /// The Proxmox VE cluster the VMs run on.
    pub proxmox: Proxmox,
    /// Talos Linux and Kubernetes versions, the node image and machine-config patches.
    #[serde(default)]
    pub talos: Talos,
    /// Node network, pod and service CIDRs, load-balancer IPs and BGP.
    pub network: Network,
    /// VM size classes by name. `small`, `medium` and `large` are built in; entries here
    /// override them or add new classes.
    #[serde(default)]
    pub sizes: BTreeMap<String, Size>,
    /// The management cluster that `infraflux up` bootstraps at Day 0; it runs Argo CD and
    /// Cluster API for every other cluster.
    pub management: ManagementCluster,
    /// Workload clusters, created and reconciled by Cluster API from the management cluster.
    #[serde(default)]
    pub clusters: Vec<WorkloadCluster>,
    /// Cilium, the CNI, and the eBPF features it turns on.
    #[serde(default)]
    pub cilium: Cilium,
    /// Platform components delivered by Argo CD.
    #[serde(default)]
    pub components: Components,
    /// Tenant namespaces with Pod Security levels and quotas.
    #[serde(default)]
    pub tenancy: Tenancy,
}

/// The Git repository of the rendered platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Git {
    /// Clone URL (`https://`, `ssh://` or `git@host:path`). Example:
    /// `https://github.com/example/homelab-platform.git`.
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    /// Branch, tag or commit Argo CD follows.
    #[serde(default = "default_revision")]
    pub revision: String,
    /// Directory inside the repository that holds the rendered tree.
    #[serde(default = "default_git_path")]
    pub path: String,
}

fn default_revision() -> String {
    "main".into()
}
fn default_git_path() -> String {
    ".".into()
}

/// Secrets settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Secrets {
    /// age recipients of the SOPS files.
    pub age: AgeRecipients,
}

/// age recipients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgeRecipients {
    /// X25519 age public keys (`age1…`) that can decrypt every secret in the repository.
    pub recipients: Vec<String>,
}

/// Where a secret value comes from. It is never written in `infraflux.yaml` itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
pub enum SecretRef {
    /// Read from an environment variable.
    Env {
        /// Name of the environment variable. Example: `PROXMOX_TOKEN_SECRET`.
        env: String,
    },
    /// Read from a SOPS-encrypted file in the repository.
    #[serde(rename_all = "camelCase")]
    Sops {
        /// Path of the SOPS file, relative to the repository root. Example:
        /// `secrets/proxmox.sops.yaml`.
        sops_file: String,
        /// Top-level key of the value inside the SOPS file. Example: `token`.
        key: String,
    },
}

/// The Proxmox VE cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Proxmox {
    /// API base URL; `/api2/json` is implied. Example: `https://pve1.lan:8006`.
    pub endpoint: String,
    /// API token ID, `USER@REALM!TOKENNAME`. Example: `infraflux@pve!bootstrap`.
    #[serde(rename = "tokenID")]
    pub token_id: String,
    /// Where the API token secret comes from.
    pub token_secret: SecretRef,
    /// How the API's TLS certificate is trusted.
    #[serde(default)]
    pub tls: ProxmoxTls,
    /// Proxmox VE node names VMs may be placed on. Example: `[pve1, pve2, pve3]`.
    pub nodes: Vec<String>,
    /// Storage for VM disks.
    #[serde(default = "default_storage")]
    pub storage: String,
    /// Storage the Talos disk image is downloaded to (needs the `iso` or `import` content type).
    #[serde(default = "default_image_storage")]
    pub image_storage: String,
    /// Linux bridge the VMs' network interface is attached to.
    #[serde(default = "default_bridge")]
    pub bridge: String,
    /// VLAN tag of the VMs' network interface (1–4094); untagged when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
}

fn default_storage() -> String {
    "local-lvm".into()
}
fn default_image_storage() -> String {
    "local".into()
}
fn default_bridge() -> String {
    "vmbr0".into()
}

/// Trust for the Proxmox API's certificate. With neither `caFile` nor `fingerprint` the
/// system's roots are used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProxmoxTls {
    /// PEM file of the CA that signed the API certificate (`/etc/pve/pve-root-ca.pem`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// SHA-256 fingerprint of the API certificate, hex pairs separated by `:` (as shown
    /// by `pvenode cert info`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Skip certificate verification. Only when said explicitly, and never with a pin.
    #[serde(default)]
    pub insecure: bool,
}

/// Talos Linux settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Talos {
    /// Talos Linux version of every node (`vMAJOR.MINOR.PATCH`).
    #[serde(default = "default_talos_version")]
    pub version: String,
    /// Kubernetes version (`vMAJOR.MINOR.PATCH`); must be supported by the Talos version.
    #[serde(default = "default_kubernetes_version")]
    pub kubernetes_version: String,
    /// Image Factory schematic: system extensions and kernel arguments of the node image.
    #[serde(default)]
    pub schematic: Schematic,
    /// Disk Talos installs itself to.
    #[serde(default = "default_install_disk")]
    pub install_disk: String,
    /// Image Factory base URL (a self-hosted factory may be used).
    #[serde(default = "default_image_factory")]
    pub image_factory: String,
    /// Machine-config patches, applied in order: global ones, then per role, then per node.
    #[serde(default)]
    pub patches: Vec<TalosPatch>,
}

impl Default for Talos {
    fn default() -> Self {
        Self {
            version: default_talos_version(),
            kubernetes_version: default_kubernetes_version(),
            schematic: Schematic::default(),
            install_disk: default_install_disk(),
            image_factory: default_image_factory(),
            patches: Vec::new(),
        }
    }
}

fn default_talos_version() -> String {
    "v1.11.6".into()
}
fn default_kubernetes_version() -> String {
    "v1.33.4".into()
}
fn default_install_disk() -> String {
    "/dev/sda".into()
}
fn default_image_factory() -> String {
    "https://factory.talos.dev".into()
}

/// Image Factory schematic customization.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Schematic {
    /// Official system extensions (`siderolabs/<name>`). `siderolabs/qemu-guest-agent` is
    /// always added on Proxmox; Longhorn adds `siderolabs/iscsi-tools` and
    /// `siderolabs/util-linux-tools`.
    #[serde(default)]
    pub extensions: Vec<String>,
    /// Extra kernel command-line arguments. Example: `[net.ifnames=0]`.
    #[serde(default)]
    pub extra_kernel_args: Vec<String>,
}

/// A Talos machine-config patch, in the form `talosctl --config-patch` takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TalosPatch {
    /// Apply only to nodes of this role. With neither `role` nor `node` the patch is global.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Apply only to the node of this name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// A strategic-merge patch (a partial machine config, a mapping) or an RFC 6902 JSON
    /// patch (a list of `{op, path, value}` operations).
    pub patch: serde_json::Value,
}

/// A node role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Control-plane nodes (etcd, API server).
    Controlplane,
    /// Worker nodes.
    Worker,
}

/// Networking shared by every node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Network {
    /// The nodes' IPv4 subnet; node IPs, VIPs and IP pools lie inside it. Example:
    /// `192.168.10.0/24`.
    #[serde(rename = "nodeCIDR")]
    #[schemars(with = "String")]
    pub node_cidr: Ipv4Net,
    /// Default gateway of the node subnet.
    pub gateway: Ipv4Addr,
    /// DNS servers of the nodes. Default: the gateway.
    #[serde(default)]
    pub nameservers: Vec<IpAddr>,
    /// NTP servers of the nodes.
    #[serde(default = "default_ntp")]
    pub ntp: Vec<String>,
    /// Pod IPv4 CIDR (Cilium's native-routing CIDR).
    #[serde(rename = "podCIDR", default = "default_pod_cidr")]
    #[schemars(with = "String")]
    pub pod_cidr: Ipv4Net,
    /// Service IPv4 CIDR.
    #[serde(rename = "serviceCIDR", default = "default_service_cidr")]
    #[schemars(with = "String")]
    pub service_cidr: Ipv4Net,
    /// MTU of the node interfaces.
    #[serde(default = "default_mtu")]
    pub mtu: u16,
    /// LoadBalancer Service IPs (Cilium LB IPAM) and how they are announced.
    #[serde(default)]
    pub load_balancer: LoadBalancerNetwork,
    /// BGP peering of the nodes (needed by `loadBalancer.mode: bgp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bgp: Option<Bgp>,
}

fn default_ntp() -> Vec<String> {
    vec!["time.cloudflare.com".into()]
}
fn default_pod_cidr() -> Ipv4Net {
    Ipv4Net::new(Ipv4Addr::new(10, 244, 0, 0), 16).expect("valid prefix")
}
fn default_service_cidr() -> Ipv4Net {
    Ipv4Net::new(Ipv4Addr::new(10, 96, 0, 0), 12).expect("valid prefix")
}
fn default_mtu() -> u16 {
    1500
}

/// LoadBalancer IPs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadBalancerNetwork {
    /// Address pools: `START-END`, `CIDR` or a single address. Example:
    /// `[192.168.10.200-192.168.10.220]`.
    #[serde(default)]
    pub pools: Vec<IpRange>,
    /// How the addresses are announced: `l2` (ARP) or `bgp`.
    #[serde(default)]
    pub mode: LoadBalancerMode,
}

/// How LoadBalancer IPs are announced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LoadBalancerMode {
    /// Layer-2 announcements (ARP), no router configuration needed.
    #[default]
    L2,
    /// BGP advertisements to the peers in `network.bgp`.
    Bgp,
}

/// BGP settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Bgp {
    /// The nodes' autonomous system number.
    #[serde(rename = "localASN")]
    pub local_asn: u32,
    /// BGP peers (routers).
    pub peers: Vec<BgpPeer>,
}

/// A BGP peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BgpPeer {
    /// The peer's address.
    pub address: IpAddr,
    /// The peer's autonomous system number.
    pub asn: u32,
}

/// A VM size class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Size {
    /// vCPU cores.
    pub cores: u16,
    /// Memory in MiB.
    #[serde(rename = "memoryMiB")]
    pub memory_mib: u32,
    /// Boot disk in GiB.
    #[serde(rename = "diskGiB")]
    pub disk_gib: u32,
}

/// The built-in size classes.
pub fn builtin_sizes() -> BTreeMap<String, Size> {
    BTreeMap::from([
        (
            "small".to_string(),
            Size {
                cores: 2,
                memory_mib: 4096,
                disk_gib: 40,
            },
        ),
        (
            "medium".to_string(),
            Size {
                cores: 4,
                memory_mib: 8192,
                disk_gib: 80,
            },
        ),
        (
            "large".to_string(),
            Size {
                cores: 8,
                memory_mib: 16384,
                disk_gib: 160,
            },
        ),
    ])
}

/// The management cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManagementCluster {
    /// Cluster name (DNS-1123 label).
    #[serde(default = "default_management_name")]
    pub name: String,
    /// The Kubernetes API endpoint.
    pub endpoint: Endpoint,
    /// Control-plane nodes: 1, 3 or 5 (etcd needs an odd count).
    pub control_planes: Vec<Node>,
    /// Worker nodes. Without workers, workloads are scheduled on the control planes.
    #[serde(default)]
    pub workers: Vec<Node>,
}

fn default_management_name() -> String {
    "mgmt".into()
}

/// A cluster's Kubernetes API endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Endpoint {
    /// Virtual IP shared by the control planes (Talos VIP); the API is `https://<vip>:6443`.
    pub vip: Ipv4Addr,
}

/// A node of the management cluster: one Proxmox VM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Node {
    /// Node and VM name, also the Talos hostname (DNS-1123 label).
    pub name: String,
    /// Static IPv4 address inside `network.nodeCIDR`.
    pub ip: Ipv4Addr,
    /// Proxmox VE node the VM runs on (one of `proxmox.nodes`).
    pub proxmox_node: String,
    /// Size class of the VM.
    #[serde(default = "default_size")]
    pub size: String,
    /// Proxmox VM ID (100–999999999); chosen at bootstrap when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vmid: Option<u32>,
    /// Kubernetes node labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Kubernetes node taints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Taint>,
}

fn default_size() -> String {
    "medium".into()
}

/// A Kubernetes node taint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Taint {
    /// Taint key.
    pub key: String,
    /// Taint value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Taint effect.
    pub effect: TaintEffect,
}

/// A taint's effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TaintEffect {
    /// Pods without a toleration are not scheduled.
    NoSchedule,
    /// The scheduler avoids the node.
    PreferNoSchedule,
    /// Running pods without a toleration are evicted.
    NoExecute,
}

/// A workload cluster, reconciled by Cluster API (CAPMox + Talos providers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkloadCluster {
    /// Cluster name (DNS-1123 label).
    pub name: String,
    /// Default size class of the cluster's machines.
    #[serde(default = "default_size")]
    pub size: String,
    /// The Kubernetes API endpoint.
    pub endpoint: Endpoint,
    /// Node addresses Cluster API assigns (in-cluster IPAM): `START-END`, `CIDR` or one
    /// address, inside `network.nodeCIDR`.
    pub ip_pool: IpRange,
    /// Control-plane machines.
    #[serde(default)]
    pub control_plane: ControlPlane,
    /// Worker machine pools (one MachineDeployment each).
    #[serde(default)]
    pub worker_pools: Vec<WorkerPool>,
    /// Proxmox VE nodes the machines may be placed on. Default: all of `proxmox.nodes`.
    #[serde(default)]
    pub proxmox_nodes: Vec<String>,
    /// Pod CIDR of this cluster. Default: `network.podCIDR`.
    #[serde(rename = "podCIDR", default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub pod_cidr: Option<Ipv4Net>,
    /// Service CIDR of this cluster. Default: `network.serviceCIDR`.
    #[serde(
        rename = "serviceCIDR",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>")]
    pub service_cidr: Option<Ipv4Net>,
}

/// A workload cluster's control plane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ControlPlane {
    /// Control-plane machines: 1, 3 or 5.
    #[serde(default = "default_cp_replicas")]
    pub replicas: u32,
    /// Size class. Default: the cluster's `size`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
}

impl Default for ControlPlane {
    fn default() -> Self {
        Self {
            replicas: default_cp_replicas(),
            size: None,
        }
    }
}

fn default_cp_replicas() -> u32 {
    3
}

/// A pool of identical worker machines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkerPool {
    /// Pool name (DNS-1123 label).
    pub name: String,
    /// Number of machines.
    pub replicas: u32,
    /// Size class. Default: the cluster's `size`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// Kubernetes node labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Kubernetes node taints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Taint>,
}

/// Cilium settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cilium {
    /// Replace kube-proxy with Cilium's eBPF service handling (Talos then runs no kube-proxy).
    #[serde(default = "yes")]
    pub kube_proxy_replacement: bool,
    /// `native` (pods routed on the node network) or `tunnel` (VXLAN).
    #[serde(default)]
    pub routing_mode: RoutingMode,
    /// Transparent encryption between nodes: `none`, `wireguard` or `ipsec`.
    #[serde(default)]
    pub encryption: Encryption,
    /// Hubble flow observability.
    #[serde(default)]
    pub hubble: Hubble,
    /// Cilium's Ingress controller.
    #[serde(default)]
    pub ingress_controller: IngressController,
    /// Gateway API support (platform UIs are published through a Gateway).
    #[serde(rename = "gatewayAPI", default = "yes")]
    pub gateway_api: bool,
    /// Service-mesh features.
    #[serde(default)]
    pub service_mesh: ServiceMesh,
    /// Cilium's BGP control plane (needed by `network.loadBalancer.mode: bgp`).
    #[serde(default)]
    pub bgp_control_plane: bool,
    /// Service load balancing.
    #[serde(default)]
    pub load_balancer: CiliumLoadBalancer,
    /// Bandwidth manager (EDT rate limiting) and BBR congestion control.
    #[serde(default)]
    pub bandwidth_manager: BandwidthManager,
    /// Egress gateway (stable source IPs for selected pods).
    #[serde(default)]
    pub egress_gateway: bool,
    /// Host firewall (policies for the nodes themselves).
    #[serde(default)]
    pub host_firewall: bool,
    /// Cluster Mesh between clusters.
    #[serde(default)]
    pub cluster_mesh: ClusterMesh,
}

impl Default for Cilium {
    fn default() -> Self {
        Self {
            kube_proxy_replacement: true,
            routing_mode: RoutingMode::default(),
            encryption: Encryption::default(),
            hubble: Hubble::default(),
            ingress_controller: IngressController::default(),
            gateway_api: true,
            service_mesh: ServiceMesh::default(),
            bgp_control_plane: false,
            load_balancer: CiliumLoadBalancer::default(),
            bandwidth_manager: BandwidthManager::default(),
            egress_gateway: false,
            host_firewall: false,
            cluster_mesh: ClusterMesh::default(),
        }
    }
}

fn yes() -> bool {
    true
}

/// Cilium routing mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoutingMode {
    /// Pods are routed natively on the node network.
    #[default]
    Native,
    /// Pods are encapsulated (VXLAN) between nodes.
    Tunnel,
}

/// Transparent encryption.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Encryption {
    /// No transparent encryption.
    #[default]
    None,
    /// WireGuard tunnels between nodes.
    Wireguard,
    /// IPsec between nodes.
    Ipsec,
}

/// Hubble settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Hubble {
    /// Hubble on the nodes.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Hubble Relay (cluster-wide flow API).
    #[serde(default = "yes")]
    pub relay: bool,
    /// Hubble UI (needs the relay).
    #[serde(default = "yes")]
    pub ui: bool,
    /// Hubble metrics, with options as Cilium takes them (`dns:query;ignoreAAAA`).
    #[serde(default = "default_hubble_metrics")]
    pub metrics: Vec<String>,
}

impl Default for Hubble {
    fn default() -> Self {
        Self {
            enabled: true,
            relay: true,
            ui: true,
            metrics: default_hubble_metrics(),
        }
    }
}

fn default_hubble_metrics() -> Vec<String> {
    [
        "dns",
        "drop",
        "tcp",
        "flow",
        "port-distribution",
        "icmp",
        "httpV2",
    ]
    .map(String::from)
    .to_vec()
}

/// Cilium Ingress controller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IngressController {
    /// Run Cilium's Ingress controller.
    #[serde(default)]
    pub enabled: bool,
    /// Make `cilium` the cluster's default IngressClass.
    #[serde(default)]
    pub default: bool,
}

/// Service-mesh features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceMesh {
    /// The Envoy L7 proxy (L7 policies, Ingress, Gateway API).
    #[serde(default = "yes")]
    pub l7_proxy: bool,
}

impl Default for ServiceMesh {
    fn default() -> Self {
        Self { l7_proxy: true }
    }
}

/// Service load balancing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CiliumLoadBalancer {
    /// Backend selection: `random` or `maglev` (consistent hashing).
    #[serde(default)]
    pub algorithm: LoadBalancerAlgorithm,
    /// XDP acceleration: `disabled`, `native` or `best-effort`.
    #[serde(default)]
    pub acceleration: Acceleration,
}

/// Backend selection algorithm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LoadBalancerAlgorithm {
    /// Random backend.
    Random,
    /// Maglev consistent hashing.
    #[default]
    Maglev,
}

/// XDP acceleration of the service load balancer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Acceleration {
    /// No XDP.
    #[default]
    Disabled,
    /// XDP in the driver (virtio-net supports it).
    Native,
    /// XDP where the driver supports it.
    BestEffort,
}

/// Bandwidth manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BandwidthManager {
    /// Enforce pod bandwidth annotations with EDT.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// BBR congestion control for pods.
    #[serde(default)]
    pub bbr: bool,
}

impl Default for BandwidthManager {
    fn default() -> Self {
        Self {
            enabled: true,
            bbr: false,
        }
    }
}

/// Cluster Mesh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterMesh {
    /// Connect clusters with Cluster Mesh.
    #[serde(default)]
    pub enabled: bool,
    /// Cilium cluster ID of the management cluster (1–255); workload clusters get the
    /// following IDs in order.
    #[serde(rename = "clusterID", default = "default_cluster_id")]
    pub cluster_id: u32,
}

impl Default for ClusterMesh {
    fn default() -> Self {
        Self {
            enabled: false,
            cluster_id: default_cluster_id(),
        }
    }
}

fn default_cluster_id() -> u32 {
    1
}

/// Platform components. A section that is present is enabled unless it says
/// `enabled: false`; optional add-ons whose section is absent are disabled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Components {
    /// cert-manager and its ClusterIssuers. Enabled unless disabled.
    #[serde(default)]
    pub cert_manager: CertManager,
    /// external-dns. Disabled when absent.
    #[serde(rename = "externalDNS", default = "ExternalDns::absent")]
    pub external_dns: ExternalDns,
    /// Longhorn distributed block storage. Disabled when absent.
    #[serde(default = "Longhorn::absent")]
    pub longhorn: Longhorn,
    /// kube-prometheus-stack: Prometheus, Alertmanager, Grafana. Enabled unless disabled.
    #[serde(default)]
    pub monitoring: Monitoring,
    /// Tetragon runtime security. Disabled when absent.
    #[serde(default = "Tetragon::absent")]
    pub tetragon: Tetragon,
    /// Talos-native etcd backups to S3. Disabled when absent.
    #[serde(default = "EtcdBackup::absent")]
    pub etcd_backup: EtcdBackup,
    /// External Secrets Operator. Disabled when absent.
    #[serde(default)]
    pub external_secrets: ExternalSecrets,
}

impl Default for Components {
    fn default() -> Self {
        Self {
            cert_manager: CertManager::default(),
            external_dns: ExternalDns::absent(),
            longhorn: Longhorn::absent(),
            monitoring: Monitoring::default(),
            tetragon: Tetragon::absent(),
            etcd_backup: EtcdBackup::absent(),
            external_secrets: ExternalSecrets::default(),
        }
    }
}

/// cert-manager.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CertManager {
    /// Install cert-manager.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// ACME (Let's Encrypt) issuers with DNS-01. Without it only the internal CA issuer exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acme: Option<Acme>,
}

impl Default for CertManager {
    fn default() -> Self {
        Self {
            enabled: true,
            acme: None,
        }
    }
}

/// ACME account and DNS-01 solver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Acme {
    /// Account e-mail.
    pub email: String,
    /// Which Let's Encrypt issuer certificates use by default (both are rendered).
    #[serde(default)]
    pub server: AcmeServer,
    /// DNS-01 solver.
    pub dns01: Dns01,
}

/// Let's Encrypt environment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AcmeServer {
    /// Trusted certificates, strict rate limits.
    #[default]
    Production,
    /// Untrusted test certificates, generous limits.
    Staging,
}

/// DNS-01 solver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Dns01 {
    /// DNS provider.
    pub provider: DnsProvider,
    /// API token of the DNS provider.
    pub api_token: SecretRef,
}

/// DNS providers supported by both cert-manager's DNS-01 and external-dns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DnsProvider {
    /// Cloudflare.
    Cloudflare,
    /// AWS Route 53.
    Route53,
    /// DigitalOcean.
    Digitalocean,
    /// Google Cloud DNS.
    Google,
    /// Azure DNS.
    Azure,
    /// RFC 2136 dynamic updates (BIND, Knot, PowerDNS).
    Rfc2136,
}

/// external-dns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalDns {
    /// Install external-dns.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// DNS provider (required when enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<DnsProvider>,
    /// Only manage records in these domains.
    #[serde(default)]
    pub domain_filters: Vec<String>,
    /// Provider credentials. Default: the cert-manager DNS-01 token when the providers match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<SecretRef>,
}

impl ExternalDns {
    fn absent() -> Self {
        Self {
            enabled: false,
            provider: None,
            domain_filters: Vec::new(),
            credentials: None,
        }
    }
}

/// Longhorn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Longhorn {
    /// Install Longhorn.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Default number of replicas of a volume; at most the number of schedulable nodes.
    #[serde(default = "default_longhorn_replicas")]
    pub replicas: u32,
    /// Backup target: `s3://BUCKET@REGION/PATH`, `nfs://HOST:/PATH`, `cifs://…` or `azblob://…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_target: Option<String>,
    /// Credentials of the backup target: a mapping of `{accessKeyID, secretAccessKey}` (S3),
    /// `{username, password}` (CIFS) or `{accountName, accountKey}` (Azure Blob), at a key of
    /// a SOPS file, or as JSON in an environment variable. NFS needs none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_credentials: Option<SecretRef>,
}

impl Longhorn {
    fn absent() -> Self {
        Self {
            enabled: false,
            ..Self::present()
        }
    }
    fn present() -> Self {
        Self {
            enabled: true,
            replicas: default_longhorn_replicas(),
            backup_target: None,
            backup_credentials: None,
        }
    }
}

fn default_longhorn_replicas() -> u32 {
    3
}

/// kube-prometheus-stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Monitoring {
    /// Install Prometheus, Alertmanager and Grafana.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Prometheus retention (Prometheus duration: `15d`, `12h`, `2w`).
    #[serde(default = "default_retention")]
    pub retention: String,
    /// Prometheus volume size in GiB.
    #[serde(rename = "storageGiB", default = "default_monitoring_storage")]
    pub storage_gib: u32,
    /// Grafana.
    #[serde(default)]
    pub grafana: Grafana,
}

impl Default for Monitoring {
    fn default() -> Self {
        Self {
            enabled: true,
            retention: default_retention(),
            storage_gib: default_monitoring_storage(),
            grafana: Grafana::default(),
        }
    }
}

fn default_retention() -> String {
    "15d".into()
}
fn default_monitoring_storage() -> u32 {
    50
}

/// Grafana.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Grafana {
    /// Host name Grafana is published at through the platform Gateway; not published when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// Tetragon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tetragon {
    /// Install Tetragon.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Tracing policies to install.
    #[serde(default = "default_tetragon_policies")]
    pub policies: Vec<TetragonPolicy>,
}

impl Tetragon {
    fn absent() -> Self {
        Self {
            enabled: false,
            policies: default_tetragon_policies(),
        }
    }
}

fn default_tetragon_policies() -> Vec<TetragonPolicy> {
    vec![
        TetragonPolicy::ProcessExec,
        TetragonPolicy::SensitiveFiles,
        TetragonPolicy::PrivilegedEscalation,
    ]
}

/// A built-in Tetragon tracing policy.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum TetragonPolicy {
    /// Visibility of every process execution.
    ProcessExec,
    /// Access to sensitive files (`/etc/shadow`, keys, kubelet credentials).
    SensitiveFiles,
    /// Privilege escalation (setuid, capabilities, namespace changes).
    PrivilegedEscalation,
}

/// Talos-native etcd backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EtcdBackup {
    /// Take etcd snapshots through the Talos API.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Cron schedule (5 fields or `@daily`-style).
    #[serde(default = "default_backup_schedule")]
    pub schedule: String,
    /// Snapshots kept.
    #[serde(default = "default_backup_keep")]
    pub keep: u32,
    /// S3 bucket the age-encrypted snapshots go to (required when enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Target>,
}

impl EtcdBackup {
    fn absent() -> Self {
        Self {
            enabled: false,
            schedule: default_backup_schedule(),
            keep: default_backup_keep(),
            s3: None,
        }
    }
}

fn default_backup_schedule() -> String {
    "0 2 * * *".into()
}
fn default_backup_keep() -> u32 {
    14
}

/// An S3 bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct S3Target {
    /// Bucket name.
    pub bucket: String,
    /// S3 endpoint URL (`https://s3.us-east-1.amazonaws.com`, a MinIO URL, …).
    pub endpoint: String,
    /// Region.
    #[serde(default = "default_region")]
    pub region: String,
    /// Access key ID and secret key: a mapping `{accessKeyID, secretAccessKey}`, at a key of
    /// a SOPS file, or as JSON in an environment variable.
    pub credentials: SecretRef,
}

fn default_region() -> String {
    "us-east-1".into()
}

/// External Secrets Operator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalSecrets {
    /// Install External Secrets Operator with a ClusterSecretStore.
    #[serde(default)]
    pub enabled: bool,
}

/// Multi-tenancy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tenancy {
    /// Tenant namespaces: default-deny network policies, Pod Security level, quota.
    #[serde(default)]
    pub namespaces: Vec<TenantNamespace>,
}

/// A tenant namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantNamespace {
    /// Namespace name (DNS-1123 label).
    pub name: String,
    /// Pod Security Standard enforced: `privileged`, `baseline` or `restricted`.
    #[serde(default)]
    pub pod_security: PodSecurity,
    /// ResourceQuota of the namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<Quota>,
}

/// Pod Security Standard level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PodSecurity {
    /// Unrestricted.
    Privileged,
    /// Prevents known privilege escalations.
    Baseline,
    /// Hardened best practice.
    #[default]
    Restricted,
}

/// A namespace quota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Quota {
    /// CPU requests, a Kubernetes quantity. Example: `"8"`, `"500m"`.
    pub cpu: Quantity,
    /// Memory requests, a Kubernetes quantity. Example: `16Gi`.
    pub memory: Quantity,
    /// Maximum number of pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pods: Option<u32>,
}
