//! The component dependency graph, and the Argo CD sync waves derived from it.
//!
//! A component depends on the components it names and on every component providing a CRD
//! kind it uses. Its wave is the length of the longest dependency path below it (a
//! component without dependencies is in wave 0), so each component comes after all it
//! needs and as early as that allows; a change to one dependency moves only the components
//! that depend on it, directly or not. Waves are never typed by hand.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// What the graph needs to know of a component.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    /// The component's name (its Application's name).
    pub name: String,
    /// Components it needs to be there first.
    pub depends_on: Vec<String>,
    /// CRD kinds it installs, as `group/Kind`.
    pub provides: Vec<String>,
    /// CRD kinds its manifests use, as `group/Kind`.
    pub uses: Vec<String>,
}

/// Why the components do not form a graph with waves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// A dependency cycle, as the path that closes it.
    #[error("the components depend on each other in a cycle: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
    /// A dependency on a component that is not there.
    #[error("component `{0}` depends on `{1}`, which is not rendered")]
    Unknown(String, String),
    /// A CRD kind used that no component provides.
    #[error("component `{0}` uses {1}, which no component provides")]
    Unprovided(String, String),
    /// A CRD kind provided twice.
    #[error("{0} is provided by both `{1}` and `{2}`")]
    Twice(String, String, String),
    /// A name given twice.
    #[error("component `{0}` is declared twice")]
    Duplicate(String),
}

/// Components with their dependencies resolved and their waves.
#[derive(Debug, Clone)]
pub struct Graph {
    /// Each component's direct dependencies, declared and through CRDs (sorted).
    edges: BTreeMap<String, BTreeSet<String>>,
    waves: BTreeMap<String, u32>,
}

impl Graph {
    /// Resolves dependencies and derives waves.
    pub fn new(nodes: &[Node]) -> Result<Graph, GraphError> {
        let mut provider: BTreeMap<&str, &str> = BTreeMap::new();
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for n in nodes {
            if edges.insert(n.name.clone(), BTreeSet::new()).is_some() {
                return Err(GraphError::Duplicate(n.name.clone()));
            }
            for crd in &n.provides {
                if let Some(other) = provider.insert(crd, &n.name) {
                    return Err(GraphError::Twice(crd.clone(), other.into(), n.name.clone()));
                }
            }
        }
        for n in nodes {
            let mut deps = BTreeSet::new();
            for d in &n.depends_on {
                if !edges.contains_key(d) {
                    return Err(GraphError::Unknown(n.name.clone(), d.clone()));
                }
                deps.insert(d.clone());
            }
            for crd in &n.uses {
                match provider.get(crd.as_str()) {
                    // A component using its own CRDs orders them inside its own sync.
                    Some(p) if *p == n.name => {}
                    Some(p) => {
                        deps.insert(p.to_string());
                    }
                    None => return Err(GraphError::Unprovided(n.name.clone(), crd.clone())),
                }
            }
            edges.insert(n.name.clone(), deps);
        }
        let mut waves = BTreeMap::new();
        let mut path = Vec::new();
        for name in edges.keys() {
            wave(name, &edges, &mut waves, &mut path)?;
        }
        Ok(Graph { edges, waves })
    }

    /// The sync wave of a component.
    pub fn wave(&self, name: &str) -> Option<u32> {
        self.waves.get(name).copied()
    }

    /// Components and their waves, by name.
    pub fn waves(&self) -> &BTreeMap<String, u32> {
        &self.waves
    }

    /// A component's direct dependencies.
    pub fn dependencies(&self, name: &str) -> impl Iterator<Item = &str> {
        self.edges
            .get(name)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// Graphviz DOT: one cluster per wave, edges from dependency to dependent.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph platform {\n  rankdir=LR;\n  node [shape=box];\n");
        for (wave, names) in self.by_wave() {
            let _ = writeln!(
                out,
                "  subgraph cluster_wave_{wave} {{\n    label=\"wave {wave}\";"
            );
            for n in names {
                let _ = writeln!(out, "    \"{n}\";");
            }
            out.push_str("  }\n");
        }
        for (name, deps) in &self.edges {
            for d in deps {
                let _ = writeln!(out, "  \"{d}\" -> \"{name}\";");
            }
        }
        out.push_str("}\n");
        out
    }

    /// A Mermaid flowchart: one subgraph per wave, edges from dependency to dependent.
    pub fn to_mermaid(&self) -> String {
        let id = |n: &str| n.replace(|c: char| !c.is_ascii_alphanumeric(), "_");
        let mut out = String::from("flowchart LR\n");
        for (wave, names) in self.by_wave() {
            let _ = writeln!(out, "  subgraph wave{wave}[\"wave {wave}\"]");
            for n in names {
                let _ = writeln!(out, "    {}[\"{n}\"]", id(n));
            }
            out.push_str("  end\n");
        }
        for (name, deps) in &self.edges {
            for d in deps {
                let _ = writeln!(out, "  {} --> {}", id(d), id(name));
            }
        }
        out
    }

    fn by_wave(&self) -> BTreeMap<u32, Vec<&str>> {
        let mut by: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
        for (n, w) in &self.waves {
            by.entry(*w).or_default().push(n);
        }
        by
    }
}

/// The longest dependency path below `name`, found depth-first; `path` holds the names
/// being resolved, to report a cycle.
fn wave(
    name: &str,
    edges: &BTreeMap<String, BTreeSet<String>>,
    waves: &mut BTreeMap<String, u32>,
    path: &mut Vec<String>,
) -> Result<u32, GraphError> {
    if let Some(w) = waves.get(name) {
        return Ok(*w);
    }
    if let Some(start) = path.iter().position(|p| p == name) {
        let mut cycle = path[start..].to_vec();
        cycle.push(name.to_string());
        return Err(GraphError::Cycle(cycle));
    }
    path.push(name.to_string());
    let mut w = 0;
    for d in &edges[name] {
        w = w.max(wave(d, edges, waves, path)? + 1);
    }
    path.pop();
    waves.insert(name.to_string(), w);
    Ok(w)
}
