//! A platform component: what it needs, the CRDs it brings and uses, its chart and values,
//! and its extra manifests. Each component is one module under `components/` that builds
//! one of these from the model; the Argo CD Applications and their sync waves come from
//! the list of them.

use std::borrow::Cow;

use serde_json::{Value, json};

use crate::charts::Chart;
use crate::graph::{Graph, GraphError, Node};
use crate::secret::Sealed;
use crate::tree::Tree;

/// A component as rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// Its name: the Application's name and its manifests' directory.
    pub name: Cow<'static, str>,
    /// The namespace it installs into.
    pub namespace: &'static str,
    /// Components that must be there first.
    pub depends_on: Vec<&'static str>,
    /// CRD kinds it installs (`group/Kind`).
    pub provides: Vec<&'static str>,
    /// CRD kinds its manifests use (`group/Kind`).
    pub uses: Vec<&'static str>,
    /// Its chart and the values given to it.
    pub chart: Option<(Chart, Value)>,
    /// A directory of another Git repository to sync as is (upstream's CRD manifests).
    pub remote: Option<Remote>,
    /// Extra manifests, written under `components/<name>/`.
    pub manifests: Vec<Value>,
    /// Secrets built from sources, written SOPS-encrypted under `components/<name>/` and
    /// decrypted in the cluster by KSOPS (the directory becomes a kustomization).
    pub secrets: Vec<Sealed>,
    /// API servers of other clusters its manifests deploy to (ApplicationSets), which the
    /// AppProject must allow.
    pub remote_destinations: Vec<String>,
    /// Sync options beyond the defaults (`CreateNamespace=true`, `ServerSideApply=true`).
    pub sync_options: Vec<&'static str>,
}

impl Component {
    /// A component with nothing yet.
    pub fn new(name: impl Into<Cow<'static, str>>, namespace: &'static str) -> Self {
        Component {
            name: name.into(),
            namespace,
            depends_on: Vec::new(),
            provides: Vec::new(),
            uses: Vec::new(),
            chart: None,
            remote: None,
            manifests: Vec::new(),
            secrets: Vec::new(),
            sync_options: Vec::new(),
            remote_destinations: Vec::new(),
        }
    }
}

/// A directory of another Git repository, pinned to a tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// The clone URL.
    pub repo_url: &'static str,
    /// The directory.
    pub path: &'static str,
    /// The tag.
    pub revision: &'static str,
}

/// Where the platform's Git repository is, as Argo CD reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The clone URL.
    pub repo_url: String,
    /// The revision Argo CD follows.
    pub revision: String,
    /// The tree's directory in the repository (`.` for its root).
    pub path: String,
}

impl Source {
    /// Where the spec says the tree is (`spec.git`).
    pub fn of(p: &infraflux_spec::Platform) -> Self {
        Source {
            repo_url: p.spec.git.repo_url.clone(),
            revision: p.spec.git.revision.clone(),
            path: p.spec.git.path.clone(),
        }
    }

    /// A directory of the tree, as a path in the repository.
    pub fn dir(&self, dir: &str) -> String {
        match self.path.trim_matches('/') {
            "" | "." => dir.to_string(),
            base => format!("{base}/{dir}"),
        }
    }
}

/// The cluster Argo CD runs in, as Argo CD names it.
const IN_CLUSTER: &str = "https://kubernetes.default.svc";
/// The namespace Argo CD runs in.
pub const ARGOCD_NAMESPACE: &str = "argocd";
/// The AppProject every platform Application belongs to.
pub const PROJECT: &str = "platform";
/// The directory of the child Applications, which the root Application reads.
pub const APPS_DIR: &str = "apps";
/// The directory of the AppProject.
pub const PROJECTS_DIR: &str = "projects";

