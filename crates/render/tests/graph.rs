//! Sync waves derived from the dependency graph.

use infraflux_render::graph::{Graph, GraphError, Node};
use proptest::prelude::*;
use std::collections::BTreeSet;

fn node(name: &str, deps: &[&str], provides: &[&str], uses: &[&str]) -> Node {
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
    Node {
        name: name.into(),
        depends_on: s(deps),
        provides: s(provides),
        uses: s(uses),
    }
}

#[test]
fn waves_are_the_longest_dependency_path_and_crds_order_their_users() {
    let g = Graph::new(&[
        node("cilium", &[], &["cilium.io/CiliumNetworkPolicy"], &[]),
        node(
            "prometheus-crds",
            &[],
            &["monitoring.coreos.com/ServiceMonitor"],
            &[],
        ),
        node(
            "cert-manager",
            &["cilium"],
            &["cert-manager.io/ClusterIssuer"],
            &["monitoring.coreos.com/ServiceMonitor"],
        ),
        node("issuers", &[], &[], &["cert-manager.io/ClusterIssuer"]),
        node(
            "policies",
            &["issuers"],
            &[],
            &["cilium.io/CiliumNetworkPolicy"],
        ),
    ])
    .unwrap();
    let waves: Vec<(&str, u32)> = g.waves().iter().map(|(n, w)| (n.as_str(), *w)).collect();
    assert_eq!(
        waves,
        [
            ("cert-manager", 1),
            ("cilium", 0),
            ("issuers", 2),
            ("policies", 3),
            ("prometheus-crds", 0)
        ]
    );
    assert_eq!(
        g.dependencies("cert-manager").collect::<Vec<_>>(),
        ["cilium", "prometheus-crds"]
    );
    let mermaid = g.to_mermaid();
    assert!(
        mermaid.contains("subgraph wave3[\"wave 3\"]\n    policies[\"policies\"]\n  end"),
        "{mermaid}"
    );
    assert!(
        mermaid.contains("  cert_manager --> issuers\n"),
        "{mermaid}"
    );
    assert!(g.to_dot().contains("\"issuers\" -> \"policies\";"));
}

#[test]
fn cycles_and_dangling_names_are_errors() {
    let e = Graph::new(&[
        node("a", &["b"], &[], &[]),
        node("b", &["c"], &[], &[]),
        node("c", &["a"], &[], &[]),
    ]);
    assert_eq!(
        e.unwrap_err(),
        GraphError::Cycle(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    let e = Graph::new(&[node("a", &["x"], &[], &[])]).unwrap_err();
    assert_eq!(e, GraphError::Unknown("a".into(), "x".into()));
    let e = Graph::new(&[node("a", &[], &[], &["g/K"])]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "component `a` uses g/K, which no component provides"
    );
    let e =
        Graph::new(&[node("a", &[], &["g/K"], &[]), node("b", &[], &["g/K"], &[])]).unwrap_err();
    assert_eq!(e, GraphError::Twice("g/K".into(), "a".into(), "b".into()));
    let e = Graph::new(&[node("a", &[], &[], &[]), node("a", &[], &[], &[])]).unwrap_err();
    assert_eq!(e, GraphError::Duplicate("a".into()));
}

/// Random acyclic graphs: edges go from a component to lower-numbered ones.
fn dag() -> impl Strategy<Value = Vec<Vec<usize>>> {
    (1usize..14).prop_flat_map(|n| {
        (0..n)
            .map(|i| {
                proptest::collection::btree_set(0..i.max(1), 0..=i.min(4))
                    .prop_map(move |s| s.into_iter().filter(|&d| d < i).collect::<Vec<_>>())
            })
            .collect::<Vec<_>>()
    })
}

fn nodes(deps: &[Vec<usize>]) -> Vec<Node> {
    deps.iter()
        .enumerate()
        .map(|(i, d)| Node {
            name: format!("c{i:02}"),
            depends_on: d.iter().map(|d| format!("c{d:02}")).collect(),
            ..Node::default()
        })
        .collect()
}

/// The components that depend on `root`, directly or not, and `root`.
fn dependents(deps: &[Vec<usize>], root: usize) -> BTreeSet<usize> {
    let mut out = BTreeSet::from([root]);
    loop {
        let before = out.len();
        for (i, d) in deps.iter().enumerate() {
            if d.iter().any(|x| out.contains(x)) {
                out.insert(i);
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

proptest! {
    /// Every component is in a later wave than each dependency, as early as that allows;
    /// removing one dependency moves only the component that had it and its dependents.
    #[test]
    fn waves_follow_dependencies_and_move_only_dependents(deps in dag(), pick in any::<prop::sample::Index>()) {
        let g = Graph::new(&nodes(&deps)).unwrap();
        for (i, d) in deps.iter().enumerate() {
            let w = g.wave(&format!("c{i:02}")).unwrap();
            let expected = d.iter().map(|d| g.wave(&format!("c{d:02}")).unwrap() + 1).max().unwrap_or(0);
            prop_assert_eq!(w, expected);
        }
        let with_edges: Vec<usize> = (0..deps.len()).filter(|&i| !deps[i].is_empty()).collect();
        if with_edges.is_empty() {
            return Ok(());
        }
        let who = with_edges[pick.index(with_edges.len())];
        let mut changed = deps.clone();
        changed[who].remove(0);
        let g2 = Graph::new(&nodes(&changed)).unwrap();
        let allowed = dependents(&deps, who);
        for i in 0..deps.len() {
            let name = format!("c{i:02}");
            if g.wave(&name) != g2.wave(&name) {
                prop_assert!(allowed.contains(&i), "{} moved, but only {:?} depend on c{:02}", name, allowed, who);
            }
        }
    }
}
