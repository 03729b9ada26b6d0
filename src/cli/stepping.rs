//! Stepping by hand, as precisely as etcd raft's interaction scripts: which messages
//! in flight a filter picks (`deliver to 3`, `drop-msg from 1 type AppendEntries`),
//! `stabilize`, and what one delivery did, in words: the message and what it
//! carries, the receiver's decision with its reason (from the core's events in the
//! trace), and what the receiver sent back.
//!
//! A filtered command resolves, when it runs, to concrete `deliver ID` actions (so a
//! record of a session is a list of concrete actions); `stabilize` resolves pass by
//! pass, as the messages it delivers produce new ones.

use colored::Colorize;

use super::command::{MessageFilter, Target};
use super::error::ExecError;
use super::render::{event_text, is_traffic, message_summary};
use super::target::{names, resolve};
use crate::cluster::trace::{TraceEvent, TraceKind};
use crate::cluster::{Action, Cluster, DropReason, Fate, InFlight, Outcome};
use crate::raft::{AppendOutcome, Envelope, Event, Message, NodeId};

/// The fields `expect message` can check, by name.
pub const MESSAGE_FIELDS: &[&str] = &[
    "term",
    "last_log_index",
    "last_log_term",
    "granted",
    "prev_log_index",
    "prev_log_term",
    "entries",
    "leader_commit",
    "outcome",
    "match_index",
    "conflict_term",
    "conflict_index",
    "last_index",
    "last_included_index",
    "last_included_term",
    "installed_index",
];

/// A message's fields by name (the paper's names; `entries` is their count), as
/// `expect message` compares them.
pub fn message_fields(envelope: &Envelope) -> Vec<(&'static str, String)> {
    let mut fields = vec![("term", envelope.term.to_string())];
    let none = || "none".to_string();
    match &envelope.message {
        Message::RequestVote {
            last_log_index,
            last_log_term,
            ..
        }
        | Message::PreVote {
            last_log_index,
            last_log_term,
        } => {
            fields.push(("last_log_index", last_log_index.to_string()));
            fields.push(("last_log_term", last_log_term.to_string()));
        }
        Message::PreVoteReply { vote_granted } => {
            fields.push(("granted", vote_granted.to_string()));
        }
        Message::TimeoutNow => {}
        Message::RequestVoteReply { vote_granted } => {
            fields.push(("granted", vote_granted.to_string()));
        }
        Message::AppendEntries {
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit,
        } => {
            fields.push(("prev_log_index", prev_log_index.to_string()));
            fields.push(("prev_log_term", prev_log_term.to_string()));
            fields.push(("entries", entries.len().to_string()));
            fields.push(("leader_commit", leader_commit.to_string()));
        }
        Message::AppendEntriesReply {
            prev_log_index,
            outcome,
        } => {
            fields.push(("prev_log_index", prev_log_index.to_string()));
            let (name, match_index, hint) = match outcome {
                AppendOutcome::Accepted { match_index } => ("accepted", Some(*match_index), None),
                AppendOutcome::Conflict(hint) => ("conflict", None, Some(hint)),
                AppendOutcome::StaleTerm => ("stale-term", None, None),
            };
            fields.push(("outcome", name.to_string()));
            fields.push((
                "match_index",
                match_index.map_or_else(none, |m| m.to_string()),
            ));
            let term = hint.and_then(|hint| hint.term);
            fields.push(("conflict_term", term.map_or_else(none, |t| t.to_string())));
            let index = hint.filter(|hint| hint.term.is_some());
            fields.push((
                "conflict_index",
                index.map_or_else(none, |hint| hint.first_index.to_string()),
            ));
            fields.push((
                "last_index",
                hint.map_or_else(none, |hint| (hint.log_end - 1).to_string()),
            ));
        }
        Message::InstallSnapshot { snapshot } => {
            fields.push((
                "last_included_index",
                snapshot.last_included_index.to_string(),
            ));
            fields.push((
                "last_included_term",
                snapshot.last_included_term.to_string(),
            ));
        }
        Message::InstallSnapshotReply { installed_index } => {
            fields.push((
                "installed_index",
                installed_index.map_or_else(none, |index| index.to_string()),
            ));
        }
    }
    fields
}

/// A filter with its node targets resolved against the cluster as it is now.
pub struct Picker {
    from: Option<Vec<NodeId>>,
    to: Option<Vec<NodeId>>,
    kind: Option<&'static str>,
}

impl Picker {
    /// Resolves `filter`'s targets (`leader`, lists) now.
    pub fn new(cluster: &Cluster, filter: &MessageFilter) -> Result<Picker, ExecError> {
        let nodes = |targets: &Option<Vec<Target>>| {
            targets
                .as_deref()
                .map(|targets| resolve(cluster, targets))
                .transpose()
        };
        Ok(Picker {
            from: nodes(&filter.from)?,
            to: nodes(&filter.to)?,
            kind: filter.kind,
        })
    }

