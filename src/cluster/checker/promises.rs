//! What a node promised, checked against what it persisted.
//!
//! Raft's safety argument rests on promises: a vote, an acknowledgement, a message of
//! some term. Each is only worth something if it survives a crash, which is why
//! Figure 2 has servers persist before they respond. These checks compare every
//! message a node sends with the state it persisted in the same [`Ready`](crate::raft::Ready)
//! (`persist-before-send`), every commit a leader makes with the persisted logs of
//! the cluster (`commit-justified`), and every later persisted log of a node with
//! what it acknowledged (`acked-entries-kept`). They see only outputs: the messages,
//! the events and the storage, never the core's own state.
//!
//! Messages of a term older than the node's persisted term are not checked: the node
//! moved to a newer term within the same `Ready` (a vote in one term, then a message
//! of a newer one), and its persisted state no longer describes the older term.

use super::{Checker, Invariant};
use crate::raft::membership::Configurations;
use crate::raft::{
    AppendOutcome, Configuration, Envelope, HardState, Index, Log, Message, NodeId,
    PersistentState, Term,
};

/// The highest entry a node acknowledged to its leader in one term.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Acked {
    /// The term of the acknowledgement (the node's current term then).
    term: Term,
    /// The acknowledged index (the reply's `match_index`).
    index: Index,
    /// The term of the entry at `index` in the node's persisted log then.
    entry_term: Term,
}

/// True if `log` holds index `index` with term `term`, or a snapshot covers it.
fn holds_entry(log: &Log, index: Index, term: Term) -> bool {
    index < log.snapshot_index() || log.term_at(index) == Some(term)
}

/// True if `log` holds something at `index`, or a snapshot covers it.
fn holds_index(log: &Log, index: Index) -> bool {
    // The last index is the snapshot index when no entry follows it.
    index <= log.last_index()
}

/// A vote as a message shows it.
fn vote(voted_for: Option<NodeId>) -> String {
    voted_for.map_or("nobody".to_string(), |node| format!("n{node}"))
}

impl Checker {
    /// `persist-before-send`: every message `node` sent with this `Ready` is backed by
    /// its persisted state (`logs[node - 1]`). At most one violation per `Ready`.
    pub(super) fn check_sent(
        &mut self,
        tick: u64,
        node: NodeId,
        messages: &[Envelope],
        logs: &[&PersistentState],
    ) {
        let problem = messages
            .iter()
            .find_map(|envelope| self.unbacked(node, envelope, logs));
        if let Some(text) = problem {
            self.violation(tick, node, Invariant::PersistBeforeSend, text);
        }
    }

    /// What `envelope` claims that `node`'s persisted state does not back, if anything.
    fn unbacked(
        &self,
        node: NodeId,
        envelope: &Envelope,
        logs: &[&PersistentState],
    ) -> Option<String> {
        let persisted = logs[node - 1];
        let HardState {
            current_term,
            voted_for,
        } = persisted.hard_state;
        let (to, term) = (envelope.to, envelope.term);
        // A pre-vote, and a pre-vote granted, carry the term the pre-candidate would
        // campaign in, which nobody has reached yet (§9.6): no claim on what is persisted.
        let pre_vote = matches!(
            envelope.message,
            Message::PreVote { .. } | Message::PreVoteReply { .. }
        );
        if term > current_term && !pre_vote {
            return Some(format!(
                "n{node} sent {} to n{to} in term {term}, but its persisted term is {current_term}",
                envelope.message.kind()
            ));
        }
        if term < current_term {
            return None;
        }
        let log = &persisted.log;
        match &envelope.message {
            // A candidate votes for itself before it asks (§5.2).
            Message::RequestVote { .. } => (voted_for != Some(node)).then(|| {
                format!(
                    "n{node} asked for votes in term {term}, but its persisted vote is for {}",
                    vote(voted_for)
                )
            }),
            Message::RequestVoteReply { vote_granted: true } => (voted_for != Some(to)).then(|| {
                format!(
                    "n{node} granted its vote to n{to} in term {term}, but its persisted vote is for {}",
                    vote(voted_for)
                )
            }),
            Message::AppendEntriesReply {
                outcome: AppendOutcome::Accepted { match_index },
                ..
            } => self.unbacked_ack(node, to, term, *match_index, logs),
            Message::InstallSnapshotReply {
                installed_index: Some(index),
            } => (!holds_index(log, *index)).then(|| {
                format!(
                    "n{node} told n{to} it holds a snapshot through {index}, but its persisted log ends at {}",
                    log.last_index()
                )
            }),
            Message::AppendEntries {
                prev_log_index,
                prev_log_term,
                entries,
                ..
            } => {
                let (index, entry_term) = entries
                    .last()
                    .map_or((*prev_log_index, *prev_log_term), |entry| {
                        (entry.index, entry.term)
                    });
                (!holds_entry(log, index, entry_term)).then(|| {
                    format!(
                        "n{node} sent n{to} entries through index {index} (term {entry_term}) that its persisted log does not hold"
                    )
                })
            }
            Message::RequestVoteReply {
                vote_granted: false,
            }
            | Message::AppendEntriesReply { .. }
            | Message::InstallSnapshot { .. }
            | Message::InstallSnapshotReply {
                installed_index: None,
            }
            // A pre-vote claims nothing persisted: it neither raises the term nor
            // casts a vote (§9.6). TimeoutNow claims only the term, checked above.
            | Message::PreVote { .. }
            | Message::PreVoteReply { .. }
            | Message::TimeoutNow => None,
        }
    }

