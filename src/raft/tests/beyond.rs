//! Tests of the mechanisms beyond Lab 3: pre-vote, check-quorum with leader
//! stickiness, and leadership transfer. Each switch is shown curing its problem: the
//! same story is told with the switch off (the problem happens) and on (it does not).

use super::*;

/// A configuration with the given switches.
fn config(pre_vote: bool, check_quorum: bool) -> RaftConfig {
    RaftConfig {
        features: Features {
            pre_vote,
            check_quorum,
            leader_no_op: false,
        },
        ..RaftConfig::default()
    }
}

impl Net {
    /// Runs `ticks` ticks on every up node, delivering within `groups` after each.
    fn run(&mut self, ticks: u64, groups: &[&[NodeId]]) {
        for _ in 0..ticks {
            let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
            for id in ids {
                self.node_mut(id).tick();
                self.collect(id);
            }
            self.deliver_in_groups(groups);
        }
    }

    /// The nodes that believe they lead.
    fn leaders(&self) -> Vec<NodeId> {
        self.nodes
            .values()
            .filter(|node| node.role() == Role::Leader)
            .map(Node::id)
            .collect()
    }
}

/// Fires `id`'s election timer `times` times while it is cut off (its messages lost).
fn campaign_alone(net: &mut Net, id: NodeId, times: usize) {
    for _ in 0..times {
        assert!(net.node_mut(id).timeout_now());
        net.collect(id);
        net.queue.retain(|envelope| envelope.from != id);
    }
}

// ----- pre-vote -----

/// The story of the disruptive rejoining node, told twice: n3 is cut off, times out
/// a few times, the others commit an entry, and n3 comes back.
fn rejoining_node(pre_vote: bool) -> Net {
    let all: &[NodeId] = &[1, 2, 3];
    let mut net = Net::with_config(3, config(pre_vote, false));
    net.elect(1, all);
    net.propose(1, "x");
    net.deliver_within(all);
    net.heartbeat(1, all);
    campaign_alone(&mut net, 3, 3);
    net.propose(1, "y");
    net.deliver_within(&[1, 2]);
    net.heartbeat(1, &[1, 2]);
    assert_eq!(net.node(1).status().commit_index, 2);
    // n3 is back: the leader's next heartbeat reaches it.
    net.heartbeat(1, all);
    net
}

#[test]
fn without_pre_vote_a_rejoining_node_deposes_the_leader() {
    let net = rejoining_node(false);
    // n3 raised its term three times while alone; its answer to the heartbeat carries
    // term 4 and the healthy leader steps down (§5.1), though n3 cannot win.
    assert_eq!(net.node(3).term(), 4);
    assert_eq!(net.node(1).role(), Role::Follower);
    assert_eq!(net.node(1).term(), 4);
    assert!(net.leaders().is_empty(), "the cluster lost its leader");
}

#[test]
fn with_pre_vote_a_rejoining_node_does_not_disrupt() {
    let net = rejoining_node(true);
    // n3 only asked for pre-votes: its term never moved, so it simply follows again.
    assert_eq!(net.node(3).term(), 1);
    assert_eq!(net.node(3).role(), Role::Follower);
    assert_eq!(net.node(3).leader(), Some(1));
    assert_eq!(net.leaders(), vec![1]);
    assert_eq!(net.node(1).term(), 1);
    assert_eq!(net.node(3).log(), net.node(1).log(), "and catches up");
}

