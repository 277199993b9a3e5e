//! Talos machine configs (`v1alpha1`) for the management cluster's nodes, derived from the
//! platform model and the secrets bundle.
//!
//! The documents follow what `talosctl gen config` produces for Talos v1.11 (siderolabs/talos
//! `pkg/machinery/config/generate`, read for its defaults and field order), with the
//! platform's values instead of flags: the Image Factory installer, static addressing, the
//! control-plane VIP, `cni: none` (Cilium is installed by InfraFlux), kube-proxy off under
//! Cilium's kube-proxy replacement, KubePrism, host DNS, Talos API access for etcd backups,
//! Longhorn's mount. Every value comes from the model or the bundle; nothing is typed twice.

use base64::Engine as _;
use infraflux_pki::SecretsBundle;
use infraflux_spec::Platform;
use infraflux_spec::model::{Node, Role, TaintEffect};
use serde_json::{Map, Value, json};

use crate::schematic::Schematic;

/// KubePrism's port: the node-local load balancer for the Kubernetes API that Cilium's
/// `k8sServiceHost: localhost` / `k8sServicePort: 7445` relies on.
pub const KUBEPRISM_PORT: u16 = 7445;
/// The Kubernetes API port behind the VIP.
pub const API_PORT: u16 = 6443;
/// Namespace of the etcd backup job, allowed the `os:etcd:backup` Talos role.
pub const ETCD_BACKUP_NAMESPACE: &str = "etcd-backup";
/// Talos role that may take etcd snapshots through the Talos API.
pub const ETCD_BACKUP_ROLE: &str = "os:etcd:backup";
/// Where Longhorn keeps volume data on each node.
pub const LONGHORN_PATH: &str = "/var/lib/longhorn";

/// Why configs could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The bundle lacks something a config needs.
    #[error("the secrets bundle has no {0}")]
    Bundle(&'static str),
    /// A patch from `spec.talos.patches` failed.
    #[error("spec.talos.patches[{index}] cannot be applied to node `{node}`: {message}")]
    Patch {
        /// Index in `spec.talos.patches`.
        index: usize,
        /// The node being patched.
        node: String,
        /// What went wrong.
        message: String,
    },
}

/// A generated machine config: the `v1alpha1` document and any extra documents patches
/// added.
#[derive(Debug, Clone, PartialEq)]
pub struct MachineConfig {
    /// Node name.
    pub node: String,
    /// Node role.
    pub role: Role,
    /// The documents, the `v1alpha1` config first.
    pub documents: Vec<Value>,
}

impl MachineConfig {
    /// The config as a multi-document YAML file.
    pub fn to_yaml(&self) -> String {
        let mut options = serde_saphyr::SerializerOptions::default();
        options.indent_step = 4;
        options.prefer_block_scalars = false;
        options.compact_list_indent = false;
        let docs: Vec<String> = self
            .documents
            .iter()
            .map(|d| {
                serde_saphyr::to_string_with_options(d, options.clone())
                    .expect("JSON values always serialize")
            })
            .collect();
        docs.join("---\n")
    }

    /// The `v1alpha1` document.
    pub fn config(&self) -> &Value {
        &self.documents[0]
    }
}

/// Kubernetes taints as Talos's `machine.nodeTaints` has them: `key: value:Effect`.
pub fn node_taints(taints: &[infraflux_spec::model::Taint]) -> Map<String, Value> {
    taints
        .iter()
        .map(|t| {
            let effect = match t.effect {
                TaintEffect::NoSchedule => "NoSchedule",
                TaintEffect::PreferNoSchedule => "PreferNoSchedule",
                TaintEffect::NoExecute => "NoExecute",
            };
            (
                t.key.clone(),
                json!(format!("{}:{effect}", t.value.as_deref().unwrap_or(""))),
            )
        })
        .collect()
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
}

/// `{crt, key}` with the key left empty (workers get the CA certificate only).
fn cert_key(ck: &infraflux_pki::CertificateAndKey, with_key: bool) -> Value {
    json!({ "crt": b64(&ck.certificate), "key": if with_key { b64(ck.key.as_str()) } else { String::new() } })
}

/// Machine configs for every management node, with the spec's patches applied (global,
/// then per role, then per node, each in the order written).
pub fn management_configs(
    platform: &Platform,
    bundle: &SecretsBundle,
) -> Result<Vec<MachineConfig>, ConfigError> {
    let m = &platform.spec.management;
    let nodes = m
        .control_planes
        .iter()
        .map(|n| (n, Role::Controlplane))
        .chain(m.workers.iter().map(|n| (n, Role::Worker)));
    nodes
        .map(|(node, role)| node_config(platform, bundle, node, role))
        .collect()
}

