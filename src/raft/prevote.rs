//! Pre-vote: the switch [`super::Features::pre_vote`] (Ongaro's dissertation §9.6).
//!
//! # The problem
//!
//! A node cut off from the cluster (a partition, a bad link) hears no leader, so its
//! election timer fires again and again; each time it increments its term and asks
//! for votes nobody receives. When it comes back, its term is far ahead: its first
//! RequestVote (or any answer it sends) makes the healthy leader step down (§5.1,
//! a higher term makes you a follower), although its log is behind and it cannot
//! win. The cluster is leaderless for an election, for nothing.
//!
//! # The cure
//!
//! Before a real election, a node whose timer fires becomes a *pre-candidate*: it
//! asks every other node "would you vote for me in term T + 1?" ([`Message::PreVote`],
//! its envelope carrying T + 1) without changing its own term or vote. A node answers
//! as it would a RequestVote, by the §5.4.1 election restriction, but changes nothing
//! either: not its term, not its vote, not its timer. Only with a majority of grants
//! does the pre-candidate start the real election (§5.2). The
//! partitioned node never gets a majority, so its term stays where it was, and when
//! it rejoins the leader's next heartbeat simply makes it a follower again.
//!
//! How terms travel: a grant is sent with the term the pre-candidate asked about
//! (T + 1), so the pre-candidate, still in T, does not take it for stale; a refusal
//! carries the voter's own term, so a pre-candidate that is behind learns the newer
//! term from it the usual way.

use super::election::vote_refusal;
use super::event::Event;
use super::log::Log;
use super::message::Message;
use super::role::{Candidate, RoleState};
use super::rules::BrokenRules;
use super::{Index, Node, NodeId, Role, Term};

/// True if a message with a term newer than ours must not make us adopt that term: a
/// pre-vote request (it asks about a term that has not begun) and a granted pre-vote
/// answer (it echoes the term we asked about). A refused pre-vote answer carries the
/// voter's real term and is treated like any other message.
pub fn keeps_our_term(message: &Message) -> bool {
    match message {
        Message::PreVote { .. }
        | Message::PreVoteReply {
            vote_granted: true, ..
        } => true,
        Message::PreVoteReply {
            vote_granted: false,
        }
        | Message::RequestVote { .. }
        | Message::RequestVoteReply { .. }
        | Message::AppendEntries { .. }
        | Message::AppendEntriesReply { .. }
        | Message::InstallSnapshot { .. }
        | Message::InstallSnapshotReply { .. }
        | Message::TimeoutNow => false,
    }
}

/// A pre-vote request as its receiver sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreVoteRequest {
    /// The pre-candidate.
    pub candidate: NodeId,
    /// The term it would campaign in (its own term + 1).
    pub term: Term,
    /// Index of its last log entry (§5.4.1).
    pub last_log_index: Index,
    /// Term of its last log entry (§5.4.1).
    pub last_log_term: Term,
}

/// The rules a pre-vote is answered by: always intact. A rule switch (`rules.rs`)
/// breaks the real vote, where its harm shows; a pre-vote only predicts it.
const INTACT: BrokenRules = BrokenRules::none();

/// Why the pre-vote `request` was refused by a node in `current_term` that voted for
/// `voted_for` and knows `leader` leads that term, or `None` if it is granted.
///
/// A pre-vote is answered as the vote would be, without casting it: for a term newer
/// than ours, by the §5.4.1 election restriction alone (a vote in a term we have not
/// reached is still free); for our own term, also as RequestVote would (one vote per
/// term), and never while we know that term's leader (nobody else can win it).
pub fn pre_vote_refusal(
    current_term: Term,
    voted_for: Option<NodeId>,
    leader: Option<NodeId>,
    log: &Log,
    request: &PreVoteRequest,
) -> Option<String> {
    let PreVoteRequest {
        candidate,
        term,
        last_log_index,
        last_log_term,
    } = *request;
    if term == current_term {
        if let Some(leader) = leader {
            return Some(format!("n{leader} already leads term {term}"));
        }
        return vote_refusal(
            voted_for,
            candidate,
            log,
            last_log_index,
            last_log_term,
            INTACT,
        );
    }
    vote_refusal(None, candidate, log, last_log_index, last_log_term, INTACT)
}

impl Node {
    /// The election timer fired (or a campaign was asked for): with pre-vote on, ask
    /// first whether an election could be won (§9.6); otherwise start one (§5.2).
    pub(super) fn campaign(&mut self) {
        if self.config.features.pre_vote {
            self.start_pre_vote();
        } else {
            self.start_election(false);
        }
    }

    /// Becomes a pre-candidate and asks every other node for a pre-vote in term
    /// `current_term + 1`, changing neither its term nor its vote.
    fn start_pre_vote(&mut self) {
        debug_assert_ne!(
            self.role(),
            Role::Leader,
            "a leader's election timer does not run"
        );
        self.role = RoleState::PreCandidate(Candidate::new(self.id, false));
        self.reset_election_timer();
        let term = self.current_term + 1;
        self.record(Event::PreVoteStarted { term });
        // A single-node cluster is its own majority.
        if self.start_election_if_pre_elected() {
            return;
        }
        self.request_votes();
    }

    /// PreVote receiver: answers whether `candidate` would get our vote in `term`,
    /// changing nothing here (not the term, the vote, nor the election timer).
    pub(super) fn handle_pre_vote(
        &mut self,
        candidate: NodeId,
        term: Term,
        last_log_index: Index,
        last_log_term: Term,
    ) {
        let request = PreVoteRequest {
            candidate,
            term,
            last_log_index,
            last_log_term,
        };
        let refusal = pre_vote_refusal(
            self.current_term,
            self.voted_for,
            self.leader(),
            &self.log,
            &request,
        );
        let vote_granted = refusal.is_none();
        match refusal {
            None => self.record(Event::PreVoteGranted { candidate, term }),
            Some(reason) => self.record(Event::PreVoteDenied {
                candidate,
                term,
                reason,
            }),
        }
        // A grant echoes the term asked about, so the pre-candidate counts it; a
        // refusal tells our own term, so a pre-candidate that is behind catches up.
        let reply_term = if vote_granted {
            term
        } else {
            self.current_term
        };
        self.send_in_term(
            candidate,
            reply_term,
            Message::PreVoteReply { vote_granted },
        );
    }

    /// A pre-candidate counts the grants for the term it asked about; with a majority
    /// it starts the real election.
    pub(super) fn handle_pre_vote_reply(&mut self, from: NodeId, term: Term, vote_granted: bool) {
        let asked_about = self.current_term + 1;
        let RoleState::PreCandidate(candidate) = &mut self.role else {
            return;
        };
        // A grant for another term answers an older pre-vote of ours: neither counted
        // nor an answer to this one. A refusal is an answer: this round does not ask
        // that node again.
        let granted = vote_granted && term == asked_about;
        if !vote_granted || granted {
            candidate.answer(from, granted);
        }
        if granted {
            self.start_election_if_pre_elected();
        }
    }

    /// Starts the real election if this pre-candidate holds a majority of pre-votes;
    /// returns true if so.
    fn start_election_if_pre_elected(&mut self) -> bool {
        let RoleState::PreCandidate(candidate) = &self.role else {
            return false;
        };
        if !self.is_voter_quorum(&candidate.votes) {
            return false;
        }
        self.start_election(false);
        true
    }
}
