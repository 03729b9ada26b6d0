//! The hard cases: chaos steps aimed at the situations where Raft's subtler rules
//! matter, which plain random faults reach only rarely. Each is made of ordinary
//! actions, so a schedule that takes them is still a script.
//!
//! - A crash right after a node votes, acknowledges entries, or learns a newer term
//!   from a message, often followed by a quick restart: what it did not persist is
//!   gone, while the others go on believing what it told them (Figure 2's
//!   persistent state).
//! - One direction of one link slowed down for a while (`delay FROM->TO MIN..MAX`):
//!   replies that arrive after elections, at a leader of a later term (§5.1).
//! - Old messages duplicated long after (`duplicate late MIN..MAX`): a deposed
//!   leader's request, or a request overtaken by newer ones (AppendEntries rules 1
//!   and 3).
//! - Small AppendEntries batches (`set batch-entries N`) and coarse backup (`set
//!   coarse-backup on`) mid-run: a leader resends entries a follower holds in short
//!   requests, so entries *after* a request's last one matter (rule 5).
//! - A leader isolated with fresh entries, then a quick election elsewhere: a
//!   deposed leader whose uncommitted entries linger on a minority (Figure 8).
//! - A leader deposed and elected again while one follower's replies are held back:
//!   answers from its first term reach it in its second, after another leader
//!   replaced the entries they acknowledge (§5.1, why replies carry a term).

use rand::RngExt;

use super::Chaos;
use crate::cluster::{Action, Setting, TraceKind};
use crate::raft::{AppendOutcome, Event, MessageInfo, NodeId, Role};

/// What a targeted crash waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trigger {
    /// The node granted a vote.
    Vote,
    /// The node acknowledged entries to a leader.
    Ack,
    /// The node learned a newer term from a message.
    Term,
}

/// The longest a targeted crash waits for its trigger, in ticks.
const TRIGGER_WINDOW: u64 = 40;

