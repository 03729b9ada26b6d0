//! Assertions: `expect ...` and the conditions `wait` shares with them. Each check
//! says what it saw, whether it holds or not.

use colored::Colorize;

use super::command::{Expectation, Field, Quorum, RoleOrDown};
use super::exec::ExecError;
use super::target::{names, resolve, resolve_one};
use crate::cluster::{Cluster, NodeStatus};
use crate::raft::NodeId;

/// Every node's role and term in one line, for failure messages.
pub fn roles_summary(cluster: &Cluster) -> String {
    let parts: Vec<String> = (1..=cluster.size())
        .map(|id| {
            let status = cluster.status(id);
            let role = if !status.up {
                "down".to_string()
            } else {
                format!("{:?}", status.role).to_lowercase()
            };
            format!("n{id} {role} t{} c{}", status.term, status.commit_index)
        })
        .collect();
    parts.join(", ")
}

/// A quorum in words.
pub fn describe_quorum(quorum: &Quorum) -> String {
    match quorum {
        Quorum::All => "on all up nodes".to_string(),
        Quorum::Majority => "on a majority".to_string(),
        Quorum::AtLeast(count) => format!("on {count} nodes"),
        Quorum::Nodes(_) => "on the named nodes".to_string(),
    }
}

/// Whether `index` is committed on the nodes `quorum` asks for, and who has it.
pub fn committed_on(
    cluster: &Cluster,
    index: u64,
    quorum: &Quorum,
) -> Result<(bool, String), ExecError> {
    let size = cluster.size();
    let statuses: Vec<NodeStatus> = (1..=size).map(|id| cluster.status(id)).collect();
    let have: Vec<NodeId> = statuses
        .iter()
        .filter(|status| status.up && status.commit_index >= index)
        .map(|status| status.id)
        .collect();
    let holds = match quorum {
        Quorum::All => {
            let up: Vec<NodeId> = statuses.iter().filter(|s| s.up).map(|s| s.id).collect();
            !up.is_empty() && up.iter().all(|id| have.contains(id))
        }
        Quorum::Majority => have.len() > size / 2,
        Quorum::AtLeast(count) => have.len() >= *count,
        Quorum::Nodes(targets) => resolve(cluster, targets)?
            .iter()
            .all(|id| have.contains(id)),
    };
    let seen = if have.is_empty() {
        "no node has it".to_string()
    } else {
        format!(
            "{} {} it",
            names(&have),
            if have.len() == 1 { "has" } else { "have" }
        )
    };
    Ok((holds, seen))
}

