//! The safety checker: watches every node's output and records broken invariants.
//!
//! It sees each [`Ready`] right after the node persisted and applied it, and checks:
//!
//! - **Election Safety**: at most one leader per term (§5.2).
//! - **Log Matching**: two logs with an entry of the same index and term hold the same
//!   command there and agree on the term just before it (§5.3). Each new entry is
//!   compared with every other node's persisted log when it is written, which by
//!   induction keeps whole prefixes equal.
//! - **Leader Completeness**: a new leader's log holds every entry applied by anyone
//!   (§5.4).
//! - **State Machine Safety**: no two nodes apply different commands at one index, and
//!   a snapshot's state equals the state after the commands it replaces (§5.4.3).
//! - Applies come in order without gaps: after a snapshot through S, the next is S + 1;
//!   a snapshot never moves the state machine backwards.
//! - On a live node, term, commit index and last applied never decrease.
//!
//! It also keeps what the lab's tester keeps: which command each node applied at each
//! index, so tests can ask how many nodes applied an index and what. It keeps no copy
//! of those commands: a digest every 64 indexes, and clones of the logs they were
//! applied from, which share the nodes' storage (see `checker/history.rs`). To keep memory
//! flat in long runs, it forgets the command at an index once every node holds that
//! index inside a snapshot and [`HISTORY_WINDOW`] newer entries exist: no node can
//! apply it from a log again, and nothing is left to compare it with.

mod history;

use std::collections::BTreeMap;

use serde::Serialize;

use self::history::History;
use crate::raft::log::Entries;
use crate::raft::{Event, Index, LogSuffix, NodeId, PersistentState, Ready, Status};

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// When it was found.
    pub tick: u64,
    /// The node whose output broke it.
    pub node: NodeId,
    /// What was broken, in words.
    pub text: String,
}

/// What the state machine reported after loading a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadedSnapshot {
    /// The snapshot's last included index (from Raft).
    pub index: Index,
    /// The index the state machine says it reflects, or `None` if the data did not decode.
    pub state_index: Option<Index>,
    /// The state machine's digest of all commands it reflects.
    pub digest: u64,
}

/// How many entries below the oldest snapshot the checker keeps, so recent indexes
/// can still be looked up after every node compacted them.
pub const HISTORY_WINDOW: u64 = 1024;

/// What the checker remembers of one node.
#[derive(Clone, Debug, Default)]
struct NodeRecord {
    /// Last reported term, commit index and last applied (monotonic while up).
    status: Option<(u64, u64, u64)>,
    /// The highest index reflected in the node's state machine (kept while it is down).
    last_applied: u64,
    /// The index ranges it applied from its log (not through a snapshot), this life.
    applied_ranges: Vec<(u64, u64)>,
}

/// See the module documentation.
#[derive(Clone, Debug, Default)]
pub struct Checker {
    /// Everything broken so far, in order.
    violations: Vec<Violation>,
    /// The leader of each term seen so far.
    leaders: BTreeMap<u64, NodeId>,
    /// The command applied at each index.
    history: History,
    /// Per node, by id - 1.
    nodes: Vec<NodeRecord>,
    /// How many times each node was started, by id - 1.
    lives: Vec<u64>,
}

impl Checker {
    /// A checker for nodes `1..=nodes`.
    pub fn new(nodes: usize) -> Checker {
        Checker {
            nodes: vec![NodeRecord::default(); nodes],
            lives: vec![0; nodes],
            ..Checker::default()
        }
    }

    /// Starts keeping records of a new node, `node` (the next id).
    pub fn add_node(&mut self, node: NodeId) {
        assert_eq!(node, self.nodes.len() + 1, "node ids are given in order");
        self.nodes.push(NodeRecord::default());
        self.lives.push(0);
    }

    /// Everything broken so far.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// The highest index any node applied.
    pub fn max_applied(&self) -> Index {
        self.history.last_index()
    }

    /// How many nodes applied `index` (from their log or inside a snapshot; a crashed
    /// node counts with what it had applied), and the command there.
    pub fn applied_count(&self, index: Index) -> (usize, Option<String>) {
        let all: Vec<NodeId> = (1..=self.nodes.len()).collect();
        self.applied_count_among(index, &all)
    }

    /// Like [`Checker::applied_count`], counting only `nodes` (the members of a
    /// cluster whose membership changed).
    pub fn applied_count_among(&self, index: Index, nodes: &[NodeId]) -> (usize, Option<String>) {
        if index == 0 {
            return (0, None);
        }
        let count = nodes
            .iter()
            .filter(|&&node| self.nodes[node - 1].last_applied >= index)
            .count();
        let command = self
            .history
            .get(index)
            .map(|applied| applied.command.to_string());
        (count, command)
    }

