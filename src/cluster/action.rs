//! The one vocabulary of control: every action that changes a cluster is a value of
//! [`Action`], applied by [`Cluster::apply`](super::Cluster::apply), which answers
//! with an [`Outcome`] (what happened) or a [`ClusterError`] (why nothing did).
//!
//! An action names everything concretely: node ids, message ids, numbers. Words that
//! depend on the moment ("the leader", "every message in flight") belong to the
//! prompt, which resolves them into actions before applying them. So an action means
//! the same thing whenever it is applied, and a list of actions is a complete record
//! of how a cluster was driven: replaying it on a cluster built with the same
//! [`Config`](super::Config) reproduces the run event for event.
//!
//! Its [`Display`](std::fmt::Display) is exactly the script line that the playground
//! parses back into the same action (`crash 3`, `submit @2 set x 1`,
//! `partition 1,2 | 3,4,5`, `delay 1..3`, `set batch-entries 4`). A chaos schedule,
//! a shrunk counterexample or a recorded session is therefore a script. The round
//! trip holds for every action [`Cluster::apply`](super::Cluster::apply) accepts; an
//! action it refuses as malformed (a rate above 1, an empty partition group, a command
//! text that is not one line) may have no line.

use std::fmt;

use super::ClusterError;
use super::NodeStatus;
use super::router::{DropReason, InFlight};
use crate::raft::{Feature, Index, NodeId, RaftConfig, Rule, Term};

/// The most nodes a cluster ever has (ids are never reused, so this counts removed
/// nodes too).
pub const MAX_NODES: usize = 15;
/// The most ticks one [`Action::Tick`] may take (a longer wait is several ticks).
pub const MAX_TICKS: u64 = 10_000_000;
/// The largest message latency, in ticks.
pub const MAX_LATENCY: u64 = 1_000_000;

