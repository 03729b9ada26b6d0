//! Leader election (§5.2) with the election restriction (§5.4.1).
//!
//! A follower that hears nothing from a leader for its randomized election timeout
//! becomes a candidate: it increments its term, votes for itself and asks every other
//! node for a vote, asking again every heartbeat interval those that have not
//! answered (§5.1: "servers retry RPCs if they do not receive a response in a timely
//! manner"). A node grants at most one vote per term, and only to a candidate
//! whose log is at least as up-to-date as its own. A candidate with votes from a
//! majority becomes leader; one that hears from a leader of its term (or sees a newer
//! term) becomes a follower; one whose timer fires again starts a new election.

use super::entry::{Entry, EntryKind};
use super::event::Event;
use super::log::Log;
use super::message::Message;
use super::role::{Candidate, Follower, Leader, RoleState};
use super::rules::{BrokenRules, Rule};
use super::{Index, Node, NodeId, Role, Term};

/// Why a vote was refused, or `None` if it is granted: Figure 2, RequestVote receiver
/// rule 2 ("If votedFor is null or candidateId, and candidate's log is at least as
/// up-to-date as receiver's log, grant vote"). Rule 1 (a request from an older term)
/// is the term rule in [`Node::step`] and never reaches here. `broken` says which
/// rules the voter breaks on purpose.
pub fn vote_refusal(
    voted_for: Option<NodeId>,
    candidate: NodeId,
    log: &Log,
    last_log_index: Index,
    last_log_term: Term,
    broken: BrokenRules,
) -> Option<String> {
    // One vote per term: without it (`double-vote`), two candidates of one term can
    // both collect a majority.
    if let Some(voted) = voted_for.filter(|&voted| voted != candidate)
        && !broken.contains(Rule::DoubleVote)
    {
        return Some(format!("already voted for n{voted}"));
    }
    // §5.4.1: the voter denies its vote if its own log is more up-to-date. Without it
    // (`vote-without-log-check`), a candidate that lacks a committed entry can win,
    // and its log overwrites the entry everywhere (Leader Completeness fails).
    if !broken.contains(Rule::VoteWithoutLogCheck)
        && !log.is_up_to_date(last_log_index, last_log_term)
    {
        return Some(format!(
            "candidate's log (last {last_log_index}@t{last_log_term}) is behind ours (last {}@t{})",
            log.last_index(),
            log.last_term()
        ));
    }
    None
}

impl Node {
    /// §5.2: "On conversion to candidate, start election: increment currentTerm, vote
    /// for self, reset election timer, send RequestVote RPCs to all other servers."
    /// `leadership_transfer` marks an election the leader asked for (§3.10).
    pub(super) fn start_election(&mut self, leadership_transfer: bool) {
        debug_assert_ne!(
            self.role(),
            Role::Leader,
            "a leader's election timer does not run"
        );
        self.current_term += 1;
        self.voted_for = Some(self.id);
        self.hard_state_changed = true;
        self.role = RoleState::Candidate(Candidate::new(self.id, leadership_transfer));
        self.reset_election_timer();
        self.record(Event::ElectionTimeout {
            term: self.current_term,
        });
        // A single-node cluster is its own majority.
        if self.become_leader_if_elected() {
            return;
        }
        self.request_votes();
    }

    /// Sends a candidate's RequestVote (or a pre-candidate's PreVote) to every voter
    /// that has not answered yet: all of them when the election starts, and again
    /// every heartbeat interval (§5.1, "servers retry RPCs if they do not receive a
    /// response in a timely manner"). Under a network that delays replies, a retry
    /// is what lets a candidate win before its voters' timers (restarted when they
    /// granted) run out: a voter that granted grants again, restarting its timer.
    pub(super) fn request_votes(&mut self) {
        let peers = self.voting_peers();
        let last_log_index = self.log.last_index();
        let last_log_term = self.log.last_term();
        let (term, message, candidate) = match &mut self.role {
            RoleState::PreCandidate(candidate) => (
                self.current_term + 1,
                Message::PreVote {
                    last_log_index,
                    last_log_term,
                },
                candidate,
            ),
            RoleState::Candidate(candidate) => (
                self.current_term,
                Message::RequestVote {
                    last_log_index,
                    last_log_term,
                    leadership_transfer: candidate.leadership_transfer,
                },
                candidate,
            ),
            RoleState::Follower(_) | RoleState::Leader(_) => return,
        };
        candidate.retry_elapsed = 0;
        let unanswered: Vec<NodeId> = peers
            .filter(|peer| !candidate.answered.contains(peer))
            .collect();
        for peer in unanswered {
            self.send_in_term(peer, term, message.clone());
        }
    }

