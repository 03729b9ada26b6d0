//! Assertions: `expect ...` and the conditions `wait` shares with them. Each check
//! says what it saw, whether it holds or not.

use colored::Colorize;

use super::command::{
    Expectation, Field, MembersWanted, Op, Quorum, RoleOrDown, Target, targets_text,
};
use super::error::ExecError;
use super::expect_detail as detail;
use super::target::{names, resolve, resolve_one, up_members};
use crate::cluster::{Cluster, Invariant, NodeStatus};
use crate::raft::{Index, Membership, NodeId};

/// Every node's role and term in one line, for failure messages.
pub fn roles_summary(cluster: &Cluster) -> String {
    let parts: Vec<String> = cluster
        .nodes()
        .into_iter()
        .map(|id| {
            let status = cluster.status(id);
            let role = role_name(&status);
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
        Quorum::Nodes(targets) => format!("on {}", describe_targets(targets)),
    }
}

/// Targets as they were typed: `n3`, `leader`, `n1,followers`.
pub fn describe_targets(targets: &[Target]) -> String {
    targets_text(targets)
}

/// Whether `index` is committed on the nodes `quorum` asks for, and who has it.
pub fn committed_on(
    cluster: &Cluster,
    index: u64,
    quorum: &Quorum,
) -> Result<(bool, String), ExecError> {
    let members = cluster.nodes();
    let size = members.len();
    if let Quorum::AtLeast(count) = quorum
        && *count > size
    {
        return Err(ExecError::Invalid(format!(
            "this cluster has {size} node{}: {count} nodes can never hold an index",
            if size == 1 { "" } else { "s" }
        )));
    }
    let statuses: Vec<NodeStatus> = members.iter().map(|&id| cluster.status(id)).collect();
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
    match expectation {
        Expectation::Leader(target) => expect_leader(cluster, target.as_deref()),
        Expectation::NoLeader => expect_no_leader(cluster),
        Expectation::Role(targets, wanted) => expect_role(cluster, targets, *wanted),
        Expectation::Field(field, targets, op, value) => {
            expect_field(cluster, *field, targets, *op, *value)
        }
        Expectation::Committed(index, quorum) => expect_committed(cluster, *index, quorum),
        Expectation::Voted(targets, candidate) => {
            detail::expect_voted(cluster, targets, candidate.as_ref())
        }
        Expectation::LeaderKnown(targets, leader) => {
            detail::expect_leader_known(cluster, targets, leader.as_ref())
        }
        Expectation::Log(targets, terms) => detail::expect_log(cluster, targets, terms),
        Expectation::Entry {
            nodes,
            index,
            term,
            command,
        } => detail::expect_entry(cluster, nodes, *index, *term, command.as_deref()),
        Expectation::Progress {
            leader,
            followers,
            state,
            match_index,
            next_index,
        } => detail::expect_progress(cluster, leader, followers, state, *match_index, *next_index),
        Expectation::Message {
            from,
            to,
            kind,
            fields,
        } => detail::expect_message(cluster, from, to, kind, fields),
        Expectation::NoMessage(filter) => detail::expect_no_message(cluster, filter),
        Expectation::Kv(targets, key, value) => expect_kv(cluster, targets, key, value.as_deref()),
        Expectation::Members(targets, wanted) => expect_members(cluster, targets, wanted),
        Expectation::LogsMatch => logs_match(cluster),
        Expectation::NoViolations => expect_no_violations(cluster),
        Expectation::Digest(wanted) => expect_digest(cluster, *wanted),
        Expectation::Violation(invariant) => expect_violation(cluster, *invariant),
    }
}

/// `expect violation [NAME]`: the checker reported one (of that invariant); the
/// latest is shown, with how many there are.
fn expect_violation(cluster: &Cluster, invariant: Option<Invariant>) -> Result<String, ExecError> {
    let violations = cluster.checker().violations();
    let matching: Vec<_> = violations
        .iter()
        .filter(|violation| invariant.is_none_or(|wanted| violation.invariant == wanted))
        .collect();
    let wanted = invariant.map_or("a violation".to_string(), |wanted| {
        format!("a violation of {wanted}")
    });
    match matching.last() {
        Some(latest) if matching.len() == 1 => passed(format!("expected {wanted}: {latest}")),
        Some(latest) => passed(format!(
            "expected {wanted}: {} so far, the latest: {latest}",
            matching.len()
        )),
        None if violations.is_empty() => {
            failed(format!("expected {wanted}, but the checker found none"))
        }
        None => {
            let mut names: Vec<&str> = violations.iter().map(|v| v.invariant.name()).collect();
            names.dedup();
            failed(format!(
                "expected {wanted}, but the checker found only {}",
                names.join(", ")
            ))
        }
    }
}

/// A check that held: a check mark and what was seen.
pub(super) fn passed(text: String) -> Result<String, ExecError> {
    Ok(format!("{} {text}", "✓".green().bold()))
}

/// A check that did not hold: what was expected and what was seen.
pub(super) fn failed(text: String) -> Result<String, ExecError> {
    Err(ExecError::Failed(text))
}

/// `expect leader [NODE]`.
fn expect_leader(cluster: &Cluster, target: Option<&[Target]>) -> Result<String, ExecError> {
    let Some(leader) = cluster.leader() else {
        return failed(format!(
            "expected a leader, saw none ({})",
            roles_summary(cluster)
        ));
    };
    let term = cluster.status(leader).term;
    match target {
        Some(targets) => {
            let wanted = resolve_one(cluster, targets)?;
            if wanted == leader {
                passed(format!("n{leader} leads term {term}"))
            } else {
                failed(format!(
                    "expected n{wanted} to lead, but n{leader} leads term {term}"
                ))
            }
        }
        None => passed(format!("n{leader} leads term {term}")),
    }
}

/// `expect no-leader`.
fn expect_no_leader(cluster: &Cluster) -> Result<String, ExecError> {
    match cluster.leader() {
        None => passed("no node leads".to_string()),
        Some(leader) => failed(format!(
            "expected no leader, but n{leader} leads term {}",
            cluster.status(leader).term
        )),
    }
}

/// A node's role as views name it, or `down`.
pub fn role_name(status: &NodeStatus) -> String {
    crate::cli::render::role(status).input
}

/// Whether `status`'s configuration is the one `wanted` states.
pub fn members_match(status: &NodeStatus, wanted: &MembersWanted) -> bool {
    let configuration = &status.configuration;
    configuration
        .voters
        .iter()
        .copied()
        .eq(wanted.voters.iter().copied())
        && wanted.learners.as_ref().is_none_or(|learners| {
            configuration
                .learners
                .iter()
                .copied()
                .eq(learners.iter().copied())
        })
}

/// A configuration as `expect members` states it: `1,2,3` or `1,2,3 learners 6`.
pub fn describe_members(wanted: &MembersWanted) -> String {
    let list = |ids: &[NodeId]| {
        ids.iter()
            .map(|id| id.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    match &wanted.learners {
        Some(learners) => format!("{} learners {}", list(&wanted.voters), list(learners)),
        None => list(&wanted.voters),
    }
}

/// `expect members NODES = VOTERS [learners NODES]`.
fn expect_members(
    cluster: &Cluster,
    targets: &[Target],
    wanted: &MembersWanted,
) -> Result<String, ExecError> {
    let nodes = resolve(cluster, targets)?;
    for &id in &nodes {
        let status = cluster.status(id);
        if !members_match(&status, wanted) {
            return failed(format!(
                "expected n{id} to use voters {}, saw {} (entry {})",
                describe_members(wanted),
                status.configuration,
                status.configuration_index
            ));
        }
    }
    passed(format!(
        "{} use{} voters {}",
        names(&nodes),
        if nodes.len() == 1 { "s" } else { "" },
        describe_members(wanted)
    ))
}

/// `expect role NODES ROLE`.
fn expect_role(
    cluster: &Cluster,
    targets: &[Target],
    wanted: RoleOrDown,
) -> Result<String, ExecError> {
    let nodes = resolve(cluster, targets)?;
    let wanted_text = match wanted {
        RoleOrDown::Down => "down".to_string(),
        RoleOrDown::Role(role) => format!("{role:?}").to_lowercase(),
        RoleOrDown::Learner => "a learner".to_string(),
        RoleOrDown::Removed => "removed".to_string(),
    };
    for &id in &nodes {
        let status = cluster.status(id);
        let matches = match wanted {
            RoleOrDown::Down => !status.up && !status.removed,
            RoleOrDown::Role(role) => status.up && status.role == role,
            RoleOrDown::Learner => status.up && status.membership == Membership::Learner,
            RoleOrDown::Removed => status.removed,
        };
        if !matches {
            return failed(format!(
                "expected n{id} to be {wanted_text}, saw {} (term {})",
                role_name(&status),
                status.term
            ));
        }
    }
    passed(format!("{} {wanted_text}", names(&nodes)))
}

/// A node's value of `field`, from its status.
pub(super) fn field_value(field: Field, status: &NodeStatus) -> u64 {
    match field {
        Field::Term => status.term,
        Field::Commit => status.commit_index,
        Field::Snapshot => status.snapshot_index,
        Field::LastIndex => status.last_log_index,
        Field::Applied => status.last_applied,
    }
}

/// `expect term|commit|snapshot|last-index|applied NODES OP N`.
fn expect_field(
    cluster: &Cluster,
    field: Field,
    targets: &[Target],
    op: Op,
    value: u64,
) -> Result<String, ExecError> {
    let nodes = resolve(cluster, targets)?;
    let name = field.name();
    for &id in &nodes {
        let status = cluster.status(id);
        let seen = field_value(field, &status);
        if !op.holds(seen, value) {
            return failed(format!(
                "expected n{id}'s {name} {} {value}, saw {seen}",
                op.symbol()
            ));
        }
    }
    passed(format!(
        "{name} {} {value} on {}",
        op.symbol(),
        names(&nodes)
    ))
}

/// `expect committed INDEX [on ...]`.
fn expect_committed(cluster: &Cluster, index: Index, quorum: &Quorum) -> Result<String, ExecError> {
    let (holds, seen) = committed_on(cluster, index, quorum)?;
    let on = describe_quorum(quorum);
    if holds {
        passed(format!("index {index} committed {on} ({seen})"))
    } else {
        failed(format!("expected index {index} committed {on}, but {seen}"))
    }
}

/// `expect kv NODES KEY [VALUE]`: no value means the key is absent.
fn expect_kv(
    cluster: &mut Cluster,
    targets: &[Target],
    key: &str,
    value: Option<&str>,
) -> Result<String, ExecError> {
    let show = |value: Option<&str>| value.map_or("no value".to_string(), |v| format!("`{v}`"));
    let nodes = resolve(cluster, targets)?;
    for &id in &nodes {
        let view = cluster.inspect(id)?;
        let seen = view.kv.get(key);
        if seen != value {
            return failed(format!(
                "expected n{id}'s {key} to be {}, saw {}",
                show(value),
                show(seen)
            ));
        }
    }
    passed(match value {
        Some(value) => format!("{key} = {value} on {}", names(&nodes)),
        None => format!("no {key} on {}", names(&nodes)),
    })
}

/// `expect no-violations`.
fn expect_no_violations(cluster: &Cluster) -> Result<String, ExecError> {
    let violations = cluster.violations();
    if violations.is_empty() {
        passed("no safety violations".to_string())
    } else {
        failed(format!(
            "{} violation(s): {}",
            violations.len(),
            violations.join("; ")
        ))
    }
}

/// `expect digest HEX`: the whole history so far, event for event.
fn expect_digest(cluster: &Cluster, wanted: u64) -> Result<String, ExecError> {
    let digest = cluster.history_digest();
    let detail = format!(
        "{} events through tick {}",
        cluster.event_count(),
        cluster.now()
    );
    if digest == wanted {
        passed(format!("history digest {digest:016x} ({detail})"))
    } else {
        failed(format!(
            "expected history digest {wanted:016x}, saw {digest:016x} ({detail}): the history differs"
        ))
    }
}

/// Every up node's log holds the same entries as every other wherever both hold one,
/// and all end at the same index.
fn logs_match(cluster: &mut Cluster) -> Result<String, ExecError> {
    let up = up_members(cluster);
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
