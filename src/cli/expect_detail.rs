//! Expectations about details, for step-by-step scenarios: whom a node voted for and
//! whom it knows as leader, the terms of its log entries and one entry, a leader's
//! view of its followers (`progress`), and the messages in flight. Each says what it
//! saw, whether it holds or not.

use super::command::{MessageFilter, Target};
use super::error::ExecError;
use super::expect::{failed, passed};
use super::stepping::{Picker, message_fields, message_line};
use super::target::{names, resolve, resolve_one};
use crate::cluster::Cluster;
use crate::raft::{Index, Log, NodeId, Term};

/// A node, or nobody, in words.
fn who(node: Option<NodeId>) -> String {
    node.map_or("nobody".to_string(), |node| format!("n{node}"))
}

/// Resolves `node` (one node) if given.
fn one(cluster: &Cluster, node: Option<&Target>) -> Result<Option<NodeId>, ExecError> {
    node.map(|target| resolve_one(cluster, std::slice::from_ref(target)))
        .transpose()
}

/// `expect voted NODES CANDIDATE|none`: each voted for that candidate in its current
/// term (Figure 2 `voted_for`).
pub fn expect_voted(
    cluster: &Cluster,
    targets: &[Target],
    candidate: Option<&Target>,
) -> Result<String, ExecError> {
    let wanted = one(cluster, candidate)?;
    let nodes = resolve(cluster, targets)?;
    for &id in &nodes {
        let status = cluster.status(id);
        if status.voted_for != wanted {
            return failed(format!(
                "expected n{id} to have voted for {} in term {}, saw {}",
                who(wanted),
                status.term,
                who(status.voted_for)
            ));
        }
    }
    passed(format!("{} voted for {}", names(&nodes), who(wanted)))
}

/// `expect leader-known NODES LEADER|none`: each knows that node as the leader of its
/// term.
pub fn expect_leader_known(
    cluster: &Cluster,
    targets: &[Target],
    leader: Option<&Target>,
) -> Result<String, ExecError> {
    let wanted = one(cluster, leader)?;
    let nodes = resolve(cluster, targets)?;
    for &id in &nodes {
        let status = cluster.status(id);
        if status.leader != wanted {
            return failed(format!(
                "expected n{id} to know {} as leader, but it knows {} (term {})",
                who(wanted),
                who(status.leader),
                status.term
            ));
        }
    }
    passed(format!(
        "{} know{} {} as leader",
        names(&nodes),
        if nodes.len() == 1 { "s" } else { "" },
        who(wanted)
    ))
}

/// A node's log: what it holds if up, what it persisted if down.
fn log_of(cluster: &mut Cluster, node: NodeId) -> Result<Log, ExecError> {
    Ok(if cluster.is_up(node) {
        cluster.inspect(node)?.log
    } else {
        cluster.persisted_log(node)?
    })
}

/// Terms as a script writes them (`1 1 2`, or `empty`).
fn terms_text(terms: &[Term]) -> String {
    if terms.is_empty() {
        return "empty".to_string();
    }
    let terms: Vec<String> = terms.iter().map(Term::to_string).collect();
    terms.join(" ")
}

/// `expect log NODES = T T ...`: each node's entries after its snapshot have exactly
/// these terms, in order (how Figures 7 and 8 of the paper draw logs).
pub fn expect_log(
    cluster: &mut Cluster,
    targets: &[Target],
    wanted: &[Term],
) -> Result<String, ExecError> {
    let nodes = resolve(cluster, targets)?;
    let mut based = None;
    for &id in &nodes {
        let log = log_of(cluster, id)?;
        let terms: Vec<Term> = log.iter().map(|entry| entry.term).collect();
        let after = match log.snapshot_index() {
            0 => String::new(),
            index => format!(" after its snapshot through {index}"),
        };
        if terms != wanted {
            return failed(format!(
                "expected n{id}'s log{after} to hold terms {}, saw {}",
                terms_text(wanted),
                terms_text(&terms)
            ));
        }
        based.get_or_insert(after);
    }
    let holds = if nodes.len() == 1 { "holds" } else { "hold" };
    let what = if wanted.is_empty() {
        "no entries".to_string()
    } else {
        format!("terms {}", terms_text(wanted))
    };
    passed(format!(
        "{} {holds} {what}{}",
        names(&nodes),
        based.unwrap_or_default()
    ))
}

