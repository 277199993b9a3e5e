//! Machine configs: valid for Talos v1.11.6's own schema, consistent with the model,
//! deterministic, patched as `talosctl --config-patch` would.

use std::sync::OnceLock;

use infraflux_pki::SecretsBundle;
use infraflux_spec::Platform;
use infraflux_spec::model::Role;
use infraflux_talos::{ConfigError, MachineConfig, management_configs};
use serde_json::{Value, json};

fn bundle() -> &'static SecretsBundle {
    static B: OnceLock<SecretsBundle> = OnceLock::new();
    B.get_or_init(|| SecretsBundle::generate(time::OffsetDateTime::now_utc()).unwrap())
}

fn example(name: &str) -> Platform {
    let text = std::fs::read_to_string(format!(
        "{}/../../examples/{name}.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    infraflux_spec::load_str(name, &text).unwrap().platform
}

fn talos_schema() -> jsonschema::Validator {
    let path = format!(
        "{}/../../../shared/upstream/talos/schemas/config.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).expect("../shared/upstream is beside the checkout"),
    )
    .unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn configs(name: &str) -> Vec<MachineConfig> {
    management_configs(&example(name), bundle()).unwrap()
}

#[test]
fn every_config_of_every_example_validates_against_the_talos_schema() {
    let v = talos_schema();
    let mut checked = 0;
    for name in ["homelab", "ha", "multi-cluster"] {
        for config in configs(name) {
            // Validate what a reader of the file sees: the YAML, parsed back.
            for doc in config.to_yaml().split("---\n") {
                let doc: Value = serde_saphyr::from_str(doc).unwrap();
                let errors: Vec<String> = v
                    .iter_errors(&doc)
                    .map(|e| format!("{} at {}", e, e.instance_path()))
                    .collect();
                assert!(errors.is_empty(), "{name}/{}: {errors:#?}", config.node);
                checked += 1;
            }
        }
    }
    assert!(checked >= 1 + 6 + 3);
}

#[test]
fn the_schema_check_can_fail() {
    let v = talos_schema();
    let mut doc = configs("homelab")[0].config().clone();
    doc["machine"]["instal"] = json!({ "disk": "/dev/sda" });
    assert!(!v.is_valid(&doc));
}

#[test]
fn configs_carry_the_models_values() {
    let p = example("ha");
    let all = configs("ha");
    assert_eq!(all.len(), 6);
    let vip = p.spec.management.endpoint.vip.to_string();
    for c in &all {
        let d = c.config();
        let node = p
            .spec
            .management
            .control_planes
            .iter()
            .chain(&p.spec.management.workers)
            .find(|n| n.name == c.node)
            .unwrap();
        assert_eq!(d["machine"]["network"]["hostname"], node.name);
        assert_eq!(
            d["machine"]["network"]["interfaces"][0]["addresses"][0],
            format!("{}/24", node.ip)
        );
        assert_eq!(
            d["machine"]["network"]["interfaces"][0]["routes"][0]["gateway"],
            p.spec.network.gateway.to_string()
        );
        assert_eq!(
            d["cluster"]["network"]["podSubnets"],
            json!([p.spec.network.pod_cidr.to_string()])
        );
        assert_eq!(
            d["cluster"]["network"]["serviceSubnets"],
            json!([p.spec.network.service_cidr.to_string()])
        );
        assert_eq!(d["cluster"]["network"]["cni"]["name"], "none");
        assert_eq!(
            d["cluster"]["controlPlane"]["endpoint"],
            format!("https://{vip}:6443")
        );
        assert_eq!(
            d["machine"]["features"]["kubePrism"],
            json!({ "enabled": true, "port": 7445 })
        );
        assert_eq!(
            d["machine"]["features"]["hostDNS"]["forwardKubeDNSToHost"],
            true
        );
        assert_eq!(d["machine"]["install"]["disk"], "/dev/vda");
        let installer = d["machine"]["install"]["image"].as_str().unwrap();
        assert!(
            installer.starts_with("factory.talos.dev/nocloud-installer/")
                && installer.ends_with(":v1.11.6")
        );
        assert_eq!(
            d["machine"]["kubelet"]["image"],
            "ghcr.io/siderolabs/kubelet:v1.34.1"
        );
        // Longhorn is on in `ha`: its data directory is mounted for the kubelet.
        assert_eq!(
            d["machine"]["kubelet"]["extraMounts"][0]["destination"],
            "/var/lib/longhorn"
        );
        match c.role {
            Role::Controlplane => {
                assert_eq!(d["machine"]["network"]["interfaces"][0]["vip"]["ip"], vip);
                assert!(
                    d["machine"]["certSANs"]
                        .as_array()
                        .unwrap()
                        .contains(&json!(vip))
                );
                assert!(
                    d["cluster"]["apiServer"]["certSANs"]
                        .as_array()
                        .unwrap()
                        .contains(&json!(vip))
                );
                // kube-proxy replacement ⇒ no kube-proxy.
                assert_eq!(d["cluster"]["proxy"]["disabled"], true);
                // etcd backup ⇒ the backup namespace may take snapshots through the Talos API.
                let access = &d["machine"]["features"]["kubernetesTalosAPIAccess"];
                assert_eq!(access["allowedRoles"], json!(["os:etcd:backup"]));
                assert_eq!(
                    access["allowedKubernetesNamespaces"],
                    json!(["etcd-backup"])
                );
                // There are workers: control planes do not run workloads.
                assert!(d["cluster"].get("allowSchedulingOnControlPlanes").is_none());
                assert!(d["cluster"]["ca"]["key"].as_str().unwrap().len() > 10);
            }
            Role::Worker => {
                assert!(
                    d["machine"]["network"]["interfaces"][0]
                        .get("vip")
                        .is_none()
                );
                assert_eq!(d["machine"]["ca"]["key"], "");
                assert!(
                    d["cluster"].get("apiServer").is_none() && d["cluster"].get("etcd").is_none()
                );
                assert!(
                    d["machine"]["features"]
                        .get("kubernetesTalosAPIAccess")
                        .is_none()
                );
                assert_eq!(
                    d["machine"]["nodeLabels"]["topology.kubernetes.io/zone"],
                    node.labels["topology.kubernetes.io/zone"]
                );
            }
        }
    }
}

#[test]
fn a_single_node_cluster_schedules_on_its_control_plane_and_kube_proxy_follows_cilium() {
    let homelab = configs("homelab");
    assert_eq!(
        homelab[0].config()["cluster"]["allowSchedulingOnControlPlanes"],
        true
    );
    let mut p = example("homelab");
    p.spec.cilium.kube_proxy_replacement = false;
    p.spec.components.longhorn.enabled = false;
    p.spec.components.etcd_backup.enabled = false;
    let c = &management_configs(&p, bundle()).unwrap()[0];
    assert_eq!(
        c.config()["cluster"]["proxy"]["image"],
        "registry.k8s.io/kube-proxy:v1.33.4"
    );
    assert!(
        c.config()["machine"]["kubelet"]
            .get("extraMounts")
            .is_none()
    );
    assert!(
        c.config()["machine"]["features"]
            .get("kubernetesTalosAPIAccess")
            .is_none()
    );
}

#[test]
fn same_spec_and_secrets_give_byte_identical_configs() {
    let a: Vec<String> = configs("multi-cluster")
        .iter()
        .map(MachineConfig::to_yaml)
        .collect();
    let b: Vec<String> = configs("multi-cluster")
        .iter()
        .map(MachineConfig::to_yaml)
        .collect();
    assert_eq!(a, b);
}

#[test]
fn patches_apply_globally_then_per_role_then_per_node() {
    let c = configs("homelab");
    let d = c[0].config();
    // homelab: a global strategic-merge patch and a per-node RFC 6902 patch.
    assert_eq!(d["machine"]["sysctls"]["vm.max_map_count"], "262144");
    assert_eq!(
        d["machine"]["nodeLabels"]["topology.kubernetes.io/zone"],
        "rack-1"
    );
    let ha = configs("ha");
    for c in &ha {
        let max_pods = &c.config()["machine"]["kubelet"]["extraArgs"]["max-pods"];
        assert_eq!(max_pods.is_string(), c.role == Role::Worker, "{}", c.node);
    }
    // Order: a per-node patch overrides a per-role one whatever order they are written in.
    let mut p = example("ha");
    let node_patch = infraflux_spec::model::TalosPatch {
        role: None,
        node: Some("worker-1".into()),
        patch: json!({"machine": {"kubelet": {"extraArgs": {"max-pods": "42"}}}}),
    };
    p.spec.talos.patches.insert(0, node_patch);
    let w1 = management_configs(&p, bundle())
        .unwrap()
        .into_iter()
        .find(|c| c.node == "worker-1")
        .unwrap();
    assert_eq!(
        w1.config()["machine"]["kubelet"]["extraArgs"]["max-pods"],
        "42"
    );
}

#[test]
fn a_patch_on_a_missing_path_fails_naming_the_patch() {
    let mut p = example("homelab");
    p.spec
        .talos
        .patches
        .push(infraflux_spec::model::TalosPatch {
            role: Some(Role::Controlplane),
            node: None,
            patch: json!([{ "op": "replace", "path": "/machine/kubelet/nodeIPs/0", "value": "x" }]),
        });
    let err = management_configs(&p, bundle()).unwrap_err();
    match &err {
        ConfigError::Patch {
            index,
            node,
            message,
        } => {
            assert_eq!((*index, node.as_str()), (2, "mgmt-cp-1"));
            assert!(message.contains("/machine/kubelet/nodeIPs/0"), "{message}");
        }
        other => panic!("{other}"),
    }
}

#[test]
fn a_document_patch_adds_a_document() {
    let mut p = example("homelab");
    p.spec.talos.patches.push(infraflux_spec::model::TalosPatch {
        role: None,
        node: None,
        patch: json!({ "apiVersion": "v1alpha1", "kind": "UserVolumeConfig", "name": "longhorn", "provisioning": { "diskSelector": { "match": "!system_disk" }, "minSize": "10GiB" } }),
    });
    let c = &management_configs(&p, bundle()).unwrap()[0];
    assert_eq!(c.documents.len(), 2);
    let v = talos_schema();
    for doc in c.to_yaml().split("---\n") {
        let doc: Value = serde_saphyr::from_str(doc).unwrap();
        assert!(v.is_valid(&doc), "{doc}");
    }
}