/// One action that changes a cluster. See the module documentation.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// `tick N`: advance virtual time by N ticks (1 to [`MAX_TICKS`]).
    Tick(u64),
    /// `submit @NODE TEXT`: hand a command to a node, which must be an up leader.
    Submit {
        /// The node asked.
        node: NodeId,
        /// The command text: one line, no leading or trailing spaces.
        command: String,
    },
    /// `crash NODE`: stop a node; it loses everything it did not persist, and its
    /// messages in flight. Crashing a down node changes nothing.
    Crash(NodeId),
    /// `restart NODE`: start a node again from what it persisted (crashing it first if
    /// it is up, like the lab's `start1`).
    Restart(NodeId),
    /// `disconnect NODE`: cut a node off from every other node.
    Disconnect(NodeId),
    /// `connect NODE`: restore a node's links to every connected node.
    Connect(NodeId),
    /// `partition 1,2 | 3,4,5`: split the network into groups that cannot talk to each
    /// other; a node named in no group is alone. Every group is non-empty and no node
    /// is in two.
    Partition(Vec<Vec<NodeId>>),
    /// `heal`: one group again, every node connected.
    Heal,
    /// `drop RATE`: drop each message with this probability (0 to 1).
    DropRate(f64),
    /// `delay MIN..MAX`: each message takes a uniform MIN..=MAX ticks
    /// (1 ≤ MIN ≤ MAX ≤ [`MAX_LATENCY`]).
    Latency {
        /// The fewest ticks a message takes.
        min: u64,
        /// The most ticks a message takes.
        max: u64,
    },
    /// `duplicate RATE`: deliver each message twice with this probability (0 to 1).
    DuplicateRate(f64),
    /// `unreliable on|off`: the lab's unreliable network (about 10% lost, up to a tick
    /// of extra delay).
    Unreliable(bool),
    /// `reorder on|off`: the lab's long reordering (about 2/3 of replies delayed 4-44
    /// ticks).
    LongReordering(bool),
    /// `snapshot NODE`: the node snapshots its state machine at its last applied index
    /// and compacts its log behind it (§7).
    Snapshot(NodeId),
    /// `autosnapshot N|off`: every node snapshots at each multiple of N applied entries
    /// (the lab uses 10), or never.
    AutoSnapshot(Option<u64>),
    /// `snapshot NODE at INDEX`: the node snapshots its state machine as it was at
    /// `index` (at most its last applied index, past its current snapshot) and
    /// compacts its log through there (§7).
    SnapshotAt {
        /// The node.
        node: NodeId,
        /// The snapshot's last included index.
        index: Index,
    },
    /// `timeout NODE` (also `tick NODE election`): the node's election timer fires
    /// now (§5.2).
    Timeout(NodeId),
    /// `tick NODE heartbeat`: the leader's heartbeat timer fires now, so every
    /// follower is sent AppendEntries at once (§5.2).
    Heartbeat(NodeId),
    /// `flush NODE`: the node sends what it holds for the next round now (a leader's
    /// new entries, which otherwise leave with the next tick), without a tick.
    Flush(NodeId),
    /// `add-node @LEADER`: a new, empty node starts with the next unused id, and the
    /// leader appends a configuration entry adding it as a learner (dissertation
    /// §4.2.1); once it has caught up, the leader promotes it to voter with a second
    /// entry (§4.1, one server at a time).
    AddNode {
        /// The leader asked.
        leader: NodeId,
    },
    /// `remove-node @LEADER NODE`: the leader appends a configuration entry without
    /// `node` (§4.1). Once that entry is committed, the node is out of the cluster
    /// (a leader removing itself steps down then, §4.2.2).
    RemoveNode {
        /// The leader asked.
        leader: NodeId,
        /// The node to remove.
        node: NodeId,
    },
    /// `transfer @LEADER TARGET`: the leader hands its leadership to `target`
    /// (dissertation §3.10): it stops taking commands, brings the target's log up to
    /// date and tells it to start an election at once; it gives up after an election
    /// timeout.
    Transfer {
        /// The leader asked.
        leader: NodeId,
        /// The node to take over.
        target: NodeId,
    },
    /// `deliver ID`: the message in flight with this id arrives now, ahead of its time
    /// (or is dropped, if its link or recipient is down).
    Deliver(u64),
    /// `drop-msg ID`: the message in flight with this id is lost.
    DropMessage(u64),
    /// `set NAME VALUE`: change a setting of every node's core from the next step on.
    Set(Setting),
    /// `delay FROM->TO MIN..MAX`: messages from one node to another take a uniform
    /// MIN..=MAX ticks instead of the network's latency (1 ≤ MIN ≤ MAX ≤
    /// [`MAX_LATENCY`]), or, with `off`, the network's latency again. A targeted
    /// delay holds one direction of one link back: replies that arrive terms late.
    LinkDelay {
        /// The sender.
        from: NodeId,
        /// The recipient.
        to: NodeId,
        /// The latency range, or `None` to go back to the network's.
        delay: Option<(u64, u64)>,
    },
    /// `duplicate late MIN..MAX`: the second copy of a duplicated message arrives
    /// MIN..=MAX ticks after the first would (1 ≤ MIN ≤ MAX ≤ [`MAX_LATENCY`]): an old
    /// request or reply delivered again long after; `duplicate late off` goes back to
    /// copies with the message's own latency.
    LateDuplicates(Option<(u64, u64)>),
    /// `break RULE`: every node breaks this rule of the paper on purpose, from its
    /// next step on (nodes that restart later too); see [`Rule`].
    Break(Rule),
    /// `mend RULE`: every node follows the rule again.
    Mend(Rule),
    /// `mend all`: every rule holds again.
    MendAll,
}

/// A setting of the consensus core that may change while a cluster runs: one family,
/// so each new switch is one more variant here (its name, value, check and effect).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// `batch-entries N`: at most N entries in one AppendEntries (N ≥ 1).
    BatchEntries(usize),
    /// `batch-bytes N`: at most N command bytes in one AppendEntries (N ≥ 1; one
    /// entry is always sent, however large).
    BatchBytes(usize),
    /// `coarse-backup on|off`: after a conflict, a leader backs up to the follower's
    /// first entry of the conflicting term (the lab's simpler rule) instead of just
    /// past its own last entry of that term ([`RaftConfig::coarse_backup`]).
    CoarseBackup(bool),
    /// `pre-vote on|off`, `check-quorum on|off`: a mechanism beyond Lab 3 (see
    /// [`Feature`]), switched on or off.
    Feature(Feature, bool),
}

/// A setting's name and what it takes, for `help`, completion and error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettingSpec {
    /// The name after `set`.
    pub name: &'static str,
    /// The value it takes, as `help` shows it.
    pub value: &'static str,
    /// What it changes, in one line.
    pub summary: &'static str,
}

