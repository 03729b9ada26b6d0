//! Targets: `3`, `n3`, `leader`, `followers`, `all` and lists of them, resolved to
//! node ids when a command runs.

use super::command::Target;
use super::error::ExecError;
use crate::cluster::Cluster;
use crate::raft::NodeId;

/// Resolves targets to node ids, in order, without repeats.
pub fn resolve(cluster: &Cluster, targets: &[Target]) -> Result<Vec<NodeId>, ExecError> {
    let size = cluster.size();
    let mut nodes = Vec::new();
    for target in targets {
        let found: Vec<NodeId> = match *target {
            Target::Node(node) => {
                if !(1..=size).contains(&node) {
                    return Err(ExecError::Invalid(format!(
                        "no node {node}: this cluster has n1 to n{size} (or use leader, followers, all)"
                    )));
                }
                vec![node]
            }
            Target::Leader => vec![cluster.leader().ok_or_else(no_leader)?],
            Target::Followers => {
                let leader = cluster.leader().ok_or_else(|| {
                    ExecError::Invalid(
                        "there is no leader right now, so no followers either".into(),
                    )
                })?;
                cluster
                    .nodes()
                    .into_iter()
                    .filter(|&id| id != leader)
                    .collect()
            }
            // The members: a removed node is no longer one of `all`.
            Target::All => cluster.nodes(),
        };
        for node in found {
            if !nodes.contains(&node) {
                nodes.push(node);
            }
        }
    }
    Ok(nodes)
}

/// The members that are up, in id order: whom a check or a wait means when it names
/// no nodes.
pub fn up_members(cluster: &Cluster) -> Vec<NodeId> {
    cluster
        .nodes()
        .into_iter()
        .filter(|&id| cluster.is_up(id))
        .collect()
}

/// The error for a command that needs a leader when none leads.
pub fn no_leader() -> ExecError {
    ExecError::Invalid("there is no leader right now (try `wait leader`)".into())
}

/// Resolves targets that must name exactly one node.
pub fn resolve_one(cluster: &Cluster, targets: &[Target]) -> Result<NodeId, ExecError> {
    match resolve(cluster, targets)?.as_slice() {
        [node] => Ok(*node),
        nodes => Err(ExecError::Invalid(format!(
            "this needs exactly one node, but that names {}",
            names(nodes)
        ))),
    }
}

/// `n1, n2 and n3`.
pub fn names(nodes: &[NodeId]) -> String {
    let names: Vec<String> = nodes.iter().map(|id| format!("n{id}")).collect();
    match names.as_slice() {
        [] => "no node".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
