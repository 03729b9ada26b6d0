//! Cluster membership and its changes, one server at a time (Ongaro's dissertation
//! §4.1–§4.3).
//!
//! # Configurations
//!
//! A [`Configuration`] names the *voters* (the servers whose votes elect a leader and
//! whose logs count toward a commit) and the *learners* (servers that receive the log
//! but count for nothing, §4.2.1). The founding configuration is given to every node
//! when it is built; every change after it is a configuration entry in the log.
//!
//! A node uses the latest configuration in its log, **whether or not it is committed**
//! (§4.1: "a server always uses the latest configuration in its log"). So the
//! configuration in force changes when an entry is appended, and changes back if that
//! entry is removed by a conflicting leader. A snapshot carries the configuration in
//! force at its last included index, so compaction never loses it, and a restarted
//! node finds it again in what it persisted. [`Configurations`] keeps this history.
//!
//! # Why one server at a time is safe
//!
//! Adding or removing a single voter changes the cluster so that any majority of the
//! old voters and any majority of the new voters share a server (§4.1, Figure 4.3).
//! Two leaders of one term would each need a majority of the configuration they use,
//! and those majorities overlap: Election Safety holds across the change. The rules
//! that keep it so ([`check_change`]):
//!
//! - one change at a time: the leader appends no configuration entry while an earlier
//!   one is uncommitted (§4.1);
//! - a leader appends one only after it has committed an entry of its own term — the
//!   fix for the bug in single-server changes found after the dissertation (Ongaro,
//!   raft-dev, 2015): without it, a leader elected under an older configuration can
//!   overwrite a committed change. With the leader no-op switched on this holds right
//!   after an election; without it, after the leader's first command commits.
//!
//! # Adding and removing
//!
//! A new server joins as a learner (a configuration entry adding it to `learners`)
//! and catches up from the leader, by entries or by snapshot, without slowing commits
//! (§4.2.1). Once its log reaches the leader's commit index, the leader promotes it to
//! voter with a second configuration entry. A removed server stops counting as soon as
//! its removal is appended; a leader that removes itself keeps replicating without
//! counting itself, and steps down once the removal is committed (§4.2.2).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use super::entry::{Entry, EntryKind};
use super::event::Event;
use super::persist::PersistentState;
use super::progress::Progress;
use super::role::RoleState;
use super::{Index, Node, NodeId, Proposal, Role, Term};

/// The servers of the cluster: who votes and who only learns (§4.2.1).
///
/// Invariant: no server is both a voter and a learner.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Configuration {
    /// The servers that vote and count toward commits.
    pub voters: BTreeSet<NodeId>,
    /// The servers that receive the log but do not count.
    pub learners: BTreeSet<NodeId>,
}

impl Configuration {
    /// A configuration of `voters` and no learners.
    pub fn with_voters(voters: impl IntoIterator<Item = NodeId>) -> Configuration {
        Configuration {
            voters: voters.into_iter().collect(),
            learners: BTreeSet::new(),
        }
    }

    /// True if `id` votes.
    pub fn is_voter(&self, id: NodeId) -> bool {
        self.voters.contains(&id)
    }

    /// True if `id` is a learner.
    pub fn is_learner(&self, id: NodeId) -> bool {
        self.learners.contains(&id)
    }

    /// True if `id` is a voter or a learner.
    pub fn contains(&self, id: NodeId) -> bool {
        self.is_voter(id) || self.is_learner(id)
    }

    /// Every server, voters and learners, in id order.
    pub fn members(&self) -> impl Iterator<Item = NodeId> + '_ {
        let mut members: Vec<NodeId> = self.voters.union(&self.learners).copied().collect();
        members.sort_unstable();
        members.into_iter()
    }

    /// The configuration after `change`, or why it cannot be made.
    pub fn apply(&self, change: ConfChange) -> Result<Configuration, MembershipError> {
        let mut next = self.clone();
        match change {
            ConfChange::AddLearner(id) => {
                if self.contains(id) {
                    return Err(MembershipError::AlreadyMember(id));
                }
                next.learners.insert(id);
            }
            ConfChange::Promote(id) => {
                if !next.learners.remove(&id) {
                    return Err(MembershipError::NotALearner(id));
                }
                next.voters.insert(id);
            }
            ConfChange::Remove(id) => {
                if !self.contains(id) {
                    return Err(MembershipError::NotAMember(id));
                }
                if self.voters.len() == 1 && self.is_voter(id) {
                    return Err(MembershipError::LastVoter(id));
                }
                next.voters.remove(&id);
                next.learners.remove(&id);
            }
        }
        Ok(next)
    }
}