/// The machine config of one node.
pub fn node_config(
    platform: &Platform,
    bundle: &SecretsBundle,
    node: &Node,
    role: Role,
) -> Result<MachineConfig, ConfigError> {
    let mut config = MachineConfig {
        node: node.name.clone(),
        role,
        documents: vec![base_config(platform, bundle, node, role)?],
    };
    let patches = &platform.spec.talos.patches;
    let stages: [&dyn Fn(&infraflux_spec::model::TalosPatch) -> bool; 3] = [
        &|p| p.role.is_none() && p.node.is_none(),
        &|p| p.role == Some(role),
        &|p| p.node.as_deref() == Some(node.name.as_str()),
    ];
    for stage in stages {
        for (index, patch) in patches.iter().enumerate().filter(|(_, p)| stage(p)) {
            apply_patch(&mut config, &patch.patch).map_err(|message| ConfigError::Patch {
                index,
                node: node.name.clone(),
                message,
            })?;
        }
    }
    Ok(config)
}

/// Applies one patch the way `talosctl --config-patch` takes them: a list is an RFC 6902
/// JSON patch of the `v1alpha1` document; a mapping with `apiVersion` and `kind` is an extra
/// document; any other mapping is merged into the `v1alpha1` document (RFC 7386: mappings
/// merge, lists and scalars replace, `null` deletes).
fn apply_patch(config: &mut MachineConfig, patch: &Value) -> Result<(), String> {
    match patch {
        Value::Array(_) => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| format!("not an RFC 6902 patch: {e}"))?;
            json_patch::patch(&mut config.documents[0], &ops).map_err(|e| {
                let path = e.path.to_string();
                match e.kind {
                    json_patch::PatchErrorKind::InvalidPointer => format!(
                        "operation {} targets `{path}`, which does not exist",
                        e.operation
                    ),
                    json_patch::PatchErrorKind::TestFailed => format!(
                        "operation {} (`test` of `{path}`) did not match",
                        e.operation
                    ),
                    kind => format!("operation {} at `{path}`: {kind}", e.operation),
                }
            })
        }
        Value::Object(map) if map.contains_key("apiVersion") && map.contains_key("kind") => {
            config.documents.push(patch.clone());
            Ok(())
        }
        Value::Object(_) => {
            json_patch::merge(&mut config.documents[0], patch);
            Ok(())
        }
        _ => Err("a patch is a mapping or a list of RFC 6902 operations".into()),
    }
}

fn image(repository: &str, kubernetes_version: &str) -> String {
    format!("{repository}:{kubernetes_version}")
}