#[test]
fn a_pre_vote_changes_nothing_on_either_side() {
    let mut net = Net::with_config(3, config(true, false));
    net.node_mut(1).timeout_now();
    let ready = net.node_mut(1).ready();
    assert_eq!(ready.hard_state, None, "a pre-candidate persists nothing");
    assert_eq!(net.node(1).term(), 0);
    assert_eq!(net.node(1).role(), Role::Candidate);
    assert_eq!(net.node(1).leader(), None);
    assert_eq!(ready.events, vec![Event::PreVoteStarted { term: 1 }]);
    let request = ready.messages[0].clone();
    assert_eq!(request.term, 1, "the request carries the term asked about");
    assert!(matches!(request.message, Message::PreVote { .. }));
    // The voter grants it, echoing term 1, and keeps term 0 and no vote.
    net.node_mut(2).step(request);
    let ready = net.node_mut(2).ready();
    assert_eq!(ready.hard_state, None);
    assert_eq!(
        (net.node(2).term(), net.node(2).status().voted_for),
        (0, None)
    );
    let reply = &ready.messages[0];
    assert_eq!(reply.term, 1);
    assert_eq!(reply.message, Message::PreVoteReply { vote_granted: true });
    // With that grant (2 of 3), n1 starts the real election for term 1.
    net.node_mut(1).step(reply.clone());
    assert_eq!(net.node(1).term(), 1);
    let ready = net.node_mut(1).ready();
    assert_eq!(
        ready.hard_state,
        Some(HardState {
            current_term: 1,
            voted_for: Some(1)
        })
    );
    assert!(
        ready
            .messages
            .iter()
            .all(|envelope| matches!(envelope.message, Message::RequestVote { .. }))
    );
}

#[test]
fn a_pre_vote_refusal_tells_the_voters_term() {
    let mut net = Net::with_config(3, config(true, false));
    net.elect(1, &[1, 2, 3]);
    net.propose(1, "x");
    net.deliver_within(&[1, 2]);
    // n3 is behind (it lacks "x"): n2 refuses, and its answer carries term 1.
    net.node_mut(3).timeout_now();
    net.collect(3);
    net.queue.retain(|envelope| envelope.to == 2);
    let request = net.queue.pop().unwrap();
    net.node_mut(2).step(request);
    let ready = net.node_mut(2).ready();
    assert_eq!(ready.messages[0].term, 1);
    assert_eq!(
        ready.messages[0].message,
        Message::PreVoteReply {
            vote_granted: false
        }
    );
    assert!(matches!(
        ready.events[0],
        Event::PreVoteDenied { term: 2, .. }
    ));
}

#[test]
fn pre_vote_decision_table() {
    use super::super::prevote::{PreVoteRequest, pre_vote_refusal};
    let log = log_with_terms(&[1, 1, 2]); // last entry: index 3, term 2
    let ask = |term, last_log_index, last_log_term| PreVoteRequest {
        candidate: 2,
        term,
        last_log_index,
        last_log_term,
    };
    // (our term, our vote, known leader, request, granted)
    let cases = [
        // A newer term: only the election restriction counts, even after voting.
        (2, Some(3), Some(3), ask(3, 3, 2), true),
        (2, None, None, ask(3, 2, 2), false),
        (2, None, None, ask(3, 1, 3), true),
        // Our own term: one vote per term, and not while its leader is known.
        (2, None, None, ask(2, 3, 2), true),
        (2, Some(2), None, ask(2, 3, 2), true),
        (2, Some(3), None, ask(2, 3, 2), false),
        (2, None, Some(3), ask(2, 9, 9), false),
    ];
    for (number, (term, voted_for, leader, request, grant)) in cases.into_iter().enumerate() {
        let refusal = pre_vote_refusal(term, voted_for, leader, &log, &request);
        assert_eq!(refusal.is_none(), grant, "case {number}: {refusal:?}");
    }
}

#[test]
fn with_pre_vote_a_cluster_still_elects_and_a_single_node_leads_alone() {
    let mut net = Net::with_config(5, config(true, false));
    net.run(60, &[&[1, 2, 3, 4, 5]]);
    assert_eq!(net.leaders().len(), 1);
    let mut node = Node::new(1, vec![1], config(true, false), 7);
    assert!(node.timeout_now());
    assert_eq!((node.role(), node.term()), (Role::Leader, 1));
}

#[test]
fn a_pre_candidate_follows_a_leader_of_its_term() {
    let mut net = Net::with_config(3, config(true, false));
    net.elect(1, &[1, 2, 3]);
    net.node_mut(3).timeout_now();
    let _ = net.node_mut(3).ready();
    assert_eq!(
        net.node(3).votes_received().map(|votes| votes.len()),
        Some(1)
    );
    net.heartbeat(1, &[1, 2, 3]);
    assert_eq!(net.node(3).role(), Role::Follower);
    assert_eq!(net.node(3).leader(), Some(1));
}