impl std::fmt::Display for Configuration {
    /// `voters 1,2,3` or `voters 1,2,3 learners 6`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |ids: &BTreeSet<NodeId>| {
            ids.iter()
                .map(|id| id.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        write!(f, "voters {}", list(&self.voters))?;
        if !self.learners.is_empty() {
            write!(f, " learners {}", list(&self.learners))?;
        }
        Ok(())
    }
}

/// One change of membership: what a configuration entry does to the configuration
/// before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "change", content = "node", rename_all = "snake_case")]
pub enum ConfChange {
    /// A new server joins as a learner and starts catching up (§4.2.1).
    AddLearner(NodeId),
    /// A learner that caught up becomes a voter (§4.1, adding one server).
    Promote(NodeId),
    /// A voter or learner leaves (§4.1, removing one server; §4.2.2 if it leads).
    Remove(NodeId),
}

impl std::fmt::Display for ConfChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfChange::AddLearner(id) => write!(f, "add n{id} as learner"),
            ConfChange::Promote(id) => write!(f, "promote n{id} to voter"),
            ConfChange::Remove(id) => write!(f, "remove n{id}"),
        }
    }
}

/// Why a membership change was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MembershipError {
    /// Only the leader changes the membership.
    #[error("not the leader{}", match .leader { Some(id) => format!(" (the leader is n{id})"), None => String::new() })]
    NotLeader {
        /// The leader this node knows of, if any.
        leader: Option<NodeId>,
    },
    /// One change at a time (§4.1).
    #[error("the configuration change at index {index} is not committed yet: one change at a time")]
    ChangePending {
        /// The uncommitted configuration entry.
        index: Index,
    },
    /// The leader has not committed an entry of its own term yet.
    #[error(
        "the leader has not committed an entry of its term {term} yet (submit a command first, or switch the no-op on)"
    )]
    NoCommitInTerm {
        /// The leader's term.
        term: Term,
    },
    /// The server is already a voter or a learner.
    #[error("n{0} is already a member")]
    AlreadyMember(NodeId),
    /// The server is neither a voter nor a learner.
    #[error("n{0} is not a member")]
    NotAMember(NodeId),
    /// Only a learner can be promoted.
    #[error("n{0} is not a learner")]
    NotALearner(NodeId),
    /// A cluster needs a voter.
    #[error("n{0} is the last voter: a cluster needs at least one")]
    LastVoter(NodeId),
    /// A transfer is under way.
    #[error("leadership is being transferred: try again once it has a leader")]
    Transferring,
}

/// Whether a leader in `term` may append a configuration entry now (§4.1): not while
/// an earlier one (the last at `latest_change`) is uncommitted, and not before it has
/// committed an entry of its own term (`commit_term` is the term of the entry at its
/// commit index).
pub fn check_change(
    term: Term,
    commit_index: Index,
    commit_term: Term,
    latest_change: Index,
) -> Result<(), MembershipError> {
    if latest_change > commit_index {
        return Err(MembershipError::ChangePending {
            index: latest_change,
        });
    }
    if commit_term != term {
        return Err(MembershipError::NoCommitInTerm { term });
    }
    Ok(())
}

/// A node's configurations over its log: the one in force before the log (from the
/// snapshot, or the founding one) and every configuration entry in the log. Each is
/// shared ([`Arc`]) with the entry or snapshot that holds it, so reporting one copies
/// nothing.
///
/// Invariant: every key of `in_log` is greater than `base_index`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Configurations {
    /// The index the base configuration is in force at (the snapshot index, or 0).
    base_index: Index,
    /// The configuration in force at `base_index`.
    base: Arc<Configuration>,
    /// The configuration each configuration entry of the log sets, by index.
    in_log: BTreeMap<Index, Arc<Configuration>>,
}