    /// An acknowledgement through `match_index`, sent to `leader` in `term`, needs the
    /// persisted log to hold that index; and while `leader` still leads `term`, the
    /// entry there must be the leader's.
    fn unbacked_ack(
        &self,
        node: NodeId,
        leader: NodeId,
        term: Term,
        match_index: Index,
        logs: &[&PersistentState],
    ) -> Option<String> {
        let log = &logs[node - 1].log;
        if !holds_index(log, match_index) {
            return Some(format!(
                "n{node} acknowledged entries through {match_index} to n{leader} in term {term}, but its persisted log ends at {}",
                log.last_index()
            ));
        }
        let leader_state = logs[leader - 1];
        if self.leaders.get(&term) != Some(&leader) || leader_state.hard_state.current_term != term
        {
            return None;
        }
        match (
            log.term_at(match_index),
            leader_state.log.term_at(match_index),
        ) {
            (Some(mine), Some(theirs)) if mine != theirs => Some(format!(
                "n{node} acknowledged index {match_index} to n{leader} in term {term}, but its persisted entry there has term {mine}, the leader's term {theirs}"
            )),
            _ => None,
        }
    }

    /// `commit-justified`: `leader`, which leads `term`, committed through `index`.
    /// Its own entry there must be of `term` (§5.4.2: counting replicas commits only
    /// an entry of the current term, Figure 8), and a majority of the nodes' persisted
    /// logs must hold that entry (or a snapshot covering it).
    pub(super) fn check_leader_commit(
        &mut self,
        tick: u64,
        leader: NodeId,
        term: Term,
        index: Index,
        logs: &[&PersistentState],
    ) {
        let own = &logs[leader - 1].log;
        // An index its snapshot already covers (taken as it applied) is committed.
        if index < own.snapshot_index() {
            return;
        }
        let entry_term = own.term_at(index);
        if entry_term != Some(term) {
            let entry = entry_term.map_or("no entry".to_string(), |old| {
                format!("an entry of term {old}")
            });
            let text = format!(
                "n{leader} leads term {term} and committed index {index}, where it holds {entry}: counting replicas commits only an entry of the current term (§5.4.2)"
            );
            self.violation(tick, leader, Invariant::CommitJustified, text);
            return;
        }
        // A majority of the voters of the configuration the leader's persisted log
        // puts in force (§4.1: a configuration takes effect when appended); the
        // founding members' while no configuration entry was ever written.
        let founding = Configuration::with_voters(1..=self.founding);
        let configurations = Configurations::of_persisted(founding, logs[leader - 1]);
        let voters = &configurations.in_force().voters;
        let holders = voters
            .iter()
            .filter(|&&voter| {
                logs.get(voter - 1)
                    .is_some_and(|state| holds_entry(&state.log, index, term))
            })
            .count();
        let majority = voters.len() / 2 + 1;
        if holders < majority {
            let text = format!(
                "n{leader} committed index {index} (term {term}), but only {holders} of {} voters' persisted logs hold it, fewer than a majority ({majority})",
                voters.len()
            );
            self.violation(tick, leader, Invariant::CommitJustified, text);
        }
    }

    /// `acked-entries-kept`: the highest entry `node` acknowledged in its current term
    /// is still in its persisted log (or a snapshot covers it).
    pub(super) fn check_kept_acks(&mut self, tick: u64, node: NodeId, persisted: &PersistentState) {
        let Some(acked) = self.nodes[node - 1].acked else {
            return;
        };
        let current_term = persisted.hard_state.current_term;
        if current_term > acked.term {
            // A new term: what it acknowledged before may be replaced by the new leader.
            self.nodes[node - 1].acked = None;
            return;
        }
        if current_term < acked.term || holds_entry(&persisted.log, acked.index, acked.entry_term) {
            return;
        }
        let now = match persisted.log.term_at(acked.index) {
            Some(other) => format!("has an entry of term {other} there"),
            None => format!("ends at {}", persisted.log.last_index()),
        };
        let text = format!(
            "n{node} acknowledged index {} (term {}) in term {}, but its persisted log now {now}",
            acked.index, acked.entry_term, acked.term
        );
        self.violation(tick, node, Invariant::AckedEntriesKept, text);
        self.nodes[node - 1].acked = None;
    }

    /// Remembers the highest entry `node` acknowledged in its persisted term with this
    /// `Ready`'s messages.
    pub(super) fn note_acks(
        &mut self,
        node: NodeId,
        messages: &[Envelope],
        persisted: &PersistentState,
    ) {
        let term = persisted.hard_state.current_term;
        let log = &persisted.log;
        for envelope in messages.iter().filter(|envelope| envelope.term == term) {
            let Message::AppendEntriesReply {
                outcome: AppendOutcome::Accepted { match_index },
                ..
            } = envelope.message
            else {
                continue;
            };
            // Covered by a snapshot (kept for good), or not held (reported above).
            let Some(entry_term) = log
                .term_at(match_index)
                .filter(|_| match_index > log.snapshot_index())
            else {
                continue;
            };
            let record = &mut self.nodes[node - 1].acked;
            if record.is_none_or(|acked| acked.term != term || acked.index < match_index) {
                *record = Some(Acked {
                    term,
                    index: match_index,
                    entry_term,
                });
            }
        }
    }
}