/// Adds the components, their Applications (with derived sync waves), the AppProject and
/// the root Application to `tree`; the graph the waves came from.
pub fn assemble(
    components: &[Component],
    source: &Source,
    tree: &mut Tree,
) -> Result<Graph, GraphError> {
    let nodes: Vec<Node> = components
        .iter()
        .map(|c| Node {
            name: c.name.to_string(),
            depends_on: c.depends_on.iter().map(|d| d.to_string()).collect(),
            provides: c.provides.iter().map(|d| d.to_string()).collect(),
            uses: c.uses.iter().map(|d| d.to_string()).collect(),
        })
        .collect();
    let graph = Graph::new(&nodes)?;
    for c in components {
        let wave = graph
            .wave(&c.name)
            .expect("every component is in the graph");
        tree.add(
            format!("{APPS_DIR}/{}.yaml", c.name),
            application(c, wave, source),
        );
        let dir = format!("components/{}", c.name);
        let mut files: Vec<String> = Vec::new();
        for m in &c.manifests {
            let kind = m["kind"].as_str().unwrap_or("object").to_ascii_lowercase();
            let name = m["metadata"]["name"].as_str().unwrap_or("unnamed");
            let ns = m["metadata"]["namespace"].as_str();
            let file = file_name(&kind, name, ns, c.namespace, "yaml");
            tree.add(format!("{dir}/{file}"), m.clone());
            files.push(file);
        }
        if !c.secrets.is_empty() {
            let mut sealed: Vec<String> = Vec::new();
            for s in &c.secrets {
                let file = file_name(
                    "secret",
                    &s.name,
                    Some(&s.namespace),
                    c.namespace,
                    "sops.yaml",
                );
                tree.add_sealed(format!("{dir}/{file}"), s.clone());
                sealed.push(file);
            }
            files.sort_unstable();
            files.dedup();
            tree.add(format!("{dir}/{KSOPS_GENERATOR}"), ksops_generator(&sealed));
            tree.add(format!("{dir}/{KUSTOMIZATION}"), kustomization(&files));
        }
    }
    tree.add(
        format!("{PROJECTS_DIR}/{PROJECT}.yaml"),
        project(components, source),
    );
    tree.add(format!("{APPS_DIR}/root.yaml"), root(source));
    Ok(graph)
}

/// An object's file name in its component's directory, flat because the Application
/// reads the directory without recursion: `<kind>-<name>.<ext>` (kind in lower case), with
/// the namespace when it is not the component's.
fn file_name(kind: &str, name: &str, ns: Option<&str>, component_ns: &str, ext: &str) -> String {
    match ns {
        Some(ns) if ns != component_ns => format!("{kind}-{ns}-{name}.{ext}"),
        _ => format!("{kind}-{name}.{ext}"),
    }
}

/// The kustomization of a component directory with encrypted Secrets: Argo CD builds the
/// directory with kustomize once it has one, so it lists every manifest.
pub const KUSTOMIZATION: &str = "kustomization.yaml";
/// The KSOPS generator of a component directory, which decrypts its Secrets.
pub const KSOPS_GENERATOR: &str = "secret-generator.yaml";

fn kustomization(resources: &[String]) -> Value {
    json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
        "generators": [KSOPS_GENERATOR],
    })
}

/// KSOPS as a kustomize exec (KRM) function, as its README configures it: each file is
/// decrypted as a whole, as `sops -d` would.
fn ksops_generator(files: &[String]) -> Value {
    json!({
        "apiVersion": "viaduct.ai/v1",
        "kind": "ksops",
        "metadata": {
            "name": "secret-generator",
            "annotations": {"config.kubernetes.io/function": "exec:\n  path: ksops\n"},
        },
        "files": files.iter().map(|f| format!("./{f}")).collect::<Vec<_>>(),
    })
}