impl Chaos<'_> {
    /// One hard-case step (see the module documentation).
    pub(super) fn hard_step(&mut self) {
        match self.rng.random_range(0..100) {
            0..40 => {
                let trigger =
                    [Trigger::Vote, Trigger::Ack, Trigger::Term][self.rng.random_range(0..3)];
                self.crash_after(trigger);
            }
            40..58 => self.delay_link(),
            58..68 => self.clear_link_delay(),
            68..80 => {
                let late = if self.rng.random_bool(0.7) {
                    let min = self.rng.random_range(5..=30);
                    Some((min, min + self.rng.random_range(0..=40)))
                } else {
                    None
                };
                self.late_duplicates |= late.is_some();
                self.act_surely(Action::LateDuplicates(late));
                let rate = [0.05, 0.1, 0.2, 0.3][self.rng.random_range(0..4)];
                self.act_surely(Action::DuplicateRate(rate));
            }
            80..84 => {
                let entries = [1, 1, 2, 3, 4096][self.rng.random_range(0..5)];
                self.act_surely(Action::Set(Setting::BatchEntries(entries)));
            }
            84..88 => {
                let coarse = self.rng.random_bool(0.7);
                self.act_surely(Action::Set(Setting::CoarseBackup(coarse)));
            }
            88..94 => self.isolate_leader(),
            _ => self.reply_across_terms(),
        }
    }

    /// Waits (up to [`TRIGGER_WINDOW`] ticks) for some node to do what `trigger`
    /// names, lets its message go out (0 to 2 ticks), crashes it, and often restarts
    /// it soon after.
    fn crash_after(&mut self, trigger: Trigger) {
        for _ in 0..TRIGGER_WINDOW {
            if self.stopped() {
                return;
            }
            let events_before = self.cluster.event_count();
            let terms_before: Vec<(u64, bool)> = (1..=self.cluster.size())
                .map(|id| {
                    let status = self.cluster.status(id);
                    (status.term, status.up)
                })
                .collect();
            self.advance(1);
            let Some(node) = self.triggered(trigger, events_before, &terms_before) else {
                continue;
            };
            let wait = self.rng.random_range(0..=2);
            self.advance(wait);
            if self.stopped() {
                return;
            }
            if self.cluster.is_up(node) {
                self.act_surely(Action::Crash(node));
            }
            if self.rng.random_bool(0.6) {
                let down = self.rng.random_range(1..=6);
                self.advance(down);
                // A removal may have committed meanwhile: a removed node never returns.
                if !self.cluster.is_removed(node) {
                    self.act_surely(Action::Restart(node));
                }
            }
            return;
        }
    }

    /// The first node that did what `trigger` names since the trace held
    /// `events_before` events, given each node's (term, up) before.
    fn triggered(
        &self,
        trigger: Trigger,
        events_before: u64,
        terms_before: &[(u64, bool)],
    ) -> Option<NodeId> {
        if trigger == Trigger::Term {
            return (1..=self.cluster.size()).find(|&id| {
                let (term, was_up) = terms_before[id - 1];
                let status = self.cluster.status(id);
                was_up && status.up && status.term > term && status.role == Role::Follower
            });
        }
        let fresh = (self.cluster.event_count() - events_before) as usize;
        self.cluster
            .events(fresh)
            .into_iter()
            .find(|event| {
                matches!(
                    (&event.kind, trigger),
                    (
                        TraceKind::Raft {
                            event: Event::VoteGranted { .. },
                        },
                        Trigger::Vote,
                    ) | (
                        TraceKind::Sent {
                            message: MessageInfo::AppendEntriesReply {
                                outcome: AppendOutcome::Accepted { .. },
                                ..
                            },
                            ..
                        },
                        Trigger::Ack,
                    )
                )
            })
            .map(|event| event.node)
    }

    /// Slows one direction of one link, often a follower's replies to the leader.
    fn delay_link(&mut self) {
        let nodes = self.nodes();
        if nodes < 2 {
            return;
        }
        let to = self.leader_or_random_node();
        let mut from = self.random_node();
        if from == to {
            from = from % nodes + 1;
        }
        let min = self.rng.random_range(5..=30);
        let max = min + self.rng.random_range(0..=40);
        self.act_surely(Action::LinkDelay {
            from,
            to,
            delay: Some((min, max)),
        });
        if !self.delayed_links.contains(&(from, to)) {
            self.delayed_links.push((from, to));
        }
    }

    /// Gives one slowed link the network's latency again.
    fn clear_link_delay(&mut self) {
        if self.delayed_links.is_empty() {
            return;
        }
        let (from, to) = self
            .delayed_links
            .remove(self.rng.random_range(0..self.delayed_links.len()));
        self.act_surely(Action::LinkDelay {
            from,
            to,
            delay: None,
        });
    }

    /// Cuts a leader off with fresh entries, lets the others elect another (forcing
    /// a timeout), and brings it back a little later: a deposed leader's uncommitted
    /// entries and messages linger.
    fn isolate_leader(&mut self) {
        let Some(leader) = self.cluster.leader() else {
            return;
        };
        for _ in 0..self.rng.random_range(1..=3) {
            self.submit_to(leader);
        }
        let ticks = self.rng.random_range(0..=2);
        self.advance(ticks);
        if self.stopped() {
            return;
        }
        self.act_surely(Action::Disconnect(leader));
        let others: Vec<NodeId> = self
            .members()
            .into_iter()
            .filter(|&id| id != leader && self.cluster.is_up(id))
            .collect();
        if let Some(&candidate) = others.get(self.rng.random_range(0..others.len().max(1))) {
            let _ = self.act(Action::Timeout(candidate));
        }
        let ticks = self.rng.random_range(3..=25);
        self.advance(ticks);
        // Its own removal may have committed meanwhile: a removed node never returns.
        if !self.cluster.is_removed(leader) {
            self.act_surely(Action::Connect(leader));
        }
    }

    /// A reply delayed across two terms of the same leader (§5.1): the leader's
    /// fresh entries reach one follower only, whose acknowledgements are held back on
    /// their way; another leader is elected without them and replaces them; the first
    /// leader comes back, follows it (its log cut back to the other's), is elected
    /// again, and takes new entries at the indexes the held-back acknowledgements
    /// name, which reach one other node, not the follower (slowed the other way).
    fn reply_across_terms(&mut self) {
        let Some(leader) = self.cluster.leader() else {
            return;
        };
        let others: Vec<NodeId> = self
            .members()
            .into_iter()
            .filter(|&id| id != leader && self.cluster.is_up(id))
            .collect();
        if others.len() < 2 {
            return;
        }
        let follower = others[self.rng.random_range(0..others.len())];
        let rest: Vec<NodeId> = others.into_iter().filter(|&id| id != follower).collect();
        let hold = self.rng.random_range(14..=26);
        self.slow_link(follower, leader, (hold, hold + 2));
        self.act_surely(Action::Partition(vec![
            vec![leader, follower],
            rest.clone(),
        ]));
        for _ in 0..self.rng.random_range(2..=4) {
            self.submit_to(leader);
        }
        self.advance(2);
        // The others (the follower with them) elect one of their own, which takes one
        // entry of its own at the first index the follower's acknowledgements name.
        let mut group: Vec<NodeId> = rest.clone();
        group.push(follower);
        self.act_surely(Action::Partition(vec![vec![leader], group]));
        let other = rest[self.rng.random_range(0..rest.len())];
        let _ = self.act(Action::Timeout(other));
        self.advance(3);
        if self.cluster.leader() != Some(other) {
            return;
        }
        self.submit_to(other);
        self.advance(3);
        // The first leader follows it, and is elected again.
        self.act_surely(Action::Heal);
        self.advance(3);
        let _ = self.act(Action::Timeout(leader));
        self.advance(3);
        if !self.cluster.is_up(leader) || self.cluster.status(leader).role != Role::Leader {
            return;
        }
        // Its new entries reach one other node, and the follower only late.
        let witness = rest[self.rng.random_range(0..rest.len())];
        let cut: Vec<NodeId> = rest.iter().copied().filter(|&id| id != witness).collect();
        let mut groups = vec![vec![leader, witness, follower]];
        if !cut.is_empty() {
            groups.push(cut);
        }
        self.act_surely(Action::Partition(groups));
        self.slow_link(leader, follower, (30, 40));
        for _ in 0..self.rng.random_range(1..=3) {
            self.submit_to(leader);
        }
    }

    /// Gives the link `from -> to` its own latency range, to clear when converging.
    fn slow_link(&mut self, from: NodeId, to: NodeId, delay: (u64, u64)) {
        self.act_surely(Action::LinkDelay {
            from,
            to,
            delay: Some(delay),
        });
        if !self.delayed_links.contains(&(from, to)) {
            self.delayed_links.push((from, to));
        }
    }

    /// Clears what hard-case steps set (slowed links, late duplicates), before the
    /// final convergence. The classic schedule sets none, and takes no step here.
    pub(super) fn clear_hard_faults(&mut self) {
        for (from, to) in std::mem::take(&mut self.delayed_links) {
            self.act_surely(Action::LinkDelay {
                from,
                to,
                delay: None,
            });
        }
        if std::mem::take(&mut self.late_duplicates) {
            self.act_surely(Action::LateDuplicates(None));
        }
    }
}
