//! Semantic checks of a resolved platform. Every check runs, so a user sees every problem
//! at once; each finding names the field (resolved to `file:line:column` through the span
//! index) and says what to do.

pub mod formats;
mod network;

use std::collections::{BTreeMap, HashMap};

use crate::diagnostic::{Diagnostic, Related, Severity};
use crate::model::*;
use crate::spans::SpanIndex;
use crate::suggest::did_you_mean;
use crate::versions;

/// Runs every semantic check on a resolved platform.
pub fn check(platform: &Platform, index: &SpanIndex) -> Vec<Diagnostic> {
    let mut c = Checker {
        p: platform,
        index,
        out: Vec::new(),
    };
    c.names();
    c.git();
    c.secrets();
    c.proxmox();
    c.talos();
    c.sizes();
    c.management();
    c.clusters();
    c.network();
    c.addresses();
    c.cilium();
    c.components();
    c.tenancy();
    c.out
}

pub(crate) struct Checker<'a> {
    pub(crate) p: &'a Platform,
    index: &'a SpanIndex,
    out: Vec<Diagnostic>,
}

/// "did you mean `x`?" when `input` is close to a known name, else `otherwise()`.
fn suggest<'a>(
    input: &str,
    known: impl IntoIterator<Item = &'a str>,
    otherwise: impl FnOnce() -> String,
) -> String {
    match did_you_mean(input, known) {
        Some(s) => format!("did you mean `{s}`?"),
        None => otherwise(),
    }
}