fn sync_policy(options: &[&str]) -> Value {
    let mut all = vec!["CreateNamespace=true", "ServerSideApply=true"];
    all.extend(options.iter().copied());
    json!({
        "automated": {"prune": true, "selfHeal": true},
        "syncOptions": all,
        "retry": {"limit": 10, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"}},
    })
}

/// A component's Application: its chart with inline values, and its manifests from Git.
fn application(c: &Component, wave: u32, source: &Source) -> Value {
    let mut sources = Vec::new();
    if let Some((chart, values)) = &c.chart {
        sources.push(json!({
            "repoURL": chart.repo,
            "chart": chart.name,
            "targetRevision": chart.version,
            "helm": if values.is_null() {
                json!({"releaseName": c.name})
            } else {
                json!({"releaseName": c.name, "valuesObject": values})
            },
        }));
    }
    if let Some(r) = &c.remote {
        sources.push(json!({"repoURL": r.repo_url, "targetRevision": r.revision, "path": r.path}));
    }
    if !c.manifests.is_empty() || !c.secrets.is_empty() {
        sources.push(json!({
            "repoURL": source.repo_url,
            "targetRevision": source.revision,
            "path": source.dir(&format!("components/{}", c.name)),
        }));
    }
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": c.name,
            "namespace": ARGOCD_NAMESPACE,
            "annotations": {"argocd.argoproj.io/sync-wave": wave.to_string()},
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        },
        "spec": {
            "project": PROJECT,
            "sources": sources,
            "destination": {"server": IN_CLUSTER, "namespace": c.namespace},
            "syncPolicy": sync_policy(&c.sync_options),
        },
    })
}

/// The AppProject: exactly the repositories and namespaces the components use.
fn project(components: &[Component], source: &Source) -> Value {
    let mut repos: Vec<&str> = vec![source.repo_url.as_str()];
    let mut namespaces: Vec<&str> = vec![ARGOCD_NAMESPACE];
    for c in components {
        if let Some((chart, _)) = &c.chart {
            repos.push(chart.repo);
        }
        if let Some(r) = &c.remote {
            repos.push(r.repo_url);
        }
        namespaces.push(c.namespace);
        namespaces.extend(
            c.manifests
                .iter()
                .filter_map(|m| m["metadata"]["namespace"].as_str()),
        );
        namespaces.extend(c.secrets.iter().map(|s| s.namespace.as_str()));
    }
    repos.sort_unstable();
    repos.dedup();
    namespaces.sort_unstable();
    namespaces.dedup();
    let mut destinations: Vec<Value> = namespaces
        .iter()
        .map(|n| json!({"server": IN_CLUSTER, "namespace": n}))
        .collect();
    // Other clusters' API servers, for the baseline that ApplicationSets install there.
    let mut remote: Vec<&str> = components
        .iter()
        .flat_map(|c| c.remote_destinations.iter().map(String::as_str))
        .collect();
    remote.sort_unstable();
    remote.dedup();
    destinations.extend(
        remote
            .iter()
            .map(|s| json!({"server": s, "namespace": "*"})),
    );
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {
            "name": PROJECT,
            "namespace": ARGOCD_NAMESPACE,
            "annotations": {"argocd.argoproj.io/sync-wave": "-1"},
        },
        "spec": {
            "description": "The InfraFlux platform components",
            "sourceRepos": repos,
            "destinations": destinations,
            // Platform components install CRDs, cluster roles and webhooks.
            "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
        },
    })
}

/// The root Application (app of apps): the child Applications, and the AppProject they
/// belong to. It lives in `apps/` itself, so it manages itself once bootstrap applied it.
fn root(source: &Source) -> Value {
    let dir = |d: &str| json!({"repoURL": source.repo_url, "targetRevision": source.revision, "path": source.dir(d)});
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        // Before every child: it syncs them, and itself once bootstrap applied it.
        "metadata": {
            "name": "root",
            "namespace": ARGOCD_NAMESPACE,
            "annotations": {"argocd.argoproj.io/sync-wave": "-1"},
        },
        "spec": {
            "project": "default",
            "sources": [dir(APPS_DIR), dir(PROJECTS_DIR)],
            "destination": {"server": IN_CLUSTER, "namespace": ARGOCD_NAMESPACE},
            "syncPolicy": {"automated": {"prune": true, "selfHeal": true}},
        },
    })
}