/// Every setting, in the order `help` lists them.
pub const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        name: "batch-entries",
        value: "N",
        summary: "at most N entries per AppendEntries",
    },
    SettingSpec {
        name: "batch-bytes",
        value: "N",
        summary: "at most N command bytes per AppendEntries (one entry always goes)",
    },
    SettingSpec {
        name: "coarse-backup",
        value: "on|off",
        summary: "after a conflict, back up to the follower's first entry of its term (resends entries it holds)",
    },
    SettingSpec {
        name: "pre-vote",
        value: "on|off",
        summary: "ask for pre-votes before raising the term: a rejoining node does not depose the leader (§9.6)",
    },
    SettingSpec {
        name: "check-quorum",
        value: "on|off",
        summary: "a leader without a majority for an election timeout steps down; followers of a live leader ignore votes (§6.2)",
    },
    SettingSpec {
        name: "no-op",
        value: "on|off",
        summary: "a new leader appends an empty entry of its term, so older entries commit without a client (§8)",
    },
];

impl Setting {
    /// The setting's name, as written after `set`.
    pub fn name(self) -> &'static str {
        match self {
            Setting::BatchEntries(_) => "batch-entries",
            Setting::BatchBytes(_) => "batch-bytes",
            Setting::CoarseBackup(_) => "coarse-backup",
            Setting::Feature(feature, _) => feature.name(),
        }
    }

    /// Parses a setting from its name and value text (the words after `set`); the
    /// error says what was expected, in one line.
    pub fn parse(name: &str, value: &str) -> Result<Setting, String> {
        let count = |what: &str| -> Result<usize, String> {
            let number = (!value.is_empty() && value.chars().all(|c| c.is_ascii_digit()))
                .then(|| value.parse::<usize>().ok())
                .flatten();
            match number {
                Some(0) => Err(format!("{name} must be at least 1")),
                Some(number) => Ok(number),
                None => Err(format!(
                    "{name} takes a number of {what} (at least 1), not `{value}`"
                )),
            }
        };
        if let Ok(feature) = name.parse::<Feature>() {
            return match value {
                "on" => Ok(Setting::Feature(feature, true)),
                "off" => Ok(Setting::Feature(feature, false)),
                _ => Err(format!("{name} is switched `on` or `off`, not `{value}`")),
            };
        }
        match name {
            "batch-entries" => count("entries").map(Setting::BatchEntries),
            "batch-bytes" => count("bytes").map(Setting::BatchBytes),
            "coarse-backup" => match value {
                "on" => Ok(Setting::CoarseBackup(true)),
                "off" => Ok(Setting::CoarseBackup(false)),
                _ => Err(format!("{name} takes on or off, not `{value}`")),
            },
            _ => {
                let names: Vec<&str> = SETTINGS.iter().map(|spec| spec.name).collect();
                Err(format!(
                    "unknown setting `{name}`; the settings are {}",
                    names.join(", ")
                ))
            }
        }
    }

    /// Checks the value's range.
    pub fn check(self) -> Result<(), ClusterError> {
        match self {
            Setting::BatchEntries(0) | Setting::BatchBytes(0) => Err(ClusterError::OutOfRange(
                format!("{} must be at least 1", self.name()),
            )),
            Setting::BatchEntries(_)
            | Setting::BatchBytes(_)
            | Setting::CoarseBackup(_)
            | Setting::Feature(..) => Ok(()),
        }
    }

    /// Writes the setting into a core configuration.
    pub fn apply_to(self, config: &mut RaftConfig) {
        match self {
            Setting::BatchEntries(entries) => config.max_entries_per_append = entries,
            Setting::BatchBytes(bytes) => config.max_bytes_per_append = bytes,
            Setting::CoarseBackup(coarse) => config.coarse_backup = coarse,
            Setting::Feature(feature, on) => config.features.set(feature, on),
        }
    }

    /// The settings that turn the default configuration into `config`, in the order
    /// of [`SETTINGS`]: what a script writes after its `cluster` line to rebuild it.
    pub fn differences(config: &RaftConfig) -> Vec<Setting> {
        let default = RaftConfig::default();
        let mut settings = Vec::new();
        if config.max_entries_per_append != default.max_entries_per_append {
            settings.push(Setting::BatchEntries(config.max_entries_per_append));
        }
        if config.max_bytes_per_append != default.max_bytes_per_append {
            settings.push(Setting::BatchBytes(config.max_bytes_per_append));
        }
        if config.coarse_backup != default.coarse_backup {
            settings.push(Setting::CoarseBackup(config.coarse_backup));
        }
        for feature in Feature::ALL {
            let on = config.features.is_on(feature);
            if on != default.features.is_on(feature) {
                settings.push(Setting::Feature(feature, on));
            }
        }
        settings
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Setting::BatchEntries(value) | Setting::BatchBytes(value) => {
                write!(f, "{} {value}", self.name())
            }
            Setting::CoarseBackup(on) => write!(f, "{} {}", self.name(), on_off(*on)),
            Setting::Feature(feature, on) => write!(f, "{feature} {}", on_off(*on)),
        }
    }
}