impl Configurations {
    /// The founding configuration alone.
    pub fn new(founding: Configuration) -> Configurations {
        Configurations {
            base_index: 0,
            base: Arc::new(founding),
            in_log: BTreeMap::new(),
        }
    }

    /// The configurations a node finds in what it persisted: the founding one, then
    /// the snapshot's, then each configuration entry of the log (§4.1: they survive
    /// restarts).
    pub fn of_persisted(founding: Configuration, state: &PersistentState) -> Configurations {
        let mut configurations = Configurations::new(founding);
        if let Some(snapshot) = &state.snapshot {
            configurations.installed(
                snapshot.last_included_index,
                snapshot.configuration.clone(),
                BTreeMap::new(),
            );
        }
        for (index, configuration) in state.log.configuration_entries() {
            configurations.appended(index, configuration.clone());
        }
        configurations
    }

    /// The configuration in force: the latest one, committed or not (§4.1).
    pub fn in_force(&self) -> &Configuration {
        self.in_force_shared()
    }

    /// The configuration in force, shared.
    pub fn in_force_shared(&self) -> &Arc<Configuration> {
        self.in_log.values().next_back().unwrap_or(&self.base)
    }

    /// The index of the entry that set the configuration in force (the base index if
    /// no entry of the log did).
    pub fn in_force_index(&self) -> Index {
        self.in_log
            .keys()
            .next_back()
            .copied()
            .unwrap_or(self.base_index)
    }

    /// True if `id` may start an election knowing `commit_index` committed: see
    /// [`Node::may_campaign`](super::Node::may_campaign), which states the rule and
    /// why (§4.2.2).
    pub fn may_campaign(&self, id: NodeId, commit_index: Index) -> bool {
        let in_force = self.in_force();
        in_force.is_voter(id)
            || (!in_force.contains(id) && self.votes_in_any_since(commit_index, id))
    }

    /// True if `id` votes in the configuration in force at `index` or in any set by
    /// an entry after it (the configurations not known to be superseded by a
    /// committed one, when `index` is the commit index).
    pub fn votes_in_any_since(&self, index: Index, id: NodeId) -> bool {
        self.at(index).is_voter(id)
            || self
                .in_log
                .range(index + 1..)
                .any(|(_, configuration)| configuration.is_voter(id))
    }

    /// The configuration in force at `index` (at or after the base), shared.
    pub fn at(&self, index: Index) -> &Arc<Configuration> {
        self.in_log
            .range(..=index)
            .next_back()
            .map_or(&self.base, |(_, configuration)| configuration)
    }

    /// A configuration entry at `index` was appended: it is in force from now on.
    pub(super) fn appended(&mut self, index: Index, configuration: Arc<Configuration>) {
        assert!(
            index > self.base_index && index > self.in_force_index(),
            "configuration entries are appended in index order"
        );
        self.in_log.insert(index, configuration);
    }

    /// The log lost its entries from `index` on: their configurations are gone, and
    /// the one before them is in force again. Returns true if that changed anything.
    pub(super) fn truncated_from(&mut self, index: Index) -> bool {
        !self.in_log.split_off(&index).is_empty()
    }

    /// The log was compacted through `index` (a local snapshot): the configuration in
    /// force there becomes the base, which the snapshot carries.
    pub(super) fn compacted_through(&mut self, index: Index) {
        self.base = self.at(index).clone();
        self.base_index = index;
        self.in_log = self.in_log.split_off(&(index + 1));
    }

    /// A snapshot through `index` that carries `configuration` replaced the log up to
    /// there (Figure 13): it is the new base. If the log kept a suffix after the
    /// snapshot, `suffix` lists the configuration entries in it.
    pub(super) fn installed(
        &mut self,
        index: Index,
        configuration: Arc<Configuration>,
        suffix: BTreeMap<Index, Arc<Configuration>>,
    ) {
        self.base = configuration;
        self.base_index = index;
        self.in_log = suffix;
    }

