//! Log replication (§5.3), fast backup over conflicting logs, and the commit rule
//! (§5.4.2).
//!
//! The leader sends AppendEntries carrying the entries a follower lacks, preceded by
//! `prev_log_index`/`prev_log_term`. The follower accepts only if its log holds that
//! entry (the consistency check, which by induction gives the Log Matching property);
//! otherwise it answers with a [`ConflictHint`] and the leader moves `next_index` back
//! by a whole term at a time ([`next_index_after_conflict`]). An entry is committed
//! once a majority stores it and it belongs to the leader's current term.

use super::log::Log;
use super::message::{AppendOutcome, ConflictHint, Entry, Message};
use super::ready::Event;
use super::{Node, NodeId, Progress, Role};

/// Follower side of fast backup: describes where the follower's log disagrees with a
/// request whose `prev_log_index` did not match (the lab's XTerm, XIndex and XLen).
///
/// `prev_log_index` must not be compacted (callers move it up to the snapshot index
/// first, since snapshotted entries are committed and always match).
pub fn conflict_hint(log: &Log, prev_log_index: u64) -> ConflictHint {
    let log_end = log.last_index() + 1;
    match log.term_at(prev_log_index) {
        // The log is too short to hold prev_log_index.
        None => ConflictHint {
            term: None,
            first_index: log_end,
            log_end,
        },
        Some(term) => ConflictHint {
            term: Some(term),
            first_index: log.first_index_of_term_at(prev_log_index),
            log_end,
        },
    }
}

/// Leader side of fast backup: the next index to try for a follower that sent `hint`.
///
/// - The follower's log is too short (no XTerm): continue from its end (XLen).
/// - The leader holds entries of the conflicting term XTerm: continue just after its
///   last one. Entries of that term up to there are identical on both logs (Log
///   Matching), so only what follows needs checking.
/// - The leader has no entry of XTerm: every follower entry of that term is wrong, so
///   skip them all and continue from the first one (XIndex).
///
/// Worked example (the lab's case 2): leader terms `[1, 1, 4, 4, 6, 6]`, follower
/// terms `[1, 1, 4, 4, 4, 4, 4]`. The leader probes at `prev_log_index = 6`; the
/// follower has term 4 there, first at index 3, so it answers
/// `{term: 4, first_index: 3, log_end: 8}`. The leader's last term-4 entry is index
/// 4, so the next try has `next_index = 5`, `prev_log_index = 4`, which matches: one
/// round trip instead of two.
pub fn next_index_after_conflict(log: &Log, hint: &ConflictHint) -> u64 {
    match hint.term {
        None => hint.log_end,
        Some(term) => match log.last_index_of_term(term) {
            Some(last) => last + 1,
            None => hint.first_index,
        },
    }
}

/// The highest index stored on a majority: with the match indexes of every node (the
/// leader's own last index included) sorted from high to low, the `quorum`-th one.
pub fn quorum_match_index(match_indexes: &mut [u64], quorum: usize) -> u64 {
    assert!(
        quorum >= 1 && quorum <= match_indexes.len(),
        "a quorum needs voters"
    );
    match_indexes.sort_unstable_by(|a, b| b.cmp(a));
    match_indexes[quorum - 1]
}

impl Node {
    /// True if the leader has something to send this follower now.
    pub(super) fn wants_send(&self, progress: &Progress) -> bool {
        if progress.probing {
            !progress.probe_sent || progress.heartbeat_due
        } else {
            progress.next_index <= self.log.last_index() || progress.heartbeat_due
        }
    }

    /// Sends every follower what it needs: new entries, a probe, a heartbeat or the
    /// snapshot. Called when the leader's output is collected, so all commands proposed
    /// since the last call travel in the same AppendEntries.
    pub(super) fn send_appends(&mut self) {
        let peers: Vec<NodeId> = self.progress.keys().copied().collect();
        for peer in peers {
            self.send_appends_to(peer);
        }
    }