fn base_config(
    platform: &Platform,
    bundle: &SecretsBundle,
    node: &Node,
    role: Role,
) -> Result<Value, ConfigError> {
    let spec = &platform.spec;
    let control_plane = role == Role::Controlplane;
    let certs = &bundle.certs;
    let os_ca = certs.os.as_ref().ok_or(ConfigError::Bundle("certs.os"))?;
    let k8s_ca = certs.k8s.as_ref().ok_or(ConfigError::Bundle("certs.k8s"))?;
    let k8s = &spec.talos.kubernetes_version;
    let network = &spec.network;
    let vip = spec.management.endpoint.vip;
    let endpoint = format!("https://{vip}:{API_PORT}");
    let installer = Schematic::from_spec(&spec.talos)
        .images(&spec.talos.image_factory, &spec.talos.version)
        .installer;

    let mut kubelet = json!({
        "image": image("ghcr.io/siderolabs/kubelet", k8s),
        "defaultRuntimeSeccompProfileEnabled": true,
        "disableManifestsDirectory": true,
        // The node IP from the node subnet, never the VIP that floats between control planes.
        "nodeIP": { "validSubnets": [network.node_cidr.to_string()] },
    });
    if spec.components.longhorn.enabled {
        kubelet["extraMounts"] = json!([{
            "destination": LONGHORN_PATH,
            "type": "bind",
            "source": LONGHORN_PATH,
            "options": ["bind", "rshared", "rw"],
        }]);
    }

    let mut interface = json!({
        "deviceSelector": { "physical": true },
        "dhcp": false,
        "addresses": [format!("{}/{}", node.ip, network.node_cidr.prefix_len())],
        "routes": [{ "network": "0.0.0.0/0", "gateway": network.gateway.to_string() }],
        "mtu": network.mtu,
    });
    if control_plane {
        interface["vip"] = json!({ "ip": vip.to_string() });
    }

    let mut features = json!({ "rbac": true, "stableHostname": true });
    if control_plane && spec.components.etcd_backup.enabled {
        features["kubernetesTalosAPIAccess"] = json!({
            "enabled": true,
            "allowedRoles": [ETCD_BACKUP_ROLE],
            "allowedKubernetesNamespaces": [ETCD_BACKUP_NAMESPACE],
        });
    }
    let more = json!({
        "apidCheckExtKeyUsage": true,
        "diskQuotaSupport": true,
        "kubePrism": { "enabled": true, "port": KUBEPRISM_PORT },
        "hostDNS": { "enabled": true, "forwardKubeDNSToHost": true },
    });
    features
        .as_object_mut()
        .expect("object")
        .extend(more.as_object().expect("object").clone());

    let mut labels = Map::new();
    if control_plane {
        labels.insert(
            "node.kubernetes.io/exclude-from-external-load-balancers".into(),
            json!(""),
        );
    }
    for (k, v) in &node.labels {
        labels.insert(k.clone(), json!(v));
    }
    let taints = node_taints(&node.taints);

    let mut machine = json!({
        "type": if control_plane { "controlplane" } else { "worker" },
        "token": bundle.trustdinfo.token.as_str(),
        "ca": cert_key(os_ca, control_plane),
        "certSANs": if control_plane { json!([vip.to_string(), node.ip.to_string()]) } else { json!([node.ip.to_string()]) },
        "kubelet": kubelet,
        "network": {
            "hostname": node.name,
            "interfaces": [interface],
            "nameservers": network.nameservers.iter().map(ToString::to_string).collect::<Vec<_>>(),
        },
        "install": { "disk": spec.talos.install_disk, "image": installer, "wipe": false },
        "time": { "servers": network.ntp },
        "features": features,
    });
    if !labels.is_empty() {
        machine["nodeLabels"] = Value::Object(labels);
    }
    if !taints.is_empty() {
        machine["nodeTaints"] = Value::Object(taints);
    }

    let cluster_network = json!({
        "dnsDomain": "cluster.local",
        "podSubnets": [network.pod_cidr.to_string()],
        "serviceSubnets": [network.service_cidr.to_string()],
        // Cilium is the CNI; InfraFlux installs it from inline manifests at bootstrap.
        "cni": { "name": "none" },
    });
    let discovery = json!({ "enabled": true, "registries": { "kubernetes": { "disabled": true }, "service": {} } });
    let mut cluster = json!({
        "id": bundle.cluster.id,
        "secret": bundle.cluster.secret.as_str(),
        "controlPlane": { "endpoint": endpoint },
        "clusterName": spec.management.name,
        "network": cluster_network,
        "token": bundle.secrets.bootstraptoken.as_str(),
    });
    if control_plane {
        let aggregator = certs
            .k8saggregator
            .as_ref()
            .ok_or(ConfigError::Bundle("certs.k8saggregator"))?;
        let service_account = certs
            .k8sserviceaccount
            .as_ref()
            .ok_or(ConfigError::Bundle("certs.k8sserviceaccount"))?;
        let etcd_ca = certs
            .etcd
            .as_ref()
            .ok_or(ConfigError::Bundle("certs.etcd"))?;
        let c = cluster.as_object_mut().expect("object");
        c.insert(
            "secretboxEncryptionSecret".into(),
            json!(bundle.secrets.secretboxencryptionsecret.as_str()),
        );
        c.insert("ca".into(), cert_key(k8s_ca, true));
        c.insert("aggregatorCA".into(), cert_key(aggregator, true));
        c.insert(
            "serviceAccount".into(),
            json!({ "key": b64(service_account.as_str()) }),
        );
        c.insert(
            "apiServer".into(),
            json!({
                "image": image("registry.k8s.io/kube-apiserver", k8s),
                "certSANs": [vip.to_string()],
                "disablePodSecurityPolicy": true,
                "admissionControl": [{
                    "name": "PodSecurity",
                    "configuration": {
                        "apiVersion": "pod-security.admission.config.k8s.io/v1alpha1",
                        "defaults": {
                            "audit": "restricted", "audit-version": "latest",
                            "enforce": "baseline", "enforce-version": "latest",
                            "warn": "restricted", "warn-version": "latest",
                        },
                        "exemptions": { "namespaces": ["kube-system"], "runtimeClasses": [], "usernames": [] },
                        "kind": "PodSecurityConfiguration",
                    },
                }],
                "auditPolicy": { "apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": [{ "level": "Metadata" }] },
            }),
        );
        c.insert(
            "controllerManager".into(),
            json!({ "image": image("registry.k8s.io/kube-controller-manager", k8s) }),
        );
        c.insert(
            "proxy".into(),
            if spec.cilium.kube_proxy_replacement {
                json!({ "disabled": true })
            } else {
                json!({ "image": image("registry.k8s.io/kube-proxy", k8s) })
            },
        );
        c.insert(
            "scheduler".into(),
            json!({ "image": image("registry.k8s.io/kube-scheduler", k8s) }),
        );
        c.insert("discovery".into(), discovery);
        c.insert("etcd".into(), json!({ "ca": cert_key(etcd_ca, true) }));
        if spec.management.workers.is_empty() {
            c.insert("allowSchedulingOnControlPlanes".into(), json!(true));
        }
    } else {
        let c = cluster.as_object_mut().expect("object");
        c.insert("ca".into(), cert_key(k8s_ca, false));
        c.insert("discovery".into(), discovery);
    }

    // talosctl still writes `persist: true`, but the field is deprecated (always on) and
    // absent from Talos v1.11's published config schema, so it is left out.
    Ok(json!({
        "version": "v1alpha1",
        "debug": false,
        "machine": machine,
        "cluster": cluster,
    }))
}
