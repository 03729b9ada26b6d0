//! Log replication (§5.3), fast backup over conflicting logs, the commit rule
//! (§5.4.2) and the apply rule.
//!
//! The leader sends AppendEntries carrying the entries a follower lacks, preceded by
//! `prev_log_index`/`prev_log_term`. The follower accepts only if its log holds that
//! entry (the consistency check, which by induction gives the Log Matching property);
//! otherwise it answers with a [`ConflictHint`] and the leader moves `next_index` back
//! by a whole term at a time ([`next_index_after_conflict`]). What an answer does to
//! the leader's view of the follower is [`super::progress`]'s business; this file
//! decides what to send and reads the answers. An entry is committed once a majority
//! stores it and it belongs to the leader's current term; every server then applies
//! committed entries in index order.

use super::entry::Entry;
use super::event::Event;
use super::log::{Entries, Log};
use super::message::{AppendOutcome, ConflictHint, Envelope, Message};
use super::progress::ProgressView;
use super::quorum::quorum_match_index;
use super::role::RoleState;
use super::rules::Rule;
use super::{Index, Node, NodeId, Role, Term};

/// Follower side of fast backup: describes where the follower's log disagrees with a
/// request whose `prev_log_index` did not match (the lab's XTerm, XIndex and XLen).
///
/// `prev_log_index` must not be compacted (callers move it up to the snapshot index
/// first, since snapshotted entries are committed and always match).
pub fn conflict_hint(log: &Log, prev_log_index: Index) -> ConflictHint {
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
///
/// With `coarse` (the `coarse-backup` setting) the leader skips back to XIndex
/// whenever the follower's log has XTerm there, held by the leader or not: 3 in the
/// example. Still correct, but the next request resends entries 3 and 4, which the
/// follower holds, and stops short of its stale entries 5 to 7 if batches are small.
pub fn next_index_after_conflict(log: &Log, hint: &ConflictHint, coarse: bool) -> Index {
    match hint.term {
        None => hint.log_end,
        Some(term) => match log.last_index_of_term(term) {
            Some(last) if !coarse => last + 1,
            Some(_) | None => hint.first_index,
        },
    }
}

impl Node {
    /// Sends every follower what it needs, if this node leads (§5.3; Figure 13 when
    /// the entries are compacted): new entries, a probe, a heartbeat or the snapshot,
    /// as its [`Progress`](super::progress::Progress) state says. Called when the
    /// leader's output is collected, so all commands proposed since the last call
    /// travel in the same AppendEntries.
    pub(super) fn send_appends(&mut self) {
        // Borrow the leader's progress beside the log and the outbox, field by field.
        let Node {
            role: RoleState::Leader(leader),
            id,
            current_term,
            commit_index,
            log,
            snapshot,
            config,
            ready,
            ..
        } = self
        else {
            return;
        };
        let mut send = |to: NodeId, message: Message| {
            ready.messages.push(Envelope {
                from: *id,
                to,
                term: *current_term,
                message,
            })
        };
        // The entries to send from `next_index` on, within the batching limits.
        let batch_from = |next_index: Index| {
            log.batch_from(
                next_index,
                config.max_entries_per_append,
                config.max_bytes_per_append,
            )
        };
        // One AppendEntries whose `entries` start at `next_index`.
        let append = |next_index: Index, entries: Vec<Entry>| {
            let prev_log_index = next_index - 1;
            let prev_log_term = log
                .term_at(prev_log_index)
                .expect("prev_log_index is not compacted");
            Message::AppendEntries {
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit: *commit_index,
            }
        };
        for (&peer, progress) in leader.progress.iter_mut() {
            if !progress.wants_send(log.last_index()) {
                continue;
            }
            let next_index = progress.next_index();
            // The entry before next_index is needed for the consistency check; if the
            // snapshot swallowed it, the follower gets the snapshot instead (Figure 13).
            if next_index <= log.snapshot_index() {
                let snapshot = snapshot.clone().expect("a compacted log has a snapshot");
                progress.snapshot_sent(snapshot.last_included_index);
                send(peer, Message::InstallSnapshot { snapshot });
            } else if progress.is_replicating() {
                // Stream everything new, assuming it arrives.
                let mut next_index = next_index;
                loop {
                    let entries = batch_from(next_index);
                    let sent = entries.len() as u64;
                    send(peer, append(next_index, entries));
                    next_index += sent;
                    if sent == 0 || next_index > log.last_index() {
                        break;
                    }
                }
                progress.sent_entries_through(next_index - 1);
            } else {
                // Probing: one request at a time, with entries in case it matches.
                progress.probe_sent();
                send(peer, append(next_index, batch_from(next_index)));
            }
        }
    }

    /// Hearing from the leader of our term: a candidate concedes (§5.2), and everyone
    /// restarts the election timer.
    pub(super) fn follow_leader_of_current_term(&mut self, leader: NodeId) {
        if self.role() == Role::Leader {
            // Only a leader sends AppendEntries and InstallSnapshot, §5.2 elects at most
            // one per term, and a request from an older term never gets here: so while
            // every rule holds, a leader never receives a leader's request in its own
            // term. A broken rule (two winners of a term, a stale leader's request
            // taken as current) makes it possible: this leader then follows the other.
            assert!(
                !self.rules_hold(),
                "a leader never receives a leader's request in its own term: n{} leads term {} and got one from n{leader}",
                self.id,
                self.current_term
            );
        }
        if self.role() != Role::Follower {
            self.become_follower(self.current_term, Some(leader));
        }
        let RoleState::Follower(follower) = &mut self.role else {
            unreachable!("every other role became a follower above");
        };
        follower.leader = Some(leader);
        self.reset_election_timer();
    }

    /// AppendEntries receiver (Figure 2), for a request in our current term.
    pub(super) fn handle_append_entries(
        &mut self,
        leader: NodeId,
        mut prev_log_index: Index,
        mut prev_log_term: Term,
        mut entries: Vec<Entry>,
        leader_commit: Index,
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
            self.record(Event::AppendRejected {
                leader,
                prev_log_index,
                prev_log_term,
                found: self.log.term_at(prev_log_index),
            });
            let hint = conflict_hint(&self.log, prev_log_index);
            return reply(self, AppendOutcome::Conflict(hint));
        }

        // Rules 3 and 4: delete a conflicting entry and all that follow it; append any
        // new entries not already in the log. Entries we already hold are kept, so a
        // late or duplicated request never shortens the log. Deleting everything after
        // prev_log_index instead (`truncate-on-match`) lets a stale, reordered request
        // erase newer entries this node already acknowledged.
        let mut match_index = prev_log_index + entries.len() as u64;
        if self.breaks(Rule::TruncateOnMatch) && self.log.last_index() > prev_log_index {
            self.log.truncate_from(prev_log_index + 1);
            self.log_changed_from(prev_log_index + 1);
            self.record(Event::Truncated {
                from: prev_log_index + 1,
            });
        }
        let mut appended_from = None;
        for entry in entries {
            match self.log.term_at(entry.index) {
                Some(term) if term == entry.term => continue,
                Some(_) => {
                    // A leader holds every committed entry (Leader Completeness, §5.4), so
                    // while every rule holds it never sends one that conflicts with a
                    // committed entry here.
                    assert!(
                        entry.index > self.commit_index || !self.rules_hold(),
                        "committed entries are never overwritten (Leader Completeness, §5.4): n{} was sent a conflicting entry {} at or below its commit index {}",
                        self.id,
                        entry.index,
                        self.commit_index
                    );
                    self.log.truncate_from(entry.index);
                    self.record(Event::Truncated { from: entry.index });
                    self.forget_configurations_from(entry.index);
                }
                None => {}
            }
            if entry.term < self.log.last_term() {
                // Impossible while every rule holds: a leader's entries follow the
                // matched one in term order. Two leaders of one term (a broken rule)
                // can send entries that would make this log's terms decrease: it
                // keeps what it has, and acknowledges only that.
                assert!(!self.rules_hold(), "log terms never decrease");
                match_index = entry.index - 1;
                break;
            }
            appended_from.get_or_insert(entry.index);
            self.log_changed_from(entry.index);
            self.adopt_configuration_of(&entry);
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
        // Bounding it by the log's end instead (`commit-to-leader-commit`) commits a
        // stale suffix from an older term that the request stopped short of.
        let vouched_through = if self.breaks(Rule::CommitToLeaderCommit) {
            self.log.last_index()
        } else {
            match_index
        };
        let new_commit_index = leader_commit.min(vouched_through);
        if new_commit_index > self.commit_index {
            self.commit_index = new_commit_index;
            self.record(Event::Committed {
                index: new_commit_index,
            });
        }
        reply(self, AppendOutcome::Accepted { match_index });
    }

    /// The leader's handling of an AppendEntries answer in its own term (Figure 2,
    /// rules for leaders: on success update the follower's indexes, on a log
    /// inconsistency back up and retry, §5.3).
    pub(super) fn handle_append_entries_reply(
        &mut self,
        from: NodeId,
        prev_log_index: Index,
        outcome: AppendOutcome,
    ) {
        // A reply that reaches a node that no longer leads is ignored.
        let RoleState::Leader(leader) = &mut self.role else {
            return;
        };
        let Some(progress) = leader.progress.get_mut(&from) else {
            return;
        };
        let before = progress.view();
        let accepted = match outcome {
            AppendOutcome::Accepted { match_index } => {
                // An answer in this term matches entries this leader sent in it, all of
                // which it still holds. An answer from an earlier term (`stale-reply`)
                // may claim more than the log now holds: it counts as matching all of it.
                progress.accepted(match_index.min(self.log.last_index()));
                true
            }
            AppendOutcome::Conflict(hint) => {
                let coarse = self.config.coarse_backup;
                let next_index = next_index_after_conflict(&self.log, &hint, coarse);
                progress.rejected(prev_log_index, next_index);
                false
            }
            // The reply's newer term already made us a follower in `step`; one that
            // reaches a leader of that same term answers a request from before it was
            // elected, and says nothing about this term.
            AppendOutcome::StaleTerm => false,
        };
        let after = progress.view();
        self.record_progress_change(from, before, after);
        if accepted {
            self.maybe_advance_commit_index();
            self.send_timeout_now_if_caught_up(from);
            self.promote_caught_up_learner();
        }
    }

    /// Records a change of a leader's view of `follower`, if there was one (an answer
    /// that changes nothing records nothing, so steady heartbeats stay quiet).
    pub(super) fn record_progress_change(
        &mut self,
        follower: NodeId,
        before: ProgressView,
        after: ProgressView,
    ) {
        if before != after {
            self.record(Event::ProgressUpdated {
                follower,
                next_index: after.next_index,
                match_index: after.match_index,
                state: after.state,
            });
        }
    }

    /// §5.3/§5.4.2: "If there exists an N such that N > commitIndex, a majority of
    /// `matchIndex[i] ≥ N`, and `log[N].term == currentTerm`: set commitIndex = N." The
    /// term condition is Figure 8's lesson: an entry from an older term is never
    /// committed by counting replicas, only along with one of the current term.
    pub(super) fn maybe_advance_commit_index(&mut self) {
        let RoleState::Leader(leader) = &self.role else {
            return;
        };
        // Only voters count (§4.2.1: learners do not), the leader among them with its
        // whole log if it votes (a leader removing itself does not, §4.2.2).
        let configuration = self.configurations.in_force();
        let mut match_indexes: Vec<Index> = leader
            .progress
            .iter()
            .filter(|&(&peer, _)| configuration.is_voter(peer))
            .map(|(_, progress)| progress.match_index())
            .chain(
                configuration
                    .is_voter(self.id)
                    .then(|| self.log.last_index()),
            )
            .collect();
        let majority_index = quorum_match_index(&mut match_indexes, self.config.broken);
        // Counting replicas commits only an entry of the current term. Without the term
        // check (`commit-old-terms`), Figure 8 happens: an entry of an older term stored
        // on a majority is committed, then overwritten by a leader that never had it.
        if majority_index > self.commit_index
            && (self.log.term_at(majority_index) == Some(self.current_term)
                || self.breaks(Rule::CommitOldTerms))
        {
            self.commit_index = majority_index;
            self.record(Event::Committed {
                index: majority_index,
            });
            self.membership_after_commit();
        }
    }

    /// Figure 2, rules for all servers: "If commitIndex > lastApplied: increment
    /// lastApplied, apply `log[lastApplied]` to state machine." Returns the entries to
    /// apply, in index order, and counts them as applied (the caller applies them from
    /// the [`super::Ready`] before taking the next one).
    pub(super) fn apply_committed(&mut self) -> Entries {
        // Every entry between last_applied and commit_index is in the log while every
        // rule holds. A broken rule can truncate committed entries, or commit past the
        // log's end: then only the entries the log holds are applied, in order.
        let through = self.commit_index.min(self.log.last_index());
        debug_assert!(
            through == self.commit_index || !self.rules_hold(),
            "every entry between last_applied and commit_index is in the log"
        );
        if self.last_applied >= through {
            return Entries::default();
        }
        // A view that shares the log's storage: no command is copied.
        let committed = self.log.entries(self.last_applied + 1, through);
        self.last_applied = through;
        committed
    }
}