    /// The command `node` applied at `index` from its log in its current life.
    pub fn applied(&self, node: NodeId, index: Index) -> Option<String> {
        let record = &self.nodes[node - 1];
        record
            .applied_ranges
            .iter()
            .any(|&(from, to)| (from..=to).contains(&index))
            .then(|| self.history.get(index))
            .flatten()
            .map(|applied| applied.command.to_string())
    }

    /// The highest index reflected in `node`'s state machine.
    pub fn last_applied(&self, node: NodeId) -> Index {
        self.nodes[node - 1].last_applied
    }

    /// Records a broken invariant.
    fn violation(&mut self, tick: u64, node: NodeId, text: String) {
        self.violations.push(Violation { tick, node, text });
    }

    /// The entries every node starts with, committed before the cluster began
    /// (`cluster N log K`): they count as applied in order, so the snapshots that
    /// hold them are checked against them.
    pub fn start_with(&mut self, entries: &[crate::raft::Entry]) {
        let Some(last) = entries.last() else {
            return;
        };
        let mut log = crate::raft::Log::new();
        for entry in entries {
            log.push(entry.clone());
        }
        assert_eq!(
            self.history.last_index(),
            0,
            "the starting entries come before anything is applied"
        );
        // They were applied before any node of this cluster lived: node 0, life 0.
        self.history.add_source(0, 0, &log.entries(1, last.index));
        for entry in entries {
            self.history.push(&entry.command);
        }
    }

    /// A node restarted: its volatile state starts over.
    pub fn on_restart(&mut self, node: NodeId) {
        self.nodes[node - 1] = NodeRecord::default();
        self.lives[node - 1] += 1;
    }

    /// Checks one node's status after it handled some input.
    pub fn on_status(&mut self, tick: u64, status: &Status) {
        let node = status.id;
        let now = (status.term, status.commit_index, status.last_applied);
        if let Some(before) = self.nodes[node - 1].status {
            let names = ["term", "commit index", "last applied"];
            let pairs = [(before.0, now.0), (before.1, now.1), (before.2, now.2)];
            for (name, (was, is)) in names.iter().zip(pairs) {
                if is < was {
                    self.violation(tick, node, format!("{name} went back from {was} to {is}"));
                }
            }
        }
        self.nodes[node - 1].status = Some(now);
    }

    /// Checks one [`Ready`] of `node`, after it was persisted and applied. `logs` holds
    /// every node's persisted state (by id - 1); `loaded` what the state machine said
    /// about the snapshot in `ready.apply_snapshot`, if any.
    pub fn on_ready(
        &mut self,
        tick: u64,
        node: NodeId,
        ready: &Ready,
        logs: &[&PersistentState],
        loaded: Option<LoadedSnapshot>,
    ) {
        for event in &ready.events {
            if let Event::BecameLeader { term } = *event {
                self.check_new_leader(tick, node, term, logs[node - 1]);
            }
        }
        if let Some(suffix) = &ready.log {
            self.check_log_matching(tick, node, suffix, logs);
        }
        if let Some(snapshot) = &ready.apply_snapshot {
            self.check_snapshot_load(tick, node, snapshot.last_included_index, loaded);
        }
        self.check_applies(tick, node, &ready.committed);
        // Every node holds everything up to its snapshot index: no node applies those
        // from a log again, so their commands may go (keeping a window of recent ones).
        let oldest_snapshot = logs
            .iter()
            .map(|state| state.log.snapshot_index())
            .min()
            .unwrap_or(0);
        self.history
            .forget_through(oldest_snapshot.saturating_sub(HISTORY_WINDOW));
    }

    /// Election Safety and Leader Completeness for a node that just won `term`.
    fn check_new_leader(&mut self, tick: u64, node: NodeId, term: u64, state: &PersistentState) {
        if let Some(&other) = self.leaders.get(&term) {
            if other != node {
                self.violation(
                    tick,
                    node,
                    format!("Election Safety: n{node} and n{other} both won term {term}"),
                );
            }
        } else {
            self.leaders.insert(term, node);
        }
        let committed = self.max_applied();
        if committed == 0 || committed <= state.log.snapshot_index() {
            return;
        }
        let expected = self
            .history
            .get(committed)
            .expect("the last applied command is never forgotten")
            .term;
        match state.log.term_at(committed) {
            Some(held) if held == expected => {}
            held => self.violation(
                tick,
                node,
                format!(
                    "Leader Completeness: n{node} leads term {term} but holds {} at committed index {committed} (term {expected})",
                    held.map_or("nothing".to_string(), |held| format!("term {held}")),
                ),
            ),
        }
    }