    /// The configuration entries of the log after `index`, for a snapshot that keeps
    /// them.
    pub(super) fn after(&self, index: Index) -> BTreeMap<Index, Arc<Configuration>> {
        self.in_log
            .range(index + 1..)
            .map(|(&at, configuration)| (at, configuration.clone()))
            .collect()
    }
}

impl Node {
    /// Proposes a membership change (§4.1): the leader appends a configuration entry,
    /// in force on it at once and on each follower as soon as it stores it. Refused
    /// unless this node leads, takes commands (no transfer under way), has committed
    /// the previous change and an entry of its own term (`check_change`), and the
    /// change applies to the configuration in force.
    pub fn propose_change(&mut self, change: ConfChange) -> Result<Proposal, MembershipError> {
        if let Some(refusal) = self.change_refusal() {
            return Err(refusal);
        }
        let next = self.configuration().apply(change)?;
        Ok(self.append_configuration(next))
    }

    /// Why a membership change proposed now would be refused, whatever the change:
    /// this node does not lead, hands its leadership over, or may not change the
    /// configuration yet (`check_change`). `None` if a change that applies would be
    /// accepted.
    pub fn change_refusal(&self) -> Option<MembershipError> {
        if self.role() != Role::Leader {
            return Some(MembershipError::NotLeader {
                leader: self.leader(),
            });
        }
        if self.transferring_to().is_some() {
            return Some(MembershipError::Transferring);
        }
        let Some(commit_term) = self.log.term_at(self.commit_index) else {
            // Impossible while every rule holds; a broken rule (`forget-log`,
            // `commit-to-leader-commit`) can leave the commit index past the log. No
            // change is safe then: say the leader's term has nothing committed.
            assert!(
                !self.rules_hold(),
                "the commit index is held in the log or is its snapshot base"
            );
            return Some(MembershipError::NoCommitInTerm {
                term: self.current_term,
            });
        };
        check_change(
            self.current_term,
            self.commit_index,
            commit_term,
            self.configurations.in_force_index(),
        )
        .err()
    }

    /// Appends a configuration entry to the leader's log and puts it in force.
    fn append_configuration(&mut self, configuration: Configuration) -> Proposal {
        let index = self.log.last_index() + 1;
        let term = self.current_term;
        let kind = EntryKind::Configuration(Arc::new(configuration));
        let entry = Entry::internal(index, term, kind);
        self.adopt_configuration_of(&entry);
        self.log.push(entry);
        self.log_changed_from(index);
        // With fewer voters, or a single one, the entries held may already commit.
        self.maybe_advance_commit_index();
        Proposal { index, term }
    }

    /// An entry at `entry.index` is being appended to the log: if it is a
    /// configuration entry, its configuration is in force from now on (§4.1).
    pub(super) fn adopt_configuration_of(&mut self, entry: &Entry) {
        if let EntryKind::Configuration(configuration) = &entry.kind {
            self.configurations
                .appended(entry.index, configuration.clone());
            self.configuration_changed();
        }
    }

    /// The log lost its entries from `index` on (a conflicting leader's entries replace
    /// them): a configuration they set is no longer in force, the one before is.
    pub(super) fn forget_configurations_from(&mut self, index: Index) {
        if self.configurations.truncated_from(index) {
            self.configuration_changed();
        }
    }

    /// The configuration in force changed: say so, and a leader starts (or stops)
    /// replicating to the servers that joined (or left).
    pub(super) fn configuration_changed(&mut self) {
        let index = self.configurations.in_force_index();
        let configuration = self.configuration().clone();
        let peers: BTreeSet<NodeId> = self.peers().collect();
        if let RoleState::Leader(leader) = &mut self.role {
            let next_index = self.log.last_index() + 1;
            leader.progress.retain(|peer, _| peers.contains(peer));
            for peer in peers {
                leader
                    .progress
                    .entry(peer)
                    .or_insert_with(|| Progress::new(next_index));
            }
        }
        self.record(Event::ConfigurationChanged {
            index,
            configuration,
        });
    }