// ----- check-quorum -----

/// The stale leader's story, told twice: n1 leads five nodes, then a partition
/// leaves it with n2 while n3, n4 and n5 elect one of them. Returns the leader of
/// the majority.
fn stale_leader(check_quorum: bool) -> (Net, NodeId) {
    let all: &[NodeId] = &[1, 2, 3, 4, 5];
    let mut net = Net::with_config(5, config(false, check_quorum));
    net.elect(1, all);
    net.heartbeat(1, all);
    let minority: &[NodeId] = &[1, 2];
    let majority: &[NodeId] = &[3, 4, 5];
    net.run(60, &[minority, majority]);
    let new_leader = net
        .leaders()
        .into_iter()
        .find(|id| majority.contains(id))
        .expect("the majority elected a leader");
    (net, new_leader)
}

#[test]
fn without_check_quorum_a_stale_leader_keeps_leading() {
    let (mut net, new_leader) = stale_leader(false);
    assert_eq!(
        net.leaders(),
        vec![1, new_leader],
        "two nodes believe they lead"
    );
    assert_eq!(net.node(1).term(), 1);
    assert_eq!(net.node(2).leader(), Some(1));
    assert!(net.node_mut(1).propose("never committed".into()).is_ok());
}

#[test]
fn with_check_quorum_a_stale_leader_steps_down() {
    let (mut net, new_leader) = stale_leader(true);
    assert_eq!(net.leaders(), vec![new_leader]);
    assert!(net.node_mut(1).propose("refused".into()).is_err());
}

#[test]
fn the_quorum_check_steps_down_after_one_election_timeout_and_says_why() {
    let mut net = Net::with_config(3, config(false, true));
    net.elect(1, &[1, 2, 3]);
    net.heartbeat(1, &[1, 2, 3]);
    let timeout = net.config.election_timeout_min;
    let first_check = net
        .node(1)
        .ticks_until_quorum_check()
        .expect("check-quorum is on");
    // Cut off, the leader ticks alone.
    let mut events = Vec::new();
    let mut ticks = 0;
    while net.node(1).role() == Role::Leader {
        net.node_mut(1).tick();
        events.extend(net.node_mut(1).ready().events);
        ticks += 1;
        assert!(ticks <= 2 * timeout, "no step-down after {ticks} ticks");
    }
    // The check runs every election timeout; the first one still counted the answers
    // to the heartbeat above, so the second one fails, on its tick exactly.
    assert_eq!(ticks, first_check + timeout);
    assert!(events.contains(&Event::LostQuorum {
        term: 1,
        heard_from: vec![],
        quorum: 2
    }));
}

#[test]
fn with_check_quorum_a_healthy_leader_stays() {
    let all: &[NodeId] = &[1, 2, 3, 4, 5];
    let mut net = Net::with_config(5, config(false, true));
    net.elect(1, all);
    net.run(200, &[all]);
    assert_eq!(net.leaders(), vec![1]);
    assert_eq!(net.node(1).term(), 1);
    // One follower down leaves a majority: still leading.
    net.crash(5);
    net.run(100, &[all]);
    assert_eq!(net.leaders(), vec![1]);
}

/// n3 is cut off and campaigns (without pre-vote, its term rises); its RequestVote
/// then reaches n2, which heard from leader n1 a moment ago.
fn vote_request_to_a_follower_of_a_live_leader(check_quorum: bool) -> Net {
    let all: &[NodeId] = &[1, 2, 3];
    let mut net = Net::with_config(3, config(false, check_quorum));
    net.elect(1, all);
    net.heartbeat(1, all);
    campaign_alone(&mut net, 3, 1);
    net.node_mut(3).timeout_now();
    net.collect(3);
    net.queue.retain(|envelope| envelope.to == 2);
    let request = net.queue.pop().unwrap();
    assert_eq!(request.term, 3);
    net.node_mut(2).step(request);
    net
}