    /// Log Matching for entries `node` just wrote, against every other node's log.
    /// Each other log is walked alongside the new entries where both hold them.
    fn check_log_matching(
        &mut self,
        tick: u64,
        node: NodeId,
        suffix: &LogSuffix,
        logs: &[&PersistentState],
    ) {
        let mine = &suffix.log;
        let first = suffix.first.max(mine.snapshot_index() + 1);
        let last = mine.last_index();
        // (index, other node, text), reported by index, then node.
        let mut broken = Vec::new();
        for (position, other) in logs.iter().enumerate() {
            let other_id = position + 1;
            let theirs = &other.log;
            let from = first.max(theirs.snapshot_index() + 1);
            let to = last.min(theirs.last_index());
            if other_id == node || from > to {
                continue;
            }
            // The terms just before the entry compared, in both logs (`None` where one
            // side compacted it: it is committed, nothing to compare).
            let mut previous = (mine.term_at(from - 1), theirs.term_at(from - 1));
            for (entry, their) in mine.refs(from, to).zip(theirs.refs(from, to)) {
                let previous_terms =
                    std::mem::replace(&mut previous, (Some(entry.term), Some(their.term)));
                if their.term != entry.term {
                    continue;
                }
                let same_command = their.command == entry.command;
                let same_prefix = match previous_terms {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                };
                if !same_command || !same_prefix {
                    let text = format!(
                        "Log Matching: n{node} and n{other_id} both hold index {} term {} but differ {}",
                        entry.index,
                        entry.term,
                        if same_command {
                            "before it"
                        } else {
                            "in its command"
                        },
                    );
                    broken.push((entry.index, other_id, text));
                }
            }
        }
        broken.sort_by_key(|&(index, other, _)| (index, other));
        for (_, _, text) in broken {
            self.violation(tick, node, text);
        }
    }

    /// A snapshot loaded into a state machine: never backwards, and equal to the state
    /// the commands it replaces produce.
    fn check_snapshot_load(
        &mut self,
        tick: u64,
        node: NodeId,
        index: u64,
        loaded: Option<LoadedSnapshot>,
    ) {
        let record = &self.nodes[node - 1];
        if index <= record.last_applied {
            let was = record.last_applied;
            self.violation(
                tick,
                node,
                format!("snapshot through {index} would move the state machine back from {was}"),
            );
            return;
        }
        match loaded {
            Some(LoadedSnapshot {
                state_index: Some(state_index),
                digest,
                ..
            }) => {
                if state_index != index {
                    self.violation(
                        tick,
                        node,
                        format!("snapshot through {index} holds the state at {state_index}"),
                    );
                } else if let Some(expected) = self.history.digest_at(index)
                    && expected != digest
                {
                    self.violation(
                        tick,
                        node,
                        format!("State Machine Safety: snapshot through {index} differs from the applied commands"),
                    );
                }
            }
            Some(LoadedSnapshot {
                state_index: None, ..
            }) => self.violation(
                tick,
                node,
                format!("snapshot through {index} does not decode"),
            ),
            None => {}
        }
        let record = &mut self.nodes[node - 1];
        record.last_applied = index;
    }

    /// The entries `node` applied from its log: in order, and the same command every
    /// node applied at each index. Indexes applied before are compared with the
    /// history, walking both in order; the first application of an index is recorded,
    /// and the command is afterwards found in the log it was taken from.
    fn check_applies(&mut self, tick: u64, node: NodeId, committed: &Entries) {
        let (Some(first), Some(last)) = (committed.first_index(), committed.last_index()) else {
            return;
        };
        let known = self.history.last_index();
        if first <= known + 1 && last > known {
            self.history
                .add_source(node, self.lives[node - 1], committed);
        }
        let mut entries = committed.refs().peekable();
        // Indexes someone applied before.
        {
            let Checker {
                history,
                nodes,
                violations,
                ..
            } = self;
            let mut before = history.range(first, known).peekable();
            while let Some(entry) = entries.next_if(|entry| entry.index <= known) {
                check_order(violations, &nodes[node - 1], tick, node, entry.index);
                if let Some(applied) = before.next_if(|applied| applied.index == entry.index)
                    && (applied.term != entry.term || applied.command != entry.command)
                {
                    let text = format!(
                        "State Machine Safety: n{node} applied {:?} (term {}) at index {}, where {:?} (term {}) was applied before",
                        entry.command, entry.term, entry.index, applied.command, applied.term
                    );
                    violations.push(Violation { tick, node, text });
                }
                nodes[node - 1].note_applied(entry.index);
            }
        }
        // Indexes nobody applied before.
        for entry in entries {
            check_order(
                &mut self.violations,
                &self.nodes[node - 1],
                tick,
                node,
                entry.index,
            );
            let known = self.history.last_index();
            if entry.index != known + 1 {
                self.violation(
                    tick,
                    node,
                    format!(
                        "applied index {} before anyone applied {}",
                        entry.index,
                        known + 1
                    ),
                );
                continue;
            }
            self.history.push(entry.command);
            self.nodes[node - 1].note_applied(entry.index);
        }
    }
}