/// Where a list of names came from, for "did you mean" and hints.
fn one_of(known: &[String]) -> String {
    known
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Checker<'_> {
    pub(crate) fn report(&mut self, mut d: Diagnostic) {
        debug_assert!(
            d.hint.is_some(),
            "every diagnostic says what to do: `{}` has no hint",
            d.code
        );
        if d.location.is_none() {
            d.location = self.index.locate(&d.path);
        }
        for r in &mut d.related {
            r.location = self.index.locate(&r.path);
        }
        self.out.push(d);
    }

    /// Reports at the key of `d.path` rather than its value (for problems with the key).
    fn report_at_key(&mut self, mut d: Diagnostic) {
        d.location = self.index.locate_key(&d.path);
        self.report(d);
    }

    /// The first of `paths` written in the file, else the first: a finding about two
    /// fields, one of them a default, points at the one the user wrote.
    pub(crate) fn written<'p>(&self, paths: &[&'p str]) -> &'p str {
        paths
            .iter()
            .copied()
            .find(|p| self.index.contains(p))
            .unwrap_or(paths[0])
    }

    pub(crate) fn related(&self, path: String, message: String) -> Related {
        Related {
            message,
            path,
            location: None,
        }
    }

    fn name(&mut self, path: String, name: &str, what: &str) {
        if let Err(reason) = formats::dns1123_label(name) {
            self.report(
                Diagnostic::error("invalid-name", path, format!("{what} `{name}` is not a valid name: {reason}"))
                    .with_hint("use a DNS-1123 label: lowercase letters, digits and `-`, at most 63 characters, starting and ending with a letter or digit"),
            );
        }
    }

    /// Reports every repeat of a name among `items` (first use as related location).
    fn unique<'n>(&mut self, items: impl IntoIterator<Item = (String, &'n str)>, what: &str) {
        self.unique_as(
            items,
            what,
            Severity::Error,
            "duplicate-name",
            &format!("every {what} needs its own name"),
        );
    }

    fn unique_as<'n>(
        &mut self,
        items: impl IntoIterator<Item = (String, &'n str)>,
        what: &str,
        severity: Severity,
        code: &'static str,
        hint: &str,
    ) {
        let mut seen: HashMap<&str, String> = HashMap::new();
        for (path, name) in items {
            if let Some(first) = seen.get(name) {
                let related = self.related(first.clone(), "first used here".into());
                let mut d = Diagnostic::error(code, path, format!("{what} `{name}` is used twice"))
                    .with_hint(hint);
                d.severity = severity;
                d.related.push(related);
                self.report(d);
            } else {
                seen.insert(name, path);
            }
        }
    }

    fn secret_ref(&mut self, path: &str, r: &SecretRef) {
        match r {
            SecretRef::Env { env } => {
                if let Err(reason) = formats::env_name(env) {
                    self.report(Diagnostic::error(
                        "invalid-secret-ref",
                        format!("{path}.env"),
                        format!("`{env}` is not an environment variable name: {reason}"),
                    ).with_hint("name the variable that holds the secret, e.g. `{ env: PROXMOX_TOKEN_SECRET }`"));
                }
            }
            SecretRef::Sops { sops_file, key } => {
                if let Err(reason) = formats::repo_relative_path(sops_file) {
                    self.report(
                        Diagnostic::error("invalid-secret-ref", format!("{path}.sopsFile"), format!("sopsFile `{sops_file}` is not usable: {reason}"))
                            .with_hint("SOPS files live in the platform repository, e.g. `secrets/proxmox.sops.yaml`"),
                    );
                }
                if key.is_empty() {
                    self.report(Diagnostic::error(
                        "invalid-secret-ref",
                        format!("{path}.key"),
                        "the key is empty",
                    ).with_hint("name the top-level key of the SOPS file that holds the value, e.g. `key: token`"));
                }
            }
        }
    }

    fn names(&mut self) {
        let p = self.p;
        self.name("metadata.name".into(), &p.metadata.name, "platform name");
        let m = &p.spec.management;
        self.name("spec.management.name".into(), &m.name, "cluster name");
        for (i, c) in p.spec.clusters.iter().enumerate() {
            self.name(format!("spec.clusters[{i}].name"), &c.name, "cluster name");
            for (j, pool) in c.worker_pools.iter().enumerate() {
                self.name(
                    format!("spec.clusters[{i}].workerPools[{j}].name"),
                    &pool.name,
                    "worker pool name",
                );
            }
            self.unique(
                c.worker_pools.iter().enumerate().map(|(j, w)| {
                    (
                        format!("spec.clusters[{i}].workerPools[{j}].name"),
                        w.name.as_str(),
                    )
                }),
                "worker pool name",
            );
        }
        let clusters = std::iter::once(("spec.management.name".to_string(), m.name.as_str()))
            .chain(
                p.spec
                    .clusters
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (format!("spec.clusters[{i}].name"), c.name.as_str())),
            );
        self.unique(clusters, "cluster name");
        for (path, node) in management_nodes(p) {
            self.name(format!("{path}.name"), &node.name, "node name");
        }
        let nodes: Vec<(String, &str)> = management_nodes(p)
            .map(|(path, n)| (format!("{path}.name"), n.name.as_str()))
            .collect();
        self.unique(nodes, "node name");
        for name in p.spec.sizes.keys() {
            self.name(format!("spec.sizes.{name}"), name, "size class name");
        }
    }

    fn git(&mut self) {
        let url = &self.p.spec.git.repo_url;
        if let Err(reason) = formats::git_url(url) {
            self.report(
                Diagnostic::error("git-url", "spec.git.repoURL", format!("`{url}` is not a Git repository URL: {reason}"))
                    .with_hint("use the URL Argo CD clones, e.g. `https://github.com/example/platform.git` or `git@github.com:example/platform.git`"),
            );
        }
        if self.p.spec.git.revision.trim().is_empty() {
            self.report(
                Diagnostic::error("git-url", "spec.git.revision", "the revision is empty")
                    .with_hint("name a branch, tag or commit, e.g. `main`"),
            );
        }
    }

    fn secrets(&mut self) {
        let recipients = &self.p.spec.secrets.age.recipients;
        if recipients.is_empty() {
            self.report(
                Diagnostic::error(
                    "age-recipient",
                    "spec.secrets.age.recipients",
                    "no age recipient: nobody could decrypt the platform's secrets",
                )
                .with_hint(
                    "add your public key (`age-keygen -y ~/.config/sops/age/keys.txt` prints it)",
                ),
            );
        }
        for (i, r) in recipients.iter().enumerate() {
            if let Err(reason) = formats::age_recipient(r) {
                self.report(
                    Diagnostic::error(
                        "age-recipient",
                        format!("spec.secrets.age.recipients[{i}]"),
                        format!("`{r}` is not an age recipient"),
                    )
                    .with_hint(reason),
                );
            }
        }
        self.unique_as(
            recipients
                .iter()
                .enumerate()
                .map(|(i, r)| (format!("spec.secrets.age.recipients[{i}]"), r.as_str())),
            "age recipient",
            Severity::Warning,
            "duplicate-recipient",
            "remove the repeat; it changes nothing",
        );
    }

    fn proxmox(&mut self) {
        let px = &self.p.spec.proxmox;
        match formats::https_url(&px.endpoint) {
            Err(reason) => self.report(
                Diagnostic::error(
                    "proxmox-endpoint",
                    "spec.proxmox.endpoint",
                    format!("`{}` is not a Proxmox API endpoint: {reason}", px.endpoint),
                )
                .with_hint("write the API base, e.g. `https://pve1.lan:8006`"),
            ),
            Ok(u) if !matches!(u.path(), "" | "/") => self.report(
                Diagnostic::error(
                    "proxmox-endpoint",
                    "spec.proxmox.endpoint",
                    format!("the endpoint has a path `{}`", u.path()),
                )
                .with_hint("write only scheme, host and port; `/api2/json` is implied"),
            ),
            Ok(_) => {}
        }
        if let Err(reason) = formats::proxmox_token_id(&px.token_id) {
            self.report(
                Diagnostic::error(
                    "proxmox-token",
                    "spec.proxmox.tokenID",
                    format!("`{}` is not a Proxmox API token ID", px.token_id),
                )
                .with_hint(reason),
            );
        }
        self.secret_ref("spec.proxmox.tokenSecret", &px.token_secret);
        let tls = &px.tls;
        if tls.insecure && (tls.ca_file.is_some() || tls.fingerprint.is_some()) {
            self.report(
                Diagnostic::error("tls-insecure-with-pin", "spec.proxmox.tls.insecure", "`insecure: true` turns off the CA or fingerprint pin that is also set")
                    .with_hint("remove `insecure` to verify against the pin, or remove the pin if verification really must be off"),
            );
        }
        if let Some(fp) = &tls.fingerprint
            && let Err(reason) = formats::sha256_fingerprint(fp)
        {
            self.report(
                Diagnostic::error(
                    "tls-fingerprint",
                    "spec.proxmox.tls.fingerprint",
                    format!("`{fp}` is not a certificate fingerprint"),
                )
                .with_hint(format!(
                    "{reason}; `pvenode cert info` on the Proxmox node prints it"
                )),
            );
        }
        if px.nodes.is_empty() {
            self.report(
                Diagnostic::error(
                    "proxmox-nodes",
                    "spec.proxmox.nodes",
                    "no Proxmox node listed",
                )
                .with_hint("list the Proxmox VE node names VMs may run on, e.g. `[pve1]`"),
            );
        }
        self.unique_as(
            px.nodes
                .iter()
                .enumerate()
                .map(|(i, n)| (format!("spec.proxmox.nodes[{i}]"), n.as_str())),
            "Proxmox node",
            Severity::Error,
            "proxmox-nodes",
            "list each Proxmox VE node once",
        );
        if let Some(vlan) = px.vlan
            && !(1..=4094).contains(&vlan)
        {
            self.report(
                Diagnostic::error(
                    "vlan",
                    "spec.proxmox.vlan",
                    format!("VLAN tag {vlan} is out of range 1-4094"),
                )
                .with_hint("remove `vlan` for an untagged interface"),
            );
        }
    }

    fn talos(&mut self) {
        let t = &self.p.spec.talos;
        let talos = formats::version(&t.version);
        let kube = formats::version(&t.kubernetes_version);
        if let Err(reason) = &talos {
            self.report(
                Diagnostic::error(
                    "version",
                    "spec.talos.version",
                    format!("`{}` is not a Talos version: {reason}", t.version),
                )
                .with_hint("e.g. `v1.11.6`"),
            );
        }
        if let Err(reason) = &kube {
            self.report(
                Diagnostic::error(
                    "version",
                    "spec.talos.kubernetesVersion",
                    format!(
                        "`{}` is not a Kubernetes version: {reason}",
                        t.kubernetes_version
                    ),
                )
                .with_hint("e.g. `v1.33.4`"),
            );
        }
        if let (Ok(tv), Ok(kv)) = (talos, kube) {
            match versions::supported_kubernetes(tv) {
                None => self.report(
                    Diagnostic::error(
                        "talos-version",
                        "spec.talos.version",
                        format!("Talos {} is not a release InfraFlux knows", t.version),
                    )
                    .with_hint(format!(
                        "use one of Talos {}",
                        versions::known_talos_minors()
                    )),
                ),
                Some(range) if !range.contains(kv) => self.report(
                    Diagnostic::error(
                        "kubernetes-version",
                        self.written(&["spec.talos.kubernetesVersion", "spec.talos.version"]),
                        format!(
                            "Talos {} does not support Kubernetes {}",
                            t.version, t.kubernetes_version
                        ),
                    )
                    .with_hint(format!(
                        "Talos v{}.{} supports Kubernetes {} (Talos support matrix)",
                        tv.0, tv.1, range
                    )),
                ),
                Some(_) => {}
            }
        }
        for (i, e) in t.schematic.extensions.iter().enumerate() {
            let ok = e
                .split_once('/')
                .is_some_and(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'));
            if !ok {
                self.report(
                    Diagnostic::error("extension", format!("spec.talos.schematic.extensions[{i}]"), format!("`{e}` is not a system extension name"))
                        .with_hint("official extensions are named `siderolabs/<name>`, e.g. `siderolabs/intel-ucode`"),
                );
            }
        }
        if !t.install_disk.starts_with("/dev/") {
            self.report(
                Diagnostic::error(
                    "install-disk",
                    "spec.talos.installDisk",
                    format!("`{}` is not a device path", t.install_disk),
                )
                .with_hint("e.g. `/dev/sda` (SCSI) or `/dev/vda` (VirtIO block)"),
            );
        }
        if let Err(reason) = formats::https_url(&t.image_factory) {
            self.report(
                Diagnostic::error(
                    "image-factory",
                    "spec.talos.imageFactory",
                    format!(
                        "`{}` is not an Image Factory URL: {reason}",
                        t.image_factory
                    ),
                )
                .with_hint("use `https://factory.talos.dev` or your own factory's https URL"),
            );
        }
        let nodes: Vec<String> = management_nodes(self.p)
            .map(|(_, n)| n.name.clone())
            .collect();
        for (i, patch) in t.patches.iter().enumerate() {
            self.patch(i, patch, &nodes);
        }
    }

    fn patch(&mut self, i: usize, patch: &TalosPatch, nodes: &[String]) {
        let path = format!("spec.talos.patches[{i}]");
        if patch.role.is_some() && patch.node.is_some() {
            self.report(
                Diagnostic::error(
                    "patch-target",
                    format!("{path}.node"),
                    "a patch targets either a role or a node, not both",
                )
                .with_hint("split it into two patches"),
            );
        }
        if let Some(node) = &patch.node
            && !nodes.contains(node)
        {
            let mut d = Diagnostic::error(
                "patch-target",
                format!("{path}.node"),
                format!("no management node is named `{node}`"),
            );
            d.hint = Some(suggest(node, nodes.iter().map(String::as_str), || {
                format!("nodes: {}", one_of(nodes))
            }));
            self.report(d);
        }
        let patch_path = format!("{path}.patch");
        match &patch.patch {
            serde_json::Value::Object(map) => {
                let documented = ["version", "debug", "persist", "machine", "cluster"];
                let is_document = map.contains_key("apiVersion") && map.contains_key("kind");
                for key in map.keys() {
                    if !is_document && !documented.contains(&key.as_str()) {
                        let mut d = Diagnostic::error(
                            "patch",
                            format!("{patch_path}.{key}"),
                            format!("`{key}` is not a top-level field of a Talos machine config"),
                        );
                        d.hint = Some(suggest(key, documented, || {
                            "a strategic-merge patch starts at `machine:` or `cluster:`".into()
                        }));
                        self.report(d);
                    }
                }
            }
            serde_json::Value::Array(ops) => {
                for (j, op) in ops.iter().enumerate() {
                    if let Err(reason) = json_patch_op(op) {
                        self.report(
                            Diagnostic::error("patch", format!("{patch_path}[{j}]"), format!("not an RFC 6902 operation: {reason}"))
                                .with_hint("write `{op: add|remove|replace|move|copy|test, path: /machine/…, value: …}`"),
                        );
                    }
                }
            }
            _ => self.report(
                Diagnostic::error(
                    "patch",
                    patch_path,
                    "a patch is a mapping (strategic merge) or a list of RFC 6902 operations",
                )
                .with_hint("e.g. `patch: {machine: {sysctls: {vm.nr_hugepages: \"128\"}}}`"),
            ),
        }
    }

    fn sizes(&mut self) {
        // Talos system requirements (talos.dev "System Requirements"): control planes need
        // 2 GiB of memory and 2 cores, workers 1 GiB and 1 core; both 10 GiB of disk.
        for (name, s) in &self.p.spec.sizes {
            let path = format!("spec.sizes.{name}");
            if s.cores == 0 || s.memory_mib < 1024 || s.disk_gib < 10 {
                self.report(
                    Diagnostic::error("size-minimum", path, format!("size `{name}` is below what Talos needs on any node"))
                        .with_hint("Talos needs at least 1 core, 1024 MiB of memory and 10 GiB of disk (2 cores and 2048 MiB on control planes)"),
                );
            }
        }
        let known: Vec<String> = self.p.spec.sizes.keys().cloned().collect();
        // (path, size, for a control plane, inherited from the cluster's `size`)
        let mut refs: Vec<(String, String, bool, bool)> = Vec::new();
        for (path, node) in management_nodes(self.p) {
            let control_plane = path.contains("controlPlanes");
            refs.push((
                format!("{path}.size"),
                node.size.clone(),
                control_plane,
                false,
            ));
        }
        for (i, c) in self.p.spec.clusters.iter().enumerate() {
            let path = format!("spec.clusters[{i}]");
            refs.push((format!("{path}.size"), c.size.clone(), false, false));
            let inherited = |p: &str| !self.index.contains(p);
            if let Some(s) = &c.control_plane.size {
                let p = format!("{path}.controlPlane.size");
                refs.push((p.clone(), s.clone(), true, inherited(&p)));
            }
            for (j, w) in c.worker_pools.iter().enumerate() {
                if let Some(s) = &w.size {
                    let p = format!("{path}.workerPools[{j}].size");
                    refs.push((p.clone(), s.clone(), false, inherited(&p)));
                }
            }
        }
        for (path, size, control_plane, inherited) in refs {
            match self.p.spec.sizes.get(&size) {
                // An unknown size inherited from the cluster is reported once, at the cluster.
                None if inherited => {}
                None => {
                    let mut d = Diagnostic::error(
                        "unknown-size",
                        path,
                        format!("size class `{size}` does not exist"),
                    );
                    d.hint = Some(suggest(&size, known.iter().map(String::as_str), || {
                        format!(
                            "defined sizes: {}; add more under `spec.sizes`",
                            one_of(&known)
                        )
                    }));
                    self.report(d);
                }
                Some(s) if control_plane && (s.cores < 2 || s.memory_mib < 2048) => self.report(
                    Diagnostic::error(
                        "size-minimum",
                        if inherited {
                            path.replace(".controlPlane.size", ".size")
                        } else {
                            path
                        },
                        format!(
                            "size `{size}` is too small for a control plane ({} core{}, {} MiB)",
                            s.cores,
                            if s.cores == 1 { "" } else { "s" },
                            s.memory_mib
                        ),
                    )
                    .with_hint("Talos control planes need at least 2 cores and 2048 MiB of memory"),
                ),
                Some(_) => {}
            }
        }
    }

    fn proxmox_node_ref(&mut self, path: String, node: &str) {
        let known = &self.p.spec.proxmox.nodes;
        if !known.iter().any(|k| k == node) {
            let mut d = Diagnostic::error(
                "unknown-proxmox-node",
                path,
                format!("`{node}` is not one of `proxmox.nodes`"),
            );
            d.hint = Some(suggest(node, known.iter().map(String::as_str), || {
                format!(
                    "Proxmox nodes: {}; add it to `spec.proxmox.nodes` if it exists",
                    one_of(known)
                )
            }));
            self.report(d);
        }
    }

    fn control_plane_count(&mut self, path: String, count: usize, cluster: &str) {
        if count == 0 {
            self.report(
                Diagnostic::error(
                    "control-plane-count",
                    path,
                    format!("cluster `{cluster}` has no control plane"),
                )
                .with_hint("a cluster needs 1, 3 or 5 control planes"),
            );
        } else if count.is_multiple_of(2) {
            self.report(
                Diagnostic::error("control-plane-count", path, format!("cluster `{cluster}` has {count} control planes; etcd needs an odd number"))
                    .with_hint(format!(
                        "{count} etcd members tolerate no more failures than {} do, and a network split can leave neither half with a quorum; use {} or {}",
                        count - 1,
                        count - 1,
                        count + 1
                    )),
            );
        } else if count == 1 {
            self.report(
                Diagnostic::warning("single-control-plane", path, format!("cluster `{cluster}` has a single control plane: losing it loses the cluster's API and etcd"))
                    .with_hint("use 3 control planes for high availability; keep etcd backups on"),
            );
        } else if count > 5 {
            self.report(
                Diagnostic::warning("control-plane-count", path, format!("cluster `{cluster}` has {count} control planes; etcd writes slow down with every member"))
                    .with_hint("etcd recommends 3 or 5 members; 7 only for very large clusters"),
            );
        }
    }

    fn node_labels(&mut self, path: &str, labels: &BTreeMap<String, String>, taints: &[Taint]) {
        for (k, v) in labels {
            let lp = crate::spans::join_key(&format!("{path}.labels"), k);
            if let Err(reason) = formats::label_key(k) {
                self.report_at_key(Diagnostic::error(
                    "label",
                    lp.clone(),
                    format!("`{k}` is not a label key: {reason}"),
                ).with_hint("label keys are `[prefix/]name`: a DNS subdomain prefix, then up to 63 letters, digits, `-`, `_`, `.`"));
            }
            if let Err(reason) = formats::label_value(v) {
                self.report(Diagnostic::error(
                    "label",
                    lp,
                    format!("`{v}` is not a label value: {reason}"),
                ).with_hint("label values are empty or up to 63 letters, digits, `-`, `_`, `.`, starting and ending with a letter or digit"));
            }
        }
        for (i, t) in taints.iter().enumerate() {
            if let Err(reason) = formats::label_key(&t.key) {
                self.report(
                    Diagnostic::error(
                        "label",
                        format!("{path}.taints[{i}].key"),
                        format!("`{}` is not a taint key: {reason}", t.key),
                    )
                    .with_hint("taint keys follow label key syntax: `[prefix/]name`"),
                );
            }
        }
    }

    fn management(&mut self) {
        let m = &self.p.spec.management;
        self.control_plane_count(
            "spec.management.controlPlanes".into(),
            m.control_planes.len(),
            &m.name,
        );
        let mut vmids: Vec<(String, String)> = Vec::new();
        for (path, node) in management_nodes(self.p) {
            self.proxmox_node_ref(format!("{path}.proxmoxNode"), &node.proxmox_node);
            self.node_labels(&path, &node.labels, &node.taints);
            if let Some(vmid) = node.vmid {
                if !(100..=999_999_999).contains(&vmid) {
                    self.report(
                        Diagnostic::error(
                            "vmid",
                            format!("{path}.vmid"),
                            format!("VM ID {vmid} is out of range 100-999999999"),
                        )
                        .with_hint("Proxmox reserves IDs below 100"),
                    );
                }
                vmids.push((format!("{path}.vmid"), vmid.to_string()));
            }
        }
        self.unique_as(
            vmids.iter().map(|(p, v)| (p.clone(), v.as_str())),
            "VM ID",
            Severity::Error,
            "vmid",
            "every VM needs its own ID; remove `vmid` to let bootstrap choose a free one",
        );
    }

    fn clusters(&mut self) {
        for (i, c) in self.p.spec.clusters.iter().enumerate() {
            let path = format!("spec.clusters[{i}]");
            self.control_plane_count(
                format!("{path}.controlPlane.replicas"),
                c.control_plane.replicas as usize,
                &c.name,
            );
            // Inherited from `proxmox.nodes` when not written, and valid by definition then.
            if self.index.contains(&format!("{path}.proxmoxNodes")) {
                for (j, n) in c.proxmox_nodes.iter().enumerate() {
                    self.proxmox_node_ref(format!("{path}.proxmoxNodes[{j}]"), n);
                }
            }
            for (j, w) in c.worker_pools.iter().enumerate() {
                self.node_labels(&format!("{path}.workerPools[{j}]"), &w.labels, &w.taints);
            }
        }
    }

    fn cilium(&mut self) {
        let cilium = &self.p.spec.cilium;
        let kpr = cilium.kube_proxy_replacement;
        let needs_kpr = |feature: &str, path: &str| {
            (!kpr).then(|| {
                Diagnostic::error("cilium-kube-proxy-replacement", path.to_string(), format!("{feature} needs `kubeProxyReplacement: true`"))
                    .with_hint("Cilium implements this on top of its kube-proxy replacement; turn it on (Talos then runs without kube-proxy)")
            })
        };
        let mut found = Vec::new();
        // Cilium docs: the egress gateway needs BPF masquerading and kube-proxy replacement;
        // XDP acceleration is part of the kube-proxy replacement's load balancer.
        if cilium.egress_gateway {
            found.extend(needs_kpr("the egress gateway", "spec.cilium.egressGateway"));
        }
        if cilium.load_balancer.acceleration != Acceleration::Disabled {
            found.extend(needs_kpr(
                "XDP acceleration",
                "spec.cilium.loadBalancer.acceleration",
            ));
        }
        for d in found {
            self.report(d);
        }
        // The cilium 1.18 chart's validation template fails both without `l7Proxy`.
        let l7 = cilium.service_mesh.l7_proxy;
        for (on, feature, path) in [
            (
                cilium.ingress_controller.enabled,
                "the Cilium Ingress controller",
                "spec.cilium.ingressController.enabled",
            ),
            (
                cilium.gateway_api,
                "Gateway API support",
                "spec.cilium.gatewayAPI",
            ),
        ] {
            if on && !l7 {
                let path = self.written(&[path, "spec.cilium.serviceMesh.l7Proxy"]);
                self.report(
                    Diagnostic::error("cilium-l7-proxy", path, format!("{feature} needs the L7 proxy"))
                        .with_hint("set `serviceMesh.l7Proxy: true`: Envoy serves the Ingress and Gateway listeners"),
                );
            }
        }
        if cilium.ingress_controller.default && !cilium.ingress_controller.enabled {
            self.report(
                Diagnostic::error(
                    "cilium-ingress",
                    "spec.cilium.ingressController.default",
                    "the Ingress controller is the default class but is not enabled",
                )
                .with_hint("set `enabled: true`, or drop `default`"),
            );
        }
        // Cilium 1.18 IPsec docs, Limitations: "Host Policies are not currently supported
        // with IPsec encryption."
        if cilium.encryption == Encryption::Ipsec && cilium.host_firewall {
            self.report(
                Diagnostic::error("cilium-encryption", "spec.cilium.hostFirewall", "the host firewall does not work with IPsec encryption")
                    .with_hint("Cilium does not support host policies with IPsec; use `encryption: wireguard` or turn the host firewall off"),
            );
        }
        // Cilium WireGuard docs: with the kube-proxy replacement's XDP acceleration, N/S
        // load-balancer traffic that a node redirects to another node, and egress gateway
        // replies, leave unencrypted.
        if cilium.encryption == Encryption::Wireguard
            && cilium.load_balancer.acceleration != Acceleration::Disabled
        {
            self.report(
                Diagnostic::warning("cilium-encryption", "spec.cilium.loadBalancer.acceleration", "with XDP acceleration, WireGuard does not encrypt LoadBalancer/NodePort traffic redirected between nodes, nor egress gateway replies")
                    .with_hint("set `acceleration: disabled` if all node-to-node traffic must be encrypted"),
            );
        }
        if cilium.bandwidth_manager.bbr && !cilium.bandwidth_manager.enabled {
            self.report(
                Diagnostic::error(
                    "cilium-bandwidth",
                    "spec.cilium.bandwidthManager.bbr",
                    "BBR needs the bandwidth manager",
                )
                .with_hint("set `bandwidthManager.enabled: true`"),
            );
        }
        let h = &cilium.hubble;
        if h.ui && !h.relay {
            self.report(
                Diagnostic::error(
                    "hubble",
                    "spec.cilium.hubble.ui",
                    "Hubble UI needs Hubble Relay",
                )
                .with_hint("set `relay: true`, or `ui: false`"),
            );
        }
        const METRICS: [&str; 13] = [
            "dns",
            "drop",
            "tcp",
            "flow",
            "port-distribution",
            "icmp",
            "http",
            "httpV2",
            "kafka",
            "policy",
            "flows-to-world",
            "sctp",
            "dynamic",
        ];
        for (i, m) in h.metrics.iter().enumerate() {
            let base = m.split(':').next().unwrap_or_default();
            if !METRICS.contains(&base) {
                let mut d = Diagnostic::error(
                    "hubble-metric",
                    format!("spec.cilium.hubble.metrics[{i}]"),
                    format!("`{base}` is not a Hubble metric"),
                );
                d.hint = Some(suggest(base, METRICS, || {
                    format!("Hubble metrics: {}", METRICS.join(", "))
                }));
                self.report(d);
            }
        }
        let mesh = &cilium.cluster_mesh;
        let clusters = 1 + self.p.spec.clusters.len() as u64;
        let last = u64::from(mesh.cluster_id) + clusters - 1;
        if mesh.enabled && mesh.cluster_id == 0 {
            self.report(
                Diagnostic::error("cluster-mesh", "spec.cilium.clusterMesh.clusterID", "cluster ID 0 means \"not in a mesh\" to Cilium")
                    .with_hint("give the management cluster an ID from 1 to 255; workload clusters take the next ones"),
            );
        } else if mesh.enabled && last > 255 {
            self.report(
                Diagnostic::error("cluster-mesh", "spec.cilium.clusterMesh.clusterID", format!("cluster IDs {}-{last} do not fit in 1-255", mesh.cluster_id))
                    .with_hint(format!("the management cluster takes `clusterID` and the {} workload cluster(s) the next IDs; use at most {}", clusters - 1, 256 - clusters)),
            );
        }
    }

    fn components(&mut self) {
        let c = &self.p.spec.components;
        if let Some(acme) = &c.cert_manager.acme {
            let base = "spec.components.certManager.acme";
            if !acme.email.contains('@') || acme.email.starts_with('@') || acme.email.ends_with('@')
            {
                self.report(
                    Diagnostic::error(
                        "acme",
                        format!("{base}.email"),
                        format!("`{}` is not an e-mail address", acme.email),
                    )
                    .with_hint("Let's Encrypt sends expiry notices there"),
                );
            }
            self.secret_ref(&format!("{base}.dns01.apiToken"), &acme.dns01.api_token);
            if !c.cert_manager.enabled {
                self.report(
                    Diagnostic::warning(
                        "component-disabled",
                        "spec.components.certManager.enabled",
                        "cert-manager is disabled, so its ACME settings are unused",
                    )
                    .with_hint("remove `acme`, or enable cert-manager"),
                );
            }
        }
        let dns = &c.external_dns;
        if dns.enabled {
            let base = "spec.components.externalDNS";
            if dns.provider.is_none() {
                self.report(
                    Diagnostic::error(
                        "external-dns",
                        format!("{base}.provider"),
                        "external-dns needs a DNS provider",
                    )
                    .with_hint("set `provider:`, e.g. `cloudflare`"),
                );
            }
            if dns.domain_filters.is_empty() {
                self.report(
                    Diagnostic::warning("external-dns", base.to_string(), "external-dns has no `domainFilters`: it may change records in every zone the token can reach")
                        .with_hint("list the domains it manages, e.g. `domainFilters: [example.com]`"),
                );
            }
            for (i, d) in dns.domain_filters.iter().enumerate() {
                if let Err(reason) = formats::dns1123_subdomain(d) {
                    self.report(
                        Diagnostic::error(
                            "external-dns",
                            format!("{base}.domainFilters[{i}]"),
                            format!("`{d}` is not a domain: {reason}"),
                        )
                        .with_hint("write a DNS domain such as `example.com`"),
                    );
                }
            }
            match &dns.credentials {
                // Credentials shared from cert-manager were checked there.
                Some(r) if self.index.contains(&format!("{base}.credentials")) => self.secret_ref(&format!("{base}.credentials"), r),
                Some(_) => {}
                None if dns.provider.is_some() => self.report(
                    Diagnostic::error("external-dns", base.to_string(), "external-dns has no credentials")
                        .with_hint("set `credentials:` (a secret reference), or use the same provider for cert-manager's DNS-01 to share its token"),
                ),
                None => {}
            }
        }
        let lh = &c.longhorn;
        if lh.enabled {
            let base = "spec.components.longhorn";
            let nodes = self.p.schedulable_management_nodes();
            if lh.replicas == 0 {
                self.report(Diagnostic::error(
                    "longhorn-replicas",
                    format!("{base}.replicas"),
                    "Longhorn needs at least one replica per volume",
                ).with_hint("set `replicas:` between 1 and the number of schedulable nodes (3 is usual)"));
            } else if lh.replicas as usize > nodes {
                self.report(
                    Diagnostic::error(
                        "longhorn-replicas",
                        format!("{base}.replicas"),
                        format!("{} replicas need {} schedulable nodes, the management cluster has {nodes}", lh.replicas, lh.replicas),
                    )
                    .with_hint(format!("Longhorn places each replica on a different node: set `replicas: {nodes}` or add workers")),
                );
            }
            if let Some(t) = &lh.backup_target {
                let scheme = t.split_once("://").map(|(s, _)| s);
                if !matches!(scheme, Some("s3" | "nfs" | "cifs" | "azblob")) {
                    self.report(
                        Diagnostic::error("longhorn-backup-target", format!("{base}.backupTarget"), format!("`{t}` is not a Longhorn backup target"))
                            .with_hint("use `s3://BUCKET@REGION/PATH`, `nfs://HOST:/PATH`, `cifs://HOST/SHARE` or `azblob://CONTAINER@ENDPOINT/PATH`"),
                    );
                } else if scheme == Some("s3") && lh.backup_credentials.is_none() {
                    self.report(
                        Diagnostic::error(
                            "longhorn-backup-target",
                            format!("{base}.backupTarget"),
                            "an S3 backup target needs credentials",
                        )
                        .with_hint(
                            "set `backupCredentials:` to a SOPS file key holding the access keys",
                        ),
                    );
                }
            }
            if let Some(r) = &lh.backup_credentials {
                self.secret_ref(&format!("{base}.backupCredentials"), r);
            }
        }
        let mon = &c.monitoring;
        if let Err(reason) = formats::prometheus_duration(&mon.retention) {
            self.report(
                Diagnostic::error(
                    "duration",
                    "spec.components.monitoring.retention",
                    format!("`{}` is not a Prometheus duration", mon.retention),
                )
                .with_hint(reason),
            );
        }
        if mon.storage_gib == 0 {
            self.report(
                Diagnostic::error(
                    "monitoring",
                    "spec.components.monitoring.storageGiB",
                    "Prometheus needs a volume of at least 1 GiB",
                )
                .with_hint("50 GiB holds about two weeks of a small cluster's metrics"),
            );
        }
        if let Some(host) = &mon.grafana.host {
            let path = "spec.components.monitoring.grafana.host";
            if let Err(reason) = formats::dns1123_subdomain(host) {
                self.report(
                    Diagnostic::error(
                        "hostname",
                        path,
                        format!("`{host}` is not a host name: {reason}"),
                    )
                    .with_hint("write a DNS name such as `grafana.example.com`"),
                );
            } else if dns.enabled
                && !dns.domain_filters.is_empty()
                && !dns
                    .domain_filters
                    .iter()
                    .any(|d| host == d || host.ends_with(&format!(".{d}")))
            {
                self.report(
                    Diagnostic::warning("hostname", path, format!("`{host}` is outside external-dns's domainFilters, so no DNS record will be made for it"))
                        .with_hint("add its domain to `externalDNS.domainFilters`, or create the record yourself"),
                );
            }
        }
        let mut policies = c.tetragon.policies.clone();
        policies.sort();
        if policies.windows(2).any(|w| w[0] == w[1]) {
            self.report(
                Diagnostic::warning(
                    "tetragon",
                    "spec.components.tetragon.policies",
                    "a Tetragon policy is listed twice",
                )
                .with_hint("list each policy once"),
            );
        }
        let b = &c.etcd_backup;
        if b.enabled {
            let base = "spec.components.etcdBackup";
            if let Err(reason) = formats::cron(&b.schedule) {
                self.report(
                    Diagnostic::error(
                        "cron",
                        format!("{base}.schedule"),
                        format!("`{}` is not a cron schedule: {reason}", b.schedule),
                    )
                    .with_hint("e.g. `0 2 * * *` (daily at 02:00)"),
                );
            }
            if b.keep == 0 {
                self.report(
                    Diagnostic::error(
                        "etcd-backup",
                        format!("{base}.keep"),
                        "keeping 0 snapshots deletes every backup",
                    )
                    .with_hint("keep at least 1; 7-30 is usual"),
                );
            }
            match &b.s3 {
                None => self.report(
                    Diagnostic::error(
                        "etcd-backup",
                        base.to_string(),
                        "etcd backups need an S3 bucket",
                    )
                    .with_hint(
                        "add `s3: {bucket, endpoint, credentials}`, or disable etcd backups",
                    ),
                ),
                Some(s3) => {
                    if let Err(reason) = formats::https_url(&s3.endpoint) {
                        self.report(Diagnostic::error(
                            "etcd-backup",
                            format!("{base}.s3.endpoint"),
                            format!("`{}` is not an S3 endpoint: {reason}", s3.endpoint),
                        ).with_hint("write the S3 API URL, e.g. `https://s3.us-east-1.amazonaws.com` or your MinIO URL"));
                    }
                    if s3.bucket.is_empty() {
                        self.report(
                            Diagnostic::error(
                                "etcd-backup",
                                format!("{base}.s3.bucket"),
                                "the bucket name is empty",
                            )
                            .with_hint("name the bucket the snapshots go to"),
                        );
                    }
                    self.secret_ref(&format!("{base}.s3.credentials"), &s3.credentials);
                }
            }
        }
    }

    fn tenancy(&mut self) {
        // Namespaces Kubernetes and the platform's own components own.
        const RESERVED: [&str; 13] = [
            "default",
            "kube-system",
            "kube-public",
            "kube-node-lease",
            "argocd",
            "cert-manager",
            "cilium-secrets",
            "external-dns",
            "external-secrets",
            "longhorn-system",
            "monitoring",
            "etcd-backup",
            "capi-system",
        ];
        let namespaces = &self.p.spec.tenancy.namespaces;
        for (i, ns) in namespaces.iter().enumerate() {
            let path = format!("spec.tenancy.namespaces[{i}]");
            self.name(format!("{path}.name"), &ns.name, "namespace name");
            if RESERVED.contains(&ns.name.as_str()) {
                self.report(
                    Diagnostic::error(
                        "reserved-namespace",
                        format!("{path}.name"),
                        format!(
                            "`{}` belongs to Kubernetes or the platform, not to a tenant",
                            ns.name
                        ),
                    )
                    .with_hint("pick another name for the tenant namespace"),
                );
            }
            if let Some(q) = &ns.quota {
                for (field, v) in [("cpu", &q.cpu), ("memory", &q.memory)] {
                    if !v.is_valid() {
                        self.report(
                            Diagnostic::error(
                                "quantity",
                                format!("{path}.quota.{field}"),
                                format!("`{v}` is not a Kubernetes quantity"),
                            )
                            .with_hint("e.g. `\"8\"`, `500m` for CPU; `16Gi`, `512Mi` for memory"),
                        );
                    }
                }
            }
        }
        self.unique(
            namespaces.iter().enumerate().map(|(i, n)| {
                (
                    format!("spec.tenancy.namespaces[{i}].name"),
                    n.name.as_str(),
                )
            }),
            "namespace",
        );
    }
}

