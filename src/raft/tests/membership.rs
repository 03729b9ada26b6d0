//! Tests of the leader no-op and of membership changes one server at a time: learners
//! catch up and are promoted, configurations are in force when appended (and undone
//! with their entry), live in snapshots and survive restarts, and a removed leader
//! steps down once its removal commits.

use super::*;

/// The voters `ids`, no learners.
fn voters(ids: &[NodeId]) -> Configuration {
    Configuration::with_voters(ids.iter().copied())
}

impl Net {
    /// Starts a new, empty node `id` (built, like every node, with the founding
    /// configuration, which does not name it).
    fn add_node(&mut self, id: NodeId) {
        self.storage.insert(id, PersistentState::default());
        self.restart(id);
    }

    /// Proposes `change` on `leader` and hands its output to the network.
    fn change(&mut self, leader: NodeId, change: ConfChange) -> Proposal {
        let proposal = self
            .node_mut(leader)
            .propose_change(change)
            .expect("the change is accepted");
        self.collect(leader);
        proposal
    }

    /// Every event `id` reported so far, collecting its output first.
    fn events(&mut self, id: NodeId) -> Vec<Event> {
        self.collect(id);
        self.events[&id].clone()
    }
}

// ----- the leader no-op -----

/// The old-term entry's story, told twice: n1 leads term 1 and replicates "x" to n2,
/// but crashes before it learns that a majority has it. n2 wins term 2.
fn old_term_entry(no_op: bool) -> Net {
    let mut config = RaftConfig::default();
    config.features.leader_no_op = no_op;
    let all: &[NodeId] = &[1, 2, 3];
    let mut net = Net::with_config(3, config);
    net.elect(1, all);
    net.heartbeat(1, all);
    let x = net.propose(1, "x");
    // The AppendEntries reaches n2; the answer never comes back.
    net.queue.retain(|envelope| envelope.to == 2);
    let request = net.queue.pop().unwrap();
    net.node_mut(2).step(request);
    net.collect(2);
    net.queue.clear();
    net.crash(1);
    net.elect(2, &[2, 3]);
    for _ in 0..5 {
        net.heartbeat(2, &[2, 3]);
    }
    // "x" is on a majority (n2 and n3) either way.
    assert_eq!(
        net.node(3).log().get(x.index).unwrap().command.as_str(),
        "x"
    );
    net
}

#[test]
fn without_the_no_op_an_old_term_entry_waits_for_a_client_command() {
    let mut net = old_term_entry(false);
    // Figure 8's rule: n2 may not commit "x" (term 1) by counting replicas.
    assert_eq!(net.node(2).status().commit_index, 0);
    assert!(!net.applied[&2].contains_key(&1));
    // It commits only together with an entry of term 2: a client's command.
    let y = net.propose(2, "y");
    assert_eq!(y.index, 2);
    net.heartbeat(2, &[2, 3]);
    assert_eq!(net.node(2).status().commit_index, 2);
    assert_eq!(net.applied[&2][&1].as_str(), "x");
}

#[test]
fn with_the_no_op_an_old_term_entry_commits_at_once() {
    let mut net = old_term_entry(true);
    // n1's no-op of term 1 took index 1 and "x" index 2; n2's no-op of term 2 sits at
    // index 3. It commits, and "x" before it.
    let log = net.node(2).log();
    assert_eq!(log.kind_at(1), Some(EntryKind::NoOp));
    assert_eq!(log.get(2).unwrap().command.as_str(), "x");
    assert_eq!(log.kind_at(3), Some(EntryKind::NoOp));
    assert_eq!(log.get(3).unwrap().command.as_str(), "");
    assert_eq!(log.get(3).unwrap().term, 2);
    assert_eq!(net.node(2).status().commit_index, 3);
    assert_eq!(net.node(3).status().last_applied, 3);
    assert_eq!(net.applied[&2][&2].as_str(), "x");
    // The next client command goes after the no-op: indexes shift.
    assert_eq!(net.propose(2, "y").index, 4);
}

#[test]
fn the_no_op_is_appended_once_per_election_and_a_single_node_commits_it() {
    let mut config = RaftConfig::default();
    config.features.leader_no_op = true;
    let mut node = Node::new(1, vec![1], config, 1);
    assert!(node.timeout_now());
    let ready = node.ready();
    let committed: Vec<Entry> = ready.committed.iter().collect();
    assert_eq!(committed, vec![Entry::internal(1, 1, EntryKind::NoOp)]);
    assert_eq!(node.propose("x".into()).unwrap().index, 2);
}