/// Applies come in order: `index` must follow what `record`'s node applied last.
fn check_order(
    violations: &mut Vec<Violation>,
    record: &NodeRecord,
    tick: u64,
    node: NodeId,
    index: Index,
) {
    let expected = record.last_applied + 1;
    if index != expected {
        let text = format!("applied index {index} out of order (expected {expected})");
        violations.push(Violation { tick, node, text });
    }
}

impl NodeRecord {
    /// Notes that the node applied `index` from its log.
    fn note_applied(&mut self, index: Index) {
        self.last_applied = self.last_applied.max(index);
        match self.applied_ranges.last_mut() {
            Some((_, to)) if *to + 1 == index => *to = index,
            _ => self.applied_ranges.push((index, index)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::{Entry, Log};

    /// A log (no snapshot) of `(term, command)` entries from index 1.
    fn log(entries: &[(u64, &str)]) -> Log {
        let mut log = Log::new();
        for (position, &(term, command)) in entries.iter().enumerate() {
            log.push(Entry {
                index: position as u64 + 1,
                term,
                command: command.into(),
                kind: Default::default(),
            });
        }
        log
    }

    /// The persisted state of a node holding `log`.
    fn state(log: &Log) -> PersistentState {
        PersistentState {
            log: log.clone(),
            ..PersistentState::default()
        }
    }

    /// A Ready that wrote `log` from `first` on.
    fn wrote(first: u64, log: &Log) -> Ready {
        Ready {
            log: Some(LogSuffix {
                first,
                log: log.clone(),
            }),
            ..Ready::default()
        }
    }

    /// A Ready that applied `from..=to` of `log`.
    fn applied(log: &Log, from: u64, to: u64) -> Ready {
        Ready {
            committed: log.entries(from, to),
            ..Ready::default()
        }
    }

    fn texts(checker: &Checker) -> Vec<String> {
        checker
            .violations()
            .iter()
            .map(|violation| format!("n{}: {}", violation.node, violation.text))
            .collect()
    }

    #[test]
    fn log_matching_fires_on_a_different_command_or_prefix() {
        let mut checker = Checker::new(3);
        let one = log(&[(1, "a"), (1, "b"), (2, "c")]);
        let two = log(&[(1, "a"), (1, "x"), (2, "c")]);
        let three = log(&[(2, "a"), (2, "b"), (2, "c")]);
        let logs = [state(&one), state(&two), state(&three)];
        let logs: Vec<&PersistentState> = logs.iter().collect();
        checker.on_ready(1, 1, &wrote(1, &one), &logs, None);
        assert_eq!(
            texts(&checker),
            [
                "n1: Log Matching: n1 and n2 both hold index 2 term 1 but differ in its command",
                "n1: Log Matching: n1 and n3 both hold index 3 term 2 but differ before it",
            ]
        );
        // Agreeing logs, or entries only one side holds, raise nothing.
        let mut checker = Checker::new(2);
        let longer = log(&[(1, "a"), (1, "b"), (2, "c"), (2, "d")]);
        let logs = [state(&longer), state(&one)];
        let logs: Vec<&PersistentState> = logs.iter().collect();
        checker.on_ready(1, 1, &wrote(1, &longer), &logs, None);
        assert!(checker.violations().is_empty(), "{:?}", texts(&checker));
    }

    #[test]
    fn state_machine_safety_fires_on_a_different_command_at_an_applied_index() {
        let mut checker = Checker::new(2);
        let one = log(&[(1, "a"), (1, "b")]);
        let two = log(&[(1, "a"), (1, "x")]);
        let logs = [state(&one), state(&two)];
        let logs: Vec<&PersistentState> = logs.iter().collect();
        checker.on_ready(1, 1, &applied(&one, 1, 2), &logs, None);
        checker.on_ready(2, 2, &applied(&two, 1, 2), &logs, None);
        assert_eq!(
            texts(&checker),
            [
                "n2: State Machine Safety: n2 applied \"x\" (term 1) at index 2, where \"b\" (term 1) was applied before"
            ]
        );
        assert_eq!(checker.applied_count(2), (2, Some("b".to_string())));
        assert_eq!(
            checker.applied(2, 2).as_deref(),
            Some("b"),
            "the first one applied"
        );
    }

    #[test]
    fn applies_out_of_order_or_ahead_of_everyone_fire() {
        let mut checker = Checker::new(2);
        let one = log(&[(1, "a"), (1, "b"), (1, "c")]);
        let logs = [state(&one), state(&one)];
        let logs: Vec<&PersistentState> = logs.iter().collect();
        checker.on_ready(1, 1, &applied(&one, 2, 3), &logs, None);
        assert_eq!(
            texts(&checker),
            [
                "n1: applied index 2 out of order (expected 1)",
                "n1: applied index 2 before anyone applied 1",
                "n1: applied index 3 out of order (expected 1)",
                "n1: applied index 3 before anyone applied 1",
            ]
        );
        assert_eq!(checker.max_applied(), 0, "nothing was recorded");
    }

    #[test]
    fn leader_completeness_fires_when_a_new_leader_lacks_an_applied_entry() {
        let mut checker = Checker::new(2);
        let one = log(&[(1, "a"), (1, "b")]);
        let two = log(&[(1, "a")]);
        let logs = [state(&one), state(&two)];
        let logs: Vec<&PersistentState> = logs.iter().collect();
        checker.on_ready(1, 1, &applied(&one, 1, 2), &logs, None);
        let elected = Ready {
            events: vec![Event::BecameLeader { term: 2 }],
            ..Ready::default()
        };
        checker.on_ready(2, 2, &elected, &logs, None);
        assert_eq!(
            texts(&checker),
            [
                "n2: Leader Completeness: n2 leads term 2 but holds nothing at committed index 2 (term 1)"
            ]
        );
    }

    #[test]
    fn a_snapshot_unlike_the_commands_it_replaces_fires() {
        use crate::digest::fold_command;
        use crate::raft::Snapshot;
        let mut checker = Checker::new(3);
        let one = log(&[(1, "a"), (1, "b"), (1, "c")]);
        let logs = [state(&one), state(&one), state(&one)];
        let logs: Vec<&PersistentState> = logs.iter().collect();
        checker.on_ready(1, 1, &applied(&one, 1, 3), &logs, None);
        let load = |digest| {
            let ready = Ready {
                apply_snapshot: Some(Snapshot {
                    last_included_index: 2,
                    last_included_term: 1,
                    configuration: Default::default(),
                    data: std::sync::Arc::from(&b""[..]),
                }),
                ..Ready::default()
            };
            let loaded = LoadedSnapshot {
                index: 2,
                state_index: Some(2),
                digest,
            };
            (ready, Some(loaded))
        };
        let right = fold_command(fold_command(0, 1, "a"), 2, "b");
        let (ready, loaded) = load(right);
        checker.on_ready(2, 2, &ready, &logs, loaded);
        assert!(checker.violations().is_empty(), "{:?}", texts(&checker));
        let (ready, loaded) = load(right ^ 1);
        checker.on_ready(3, 3, &ready, &logs, loaded);
        assert_eq!(
            texts(&checker),
            ["n3: State Machine Safety: snapshot through 2 differs from the applied commands"]
        );
    }

    #[test]
    fn election_safety_fires_when_two_nodes_win_one_term() {
        let mut checker = Checker::new(2);
        let empty = Log::new();
        let logs = [state(&empty), state(&empty)];
        let logs: Vec<&PersistentState> = logs.iter().collect();
        let elected = |term| Ready {
            events: vec![Event::BecameLeader { term }],
            ..Ready::default()
        };
        checker.on_ready(1, 1, &elected(3), &logs, None);
        checker.on_ready(2, 2, &elected(4), &logs, None);
        assert!(checker.violations().is_empty(), "{:?}", texts(&checker));
        checker.on_ready(3, 2, &elected(3), &logs, None);
        assert_eq!(
            texts(&checker),
            ["n2: Election Safety: n2 and n1 both won term 3"]
        );
    }
}