    /// See [`Node::send_appends`].
    fn send_appends_to(&mut self, peer: NodeId) {
        let progress = &self.progress[&peer];
        if !self.wants_send(progress) {
            return;
        }
        let progress = self.progress.get_mut(&peer).expect("peer has progress");
        progress.heartbeat_due = false;
        let next_index = progress.next_index;
        // The entry before next_index is needed for the consistency check; if the
        // snapshot swallowed it, the follower gets the snapshot instead (Figure 13).
        if next_index <= self.log.snapshot_index() {
            progress.probing = true;
            progress.probe_sent = true;
            let snapshot = self
                .snapshot
                .clone()
                .expect("a compacted log has a snapshot");
            self.send(peer, Message::InstallSnapshot { snapshot });
            return;
        }
        if progress.probing {
            progress.probe_sent = true;
            let entries = self.batch_from(next_index);
            self.send_append(peer, next_index, entries);
            return;
        }
        // Replicating: stream everything new, assuming it arrives.
        let mut next_index = next_index;
        loop {
            let entries = self.batch_from(next_index);
            let sent = entries.len() as u64;
            self.send_append(peer, next_index, entries);
            next_index += sent;
            if sent == 0 || next_index > self.log.last_index() {
                break;
            }
        }
        self.progress
            .get_mut(&peer)
            .expect("peer has progress")
            .next_index = next_index;
    }

    /// The entries to send from `next_index` on, within the batching limits.
    fn batch_from(&self, next_index: u64) -> Vec<Entry> {
        self.log.batch_from(
            next_index,
            self.config.max_entries_per_append,
            self.config.max_bytes_per_append,
        )
    }

    /// Sends one AppendEntries whose entries start at `next_index`.
    fn send_append(&mut self, peer: NodeId, next_index: u64, entries: Vec<Entry>) {
        let prev_log_index = next_index - 1;
        let prev_log_term = self
            .log
            .term_at(prev_log_index)
            .expect("prev_log_index is not compacted");
        self.send(
            peer,
            Message::AppendEntries {
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit: self.commit_index,
            },
        );
    }

    /// Hearing from the leader of our term: a candidate concedes (§5.2), and everyone
    /// restarts the election timer.
    pub(super) fn follow_leader_of_current_term(&mut self, leader: NodeId) {
        assert_ne!(
            self.role,
            Role::Leader,
            "Election Safety: n{leader} and n{} both lead term {}",
            self.id,
            self.current_term
        );
        if self.role == Role::Candidate {
            self.become_follower(self.current_term, Some(leader));
        }
        self.leader = Some(leader);
        self.reset_election_timer();
    }