// ----- membership -----

/// Three voters led by n1, with a committed entry of n1's term (so changes may start).
fn three_voters() -> Net {
    let mut net = Net::new(3);
    net.elect(1, &[1, 2, 3]);
    net.propose(1, "x");
    net.deliver_within(&[1, 2, 3]);
    net.heartbeat(1, &[1, 2, 3]);
    assert_eq!(net.node(1).status().commit_index, 1);
    net
}

#[test]
fn a_new_node_joins_as_a_learner_catches_up_and_is_promoted() {
    let all: &[NodeId] = &[1, 2, 3, 4];
    let mut net = three_voters();
    for i in 0..5 {
        net.propose(1, &format!("c{i}"));
    }
    net.heartbeat(1, &[1, 2, 3]);
    net.add_node(4);
    assert!(!net.node(4).is_voter(), "n4 is in no configuration yet");
    let proposal = net.change(1, ConfChange::AddLearner(4));
    assert_eq!(proposal.index, 7);
    let learner = voters(&[1, 2, 3]).apply(ConfChange::AddLearner(4)).unwrap();
    assert_eq!(
        net.node(1).configuration(),
        &learner,
        "in force on the leader at once"
    );
    assert_eq!(net.node(1).configuration_index(), 7);
    // The leader starts n4 where its log ended when the change took effect: at the
    // configuration entry, the first thing n4 is sent (then it backs up from there).
    assert_eq!(net.node(1).progress().expect("n1 leads")[&4].next_index, 7);
    // n4 catches up from index 1, learns it is a learner, and once its log reaches the
    // leader's commit index the leader promotes it with a second entry.
    net.deliver_within(all);
    net.heartbeat(1, all);
    net.heartbeat(1, all);
    for id in 1..=4 {
        assert_eq!(net.node(id).configuration(), &voters(all), "n{id}");
        assert_eq!(net.node(id).configuration_index(), 8, "n{id}");
    }
    assert!(net.node(4).is_voter());
    assert_eq!(net.node(4).status().commit_index, 8);
    assert_eq!(net.applied[&4][&6].as_str(), "c4");
    // Four voters now need three: n1 and n4 alone commit nothing more.
    net.propose(1, "y");
    net.deliver_within(&[1, 4]);
    net.heartbeat(1, &[1, 4]);
    assert_eq!(net.node(1).status().commit_index, 8);
    net.heartbeat(1, all);
    assert_eq!(net.node(1).status().commit_index, 9);
}

#[test]
fn a_learner_neither_campaigns_nor_counts() {
    let mut net = three_voters();
    net.add_node(4);
    net.change(1, ConfChange::AddLearner(4));
    // Only n4 hears the change: it is a learner, yet the entry cannot commit.
    net.deliver_within(&[1, 4]);
    net.heartbeat(1, &[1, 4]);
    assert!(net.node(4).configuration().is_learner(4));
    assert_eq!(
        net.node(1).status().commit_index,
        1,
        "a learner does not count"
    );
    // Its timer fires and nothing happens: it never asks for votes.
    let term = net.node(4).term();
    for _ in 0..3 * RaftConfig::default().election_timeout_max {
        net.node_mut(4).tick();
    }
    assert!(net.node_mut(4).ready().messages.is_empty());
    assert_eq!(
        (net.node(4).role(), net.node(4).term()),
        (Role::Follower, term)
    );
    assert!(!net.node_mut(4).timeout_now(), "nor when told to");
    net.node_mut(4).step(Envelope {
        from: 1,
        to: 4,
        term,
        message: Message::TimeoutNow,
    });
    assert_eq!(
        net.node(4).role(),
        Role::Follower,
        "nor by a leader's TimeoutNow"
    );
    // And a transfer to it is refused.
    assert_eq!(
        net.node_mut(1).transfer_leadership(4),
        Err(TransferError::NotAVoter(4))
    );
}

