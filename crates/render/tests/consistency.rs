//! Facts stated once in the spec must agree across files: the Talos machine configs (from
//! the talos crate) and the rendered GitOps tree.

use std::path::Path;
use std::sync::OnceLock;

use infraflux_pki::SecretsBundle;
use infraflux_render::components::{cilium, etcdbackup};
use infraflux_spec::Platform;
use infraflux_talos::{Schematic, management_configs};
use serde_json::{Value, json};

fn bundle() -> &'static SecretsBundle {
    static B: OnceLock<SecretsBundle> = OnceLock::new();
    B.get_or_init(|| SecretsBundle::generate(time::OffsetDateTime::now_utc()).unwrap())
}

fn examples() -> Vec<(String, Platform)> {
    ["homelab.yaml", "ha.yaml", "multi-cluster.yaml"]
        .iter()
        .map(|n| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../examples")
                .join(n);
            (n.to_string(), infraflux_spec::load(&path).unwrap().platform)
        })
        .collect()
}

/// The v1alpha1 documents of the management cluster: control planes first.
fn configs(p: &Platform) -> Vec<(bool, Value)> {
    let n_cp = p.spec.management.control_planes.len();
    management_configs(p, bundle())
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, c)| (i < n_cp, c.config().clone()))
        .collect()
}

/// Every document of the rendered tree.
fn documents(p: &Platform) -> Vec<Value> {
    let tree = infraflux_render::render(p).unwrap().tree;
    tree.files()
        .values()
        .flat_map(|f| f.documents.clone())
        .collect()
}

#[test]
fn networking_agrees_between_talos_and_cilium() {
    for (name, p) in examples() {
        let v = cilium::values(&p);
        for (control_plane, c) in configs(&p) {
            let net = &c["cluster"]["network"];
            // Pod and service CIDRs: Cilium routes the pod CIDR Talos gives the nodes.
            assert_eq!(
                net["podSubnets"],
                json!([p.spec.network.pod_cidr.to_string()]),
                "{name}"
            );
            assert_eq!(
                net["serviceSubnets"],
                json!([p.spec.network.service_cidr.to_string()]),
                "{name}"
            );
            if v["routingMode"] == "native" {
                assert_eq!(net["podSubnets"][0], v["ipv4NativeRoutingCIDR"], "{name}");
            }
            assert_eq!(
                net["cni"],
                json!({"name": "none"}),
                "{name}: Cilium is the CNI"
            );
            // kube-proxy off in Talos exactly when Cilium replaces it (control planes deploy
            // kube-proxy; workers' configs do not say).
            if control_plane {
                let proxy_off = c["cluster"]["proxy"]["disabled"] == true;
                assert_eq!(proxy_off, v["kubeProxyReplacement"] == true, "{name}");
            }
            // Cilium reaches the API server through KubePrism as Talos configures it.
            let prism = &c["machine"]["features"]["kubePrism"];
            assert_eq!(prism["enabled"], true, "{name}");
            assert_eq!(prism["port"], v["k8sServicePort"], "{name}");
            assert_eq!(v["k8sServiceHost"], "localhost", "{name}");
        }
        // WireGuard exactly when the spec asks for it.
        let wireguard = p.spec.cilium.encryption == infraflux_spec::model::Encryption::Wireguard;
        assert_eq!(v["encryption"]["type"] == "wireguard", wireguard, "{name}");
    }
}

#[test]
fn longhorn_has_its_extensions_mounts_and_privileged_namespace() {
    for (name, p) in examples() {
        let on = p.spec.components.longhorn.enabled;
        let schematic = Schematic::from_spec(&p.spec.talos);
        for ext in infraflux_spec::LONGHORN_EXTENSIONS {
            assert_eq!(
                schematic.official_extensions.iter().any(|e| e == ext),
                on,
                "{name}: {ext}"
            );
        }
        for (_, c) in configs(&p) {
            let mounts = c["machine"]["kubelet"]["extraMounts"].to_string();
            assert_eq!(mounts.contains("/var/lib/longhorn"), on, "{name}: {mounts}");
        }
        let docs = documents(&p);
        let ns = docs
            .iter()
            .find(|d| d["kind"] == "Namespace" && d["metadata"]["name"] == "longhorn-system");
        assert_eq!(ns.is_some(), on, "{name}");
        if let Some(ns) = ns {
            assert_eq!(
                ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
                "privileged"
            );
        }
    }
}

#[test]
fn etcd_backup_is_allowed_its_role_from_its_namespace_on_control_planes() {
    for (name, p) in examples() {
        let docs = documents(&p);
        let account = docs
            .iter()
            .find(|d| d["apiVersion"] == "talos.dev/v1alpha1");
        let on = etcdbackup::component(&p).is_some();
        assert_eq!(account.is_some(), on, "{name}");
        for (control_plane, c) in configs(&p) {
            let access = &c["machine"]["features"]["kubernetesTalosAPIAccess"];
            match account {
                Some(a) if control_plane => {
                    assert_eq!(access["enabled"], true, "{name}");
                    for role in a["spec"]["roles"].as_array().unwrap() {
                        assert!(
                            access["allowedRoles"].as_array().unwrap().contains(role),
                            "{name}: {role}"
                        );
                    }
                    assert_eq!(
                        access["allowedKubernetesNamespaces"],
                        json!([a["metadata"]["namespace"]]),
                        "{name}"
                    );
                }
                _ => assert!(
                    access.is_null(),
                    "{name}: Talos API access without a backup"
                ),
            }
        }
        if let Some(a) = account {
            let job = docs.iter().find(|d| d["kind"] == "CronJob").unwrap();
            let volumes = &job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["volumes"];
            assert!(
                volumes
                    .to_string()
                    .contains(&format!("\"secretName\":{}", a["metadata"]["name"])),
                "{volumes}"
            );
            assert!(!job.to_string().contains("etcdctl") && !job.to_string().contains("hostPath"));
        }
    }
}