    /// True if the filter picks this message.
    pub fn picks(&self, envelope: &Envelope) -> bool {
        let among = |nodes: &Option<Vec<NodeId>>, node: NodeId| {
            nodes.as_ref().is_none_or(|nodes| nodes.contains(&node))
        };
        among(&self.from, envelope.from)
            && among(&self.to, envelope.to)
            && self.kind.is_none_or(|kind| envelope.message.kind() == kind)
    }

    /// The ids of the messages in flight that the filter picks, in delivery order.
    pub fn ids(&self, cluster: &Cluster) -> Vec<u64> {
        cluster
            .in_flight()
            .iter()
            .filter(|message| self.picks(&message.envelope))
            .map(|message| message.id)
            .collect()
    }
}

/// The most messages one `stabilize` delivers before it gives up: a run that keeps
/// producing messages (duplication, a switch that breaks a rule) must not hang.
pub const STABILIZE_LIMIT: usize = 10_000;

/// `stabilize [NODES]`: flushes whatever the nodes hold for their next round, then
/// delivers every message in flight between them (and everything that produces),
/// without advancing time, until nothing is left. Messages to or from other nodes
/// stay in flight. Returns a line per delivery and a summary.
pub fn stabilize(cluster: &mut Cluster, nodes: Option<&[Target]>) -> Result<String, ExecError> {
    stabilize_within(cluster, nodes, STABILIZE_LIMIT)
}

/// `stabilize` that gives up after `limit` deliveries.
pub fn stabilize_within(
    cluster: &mut Cluster,
    nodes: Option<&[Target]>,
    limit: usize,
) -> Result<String, ExecError> {
    let nodes = match nodes {
        Some(targets) => resolve(cluster, targets)?,
        None => (1..=cluster.size()).collect(),
    };
    let between =
        |envelope: &Envelope| nodes.contains(&envelope.from) && nodes.contains(&envelope.to);
    let mut lines = Vec::new();
    let mut delivered = 0;
    loop {
        let pending: Vec<NodeId> = nodes
            .iter()
            .copied()
            .filter(|&node| cluster.has_pending(node))
            .collect();
        for node in pending {
            let action = Action::Flush(node);
            let outcome = cluster.apply(&action)?;
            lines.push(describe_sent(&outcome));
        }
        let ids: Vec<u64> = cluster
            .in_flight()
            .iter()
            .filter(|message| between(&message.envelope))
            .map(|message| message.id)
            .collect();
        if ids.is_empty() {
            break;
        }
        for id in ids {
            if delivered == limit {
                return Err(ExecError::Failed(format!(
                    "stabilize: messages still in flight after {limit} deliveries; something keeps producing them (see `messages`)"
                )));
            }
            lines.push(deliver(cluster, id)?);
            delivered += 1;
        }
    }
    let left = cluster.in_flight().len();
    let mut summary = format!(
        "stable: {delivered} message{} delivered",
        if delivered == 1 { "" } else { "s" }
    );
    if nodes.len() < cluster.size() {
        summary.push_str(&format!(" between {}", names(&nodes)));
    }
    if left > 0 {
        summary.push_str(&format!(
            "; {left} other{} still in flight",
            if left == 1 { "" } else { "s" }
        ));
    }
    lines.push(summary.dimmed().to_string());
    Ok(lines.join("\n"))
}

/// Delivers one message in flight and describes what happened.
pub fn deliver(cluster: &mut Cluster, id: u64) -> Result<String, ExecError> {
    let before = cluster.event_count();
    let outcome = cluster.apply(&Action::Deliver(id))?;
    let events = cluster.events((cluster.event_count() - before) as usize);
    Ok(match &outcome {
        Outcome::Delivered {
            message,
            fate,
            sent,
        } => describe_delivery(message, *fate, sent, &events),
        other => unreachable!("a delivery ends in Delivered, not {other:?}"),
    })
}

/// A message as one line: id, route, type, term and what it carries.
pub fn message_line(message: &InFlight) -> String {
    let envelope = &message.envelope;
    format!(
        "#{} n{}→n{} {} t{}: {}",
        message.id,
        envelope.from,
        envelope.to,
        envelope.message.kind(),
        envelope.term,
        message_summary(&envelope.message)
    )
}

/// What a node sent at once (`flush`, `tick NODE heartbeat`), a line per message.
pub fn describe_sent(outcome: &Outcome) -> String {
    let Outcome::Sent { node, messages } = outcome else {
        unreachable!("a flush or a heartbeat ends in Sent, not {outcome:?}")
    };
    if messages.is_empty() {
        return format!("n{node} has nothing to send");
    }
    let mut lines = vec![format!(
        "n{node} sends {} message{}",
        messages.len(),
        if messages.len() == 1 { "" } else { "s" }
    )];
    lines.extend(
        messages
            .iter()
            .map(|message| format!("  → {}", message_line(message))),
    );
    lines.join("\n")
}