#[test]
fn changes_come_one_at_a_time_and_after_a_commit_in_the_term() {
    let mut net = three_voters();
    net.change(1, ConfChange::Remove(3));
    assert_eq!(
        net.node_mut(1).propose_change(ConfChange::AddLearner(4)),
        Err(MembershipError::ChangePending { index: 2 })
    );
    net.deliver_within(&[1, 2]);
    net.heartbeat(1, &[1, 2]);
    assert_eq!(net.node(1).status().commit_index, 2);
    net.change(1, ConfChange::AddLearner(4));
    // A new leader (no no-op) must first commit an entry of its own term.
    net.deliver_within(&[1, 2]);
    net.heartbeat(1, &[1, 2]);
    net.elect(2, &[1, 2]);
    assert_eq!(
        net.node_mut(2).propose_change(ConfChange::Remove(4)),
        Err(MembershipError::NoCommitInTerm { term: 2 })
    );
    assert_eq!(
        net.node_mut(1).propose_change(ConfChange::Remove(4)),
        Err(MembershipError::NotLeader { leader: Some(2) })
    );
    net.propose(2, "y");
    net.heartbeat(2, &[1, 2]);
    assert_eq!(
        net.node_mut(2).propose_change(ConfChange::AddLearner(4)),
        Err(MembershipError::AlreadyMember(4))
    );
    net.change(2, ConfChange::Remove(4));
    assert_eq!(net.node(2).configuration(), &voters(&[1, 2]));
}

#[test]
fn a_removed_follower_stops_counting_at_once() {
    let mut net = three_voters();
    net.change(1, ConfChange::Remove(3));
    // Two voters: both are needed, and n3 is not asked.
    net.deliver_within(&[1, 2]);
    net.heartbeat(1, &[1, 2]);
    assert_eq!(net.node(1).status().commit_index, 2);
    assert_eq!(
        net.node(1)
            .progress()
            .unwrap()
            .keys()
            .copied()
            .collect::<Vec<_>>(),
        vec![2],
        "the leader no longer replicates to n3"
    );
    net.propose(1, "y");
    net.deliver_within(&[1, 3]);
    assert_eq!(
        net.node(1).status().commit_index,
        2,
        "n3's copy would not count"
    );
}

/// The removed leader's story (etcd's confchange_v1_remove_leader): n1 removes itself.
#[test]
fn a_removed_leader_leads_until_its_removal_commits_then_steps_down() {
    let all: &[NodeId] = &[1, 2, 3];
    let mut net = three_voters();
    let removal = net.change(1, ConfChange::Remove(1));
    assert_eq!(net.node(1).role(), Role::Leader);
    assert!(!net.node(1).is_voter());
    // It still replicates; n2 alone is not a majority of {n2, n3} (n1 does not count).
    net.propose(1, "foo");
    net.deliver_within(&[1, 2]);
    net.heartbeat(1, &[1, 2]);
    assert_eq!(net.node(1).status().commit_index, 1);
    assert_eq!(net.node(1).role(), Role::Leader);
    // n3 answers: the removal commits, and n1 steps down.
    net.heartbeat(1, all);
    let events = net.events(1);
    assert!(net.node(1).status().commit_index >= removal.index);
    assert_eq!(net.node(1).role(), Role::Follower);
    assert!(
        events.contains(&Event::LeftCluster {
            index: removal.index
        }),
        "{events:?}"
    );
    // It takes no commands and never campaigns again; n2 or n3 takes over.
    assert!(net.node_mut(1).propose("baz".into()).is_err());
    assert!(!net.node_mut(1).timeout_now());
    net.elect(2, &[2, 3]);
    assert_eq!(net.node(2).configuration(), &voters(&[2, 3]));
}

