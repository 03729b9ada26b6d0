//! Commands that change the cluster, as [`Action`]s: a command's targets (`leader`,
//! `followers`, `all`, lists) are resolved into concrete node ids, and the command
//! becomes a list of actions ([`actions_of`]); each is applied through
//! [`Cluster::apply`] and its [`Outcome`] becomes a line of text ([`run`]).
//!
//! The same conversion serves the prompt (targets resolved against the cluster, see
//! [`ClusterTargets`]) and [`super::parse::parse_action`] (only concrete targets,
//! see [`Concrete`]), so a line means one thing wherever it is read.

use colored::Colorize;

use super::command::{Command, MessageFilter, Target, Targets};
use super::error::ExecError;
use super::stepping::{Picker, describe_delivery, describe_sent, message_line};
use super::target::{names, no_leader, resolve};
use crate::cluster::trace::TraceEvent;
use crate::cluster::{Action, Cluster, ClusterError, Outcome, Setting};
use crate::raft::NodeId;

/// How a command's targets and defaults become concrete ids. Errors are one line
/// saying what was expected.
pub trait Resolver {
    /// The nodes that `targets` name, in order, without repeats.
    fn nodes(&self, targets: &[Target]) -> Result<Vec<NodeId>, String>;
    /// The node a `submit` without `@NODE` goes to.
    fn leader(&self) -> Result<NodeId, String>;
    /// The messages in flight that `filter` picks, in delivery order, for
    /// `deliver` and `drop-msg` with a filter.
    fn messages(&self, filter: &MessageFilter) -> Result<Vec<u64>, String>;
}

/// Resolves targets against a cluster as it is now.
pub struct ClusterTargets<'a>(pub &'a Cluster);

impl Resolver for ClusterTargets<'_> {
    fn nodes(&self, targets: &[Target]) -> Result<Vec<NodeId>, String> {
        resolve(self.0, targets).map_err(|error| error.to_string())
    }

    fn leader(&self) -> Result<NodeId, String> {
        self.0.leader().ok_or_else(|| no_leader().to_string())
    }

    fn messages(&self, filter: &MessageFilter) -> Result<Vec<u64>, String> {
        let picker = Picker::new(self.0, filter).map_err(|error| error.to_string())?;
        Ok(picker.ids(self.0))
    }
}

/// Accepts only what names itself: node numbers, explicit `@NODE`, message ids.
pub struct Concrete;

impl Resolver for Concrete {
    fn nodes(&self, targets: &[Target]) -> Result<Vec<NodeId>, String> {
        let mut nodes = Vec::new();
        for target in targets {
            match target {
                Target::Node(node) if nodes.contains(node) => {}
                Target::Node(node) => nodes.push(*node),
                Target::Leader | Target::Followers | Target::All => {
                    return Err(
                        "an action names its nodes by number (`leader`, `followers` and `all` depend on the moment)"
                            .to_string(),
                    );
                }
            }
        }
        Ok(nodes)
    }

    fn leader(&self) -> Result<NodeId, String> {
        Err("an action names the node it submits to: `submit @NODE TEXT`".to_string())
    }

    fn messages(&self, _: &MessageFilter) -> Result<Vec<u64>, String> {
        Err("an action names the message it delivers: `deliver ID`".to_string())
    }
}

