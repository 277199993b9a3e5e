//! From the model to the tree.

use infraflux_spec::Platform;

use crate::component::{Source, assemble};
use crate::components;
use crate::graph::{Graph, GraphError};
use crate::tree::Tree;

/// A rendered platform: the tree and the graph its waves came from.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The files.
    pub tree: Tree,
    /// The components' graph.
    pub graph: Graph,
}

/// Renders the platform.
pub fn render(p: &Platform) -> Result<Rendered, GraphError> {
    let source = Source::of(p);
    let mut tree = Tree::default();
    let graph = assemble(&components::all(p), &source, &mut tree)?;
    for (path, _) in crate::bootstrap::config_paths(p) {
        tree.add_bootstrap(path);
    }
    Ok(Rendered { tree, graph })
}
