//! Address plan checks: CIDRs, the node subnet, every address and pool.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::Checker;
use crate::diagnostic::Diagnostic;
use crate::model::LoadBalancerMode;
use crate::range::IpRange;

/// One use of node-subnet addresses.
struct Claim {
    range: IpRange,
    single: bool,
    what: String,
    path: String,
}

fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(b) || b.contains(a)
}

impl Checker<'_> {
    fn disjoint(&mut self, nets: &[(&str, Ipv4Net, String)]) {
        for (i, (a_name, a, a_path)) in nets.iter().enumerate() {
            for (b_name, b, b_path) in &nets[i + 1..] {
                if overlaps(a, b) {
                    // Point at the one the user wrote when the other is a default.
                    let ((a_name, a, a_path), (b_name, b, b_path)) =
                        if self.index.contains(b_path) || !self.index.contains(a_path) {
                            ((a_name, a, a_path), (b_name, b, b_path))
                        } else {
                            ((b_name, b, b_path), (a_name, a, a_path))
                        };
                    let related = self.related(a_path.clone(), format!("{a_name} {a}"));
                    let mut d = Diagnostic::error("cidr-overlap", b_path.clone(), format!("{b_name} {b} overlaps {a_name} {a}"))
                        .with_hint("node, pod and service CIDRs must not share addresses, or routing breaks; pick disjoint ranges");
                    d.related.push(related);
                    self.report(d);
                }
            }
        }
    }

    pub(super) fn network(&mut self) {
        let n = &self.p.spec.network;
        let global = [
            ("nodeCIDR", n.node_cidr, "spec.network.nodeCIDR".to_string()),
            ("podCIDR", n.pod_cidr, "spec.network.podCIDR".into()),
            (
                "serviceCIDR",
                n.service_cidr,
                "spec.network.serviceCIDR".into(),
            ),
        ];
        let mut nets = global.to_vec();
        for (i, c) in self.p.spec.clusters.iter().enumerate() {
            nets.extend(
                c.pod_cidr
                    .map(|net| ("podCIDR", net, format!("spec.clusters[{i}].podCIDR"))),
            );
            nets.extend(c.service_cidr.map(|net| {
                (
                    "serviceCIDR",
                    net,
                    format!("spec.clusters[{i}].serviceCIDR"),
                )
            }));
        }
        for (name, net, path) in nets {
            if net.addr() != net.network() && self.index.contains(&path) {
                self.report(
                    Diagnostic::error(
                        "cidr-host-bits",
                        path,
                        format!("{name} {net} has host bits set"),
                    )
                    .with_hint(format!("write the network address: `{}`", net.trunc())),
                );
            }
        }
        self.disjoint(&global);
        for (i, c) in self.p.spec.clusters.iter().enumerate() {
            let (Some(pod), Some(svc)) = (c.pod_cidr, c.service_cidr) else {
                continue;
            };
            // Only what the cluster sets itself; inherited CIDRs were checked above.
            let path = format!("spec.clusters[{i}]");
            if self.index.contains(&format!("{path}.podCIDR"))
                || self.index.contains(&format!("{path}.serviceCIDR"))
            {
                self.disjoint(&[
                    ("nodeCIDR", n.node_cidr, "spec.network.nodeCIDR".into()),
                    ("podCIDR", pod, format!("{path}.podCIDR")),
                    ("serviceCIDR", svc, format!("{path}.serviceCIDR")),
                ]);
            }
        }
        if self.p.spec.cilium.cluster_mesh.enabled {
            // Cluster Mesh routes pods between clusters: their pod CIDRs must be unique.
            let mut pods = vec![(
                "podCIDR of the management cluster",
                n.pod_cidr,
                "spec.network.podCIDR".to_string(),
            )];
            for (i, c) in self.p.spec.clusters.iter().enumerate() {
                pods.push((
                    "podCIDR of a workload cluster",
                    c.pod_cidr.unwrap_or(n.pod_cidr),
                    format!("spec.clusters[{i}].podCIDR"),
                ));
            }
            for (i, (_, a, a_path)) in pods.iter().enumerate() {
                for (_, b, b_path) in &pods[i + 1..] {
                    if overlaps(a, b) {
                        let related = self.related(a_path.clone(), format!("{a} used here"));
                        let mut d = Diagnostic::error("cidr-overlap", b_path.clone(), format!("pod CIDR {b} overlaps pod CIDR {a} of another cluster in the mesh"))
                            .with_hint("with Cluster Mesh every cluster needs its own pod CIDR: set `podCIDR` on each workload cluster");
                        d.related.push(related);
                        self.report(d);
                    }
                }
            }
        }
        if !(1280..=9000).contains(&n.mtu) {
            self.report(
                Diagnostic::error(
                    "mtu",
                    "spec.network.mtu",
                    format!("MTU {} is out of range 1280-9000", n.mtu),
                )
                .with_hint("1500 unless the network is configured for jumbo frames"),
            );
        }

        let cilium = &self.p.spec.cilium;
        if let Some(bgp) = &n.bgp {
            self.asn("spec.network.bgp.localASN".into(), bgp.local_asn, false);
            for (i, peer) in bgp.peers.iter().enumerate() {
                self.asn(format!("spec.network.bgp.peers[{i}].asn"), peer.asn, true);
            }
            if bgp.peers.is_empty() {
                self.report(
                    Diagnostic::error("bgp", "spec.network.bgp.peers", "BGP has no peers")
                        .with_hint(
                            "add the router(s): `peers: [{address: 192.168.10.1, asn: 64513}]`",
                        ),
                );
            }
            if !cilium.bgp_control_plane {
                self.report(
                    Diagnostic::warning("bgp", "spec.network.bgp", "BGP peers are configured but Cilium's BGP control plane is off, so they are unused")
                        .with_hint("set `cilium.bgpControlPlane: true`, or remove `network.bgp`"),
                );
            }
        }
        if n.load_balancer.mode == LoadBalancerMode::Bgp {
            if n.bgp.is_none() {
                self.report(
                    Diagnostic::error("bgp", "spec.network.loadBalancer.mode", "`mode: bgp` needs BGP peers in `network.bgp`")
                        .with_hint("add `network.bgp: {localASN: 64512, peers: [{address: …, asn: …}]}`, or use `mode: l2`"),
                );
            }
            if !cilium.bgp_control_plane {
                self.report(
                    Diagnostic::error(
                        "bgp",
                        "spec.network.loadBalancer.mode",
                        "`mode: bgp` needs Cilium's BGP control plane",
                    )
                    .with_hint("set `cilium.bgpControlPlane: true`"),
                );
            }
        }
        if n.load_balancer.pools.is_empty()
            && (cilium.gateway_api || cilium.ingress_controller.enabled)
        {
            self.report(
                Diagnostic::warning("load-balancer-pool", "spec.network.loadBalancer", "no LoadBalancer pool: the platform Gateway and Ingress get no address")
                    .with_hint("add a free range of the node subnet, e.g. `pools: [192.168.10.200-192.168.10.220]`"),
            );
        }
    }

    /// ASNs: RFC 7607 forbids 0, RFC 6793 reserves 23456 (AS_TRANS), RFC 7300 reserves
    /// 65535 and 4294967295. Cilium takes peer ASN 0 as "learn it from the peer's OPEN".
    fn asn(&mut self, path: String, asn: u32, peer: bool) {
        let reason = match asn {
            0 if peer => return,
            0 => "AS 0 is not allowed in BGP (RFC 7607)",
            23456 => "AS 23456 is AS_TRANS, reserved for 4-byte ASN transition (RFC 6793)",
            65535 | 4_294_967_295 => "it is a reserved last ASN (RFC 7300)",
            _ => return,
        };
        self.report(
            Diagnostic::error(
                "bgp-asn",
                path,
                format!("ASN {asn} cannot be used: {reason}"),
            )
            .with_hint("use a private ASN: 64512-65534 or 4200000000-4294967294 (RFC 6996)"),
        );
    }

    pub(super) fn addresses(&mut self) {
        let spec = &self.p.spec;
        let cidr = spec.network.node_cidr;
        let single = |ip: Ipv4Addr, what: String, path: String| Claim {
            range: IpRange::new(ip, ip),
            single: true,
            what,
            path,
        };
        let pool = |range: IpRange, what: String, path: String| Claim {
            range,
            single: false,
            what,
            path,
        };
        let mut claims = vec![single(
            spec.network.gateway,
            "the gateway".into(),
            "spec.network.gateway".into(),
        )];
        let m = &spec.management;
        claims.push(single(
            m.endpoint.vip,
            format!("the VIP of cluster `{}`", m.name),
            "spec.management.endpoint.vip".into(),
        ));
        for (path, node) in super::management_nodes(self.p) {
            claims.push(single(
                node.ip,
                format!("node `{}`", node.name),
                format!("{path}.ip"),
            ));
        }
        for (i, c) in spec.clusters.iter().enumerate() {
            claims.push(single(
                c.endpoint.vip,
                format!("the VIP of cluster `{}`", c.name),
                format!("spec.clusters[{i}].endpoint.vip"),
            ));
            claims.push(pool(
                c.ip_pool,
                format!("the IP pool of cluster `{}`", c.name),
                format!("spec.clusters[{i}].ipPool"),
            ));
        }
        for (i, r) in spec.network.load_balancer.pools.iter().enumerate() {
            claims.push(pool(
                *r,
                "a LoadBalancer pool".into(),
                format!("spec.network.loadBalancer.pools[{i}]"),
            ));
        }

        let mut usable = Vec::new();
        for claim in claims {
            if !claim.range.is_well_formed() {
                self.report(
                    Diagnostic::error(
                        "invalid-range",
                        claim.path,
                        format!("range {} runs backwards", claim.range),
                    )
                    .with_hint("write the lower address first: `START-END`"),
                );
                continue;
            }
            let reserved = [cidr.network(), cidr.broadcast()];
            let what = if claim.single {
                format!("{} ({})", claim.what, claim.range.start)
            } else {
                format!("{} {}", claim.what, claim.range)
            };
            if !claim.range.within(&cidr) {
                let verb = if claim.single
                    || !(cidr.contains(&claim.range.start) || cidr.contains(&claim.range.end))
                {
                    "is outside"
                } else {
                    "reaches outside"
                };
                self.report(
                    Diagnostic::error("outside-node-cidr", claim.path.clone(), format!("{what} {verb} nodeCIDR {cidr}"))
                        .with_hint("node addresses, VIPs and pools must be in the node subnet; fix the address or `network.nodeCIDR`"),
                );
            } else if cidr.prefix_len() < 31 && reserved.iter().any(|r| claim.range.contains(*r)) {
                let which = if claim.range.contains(cidr.network()) {
                    "network"
                } else {
                    "broadcast"
                };
                self.report(
                    Diagnostic::error(
                        "reserved-address",
                        claim.path.clone(),
                        if claim.single {
                            format!("{what} is the {which} address of {cidr}")
                        } else {
                            format!("{what} includes the {which} address of {cidr}")
                        },
                    )
                    .with_hint(format!(
                        "use addresses from {} to {}",
                        next(cidr.network()),
                        prev(cidr.broadcast())
                    )),
                );
            }
            usable.push(claim);
        }

        for (i, b) in usable.iter().enumerate() {
            for a in &usable[..i] {
                if !a.range.overlaps(&b.range) {
                    continue;
                }
                let (message, code) = match (a.single, b.single) {
                    (true, true) => (
                        format!(
                            "{} is used twice: by {} and by {}",
                            b.range.start, a.what, b.what
                        ),
                        "duplicate-ip",
                    ),
                    (false, true) => (
                        format!(
                            "{} ({}) lies inside {} {}",
                            b.what, b.range.start, a.what, a.range
                        ),
                        "duplicate-ip",
                    ),
                    (true, false) => (
                        format!(
                            "{} {} includes {} ({})",
                            b.what, b.range, a.what, a.range.start
                        ),
                        "duplicate-ip",
                    ),
                    (false, false) => (
                        format!("{} {} overlaps {} {}", b.what, b.range, a.what, a.range),
                        "overlapping-pools",
                    ),
                };
                let related = self.related(a.path.clone(), format!("{} here", a.what));
                let mut d = Diagnostic::error(code, b.path.clone(), message)
                    .with_hint("every address of the node subnet has one use: give each node, VIP and pool its own addresses");
                d.related.push(related);
                self.report(d);
            }
        }

        for (i, c) in spec.clusters.iter().enumerate() {
            // Cluster API rolls machines by creating the new one before deleting the old:
            // one spare address per cluster.
            let needed = u64::from(c.control_plane.replicas)
                + c.worker_pools
                    .iter()
                    .map(|w| u64::from(w.replicas))
                    .sum::<u64>()
                + 1;
            if c.ip_pool.is_well_formed() && c.ip_pool.len() < needed {
                self.report(
                    Diagnostic::error(
                        "ip-pool-size",
                        format!("spec.clusters[{i}].ipPool"),
                        format!(
                            "IP pool {} has {} addresses; cluster `{}` needs {needed}",
                            c.ip_pool,
                            c.ip_pool.len(),
                            c.name
                        ),
                    )
                    .with_hint(
                        "one per machine plus one spare for rolling updates; widen the pool",
                    ),
                );
            }
        }
    }
}

fn next(ip: Ipv4Addr) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(ip).saturating_add(1))
}
fn prev(ip: Ipv4Addr) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(ip).saturating_sub(1))
}