/// The actions `command` stands for, with its targets resolved by `resolver`;
/// `None` if the command changes nothing in the cluster (views, waits, expectations,
/// the session's own settings, `cluster`, which replaces it).
pub fn actions_of(
    command: &Command,
    resolver: &impl Resolver,
) -> Option<Result<Vec<Action>, String>> {
    let each = |targets: &Targets, action: fn(NodeId) -> Action| {
        resolver
            .nodes(targets)
            .map(|nodes| nodes.into_iter().map(action).collect())
    };
    let actions = match command {
        Command::Act(action) => Ok(vec![action.clone()]),
        Command::Submit { node, text } => match node {
            Some(targets) => resolver
                .nodes(targets)
                .and_then(|nodes| exactly_one(&nodes)),
            None => resolver.leader(),
        }
        .map(|node| {
            vec![Action::Submit {
                node,
                command: text.clone(),
            }]
        }),
        Command::Crash(targets) => each(targets, Action::Crash),
        Command::Restart(targets) => each(targets, Action::Restart),
        Command::Disconnect(targets) => each(targets, Action::Disconnect),
        Command::Connect(targets) => each(targets, Action::Connect),
        Command::Snapshot { nodes, at: None } => each(nodes, Action::Snapshot),
        Command::Snapshot {
            nodes,
            at: Some(index),
        } => resolver.nodes(nodes).map(|nodes| {
            nodes
                .into_iter()
                .map(|node| Action::SnapshotAt {
                    node,
                    index: *index,
                })
                .collect()
        }),
        Command::Timeout(targets) => each(targets, Action::Timeout),
        Command::Heartbeat(targets) => each(targets, Action::Heartbeat),
        Command::Flush(targets) => each(targets, Action::Flush),
        Command::AddNode { leader } => match leader {
            Some(targets) => resolver
                .nodes(targets)
                .and_then(|nodes| exactly_one(&nodes)),
            None => resolver.leader(),
        }
        .map(|leader| vec![Action::AddNode { leader }]),
        Command::RemoveNode { leader, node } => {
            let leader = match leader {
                Some(targets) => resolver
                    .nodes(targets)
                    .and_then(|nodes| exactly_one(&nodes)),
                None => resolver.leader(),
            };
            let node = resolver.nodes(node).and_then(|nodes| exactly_one(&nodes));
            leader.and_then(|leader| node.map(|node| vec![Action::RemoveNode { leader, node }]))
        }
        Command::Transfer { leader, target } => {
            let leader = match leader {
                Some(targets) => resolver
                    .nodes(targets)
                    .and_then(|nodes| exactly_one(&nodes)),
                None => resolver.leader(),
            };
            let target = resolver.nodes(target).and_then(|nodes| exactly_one(&nodes));
            leader.and_then(|leader| target.map(|target| vec![Action::Transfer { leader, target }]))
        }
        Command::Partition(groups) => partition(groups, resolver),
        Command::Deliver(filter) => resolver
            .messages(filter)
            .map(|ids| ids.into_iter().map(Action::Deliver).collect()),
        Command::DropMessages(filter) => resolver
            .messages(filter)
            .map(|ids| ids.into_iter().map(Action::DropMessage).collect()),
        // `stabilize` resolves pass by pass as it runs (see `stepping.rs`).
        Command::Stabilize(_)
        | Command::Progress { .. }
        | Command::Source(_)
        | Command::Help(_)
        | Command::Cluster { .. }
        | Command::Status { .. }
        | Command::Log { .. }
        | Command::Kv { .. }
        | Command::Events { .. }
        | Command::Stats { .. }
        | Command::Messages { .. }
        | Command::Digest { .. }
        | Command::Timeline { .. }
        | Command::Rules { .. }
        | Command::Search(_)
        | Command::Members { .. }
        | Command::Pause
        | Command::Resume
        | Command::Speed(_)
        | Command::Wait { .. }
        | Command::Expect(_)
        | Command::Export { .. }
        | Command::Undo(_)
        | Command::Rewind(_)
        | Command::Goto(_)
        | Command::Save(_)
        | Command::Quit => return None,
    };
    Some(actions)
}

/// The one node of `nodes`, or an error saying it needs exactly one.
fn exactly_one(nodes: &[NodeId]) -> Result<NodeId, String> {
    match nodes {
        [node] => Ok(*node),
        _ => Err(format!(
            "this needs exactly one node, but that names {}",
            names(nodes)
        )),
    }
}

/// `partition A | B ...` with each group resolved; a node in two groups is an error.
fn partition(groups: &[Targets], resolver: &impl Resolver) -> Result<Vec<Action>, String> {
    let mut resolved: Vec<Vec<NodeId>> = Vec::new();
    for group in groups {
        let nodes = resolver.nodes(group)?;
        if let Some(twice) = nodes
            .iter()
            .find(|node| resolved.iter().flatten().any(|other| other == *node))
        {
            return Err(ClusterError::NodeInTwoGroups(*twice).to_string());
        }
        resolved.push(nodes);
    }
    Ok(vec![Action::Partition(resolved)])
}