#[test]
fn without_stickiness_a_vote_request_moves_a_followers_term() {
    let mut net = vote_request_to_a_follower_of_a_live_leader(false);
    assert_eq!(net.node(2).term(), 3);
    assert_eq!(net.node(2).leader(), None, "n2 forgot its leader");
    assert!(!net.node_mut(2).ready().messages.is_empty());
}

#[test]
fn with_check_quorum_a_follower_of_a_live_leader_ignores_vote_requests() {
    let mut net = vote_request_to_a_follower_of_a_live_leader(true);
    assert_eq!(net.node(2).term(), 1);
    assert_eq!(net.node(2).leader(), Some(1));
    let ready = net.node_mut(2).ready();
    assert!(ready.messages.is_empty(), "not even answered");
    assert_eq!(
        ready.events,
        vec![Event::VoteIgnored {
            candidate: 3,
            term: 3,
            leader: 1,
            pre_vote: false
        }]
    );
}

#[test]
fn stickiness_ends_once_the_leader_is_silent_for_an_election_timeout() {
    let mut net = Net::with_config(3, config(false, true));
    net.elect(1, &[1, 2, 3]);
    net.heartbeat(1, &[1, 2, 3]);
    // n2 hears nothing for election_timeout_min ticks (its own timer may fire too).
    for _ in 0..net.config.election_timeout_min {
        net.node_mut(2).tick();
    }
    let _ = net.node_mut(2).ready();
    let term = net.node(2).term();
    net.node_mut(2).step(Envelope {
        from: 3,
        to: 2,
        term: term + 1,
        message: Message::RequestVote {
            last_log_index: 9,
            last_log_term: 9,
            leadership_transfer: false,
        },
    });
    assert_eq!(net.node(2).term(), term + 1, "the request is considered");
    assert_eq!(net.node(2).status().voted_for, Some(3));
}

#[test]
fn with_pre_vote_and_check_quorum_a_rejoining_node_with_a_current_log_is_ignored() {
    // Nothing was written while n3 was away, so its log is as good as anyone's:
    // pre-vote alone would grant it; stickiness makes n2 ignore it.
    let all: &[NodeId] = &[1, 2, 3];
    for (check_quorum, disrupted) in [(false, true), (true, false)] {
        let mut net = Net::with_config(3, config(true, check_quorum));
        net.elect(1, all);
        net.heartbeat(1, all);
        net.node_mut(3).timeout_now();
        net.collect(3);
        net.deliver_within(all);
        assert_eq!(
            net.node(1).role() != Role::Leader,
            disrupted,
            "check-quorum {check_quorum}"
        );
        assert_eq!(net.node(3).role() == Role::Leader, disrupted);
    }
}

// ----- leadership transfer -----

#[test]
fn a_transfer_hands_leadership_to_an_up_to_date_follower() {
    let all: &[NodeId] = &[1, 2, 3];
    for check_quorum in [false, true] {
        let mut net = Net::with_config(3, config(false, check_quorum));
        net.elect(1, all);
        net.propose(1, "x");
        net.deliver_within(all);
        net.heartbeat(1, all);
        net.node_mut(1).transfer_leadership(2).unwrap();
        assert_eq!(net.node(1).transferring_to(), Some(2));
        // Caught up already: TimeoutNow leaves at once, and no command is taken.
        assert_eq!(
            net.node_mut(1).propose("refused".into()),
            Err(ProposeError::Transferring { target: 2 })
        );
        net.collect(1);
        assert!(
            net.queue
                .iter()
                .any(|envelope| envelope.to == 2 && envelope.message == Message::TimeoutNow)
        );
        net.deliver_within(all);
        assert_eq!(net.leaders(), vec![2], "check-quorum {check_quorum}");
        assert_eq!(net.node(2).term(), 2);
        assert_eq!(net.node(1).leader(), Some(2), "n1 follows n2");
        assert_eq!(net.node(1).transferring_to(), None);
        net.propose(2, "y");
        net.heartbeat(2, all);
        assert_eq!(net.node(1).log().last_index(), 2);
    }
}