/// Checks an expectation: `Ok` with a check mark, or `Failed` with what was seen.
pub fn expect(cluster: &mut Cluster, expectation: &Expectation) -> Result<String, ExecError> {
    let fail = |text: String| Err(ExecError::Failed(text));
    let ok = |text: String| Ok(format!("{} {text}", "✓".green().bold()));
    match expectation {
        Expectation::Leader(target) => {
            let leader = cluster.leader();
            match (leader, target) {
                (None, _) => fail(format!(
                    "expected a leader, saw none ({})",
                    roles_summary(cluster)
                )),
                (Some(leader), None) => ok(format!(
                    "n{leader} leads term {}",
                    cluster.status(leader).term
                )),
                (Some(leader), Some(targets)) => {
                    let wanted = resolve_one(cluster, targets)?;
                    if wanted == leader {
                        ok(format!(
                            "n{leader} leads term {}",
                            cluster.status(leader).term
                        ))
                    } else {
                        fail(format!(
                            "expected n{wanted} to lead, but n{leader} leads term {}",
                            cluster.status(leader).term
                        ))
                    }
                }
            }
        }
        Expectation::NoLeader => match cluster.leader() {
            None => ok("no node leads".to_string()),
            Some(leader) => fail(format!(
                "expected no leader, but n{leader} leads term {}",
                cluster.status(leader).term
            )),
        },
        Expectation::Role(targets, wanted) => {
            let nodes = resolve(cluster, targets)?;
            let wanted_text = match wanted {
                RoleOrDown::Down => "down".to_string(),
                RoleOrDown::Role(role) => format!("{role:?}").to_lowercase(),
            };
            for &id in &nodes {
                let status = cluster.status(id);
                let matches = match wanted {
                    RoleOrDown::Down => !status.up,
                    RoleOrDown::Role(role) => status.up && status.role == *role,
                };
                if !matches {
                    let seen = if status.up {
                        format!("{:?}", status.role).to_lowercase()
                    } else {
                        "down".into()
                    };
                    return fail(format!(
                        "expected n{id} to be {wanted_text}, saw {seen} (term {})",
                        status.term
                    ));
                }
            }
            ok(format!("{} {wanted_text}", names(&nodes)))
        }
        Expectation::Field(field, targets, op, value) => {
            let nodes = resolve(cluster, targets)?;
            let name = field.name();
            for &id in &nodes {
                let status = cluster.status(id);
                let seen = match field {
                    Field::Term => status.term,
                    Field::Commit => status.commit_index,
                    Field::Snapshot => status.snapshot_index,
                    Field::LastIndex => status.last_log_index,
                };
                if !op.holds(seen, *value) {
                    return fail(format!(
                        "expected n{id}'s {name} {} {value}, saw {seen}",
                        op.symbol()
                    ));
                }
            }
            ok(format!(
                "{name} {} {value} on {}",
                op.symbol(),
                names(&nodes)
            ))
        }
        Expectation::Committed(index, quorum) => {
            let (holds, seen) = committed_on(cluster, *index, quorum)?;
            if holds {
                ok(format!(
                    "index {index} committed {} ({seen})",
                    describe_quorum(quorum)
                ))
            } else {
                fail(format!(
                    "expected index {index} committed {}, but {seen}",
                    describe_quorum(quorum)
                ))
            }
        }
        Expectation::Applied(targets, index) => {
            let nodes = resolve(cluster, targets)?;
            for &id in &nodes {
                let applied = cluster.status(id).last_applied;
                if applied < *index {
                    return fail(format!(
                        "expected n{id} to have applied {index}, but it applied through {applied}"
                    ));
                }
            }
            ok(format!("{} applied through {index}", names(&nodes)))
        }
        Expectation::Kv(targets, key, value) => {
            let nodes = resolve(cluster, targets)?;
            for &id in &nodes {
                let view = cluster.inspect(id)?;
                let seen = view.kv.get(key).map(str::to_string);
                if seen != *value {
                    let show = |value: &Option<String>| {
                        value
                            .as_ref()
                            .map_or("no value".to_string(), |v| format!("`{v}`"))
                    };
                    return fail(format!(
                        "expected n{id}'s {key} to be {}, saw {}",
                        show(value),
                        show(&seen)
                    ));
                }
            }
            ok(match value {
                Some(value) => format!("{key} = {value} on {}", names(&nodes)),
                None => format!("no {key} on {}", names(&nodes)),
            })
        }
        Expectation::LogsMatch => logs_match(cluster),
        Expectation::NoViolations => {
            let violations = cluster.violations();
            if violations.is_empty() {
                ok("no safety violations".to_string())
            } else {
                fail(format!(
                    "{} violation(s): {}",
                    violations.len(),
                    violations.join("; ")
                ))
            }
        }
        Expectation::Digest(wanted) => {
            let digest = cluster.history_digest();
            if digest == *wanted {
                ok(format!(
                    "history digest {digest:016x} ({} events through tick {})",
                    cluster.event_count(),
                    cluster.now()
                ))
            } else {
                fail(format!(
                    "expected history digest {wanted:016x}, saw {digest:016x} ({} events through tick {}): the history differs",
                    cluster.event_count(),
                    cluster.now()
                ))
            }
        }
    }
}

/// Every up node's log holds the same entries as every other wherever both hold one,
/// and all end at the same index.
fn logs_match(cluster: &mut Cluster) -> Result<String, ExecError> {
    let up: Vec<NodeId> = (1..=cluster.size())
        .filter(|&id| cluster.is_up(id))
        .collect();
    let mut views = Vec::new();
    for &id in &up {
        views.push((id, cluster.inspect(id)?));
    }
    let Some((first_id, first)) = views.first() else {
        return Err(ExecError::Failed(
            "expected matching logs, but every node is down".into(),
        ));
    };
    let last = first.log.last_index();
    for (id, view) in &views[1..] {
        if view.log.last_index() != last {
            return Err(ExecError::Failed(format!(
                "expected matching logs, but n{first_id} ends at {last} and n{id} at {}",
                view.log.last_index()
            )));
        }
        for entry in view.log.iter() {
            // An entry the first node compacted is committed, so it matches.
            let Some(theirs) = first.log.get(entry.index) else {
                continue;
            };
            if theirs.term != entry.term || theirs.command != entry.command {
                return Err(ExecError::Failed(format!(
                    "expected matching logs, but at index {} n{first_id} has t{} `{}` and n{id} has t{} `{}`",
                    entry.index, theirs.term, theirs.command, entry.term, entry.command
                )));
            }
        }
    }
    Ok(format!(
        "{} logs match through index {last}",
        "✓".green().bold()
    ))
}