/// A refusal that is part of the answer rather than bad input: a node that is not
/// the leader declining a command, a node with nothing new to snapshot (or down,
/// when `snapshot all` names it). It is shown as a line; it changed nothing.
fn is_an_answer(action: &Action, error: &ClusterError) -> bool {
    matches!(
        (action, error),
        (
            Action::Submit { .. },
            ClusterError::NotLeader { .. } | ClusterError::Transferring { .. }
        ) | (
            Action::Snapshot(_),
            ClusterError::Snapshot { .. }
                | ClusterError::NothingToSnapshot { .. }
                | ClusterError::Down(_)
        )
    )
}

/// Applies the actions of one command in order, after checking all of them first so
/// that a bad line changes nothing; returns a line of text per action (several for a
/// delivery: what the receiver decided, and what it sent).
pub fn run(cluster: &mut Cluster, actions: &[Action]) -> Result<String, ExecError> {
    for action in actions {
        if let Err(error) = cluster.check(action)
            && !is_an_answer(action, &error)
        {
            return Err(error.into());
        }
    }
    let mut lines = Vec::new();
    for action in actions {
        let before = cluster.event_count();
        match cluster.apply(action) {
            Ok(outcome) => {
                let events = cluster.events((cluster.event_count() - before) as usize);
                lines.push(describe(cluster, action, &outcome, &events));
            }
            Err(error) if is_an_answer(action, &error) => lines.push(refusal(&error)),
            Err(error) => return Err(error.into()),
        }
    }
    Ok(lines.join("\n"))
}

/// A refusal, in yellow.
fn refusal(error: &ClusterError) -> String {
    let text = match error {
        ClusterError::NotLeader { node, leader } => {
            let who = leader.map_or("no leader is known".to_string(), |leader| {
                format!("n{leader} is")
            });
            format!("n{node} refused: not the leader ({who})")
        }
        other => other.to_string(),
    };
    text.yellow().to_string()
}

/// What an applied action did, in words; `events` are the trace events it caused.
fn describe(
    cluster: &Cluster,
    action: &Action,
    outcome: &Outcome,
    events: &[TraceEvent],
) -> String {
    match outcome {
        Outcome::Ticked { from, to } => format!("tick {from} → {to}").dimmed().to_string(),
        Outcome::Submitted { node, index, term } => {
            format!("n{node} accepted it at index {index}, term {term}")
        }
        Outcome::Crashed(node) => format!("n{node} crashed"),
        Outcome::AlreadyDown(node) => format!("n{node} is already down"),
        Outcome::Restarted(status) => format!(
            "n{} restarted from its persisted state: term {}, log up to {}, snapshot {}",
            status.id, status.term, status.last_log_index, status.snapshot_index
        ),
        Outcome::Snapshotted { node, index } => {
            format!("n{node} snapshotted through index {index}")
        }
        Outcome::TimedOut(status) if status.pre_candidate => format!(
            "n{}'s election timer fired: pre-candidate in term {}, asking for pre-votes for term {}",
            status.id,
            status.term,
            status.term + 1
        ),
        Outcome::TimedOut(status) => format!(
            "n{}'s election timer fired: {:?} in term {}",
            status.id, status.role, status.term
        )
        .to_lowercase(),
        Outcome::Delivered {
            message,
            fate,
            sent,
        } => describe_delivery(message, *fate, sent, events),
        Outcome::Sent { .. } => describe_sent(outcome),
        Outcome::MessageDropped(message) => format!("dropped {}", message_line(message)),
        Outcome::NodeAdded {
            node,
            leader,
            index,
        } => format!(
            "n{node} started, empty; n{leader} adds it as a learner with entry {index}: it catches up, then n{leader} makes it a voter"
        ),
        Outcome::NodeRemoving {
            node,
            leader,
            index,
        } if cluster.is_removed(*node) => format!(
            "n{node} was in no configuration n{leader} knows of: it is shut down (the last committed configuration is at {index})"
        ),
        Outcome::NodeRemoving {
            node,
            leader,
            index,
        } => format!(
            "n{leader} removes n{node} with entry {index}: n{node} stops counting now and leaves once the entry commits"
        ),
        Outcome::Transferring { leader, target } => format!(
            "n{leader} hands its leadership to n{target}: it takes no commands until n{target} is caught up and elected (or an election timeout passes)"
        ),
        Outcome::Done => describe_change(cluster, action),
    }
}