#[test]
fn a_transfer_first_brings_a_lagging_target_up_to_date() {
    let all: &[NodeId] = &[1, 2, 3];
    let mut net = Net::with_config(3, config(false, true));
    net.elect(1, all);
    for i in 0..5 {
        net.propose(1, &format!("c{i}"));
        net.deliver_within(&[1, 2]);
    }
    assert_eq!(net.node(3).log().last_index(), 0);
    net.node_mut(1).transfer_leadership(3).unwrap();
    net.collect(1);
    assert!(
        !net.queue
            .iter()
            .any(|envelope| envelope.message == Message::TimeoutNow),
        "not before n3 has the whole log"
    );
    net.deliver_within(all);
    assert_eq!(net.leaders(), vec![3]);
    assert_eq!(net.node(3).log().last_index(), 5);
}

#[test]
fn a_transfer_to_a_down_node_is_given_up_after_an_election_timeout() {
    let all: &[NodeId] = &[1, 2, 3];
    let mut net = Net::new(3);
    net.elect(1, all);
    net.crash(3);
    assert_eq!(net.node(1).ticks_until_transfer_deadline(), None);
    net.node_mut(1).transfer_leadership(3).unwrap();
    let mut events = Vec::new();
    let timeout = net.config.election_timeout_min;
    for elapsed in 0..timeout {
        assert_eq!(
            net.node(1).ticks_until_transfer_deadline(),
            Some(timeout - elapsed),
            "the deadline counts down"
        );
        assert!(net.node_mut(1).propose("wait".into()).is_err());
        net.node_mut(1).tick();
        events.extend(net.node_mut(1).ready().events);
    }
    assert!(events.contains(&Event::TransferAborted { target: 3, term: 1 }));
    assert_eq!(net.node(1).transferring_to(), None);
    assert_eq!(net.node(1).role(), Role::Leader);
    assert!(net.node_mut(1).propose("taken again".into()).is_ok());
}

#[test]
fn transfer_refusals() {
    let mut net = Net::new(3);
    net.elect(1, &[1, 2, 3]);
    assert_eq!(
        net.node_mut(2).transfer_leadership(3),
        Err(TransferError::NotLeader(NotLeader { leader: Some(1) }))
    );
    assert_eq!(
        net.node_mut(1).transfer_leadership(1),
        Err(TransferError::AlreadyLeader(1))
    );
    assert_eq!(
        net.node_mut(1).transfer_leadership(9),
        Err(TransferError::NotAVoter(9))
    );
    assert_eq!(
        net.node(1).transferring_to(),
        None,
        "refusals change nothing"
    );
    // Asking again for the same target is not a new transfer.
    net.node_mut(1).transfer_leadership(2).unwrap();
    let _ = net.node_mut(1).ready();
    net.node_mut(1).transfer_leadership(2).unwrap();
    assert!(net.node_mut(1).ready().events.is_empty());
}

/// The quorum check's period starts when check-quorum is switched on, and setting
/// the configuration again with it already on does not restart it.
#[test]
fn the_quorum_check_period_starts_when_the_switch_is_turned_on() {
    let on = config(false, true);
    let timeout = on.election_timeout_min;
    let mut net = Net::with_config(3, on.clone());
    net.elect(1, &[1, 2, 3]);
    for _ in 0..3 {
        net.node_mut(1).tick();
    }
    assert_eq!(net.node(1).ticks_until_quorum_check(), Some(timeout - 3));
    net.node_mut(1).set_config(on.clone());
    assert_eq!(
        net.node(1).ticks_until_quorum_check(),
        Some(timeout - 3),
        "already on: the period goes on"
    );
    assert!(net.node(1).features().check_quorum && !net.node(1).features().pre_vote);
    net.node_mut(1).set_config(config(false, false));
    assert_eq!(net.node(1).ticks_until_quorum_check(), None, "off");
    assert!(!net.node(1).features().check_quorum);
    net.node_mut(1).set_config(on);
    assert_eq!(
        net.node(1).ticks_until_quorum_check(),
        Some(timeout),
        "switched on: a whole period from now"
    );
}