/// `expect entry NODES INDEX TERM [COMMAND]`.
pub fn expect_entry(
    cluster: &mut Cluster,
    targets: &[Target],
    index: Index,
    term: Term,
    command: Option<&str>,
) -> Result<String, ExecError> {
    let nodes = resolve(cluster, targets)?;
    for &id in &nodes {
        let log = log_of(cluster, id)?;
        let Some(entry) = log.get(index) else {
            let why = if index <= log.snapshot_index() {
                format!(
                    "it is inside n{id}'s snapshot through {}",
                    log.snapshot_index()
                )
            } else {
                format!("n{id}'s log ends at {}", log.last_index())
            };
            return failed(format!("expected n{id} to hold entry {index}, but {why}"));
        };
        let same_command = command.is_none_or(|command| entry.command == *command);
        if entry.term != term || !same_command {
            let wanted = command.map_or(String::new(), |command| format!(" `{command}`"));
            return failed(format!(
                "expected n{id}'s entry {index} to be t{term}{wanted}, saw t{} `{}`",
                entry.term, entry.command
            ));
        }
    }
    let what = command.map_or(String::new(), |command| format!(" `{command}`"));
    passed(format!(
        "{} {} entry {index}: t{term}{what}",
        names(&nodes),
        if nodes.len() == 1 { "holds" } else { "hold" }
    ))
}

/// `expect progress LEADER NODES STATE [match M] [next N]`: the leader's view of each
/// follower (Figure 2 `nextIndex`, `matchIndex`, and the replication state).
pub fn expect_progress(
    cluster: &mut Cluster,
    leader: &Target,
    followers: &[Target],
    state: &str,
    match_index: Option<Index>,
    next_index: Option<Index>,
) -> Result<String, ExecError> {
    let leader = resolve_one(cluster, std::slice::from_ref(leader))?;
    let followers: Vec<NodeId> = resolve(cluster, followers)?
        .into_iter()
        .filter(|&id| id != leader)
        .collect();
    let Some(progress) = cluster.progress(leader)? else {
        return failed(format!(
            "expected n{leader} to lead and track its followers, but it does not lead"
        ));
    };
    let wanted = describe_view(state, match_index, next_index);
    for &id in &followers {
        let view = progress
            .get(&id)
            .expect("a leader tracks every other member");
        let holds = view.state.name() == state
            && match_index.is_none_or(|m| view.match_index == m)
            && next_index.is_none_or(|n| view.next_index == n);
        if !holds {
            return failed(format!(
                "expected n{leader}'s view of n{id} to be {wanted}, saw {} match {} next {}",
                view.state, view.match_index, view.next_index
            ));
        }
    }
    passed(format!("n{leader} sees {} at {wanted}", names(&followers)))
}

/// A wanted view in words: `replicate match 4 next 5`.
fn describe_view(state: &str, match_index: Option<Index>, next_index: Option<Index>) -> String {
    let mut text = state.to_string();
    if let Some(m) = match_index {
        text.push_str(&format!(" match {m}"));
    }
    if let Some(n) = next_index {
        text.push_str(&format!(" next {n}"));
    }
    text
}

/// `expect message FROM->TO TYPE [FIELD=VALUE ...]`: some message in flight from
/// `from` to `to` has this type and shows these fields.
pub fn expect_message(
    cluster: &Cluster,
    from: &Target,
    to: &Target,
    kind: &str,
    fields: &[(String, String)],
) -> Result<String, ExecError> {
    let from = resolve_one(cluster, std::slice::from_ref(from))?;
    let to = resolve_one(cluster, std::slice::from_ref(to))?;
    let in_flight = cluster.in_flight();
    let candidates: Vec<_> = in_flight
        .iter()
        .filter(|message| {
            message.envelope.from == from
                && message.envelope.to == to
                && message.envelope.message.kind() == kind
        })
        .collect();
    let found = candidates.iter().find(|message| {
        let shown = message_fields(&message.envelope);
        fields.iter().all(|(name, value)| {
            shown
                .iter()
                .any(|(field, seen)| field == name && seen == value)
        })
    });
    let wanted: Vec<String> = fields
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    let wanted = if wanted.is_empty() {
        String::new()
    } else {
        format!(" with {}", wanted.join(" "))
    };
    match found {
        Some(message) => passed(format!("in flight: {}", message_line(message))),
        None if candidates.is_empty() => failed(format!(
            "expected a {kind} n{from}->n{to}{wanted} in flight, but none from n{from} to n{to} is"
        )),
        None => {
            let seen: Vec<String> = candidates
                .iter()
                .map(|message| message_line(message))
                .collect();
            failed(format!(
                "expected a {kind} n{from}->n{to}{wanted} in flight, saw {}",
                seen.join("; ")
            ))
        }
    }
}

/// `expect no-message [from NODES] [to NODES] [type TYPE]`.
pub fn expect_no_message(cluster: &Cluster, filter: &MessageFilter) -> Result<String, ExecError> {
    let picker = Picker::new(cluster, filter)?;
    let in_flight = cluster.in_flight();
    let picked: Vec<String> = in_flight
        .iter()
        .filter(|message| picker.picks(&message.envelope))
        .map(message_line)
        .collect();
    let what = if filter.is_all() {
        "no message in flight".to_string()
    } else {
        format!("no message in flight {filter}")
    };
    if picked.is_empty() {
        passed(what)
    } else {
        failed(format!("expected {what}, saw {}", picked.join("; ")))
    }
}