/// Every management node with its path.
pub(crate) fn management_nodes(p: &Platform) -> impl Iterator<Item = (String, &Node)> {
    let m = &p.spec.management;
    let cps = m
        .control_planes
        .iter()
        .enumerate()
        .map(|(i, n)| (format!("spec.management.controlPlanes[{i}]"), n));
    let workers = m
        .workers
        .iter()
        .enumerate()
        .map(|(i, n)| (format!("spec.management.workers[{i}]"), n));
    cps.chain(workers)
}

/// Checks the shape of one RFC 6902 operation.
fn json_patch_op(op: &serde_json::Value) -> Result<(), String> {
    let obj = op.as_object().ok_or("an operation is a mapping")?;
    let name = obj
        .get("op")
        .and_then(|v| v.as_str())
        .ok_or("`op` is missing")?;
    let path = obj
        .get("path")
        .and_then(|v| v.as_str())
        .ok_or("`path` is missing")?;
    if !path.is_empty() && !path.starts_with('/') {
        return Err(format!("`path` `{path}` must start with `/`"));
    }
    match name {
        "add" | "replace" | "test" if !obj.contains_key("value") => {
            Err(format!("`{name}` needs a `value`"))
        }
        "move" | "copy" if !obj.get("from").is_some_and(|v| v.is_string()) => {
            Err(format!("`{name}` needs a `from`"))
        }
        "add" | "replace" | "test" | "move" | "copy" | "remove" => Ok(()),
        other => Err(format!(
            "`{other}` is not an operation (add, remove, replace, move, copy, test)"
        )),
    }
}
