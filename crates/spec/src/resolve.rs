//! Defaults that depend on other fields, and requirements derived from the model.
//!
//! After [`Platform::resolve`] every default is visible in the model (what
//! `infraflux check --print-resolved` prints), and resolving again changes nothing.

use crate::model::{Platform, builtin_sizes};

/// Talos system extension every Proxmox VM gets: Proxmox talks to the guest agent for
/// shutdown, IP reporting and freeze/thaw.
pub const QEMU_GUEST_AGENT: &str = "siderolabs/qemu-guest-agent";
/// Talos system extensions Longhorn needs on every node (iSCSI initiator, `fstrim`/`nsenter`
/// tools), as the Longhorn Talos install guide documents.
pub const LONGHORN_EXTENSIONS: [&str; 2] =
    ["siderolabs/iscsi-tools", "siderolabs/util-linux-tools"];

impl Platform {
    /// Fills in defaults that depend on other fields and adds derived requirements.
    /// Idempotent.
    pub fn resolve(mut self) -> Platform {
        let spec = &mut self.spec;

        let mut sizes = builtin_sizes();
        sizes.append(&mut spec.sizes);
        spec.sizes = sizes;

        if spec.network.nameservers.is_empty() {
            spec.network.nameservers = vec![spec.network.gateway.into()];
        }

        let extensions = &mut spec.talos.schematic.extensions;
        extensions.push(QEMU_GUEST_AGENT.to_string());
        if spec.components.longhorn.enabled {
            extensions.extend(LONGHORN_EXTENSIONS.map(String::from));
        }
        // The Image Factory schematic is content-addressed: a canonical order keeps its ID
        // stable however the user ordered the list.
        extensions.sort();
        extensions.dedup();

        // Relay, UI and metrics are parts of Hubble: off with it.
        let hubble = &mut spec.cilium.hubble;
        if !hubble.enabled {
            hubble.relay = false;
            hubble.ui = false;
            hubble.metrics.clear();
        }

        for cluster in &mut spec.clusters {
            cluster
                .control_plane
                .size
                .get_or_insert_with(|| cluster.size.clone());
            for pool in &mut cluster.worker_pools {
                pool.size.get_or_insert_with(|| cluster.size.clone());
            }
            if cluster.proxmox_nodes.is_empty() {
                cluster.proxmox_nodes = spec.proxmox.nodes.clone();
            }
            cluster.pod_cidr.get_or_insert(spec.network.pod_cidr);
            cluster
                .service_cidr
                .get_or_insert(spec.network.service_cidr);
        }

        // external-dns reuses the DNS-01 token when it talks to the same provider.
        let components = &mut spec.components;
        if let (Some(acme), true, None) = (
            &components.cert_manager.acme,
            components.external_dns.enabled,
            &components.external_dns.credentials,
        ) && components.external_dns.provider == Some(acme.dns01.provider)
        {
            components.external_dns.credentials = Some(acme.dns01.api_token.clone());
        }

        self
    }

    /// The management cluster's nodes that run workloads: the workers, or the control
    /// planes when there are no workers.
    pub fn schedulable_management_nodes(&self) -> usize {
        let m = &self.spec.management;
        if m.workers.is_empty() {
            m.control_planes.len()
        } else {
            m.workers.len()
        }
    }
}