    /// RequestVote receiver (Figure 2), for a request in our current term.
    pub(super) fn handle_request_vote(
        &mut self,
        candidate: NodeId,
        last_log_index: Index,
        last_log_term: Term,
    ) {
        let refusal = vote_refusal(
            self.voted_for,
            candidate,
            &self.log,
            last_log_index,
            last_log_term,
            self.config.broken,
        );
        let term = self.current_term;
        let vote_granted = refusal.is_none();
        match refusal {
            None => {
                if self.voted_for != Some(candidate) {
                    self.voted_for = Some(candidate);
                    self.hard_state_changed = true;
                }
                // Figure 2: a follower's timer restarts when it grants a vote.
                self.reset_election_timer();
                self.record(Event::VoteGranted { candidate, term });
            }
            Some(reason) => self.record(Event::VoteDenied {
                candidate,
                term,
                reason,
            }),
        }
        self.send(candidate, Message::RequestVoteReply { vote_granted });
    }

    /// A candidate counts the votes of its term (§5.2).
    pub(super) fn handle_request_vote_reply(&mut self, from: NodeId, vote_granted: bool) {
        let RoleState::Candidate(candidate) = &mut self.role else {
            return;
        };
        candidate.answer(from, vote_granted);
        let votes = candidate.votes.len();
        self.record(Event::VoteCounted {
            from,
            granted: vote_granted,
            votes,
            quorum: self.quorum_size(),
        });
        if vote_granted {
            self.become_leader_if_elected();
        }
    }

    /// §5.2: "A candidate wins an election if it receives votes from a majority of the
    /// servers in the full cluster for the same term." Becomes leader if this
    /// candidate has; returns true if so.
    fn become_leader_if_elected(&mut self) -> bool {
        let RoleState::Candidate(candidate) = &self.role else {
            return false;
        };
        if !self.is_voter_quorum(&candidate.votes) {
            return false;
        }
        self.become_leader();
        true
    }

    /// Becomes leader of the current term. Figure 2: nextIndex starts just after the
    /// leader's last entry and matchIndex at 0; "upon election: send initial empty
    /// AppendEntries RPCs (heartbeat) to each server" (they go out with the next Ready).
    pub(super) fn become_leader(&mut self) {
        debug_assert_eq!(self.role(), Role::Candidate, "only a candidate is elected");
        self.role = RoleState::Leader(Leader::new(self.peers(), self.log.last_index()));
        self.record(Event::BecameLeader {
            term: self.current_term,
        });
        // The leader no-op (§8): "each leader commit a blank no-op entry into the log
        // at the start of its term", so whatever older terms left uncommitted commits
        // with it (§5.4.2) without waiting for a client.
        if self.config.features.leader_no_op {
            let index = self.log.last_index() + 1;
            let term = self.current_term;
            self.log.push(Entry::internal(index, term, EntryKind::NoOp));
            self.log_changed_from(index);
        }
        // A single-node cluster may already have uncommitted entries of its own term.
        self.maybe_advance_commit_index();
    }

    /// Becomes a follower in `term` (which must not be older than ours), following
    /// `leader` if known. A newer term clears the vote (§5.1).
    pub(super) fn become_follower(&mut self, term: Term, leader: Option<NodeId>) {
        assert!(term >= self.current_term, "terms never go back");
        if term > self.current_term {
            self.current_term = term;
            self.voted_for = None;
            // Figure 2: currentTerm is persistent state, saved before anything is sent
            // in the new term. Without it (`forget-term`), a node that restarts is back
            // in an older term, where it may vote again or follow a deposed leader.
            self.hard_state_changed |= !self.breaks(Rule::ForgetTerm);
        }
        let was = std::mem::replace(&mut self.role, RoleState::Follower(Follower { leader }));
        let was = match was {
            RoleState::Follower(_) => return,
            RoleState::PreCandidate(_) => "pre-candidate",
            RoleState::Candidate(_) => "candidate",
            RoleState::Leader(_) => "leader",
        };
        // The election timer is left alone. Figure 2 (and the lab's guide) restart it
        // only on granting a vote, on hearing from the current leader and on starting
        // an election; stepping down to a newer term is none of these. A candidate
        // keeps the deadline of its own election, and a deposed leader resumes the
        // timer where it stood when it won (it does not run while a node leads).
        // Restarting it here would push the most up-to-date node back by a whole
        // timeout each time a node it refuses to vote for raises the term: under
        // long reply delays that node is often the only one that can win, and the
        // cluster churns through elections it cannot finish.
        self.record(Event::SteppedDown { term, was });
    }
}
