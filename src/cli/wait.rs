//! What `wait` waits for: each condition in words, and whether it holds yet. The
//! session's `wait` advances time (or follows the running clock) and asks after
//! every tick; a condition that can never hold (more nodes than the cluster has, a
//! node that does not exist) is refused before any time passes.

use super::command::{Field, RoleOrDown, WaitFor};
use super::error::ExecError;
use super::expect::{
    committed_on, describe_members, describe_quorum, describe_targets, field_value, members_match,
    role_name,
};
use super::target::{names, resolve, up_members};
use crate::cluster::Cluster;
use crate::raft::NodeId;

/// What the cluster was like when a wait began, for conditions relative to it.
#[derive(Clone, Copy, Debug)]
pub struct Baseline {
    /// The term the leader led then (0 if nobody led).
    leader_term: u64,
}

impl Baseline {
    /// The cluster as it is now.
    pub fn now(cluster: &Cluster) -> Baseline {
        Baseline {
            leader_term: cluster
                .leader()
                .map_or(0, |leader| cluster.status(leader).term),
        }
    }
}

/// The condition in words, as typed.
pub fn describe_wait(until: &WaitFor) -> String {
    match until {
        WaitFor::Leader => "leader".to_string(),
        WaitFor::NewLeader => "leader new".to_string(),
        WaitFor::Commit { index, on } => format!("commit {index} {}", describe_quorum(on)),
        WaitFor::Role(targets, role) => {
            format!("role {} {}", describe_targets(targets), role_text(*role))
        }
        WaitFor::Field(field, targets, op, value) => match targets {
            Some(targets) => format!(
                "{} {} {} {value}",
                field.name(),
                describe_targets(targets),
                op.symbol()
            ),
            None => format!("{} {} {value}", field.name(), op.symbol()),
        },
        WaitFor::Members(wanted) => format!("members = {}", describe_members(wanted)),
        WaitFor::Ticks(ticks) => format!("ticks {ticks}"),
    }
}

/// A role as typed.
fn role_text(role: RoleOrDown) -> String {
    match role {
        RoleOrDown::Down => "down".to_string(),
        RoleOrDown::Role(role) => format!("{role:?}").to_lowercase(),
        RoleOrDown::Learner => "learner".to_string(),
        RoleOrDown::Removed => "removed".to_string(),
    }
}

/// `Some(description)` once the wait's condition holds, `waited` ticks after it began
/// from `baseline`.
pub fn wait_satisfied(
    cluster: &Cluster,
    until: &WaitFor,
    waited: u64,
    baseline: &Baseline,
) -> Result<Option<String>, ExecError> {
    let now = cluster.now();
    Ok(match until {
        WaitFor::Leader => cluster.leader().map(|leader| {
            format!(
                "n{leader} leads term {} at tick {now}",
                cluster.status(leader).term
            )
        }),
        WaitFor::NewLeader => cluster
            .leader()
            .filter(|&leader| cluster.status(leader).term > baseline.leader_term)
            .map(|leader| {
                format!(
                    "n{leader} leads term {} at tick {now}",
                    cluster.status(leader).term
                )
            }),
        WaitFor::Commit { index, on } => {
            let (holds, seen) = committed_on(cluster, *index, on)?;
            holds.then(|| {
                format!(
                    "index {index} committed {} ({seen}) at tick {now}",
                    describe_quorum(on)
                )
            })
        }
        WaitFor::Role(targets, role) => {
            let nodes = resolve(cluster, targets)?;
            let holds = nodes.iter().all(|&id| {
                let status = cluster.status(id);
                match role {
                    RoleOrDown::Down => !status.up && !status.removed,
                    RoleOrDown::Role(role) => status.up && status.role == *role,
                    RoleOrDown::Learner => {
                        status.up && status.membership == crate::raft::Membership::Learner
                    }
                    RoleOrDown::Removed => status.removed,
                }
            });
            holds.then(|| format!("{} {} at tick {now}", names(&nodes), role_text(*role)))
        }
        WaitFor::Field(field, targets, op, value) => {
            let nodes: Vec<NodeId> = match targets {
                Some(targets) => resolve(cluster, targets)?,
                None => up_members(cluster),
            };
            let holds = !nodes.is_empty()
                && nodes
                    .iter()
                    .all(|&id| op.holds(field_value(*field, &cluster.status(id)), *value));
            holds.then(|| {
                let seen: Vec<String> = nodes
                    .iter()
                    .map(|&id| {
                        let status = cluster.status(id);
                        match field {
                            Field::Term => format!("n{id} {} t{}", role_name(&status), status.term),
                            _ => format!("n{id} {}", field_value(*field, &status)),
                        }
                    })
                    .collect();
                format!(
                    "{} {} {value} at tick {now} ({})",
                    field.name(),
                    op.symbol(),
                    seen.join(", ")
                )
            })
        }
        WaitFor::Members(wanted) => {
            // Every up member uses it (a down node catches up when it returns).
            let up = up_members(cluster);
            let holds = !up.is_empty()
                && up
                    .iter()
                    .all(|&id| members_match(&cluster.status(id), wanted));
            holds.then(|| {
                format!(
                    "{} use voters {} at tick {now}",
                    names(&up),
                    describe_members(wanted)
                )
            })
        }
        WaitFor::Ticks(ticks) => (waited >= *ticks).then(|| format!("tick {now}")),
    })
}