#[test]
fn configurations_survive_restarts_and_snapshots() {
    let all: &[NodeId] = &[1, 2, 3, 4];
    let mut net = three_voters();
    net.add_node(4);
    net.change(1, ConfChange::AddLearner(4));
    net.deliver_within(all);
    net.heartbeat(1, all);
    net.heartbeat(1, all);
    let four = voters(all);
    assert_eq!(net.node(3).configuration(), &four);
    // From the log, after a restart.
    net.crash(3);
    net.restart(3);
    assert_eq!(net.node(3).configuration(), &four);
    // From the snapshot, once compaction dropped the configuration entries.
    net.propose(1, "y");
    net.heartbeat(1, all);
    let applied = net.node(1).status().last_applied;
    net.node_mut(1)
        .snapshot(applied, Arc::from(&b"kv"[..]))
        .unwrap();
    net.collect(1);
    assert_eq!(net.node(1).log().configuration_entries().count(), 0);
    assert_eq!(
        net.storage[&1].snapshot.as_ref().unwrap().configuration,
        four.clone().into()
    );
    net.crash(1);
    net.restart(1);
    assert_eq!(net.node(1).configuration(), &four);
    assert_eq!(net.node(1).configuration_index(), applied);
    // A fifth node catching up by snapshot learns the configuration from it.
    net.elect(2, &[2, 3, 4]);
    net.propose(2, "z");
    net.heartbeat(2, &[2, 3, 4]);
    let applied = net.node(2).status().last_applied;
    net.node_mut(2)
        .snapshot(applied, Arc::from(&b"kv"[..]))
        .unwrap();
    net.collect(2);
    net.add_node(5);
    net.change(2, ConfChange::AddLearner(5));
    net.deliver_within(&[2, 3, 4, 5]);
    net.heartbeat(2, &[2, 3, 4, 5]);
    assert!(
        net.node(5).log().snapshot_index() > 0,
        "n5 got the snapshot"
    );
    assert!(net.node(5).configuration().contains(5));
}

#[test]
fn a_configuration_is_undone_with_its_entry() {
    let mut net = three_voters();
    // n1 appends a change only n2 hears, then loses its leadership.
    net.change(1, ConfChange::Remove(3));
    net.deliver_within(&[1, 2]);
    assert_eq!(net.node(2).configuration(), &voters(&[1, 2]));
    // A leader of a newer term (n3, say, elected by n3 and n1 in term 5) overwrites
    // index 2 on n2 with an entry of its own.
    let conflicting = Envelope {
        from: 3,
        to: 2,
        term: 5,
        message: Message::AppendEntries {
            prev_log_index: 1,
            prev_log_term: 1,
            entries: vec![Entry::command(2, 5, "other".into())],
            leader_commit: 1,
        },
    };
    net.node_mut(2).step(conflicting);
    let events = net.events(2);
    assert_eq!(net.node(2).configuration(), &voters(&[1, 2, 3]));
    assert_eq!(net.node(2).configuration_index(), 0);
    assert!(events.contains(&Event::ConfigurationChanged {
        index: 0,
        configuration: voters(&[1, 2, 3])
    }));
}

/// The leader that removed itself and lost its leadership before the removal
/// committed (found by chaos). In a cluster of {n1, n2}, n1 removes itself; the
/// entry reaches nobody, and n2's election (term 2) makes n1 step down. n2 needs
/// n1's vote (a majority of {n1, n2}, the configuration n2 knows), and n1 refuses
/// it: its log is longer. Only n1 can end this, by campaigning in the configuration
/// its log holds ({n2}): n2 votes for it, it commits the removal, and steps down.
#[test]
fn a_leader_removed_by_an_uncommitted_entry_may_still_campaign() {
    let both: &[NodeId] = &[1, 2];
    let mut net = Net::new(2);
    net.elect(1, both);
    net.propose(1, "a");
    net.deliver_within(both);
    net.heartbeat(1, both);
    let removal = net.change(1, ConfChange::Remove(1));
    net.queue.clear();
    assert!(net.node_mut(2).timeout_now());
    net.collect(2);
    net.deliver_within(both);
    assert_eq!(net.node(1).role(), Role::Follower);
    assert_ne!(net.node(2).role(), Role::Leader, "n1 refused its vote");
    // n1 is no voter in its own configuration, but the removal is not committed.
    assert!(!net.node(1).is_voter());
    assert!(net.node(1).may_campaign());
    net.elect(1, both);
    // It leads {n2} now; a command of its term commits the removal with it (§5.4.2).
    net.propose(1, "x");
    net.deliver_within(both);
    net.heartbeat(1, both);
    assert!(net.node(1).status().commit_index >= removal.index);
    assert_eq!(net.node(1).role(), Role::Follower);
    assert!(net.events(1).contains(&Event::LeftCluster {
        index: removal.index
    }));
    // Now committed: it never campaigns again, and n2 leads alone.
    assert!(!net.node(1).may_campaign());
    net.elect(2, &[2]);
    assert_eq!(net.node(2).configuration(), &voters(&[2]));
}