/// What an applied [`Action`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Time moved from tick `from` to tick `to`.
    Ticked {
        /// The tick before.
        from: u64,
        /// The tick after.
        to: u64,
    },
    /// A leader took the command as a new entry of its log.
    Submitted {
        /// The leader.
        node: NodeId,
        /// The entry's index.
        index: Index,
        /// The leader's term, the entry's term.
        term: Term,
    },
    /// The node crashed.
    Crashed(NodeId),
    /// The node was down already: nothing changed.
    AlreadyDown(NodeId),
    /// The node restarted; its status as it starts (from its persisted state).
    Restarted(NodeStatus),
    /// The node snapshotted its state machine through `index`.
    Snapshotted {
        /// The node.
        node: NodeId,
        /// The snapshot's last included index.
        index: Index,
    },
    /// The node's election timer fired; its status afterwards (a candidate, or a
    /// leader at once in a cluster of one).
    TimedOut(NodeStatus),
    /// A new node started, and the leader appended the entry adding it as a learner.
    NodeAdded {
        /// The new node.
        node: NodeId,
        /// The leader.
        leader: NodeId,
        /// The configuration entry's index.
        index: Index,
    },
    /// The leader appended the entry removing `node`; it leaves once that commits.
    NodeRemoving {
        /// The node being removed.
        node: NodeId,
        /// The leader.
        leader: NodeId,
        /// The configuration entry's index.
        index: Index,
    },
    /// The leader began handing its leadership to `target`.
    Transferring {
        /// The leader.
        leader: NodeId,
        /// The node to take over.
        target: NodeId,
    },
    /// A message in flight reached its recipient now, or was dropped on the way.
    Delivered {
        /// The message.
        message: InFlight,
        /// What became of it.
        fate: Fate,
        /// What the recipient sent in response, now in flight.
        sent: Vec<InFlight>,
    },
    /// A message in flight was dropped by hand.
    MessageDropped(InFlight),
    /// A node sent messages at once (a heartbeat fired by hand, or a flush); they
    /// are now in flight.
    Sent {
        /// The node.
        node: NodeId,
        /// What it sent.
        messages: Vec<InFlight>,
    },
    /// A link, a partition or a setting changed; there is nothing more to say.
    Done,
}

/// What became of a message handed over with [`Action::Deliver`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// The recipient received it.
    Delivered,
    /// It was dropped, for this reason (its link was cut, or its recipient is down).
    Dropped(DropReason),
}

/// Checks a probability.
pub(super) fn check_rate(what: &str, rate: f64) -> Result<(), ClusterError> {
    if (0.0..=1.0).contains(&rate) {
        Ok(())
    } else {
        Err(ClusterError::OutOfRange(format!(
            "{what} rate must be between 0 and 1 (like 0.1), not {rate}"
        )))
    }
}

/// Checks that a command text fits on one script line as `submit @NODE TEXT`: not
/// empty, no leading or trailing spaces, no line breaks or other control characters.
pub fn check_command_text(text: &str) -> Result<(), ClusterError> {
    let writable = !text.is_empty()
        && text.trim() == text
        && !text.chars().any(|c| c.is_control() && c != '\t');
    if writable {
        Ok(())
    } else {
        Err(ClusterError::UnwritableCommand(
            text.chars().take(40).collect(),
        ))
    }
}

/// A rate as a script writes it: the shortest decimal that parses back to the same
/// number (`0.1`, `0.05`, `1`), never `-0`.
struct Rate(f64);

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // -0.0 is a valid rate equal to 0.0, but `-0` is no number a script may hold.
        let rate = if self.0 == 0.0 { 0.0 } else { self.0 };
        write!(f, "{rate}")
    }
}