/// What an action that only changes links or settings did, in words.
fn describe_change(cluster: &Cluster, action: &Action) -> String {
    match action {
        Action::Disconnect(node) => format!("n{node} is cut off from every other node"),
        Action::Connect(node) => format!("n{node} is connected"),
        Action::Partition(groups) => {
            let shown: Vec<String> = groups
                .iter()
                .map(|group| format!("{{{}}}", names(group)))
                .collect();
            let alone: Vec<NodeId> = cluster
                .nodes()
                .into_iter()
                .filter(|id| !groups.iter().flatten().any(|other| other == id))
                .collect();
            let mut text = format!("partitioned: {}", shown.join(" | "));
            if !alone.is_empty() {
                text.push_str(&format!("; {} alone", names(&alone)));
            }
            text
        }
        Action::Heal => "healed: every node connected to every other".to_string(),
        Action::DropRate(rate) => format!("dropping {}% of messages", rate * 100.0),
        Action::DuplicateRate(rate) => format!("duplicating {}% of messages", rate * 100.0),
        Action::Latency { min, max } if min == max => format!(
            "every message takes {min} tick{}",
            if *min == 1 { "" } else { "s" }
        ),
        Action::Latency { min, max } => format!("messages take {min} to {max} ticks"),
        Action::Unreliable(on) => format!(
            "unreliable network {}",
            if *on {
                "on: ~10% of messages lost, extra delay"
            } else {
                "off"
            }
        ),
        Action::LongReordering(on) => format!(
            "long reordering {}",
            if *on {
                "on: ~2/3 of replies delayed 4-44 ticks"
            } else {
                "off"
            }
        ),
        Action::AutoSnapshot(Some(every)) => {
            format!("every node snapshots at each multiple of {every} applied entries")
        }
        Action::AutoSnapshot(None) => "automatic snapshots off".to_string(),
        Action::Set(setting) => match setting {
            Setting::BatchEntries(entries) => format!(
                "every node sends at most {entries} entr{} per AppendEntries from now on",
                if *entries == 1 { "y" } else { "ies" }
            ),
            Setting::BatchBytes(bytes) => format!(
                "every node sends at most {bytes} command bytes per AppendEntries from now on (one entry always goes)"
            ),
            Setting::CoarseBackup(true) => "after a conflict, a leader backs up to the follower's first entry of the conflicting term from now on".to_string(),
            Setting::CoarseBackup(false) => "after a conflict, a leader backs up exactly to where the logs diverge from now on".to_string(),
            Setting::Feature(feature, on) => format!(
                "{feature} switched {} on every node from its next step",
                if *on { "on" } else { "off" }
            ),
        },
        Action::LinkDelay {
            from,
            to,
            delay: Some((min, max)),
        } => format!("messages from n{from} to n{to} take {min} to {max} ticks"),
        Action::LinkDelay {
            from,
            to,
            delay: None,
        } => format!("messages from n{from} to n{to} take the network's latency again"),
        Action::LateDuplicates(Some((min, max))) => {
            format!("a duplicate arrives {min} to {max} ticks after its original")
        }
        Action::LateDuplicates(None) => {
            "a duplicate arrives with its own latency again".to_string()
        }
        Action::Break(rule) => format!(
            "every node breaks {rule} from its next step on: {}",
            rule.description()
        )
        .red()
        .bold()
        .to_string(),
        Action::Mend(rule) => format!("every node follows {rule} again"),
        Action::MendAll => "every rule holds again".to_string(),
        Action::Tick(_)
        | Action::Submit { .. }
        | Action::Crash(_)
        | Action::Restart(_)
        | Action::Snapshot(_)
        | Action::SnapshotAt { .. }
        | Action::Timeout(_)
        | Action::Heartbeat(_)
        | Action::Flush(_)
        | Action::Transfer { .. }
        | Action::AddNode { .. }
        | Action::RemoveNode { .. }
        | Action::Deliver(_)
        | Action::DropMessage(_) => {
            unreachable!("`{action}` has an outcome of its own, not Done")
        }
    }
}