    /// After the commit index moved on a leader: a leader that the committed
    /// configuration leaves out steps down (§4.2.2), and a learner that caught up may
    /// be promoted now that the previous change is committed.
    pub(super) fn membership_after_commit(&mut self) {
        if self.role() != Role::Leader {
            return;
        }
        let index = self.configurations.in_force_index();
        if !self.configuration().contains(self.id) && self.commit_index >= index {
            let term = self.current_term;
            self.record(Event::LeftCluster { index });
            self.become_follower(term, None);
            return;
        }
        self.promote_caught_up_learner();
    }

    /// §4.2.1: once a learner's log has caught up with the leader's commit index, the
    /// leader makes it a voter with a configuration entry (one learner at a time, and
    /// only when a change may be made at all, see [`check_change`]).
    pub(super) fn promote_caught_up_learner(&mut self) {
        let RoleState::Leader(leader) = &self.role else {
            return;
        };
        let configuration = self.configurations.in_force();
        let caught_up = configuration.learners.iter().copied().find(|learner| {
            leader
                .progress
                .get(learner)
                .is_some_and(|progress| progress.match_index() >= self.commit_index)
        });
        if let Some(learner) = caught_up {
            // Refused while a change is pending or before a commit in this term: a
            // later answer from the learner tries again.
            let _ = self.propose_change(ConfChange::Promote(learner));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voters(ids: &[NodeId]) -> Configuration {
        Configuration::with_voters(ids.iter().copied())
    }

    #[test]
    fn changes_one_server_at_a_time() {
        let three = voters(&[1, 2, 3]);
        let with_learner = three.apply(ConfChange::AddLearner(4)).unwrap();
        assert_eq!(with_learner.to_string(), "voters 1,2,3 learners 4");
        assert!(with_learner.is_learner(4) && !with_learner.is_voter(4));
        assert_eq!(with_learner.members().collect::<Vec<_>>(), vec![1, 2, 3, 4]);
        let four = with_learner.apply(ConfChange::Promote(4)).unwrap();
        assert_eq!(four, voters(&[1, 2, 3, 4]));
        let without_1 = four.apply(ConfChange::Remove(1)).unwrap();
        assert_eq!(without_1.to_string(), "voters 2,3,4");
        // Removing a learner.
        assert_eq!(
            with_learner.apply(ConfChange::Remove(4)).unwrap(),
            three,
            "a learner can leave before it votes"
        );
    }

    #[test]
    fn refused_changes() {
        let three = voters(&[1, 2, 3]);
        assert_eq!(
            three.apply(ConfChange::AddLearner(2)),
            Err(MembershipError::AlreadyMember(2))
        );
        assert_eq!(
            three.apply(ConfChange::Promote(2)),
            Err(MembershipError::NotALearner(2))
        );
        assert_eq!(
            three.apply(ConfChange::Remove(9)),
            Err(MembershipError::NotAMember(9))
        );
        assert_eq!(
            voters(&[5]).apply(ConfChange::Remove(5)),
            Err(MembershipError::LastVoter(5))
        );
    }

    #[test]
    fn check_change_table() {
        // (term, commit index, term at commit, latest change, allowed)
        let cases = [
            (3, 10, 3, 4, Ok(())),
            (
                3,
                10,
                3,
                11,
                Err(MembershipError::ChangePending { index: 11 }),
            ),
            (
                3,
                10,
                2,
                4,
                Err(MembershipError::NoCommitInTerm { term: 3 }),
            ),
            (3, 10, 3, 10, Ok(())),
        ];
        for (number, (term, commit, commit_term, latest, expected)) in cases.into_iter().enumerate()
        {
            assert_eq!(
                check_change(term, commit, commit_term, latest),
                expected,
                "case {number}"
            );
        }
    }

    #[test]
    fn votes_in_any_since_looks_past_the_commit_index() {
        // n4 joins as a learner (entry 5), is promoted (entry 7), then removed (12).
        let founding = voters(&[1, 2, 3]);
        let learner = founding.apply(ConfChange::AddLearner(4)).unwrap();
        let four = learner.apply(ConfChange::Promote(4)).unwrap();
        let removed = four.apply(ConfChange::Remove(4)).unwrap();
        let mut configurations = Configurations::new(founding);
        configurations.appended(5, learner.into());
        configurations.appended(7, four.into());
        configurations.appended(12, removed.into());
        // Committed through 6 (a learner then), it may still have been a voter since.
        assert!(configurations.votes_in_any_since(6, 4));
        assert!(configurations.votes_in_any_since(11, 4));
        // Once the removal is known committed, no more.
        assert!(!configurations.votes_in_any_since(12, 4));
        // A node that never voted in any of them: never.
        assert!(!configurations.votes_in_any_since(0, 5));
        // An entry before `index` that a later one replaced does not count.
        let mut back_to_back = Configurations::new(voters(&[1, 2, 3]));
        back_to_back.appended(5, voters(&[1, 2, 3, 4]).into());
        back_to_back.appended(6, voters(&[1, 2, 3]).into());
        assert!(!back_to_back.votes_in_any_since(6, 4));
        assert!(back_to_back.votes_in_any_since(5, 4));
    }

    #[test]
    fn configurations_follow_the_log() {
        let founding = voters(&[1, 2, 3]);
        let mut configurations = Configurations::new(founding.clone());
        assert_eq!(configurations.in_force(), &founding);
        assert_eq!(configurations.in_force_index(), 0);
        let learner = founding.apply(ConfChange::AddLearner(4)).unwrap();
        let four = learner.apply(ConfChange::Promote(4)).unwrap();
        configurations.appended(5, learner.clone().into());
        configurations.appended(8, four.clone().into());
        assert_eq!(configurations.in_force(), &four);
        assert_eq!(**configurations.at(7), learner);
        assert_eq!(**configurations.at(4), founding);
        // A conflicting leader removes entry 8: the learner configuration is back.
        assert!(configurations.truncated_from(8));
        assert_eq!(configurations.in_force(), &learner);
        assert!(!configurations.truncated_from(9), "nothing there");
        configurations.appended(9, four.clone().into());
        // A snapshot through 6 carries the configuration in force there.
        configurations.compacted_through(6);
        assert_eq!(**configurations.at(6), learner);
        assert_eq!(configurations.in_force(), &four);
        assert_eq!(
            configurations.after(6).keys().copied().collect::<Vec<_>>(),
            vec![9]
        );
        // Strictly after: the entry at the index itself is the snapshot's.
        assert_eq!(configurations.after(9).keys().count(), 0);
        assert_eq!(
            configurations.after(8).keys().copied().collect::<Vec<_>>(),
            vec![9]
        );
        // Compacted through a configuration entry: the base holds it, the log no longer.
        let mut at_entry = configurations.clone();
        at_entry.compacted_through(9);
        assert_eq!(**at_entry.at(9), four);
        assert_eq!(
            at_entry.after(0).keys().count(),
            0,
            "the log holds no entry"
        );
        // An installed snapshot replaces it all.
        configurations.installed(20, founding.clone().into(), BTreeMap::new());
        assert_eq!(
            (configurations.in_force(), configurations.in_force_index()),
            (&founding, 20)
        );
    }

    #[test]
    fn changes_display_as_traces_name_them() {
        let changes = [
            ConfChange::AddLearner(4),
            ConfChange::Promote(4),
            ConfChange::Remove(2),
        ];
        assert_eq!(
            changes.map(|change| change.to_string()),
            ["add n4 as learner", "promote n4 to voter", "remove n2"]
        );
    }

    #[test]
    #[should_panic(expected = "configuration entries are appended in index order")]
    fn configurations_are_appended_in_order() {
        let mut configurations = Configurations::new(voters(&[1]));
        configurations.appended(5, voters(&[1, 2]).into());
        configurations.appended(3, voters(&[1]).into());
    }
}