/// `on` or `off`.
fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

/// A tick range as a script writes it: `5` or `5..9`, or `off` for none.
struct Range(Option<(u64, u64)>);

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("off"),
            Some((min, max)) if min == max => write!(f, "{min}"),
            Some((min, max)) => write!(f, "{min}..{max}"),
        }
    }
}

/// Checks a latency range: 1 ≤ MIN ≤ MAX ≤ [`MAX_LATENCY`].
pub(super) fn check_latency(min: u64, max: u64) -> Result<(), ClusterError> {
    if min == 0 || max < min || max > MAX_LATENCY {
        return Err(ClusterError::OutOfRange(format!(
            "latency must be a range MIN..MAX of ticks with 1 ≤ MIN ≤ MAX ≤ {MAX_LATENCY}, not {min}..{max}"
        )));
    }
    Ok(())
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Tick(ticks) => write!(f, "tick {ticks}"),
            Action::Submit { node, command } => write!(f, "submit @{node} {command}"),
            Action::Crash(node) => write!(f, "crash {node}"),
            Action::Restart(node) => write!(f, "restart {node}"),
            Action::Disconnect(node) => write!(f, "disconnect {node}"),
            Action::Connect(node) => write!(f, "connect {node}"),
            Action::Partition(groups) => {
                let groups: Vec<String> = groups
                    .iter()
                    .map(|group| {
                        let ids: Vec<String> = group.iter().map(NodeId::to_string).collect();
                        ids.join(",")
                    })
                    .collect();
                write!(f, "partition {}", groups.join(" | "))
            }
            Action::Heal => write!(f, "heal"),
            Action::DropRate(rate) => write!(f, "drop {}", Rate(*rate)),
            Action::Latency { min, max } if min == max => write!(f, "delay {min}"),
            Action::Latency { min, max } => write!(f, "delay {min}..{max}"),
            Action::DuplicateRate(rate) => write!(f, "duplicate {}", Rate(*rate)),
            Action::Unreliable(on) => write!(f, "unreliable {}", on_off(*on)),
            Action::LongReordering(on) => write!(f, "reorder {}", on_off(*on)),
            Action::Snapshot(node) => write!(f, "snapshot {node}"),
            Action::AutoSnapshot(Some(every)) => write!(f, "autosnapshot {every}"),
            Action::AutoSnapshot(None) => write!(f, "autosnapshot off"),
            Action::SnapshotAt { node, index } => write!(f, "snapshot {node} at {index}"),
            Action::Timeout(node) => write!(f, "timeout {node}"),
            Action::Heartbeat(node) => write!(f, "tick {node} heartbeat"),
            Action::Flush(node) => write!(f, "flush {node}"),
            Action::Transfer { leader, target } => write!(f, "transfer @{leader} {target}"),
            Action::AddNode { leader } => write!(f, "add-node @{leader}"),
            Action::RemoveNode { leader, node } => write!(f, "remove-node @{leader} {node}"),
            Action::Deliver(id) => write!(f, "deliver {id}"),
            Action::DropMessage(id) => write!(f, "drop-msg {id}"),
            Action::Set(setting) => write!(f, "set {setting}"),
            Action::LinkDelay { from, to, delay } => {
                write!(f, "delay {from}->{to} {}", Range(*delay))
            }
            Action::LateDuplicates(late) => write!(f, "duplicate late {}", Range(*late)),
            Action::Break(rule) => write!(f, "break {rule}"),
            Action::Mend(rule) => write!(f, "mend {rule}"),
            Action::MendAll => write!(f, "mend all"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_print_as_script_lines() {
        let lines = [
            (Action::Tick(5), "tick 5"),
            (
                Action::Submit {
                    node: 2,
                    command: "set x 1".into(),
                },
                "submit @2 set x 1",
            ),
            (Action::Crash(3), "crash 3"),
            (
                Action::Partition(vec![vec![1, 2], vec![3, 4, 5]]),
                "partition 1,2 | 3,4,5",
            ),
            (Action::Partition(vec![vec![2, 1]]), "partition 2,1"),
            (Action::DropRate(0.1), "drop 0.1"),
            (Action::DropRate(-0.0), "drop 0"),
            (Action::DuplicateRate(1.0), "duplicate 1"),
            (Action::Latency { min: 1, max: 3 }, "delay 1..3"),
            (Action::Latency { min: 2, max: 2 }, "delay 2"),
            (Action::Unreliable(true), "unreliable on"),
            (Action::LongReordering(false), "reorder off"),
            (Action::AutoSnapshot(Some(10)), "autosnapshot 10"),
            (Action::AutoSnapshot(None), "autosnapshot off"),
            (Action::DropMessage(7), "drop-msg 7"),
            (Action::SnapshotAt { node: 2, index: 7 }, "snapshot 2 at 7"),
            (Action::Heartbeat(2), "tick 2 heartbeat"),
            (Action::Flush(3), "flush 3"),
            (
                Action::Transfer {
                    leader: 1,
                    target: 3,
                },
                "transfer @1 3",
            ),
            (Action::AddNode { leader: 2 }, "add-node @2"),
            (
                Action::RemoveNode { leader: 2, node: 5 },
                "remove-node @2 5",
            ),
            (Action::Set(Setting::BatchBytes(60)), "set batch-bytes 60"),
            (
                Action::LinkDelay {
                    from: 2,
                    to: 1,
                    delay: Some((20, 40)),
                },
                "delay 2->1 20..40",
            ),
            (
                Action::LinkDelay {
                    from: 3,
                    to: 4,
                    delay: None,
                },
                "delay 3->4 off",
            ),
            (Action::LateDuplicates(Some((9, 9))), "duplicate late 9"),
            (Action::LateDuplicates(None), "duplicate late off"),
            (Action::Break(Rule::ForgetVote), "break forget-vote"),
            (Action::Mend(Rule::SmallQuorum), "mend small-quorum"),
            (Action::MendAll, "mend all"),
            (
                Action::Set(Setting::Feature(Feature::PreVote, true)),
                "set pre-vote on",
            ),
            (
                Action::Set(Setting::Feature(Feature::CheckQuorum, false)),
                "set check-quorum off",
            ),
        ];
        for (action, line) in lines {
            assert_eq!(action.to_string(), line);
        }
    }

    #[test]
    fn settings_parse_check_and_apply() {
        assert_eq!(
            Setting::parse("batch-entries", "4"),
            Ok(Setting::BatchEntries(4))
        );
        assert!(
            Setting::parse("batch-entries", "0")
                .unwrap_err()
                .contains("at least 1")
        );
        assert!(
            Setting::parse("batch-bytes", "x")
                .unwrap_err()
                .contains("number of bytes")
        );
        assert!(
            Setting::parse("no-such", "on")
                .unwrap_err()
                .contains("batch-entries, batch-bytes, coarse-backup, pre-vote, check-quorum")
        );
        assert_eq!(
            Setting::parse("pre-vote", "on"),
            Ok(Setting::Feature(Feature::PreVote, true))
        );
        assert_eq!(
            Setting::parse("check-quorum", "off"),
            Ok(Setting::Feature(Feature::CheckQuorum, false))
        );
        assert!(
            Setting::parse("pre-vote", "1")
                .unwrap_err()
                .contains("`on` or `off`")
        );
        assert!(Setting::BatchBytes(0).check().is_err());
        let mut config = RaftConfig::default();
        assert!(Setting::differences(&config).is_empty());
        Setting::BatchEntries(3).apply_to(&mut config);
        Setting::BatchBytes(40).apply_to(&mut config);
        Setting::Feature(Feature::CheckQuorum, true).apply_to(&mut config);
        assert!(config.features.check_quorum && !config.features.pre_vote);
        assert_eq!(
            Setting::differences(&config),
            vec![
                Setting::BatchEntries(3),
                Setting::BatchBytes(40),
                Setting::Feature(Feature::CheckQuorum, true)
            ]
        );
        for setting in Setting::differences(&config) {
            assert!(SETTINGS.iter().any(|spec| spec.name == setting.name()));
        }
    }

    #[test]
    fn command_texts_must_fit_on_a_line() {
        assert!(check_command_text("set x 1").is_ok());
        assert!(check_command_text("a\tb #not a comment").is_ok());
        for bad in ["", " x", "x ", "a\nb", "a\u{1b}b"] {
            assert!(check_command_text(bad).is_err(), "{bad:?}");
        }
    }
}