/// One delivery in words: the message and its fate, then (if it arrived) what its
/// receiver decided, with the reason, and what it sent in answer.
pub fn describe_delivery(
    message: &InFlight,
    fate: Fate,
    sent: &[InFlight],
    events: &[TraceEvent],
) -> String {
    let line = message_line(message);
    let reason = match fate {
        Fate::Delivered => return describe_arrival(&line, message, sent, events),
        Fate::Dropped(DropReason::Cut) => "its link is cut",
        Fate::Dropped(DropReason::Down) => "its recipient is down",
        Fate::Dropped(DropReason::Lost | DropReason::Manual) => "lost",
        Fate::Dropped(DropReason::Removed) => "its recipient was removed",
    };
    format!("dropped {line} ({reason})").yellow().to_string()
}

/// A delivered message: the receiver's events (its decision and what followed), a
/// line that says what an answer without an event means, and the answers sent.
fn describe_arrival(
    line: &str,
    message: &InFlight,
    sent: &[InFlight],
    events: &[TraceEvent],
) -> String {
    let receiver = message.envelope.to;
    let mut lines = vec![format!("delivered {line}")];
    // What the receiver did, without the traffic the lines around say already.
    let decisions: Vec<&TraceEvent> = events
        .iter()
        .filter(|event| event.node == receiver && !is_traffic(&event.kind))
        .collect();
    for event in &decisions {
        lines.push(format!("  n{receiver} {}", event_text(&event.kind)));
    }
    let decided = |wanted: fn(&Event) -> bool| {
        decisions.iter().any(|event| match &event.kind {
            TraceKind::Raft { event } => wanted(event),
            _ => false,
        })
    };
    let stale = decided(|event| matches!(event, Event::StaleTermIgnored { .. }));
    if !stale && let Some(text) = quiet_decision(message, sent, &decided) {
        lines.push(format!("  n{receiver} {text}"));
    }
    for answer in sent {
        lines.push(format!("  → {}", message_line(answer)));
    }
    lines.join("\n")
}

/// What a receiver decided when the decision left no event of its own: a heartbeat
/// accepted, a late vote, an answer that changes nothing.
fn quiet_decision(
    message: &InFlight,
    sent: &[InFlight],
    decided: &dyn Fn(fn(&Event) -> bool) -> bool,
) -> Option<String> {
    let answer = sent
        .iter()
        .find(|answer| answer.envelope.to == message.envelope.from)
        .map(|answer| &answer.envelope.message);
    let sender = message.envelope.from;
    match (&message.envelope.message, answer) {
        (
            Message::AppendEntries { .. },
            Some(Message::AppendEntriesReply {
                outcome: AppendOutcome::Accepted { match_index },
                ..
            }),
        ) => Some(format!(
            "accepts: its log matches n{sender}'s through {match_index}"
        )),
        (Message::InstallSnapshot { snapshot }, _)
            if !decided(|event| matches!(event, Event::SnapshotInstalled { .. })) =>
        {
            Some(format!(
                "already holds everything through {}: nothing to install",
                snapshot.last_included_index
            ))
        }
        (Message::RequestVoteReply { .. }, _)
            if !decided(|event| matches!(event, Event::VoteCounted { .. })) =>
        {
            Some("is no longer a candidate: the answer changes nothing".to_string())
        }
        (Message::AppendEntriesReply { .. } | Message::InstallSnapshotReply { .. }, _)
            if !decided(|event| matches!(event, Event::ProgressUpdated { .. })) =>
        {
            Some(format!("keeps its view of n{sender} as it was"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Config;

    #[test]
    fn stabilize_gives_up_at_its_limit() {
        let mut cluster = Cluster::new(Config::new(3).seed(1));
        cluster.apply(&Action::Timeout(1)).unwrap();
        // An election takes more than two deliveries to settle.
        match stabilize_within(&mut cluster, None, 2) {
            Err(ExecError::Failed(text)) => assert!(text.contains("after 2 deliveries"), "{text}"),
            other => panic!("stabilize did not stop at its limit: {other:?}"),
        }
        let text = stabilize(&mut cluster, None).unwrap();
        assert!(text.contains("stable:"), "{text}");
        assert!(cluster.in_flight().is_empty());
    }

    #[test]
    fn message_fields_name_what_a_message_carries() {
        let envelope = Envelope {
            from: 1,
            to: 2,
            term: 3,
            message: Message::AppendEntriesReply {
                prev_log_index: 5,
                outcome: AppendOutcome::Conflict(crate::raft::ConflictHint {
                    term: Some(2),
                    first_index: 4,
                    log_end: 7,
                }),
            },
        };
        let fields = message_fields(&envelope);
        for (name, value) in [
            ("term", "3"),
            ("outcome", "conflict"),
            ("conflict_term", "2"),
            ("conflict_index", "4"),
            ("last_index", "6"),
            ("match_index", "none"),
        ] {
            assert!(
                fields.contains(&(name, value.to_string())),
                "{name}={value}: {fields:?}"
            );
        }
        for (name, _) in &fields {
            assert!(MESSAGE_FIELDS.contains(name), "{name} is listed");
        }
    }
}