    /// AppendEntries receiver (Figure 2), for a request in our current term.
    pub(super) fn handle_append_entries(
        &mut self,
        leader: NodeId,
        mut prev_log_index: u64,
        mut prev_log_term: u64,
        mut entries: Vec<Entry>,
        leader_commit: u64,
    ) {
        self.follow_leader_of_current_term(leader);
        let request_prev_log_index = prev_log_index;
        let reply = |node: &mut Node, outcome| {
            node.send(
                leader,
                Message::AppendEntriesReply {
                    prev_log_index: request_prev_log_index,
                    outcome,
                },
            )
        };

        // Entries our snapshot covers are committed, hence equal to the leader's: skip
        // them and check consistency at the snapshot base instead.
        let snapshot_index = self.log.snapshot_index();
        if prev_log_index < snapshot_index {
            let covered = (snapshot_index - prev_log_index) as usize;
            if entries.len() <= covered {
                let match_index = snapshot_index;
                return reply(self, AppendOutcome::Accepted { match_index });
            }
            entries.drain(..covered);
            prev_log_index = snapshot_index;
            prev_log_term = self.log.snapshot_term();
        }

        // Rule 2: reply false if the log doesn't contain an entry at prevLogIndex whose
        // term matches prevLogTerm.
        if self.log.term_at(prev_log_index) != Some(prev_log_term) {
            let hint = conflict_hint(&self.log, prev_log_index);
            return reply(self, AppendOutcome::Conflict(hint));
        }

        // Rules 3 and 4: delete a conflicting entry and all that follow it; append any
        // new entries not already in the log. Entries we already hold are kept, so a
        // late or duplicated request never shortens the log.
        let match_index = prev_log_index + entries.len() as u64;
        let mut appended_from = None;
        for entry in entries {
            match self.log.term_at(entry.index) {
                Some(term) if term == entry.term => continue,
                Some(_) => {
                    assert!(
                        entry.index > self.commit_index,
                        "State Machine Safety: n{} would truncate committed entry {}",
                        self.id,
                        entry.index
                    );
                    self.log.truncate_from(entry.index);
                    self.record(Event::Truncated { from: entry.index });
                }
                None => {}
            }
            appended_from.get_or_insert(entry.index);
            self.log_changed_from(entry.index);
            self.log.push(entry);
        }
        if let Some(from) = appended_from {
            self.record(Event::Appended {
                from,
                to: self.log.last_index(),
            });
        }

        // Rule 5: commitIndex = min(leaderCommit, index of last new entry). Only the
        // entries this request vouched for count; anything after may still diverge.
        let new_commit_index = leader_commit.min(match_index);
        if new_commit_index > self.commit_index {
            self.commit_index = new_commit_index;
            self.record(Event::Committed {
                index: new_commit_index,
            });
        }
        reply(self, AppendOutcome::Accepted { match_index });
    }

    /// The leader's handling of an AppendEntries answer in its own term.
    pub(super) fn handle_append_entries_reply(
        &mut self,
        from: NodeId,
        prev_log_index: u64,
        outcome: AppendOutcome,
    ) {
        if self.role != Role::Leader {
            return;
        }
        let log = &self.log;
        let Some(progress) = self.progress.get_mut(&from) else {
            return;
        };
        match outcome {
            AppendOutcome::Accepted { match_index } => {
                progress.match_index = progress.match_index.max(match_index);
                progress.next_index = progress.next_index.max(match_index + 1);
                progress.probing = false;
                progress.probe_sent = false;
                self.maybe_advance_commit_index();
            }
            AppendOutcome::Conflict(hint) => {
                // A rejection of a request we have already moved past is stale: the
                // follower matched beyond it, or we probe somewhere else now.
                let stale = prev_log_index < progress.match_index
                    || (progress.probing && prev_log_index + 1 != progress.next_index);
                if stale {
                    return;
                }
                progress.next_index = next_index_after_conflict(log, &hint)
                    .min(prev_log_index)
                    .max(progress.match_index + 1);
                progress.probing = true;
                progress.probe_sent = false;
            }
            // The reply's newer term already made us a follower in `step`; one that
            // reaches a leader of that same term answers a request from before it was
            // elected, and says nothing about this term.
            AppendOutcome::StaleTerm => {}
        }
    }

    /// §5.3/§5.4.2: "If there exists an N such that N > commitIndex, a majority of
    /// matchIndex[i] ≥ N, and log[N].term == currentTerm: set commitIndex = N." The
    /// term condition is Figure 8's lesson: an entry from an older term is never
    /// committed by counting replicas, only along with one of the current term.
    pub(super) fn maybe_advance_commit_index(&mut self) {
        if self.role != Role::Leader {
            return;
        }
        let mut match_indexes: Vec<u64> = self
            .progress
            .values()
            .map(|progress| progress.match_index)
            .chain(std::iter::once(self.log.last_index()))
            .collect();
        let majority_index = quorum_match_index(&mut match_indexes, self.quorum_size());
        if majority_index > self.commit_index
            && self.log.term_at(majority_index) == Some(self.current_term)
        {
            self.commit_index = majority_index;
            self.record(Event::Committed {
                index: majority_index,
            });
        }
    }
}
