//! Tests of the core alone: table tests for the vote decision and fast backup, the
//! paper's Figure 7 and Figure 8 scenarios, and persistence and snapshot rules, all
//! driven through a tiny in-memory network with hand-picked deliveries.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::election::vote_refusal;
use super::replication::{conflict_hint, next_index_after_conflict};
use super::role::Candidate;
use super::*;

/// A log (no snapshot) whose entry i has term `terms[i - 1]` and command `t{term}.{i}`.
fn log_with_terms(terms: &[Term]) -> Log {
    let mut log = Log::new();
    for entry in entries_from(1, terms) {
        log.push(entry);
    }
    log
}

fn terms_of(log: &Log) -> Vec<Term> {
    log.iter().map(|entry| entry.term).collect()
}

/// A hand-driven network of cores. Messages wait in `queue` until a test delivers
/// them; each node's output is persisted into `storage` as the runtime would.
struct Net {
    nodes: BTreeMap<NodeId, Node>,
    storage: BTreeMap<NodeId, PersistentState>,
    queue: Vec<Envelope>,
    /// Every command each node applied, by index.
    applied: BTreeMap<NodeId, BTreeMap<Index, Command>>,
    /// Every event each node reported, in order.
    events: BTreeMap<NodeId, Vec<Event>>,
    members: Vec<NodeId>,
    /// The configuration every node is (re)built with.
    config: RaftConfig,
}

impl Net {
    fn new(size: usize) -> Net {
        Net::with_config(size, RaftConfig::default())
    }

    /// A network of `size` nodes built with `config` (e.g. with features switched on).
    fn with_config(size: usize, config: RaftConfig) -> Net {
        let members: Vec<NodeId> = (1..=size).collect();
        let mut net = Net {
            nodes: BTreeMap::new(),
            storage: BTreeMap::new(),
            queue: Vec::new(),
            applied: BTreeMap::new(),
            events: BTreeMap::new(),
            members: members.clone(),
            config,
        };
        for &id in &members {
            net.storage.insert(id, PersistentState::default());
            net.restart(id);
        }
        net
    }

    /// (Re)builds node `id` from its storage.
    fn restart(&mut self, id: NodeId) {
        let state = self.storage[&id].clone();
        let node = Node::restart(
            id,
            self.members.clone(),
            self.config.clone(),
            id as u64,
            state,
        );
        self.nodes.insert(id, node);
        self.collect(id);
    }

    fn crash(&mut self, id: NodeId) {
        self.nodes.remove(&id);
        self.queue
            .retain(|envelope| envelope.to != id && envelope.from != id);
    }

    fn node(&self, id: NodeId) -> &Node {
        &self.nodes[&id]
    }

    fn node_mut(&mut self, id: NodeId) -> &mut Node {
        self.nodes.get_mut(&id).expect("node is up")
    }

    /// Persists and queues node `id`'s output, recording what it applies.
    fn collect(&mut self, id: NodeId) {
        let ready = self.node_mut(id).ready();
        self.storage.get_mut(&id).expect("storage").persist(&ready);
        self.queue.extend(ready.messages);
        // These tests exchange a few messages; a core that floods (answering every
        // answer, say) fails here instead of filling memory.
        assert!(
            self.queue.len() <= 10_000,
            "a message storm: {} messages queued",
            self.queue.len()
        );
        let applied = self.applied.entry(id).or_default();
        for entry in &ready.committed {
            applied.insert(entry.index, entry.command);
        }
        self.events.entry(id).or_default().extend(ready.events);
    }

    /// Delivers queued messages whose both ends are in `group` (and up), repeatedly,
    /// until none is left; other messages are dropped.
    fn deliver_within(&mut self, group: &[NodeId]) {
        self.deliver_in_groups(&[group]);
    }

    /// Delivers queued messages between nodes of the same group (and up), until none
    /// is left; messages across groups are dropped. At most 100 rounds: these tests
    /// settle in a few, so a core that keeps answering answers fails here.
    fn deliver_in_groups(&mut self, groups: &[&[NodeId]]) {
        let group_of = |id: NodeId| groups.iter().position(|group| group.contains(&id));
        let mut rounds = 0;
        while !self.queue.is_empty() {
            rounds += 1;
            assert!(
                rounds <= 100,
                "messages still flowing after {rounds} rounds"
            );
            for envelope in std::mem::take(&mut self.queue) {
                let to = envelope.to;
                let from_group = group_of(envelope.from);
                if from_group.is_some()
                    && from_group == group_of(to)
                    && self.nodes.contains_key(&to)
                {
                    self.node_mut(to).step(envelope);
                    self.collect(to);
                }
            }
        }
    }

    /// Makes `id` campaign among `group` until it wins (at most 5 tries).
    fn elect(&mut self, id: NodeId, group: &[NodeId]) {
        for _ in 0..5 {
            assert!(self.node_mut(id).timeout_now());
            self.collect(id);
            self.deliver_within(group);
            if self.node(id).role() == Role::Leader {
                return;
            }
        }
        panic!("n{id} could not win an election among {group:?}");
    }

    fn propose(&mut self, id: NodeId, command: &str) -> Proposal {
        let result = self
            .node_mut(id)
            .propose(command.into())
            .expect("is leader");
        self.collect(id);
        result
    }

    /// One heartbeat round from `leader`, delivered within `group`.
    fn heartbeat(&mut self, leader: NodeId, group: &[NodeId]) {
        for _ in 0..RaftConfig::default().heartbeat_interval {
            self.node_mut(leader).tick();
        }
        self.collect(leader);
        self.deliver_within(group);
    }
}

mod beyond;
mod membership;

#[test]
fn vote_decision_table() {
    let log = log_with_terms(&[1, 1, 2]); // last entry: index 3, term 2
    struct Case {
        voted_for: Option<NodeId>,
        candidate: NodeId,
        last_log_index: Index,
        last_log_term: Term,
        grant: bool,
    }
    let cases = [
        // Not voted yet, candidate's log equal: grant.
        Case {
            voted_for: None,
            candidate: 2,
            last_log_index: 3,
            last_log_term: 2,
            grant: true,
        },
        // Already voted for this candidate (a retried request): grant again.
        Case {
            voted_for: Some(2),
            candidate: 2,
            last_log_index: 3,
            last_log_term: 2,
            grant: true,
        },
        // Already voted for someone else this term: one vote per term.
        Case {
            voted_for: Some(3),
            candidate: 2,
            last_log_index: 9,
            last_log_term: 9,
            grant: false,
        },
        // Candidate's last term is older, though its log is longer: §5.4.1 refuses.
        Case {
            voted_for: None,
            candidate: 2,
            last_log_index: 10,
            last_log_term: 1,
            grant: false,
        },
        // Same last term, shorter log: refuse.
        Case {
            voted_for: None,
            candidate: 2,
            last_log_index: 2,
            last_log_term: 2,
            grant: false,
        },
        // Same last term, longer log: grant.
        Case {
            voted_for: None,
            candidate: 2,
            last_log_index: 4,
            last_log_term: 2,
            grant: true,
        },
        // Newer last term, shorter log: grant.
        Case {
            voted_for: None,
            candidate: 2,
            last_log_index: 1,
            last_log_term: 3,
            grant: true,
        },
        // An empty candidate log against our non-empty one: refuse.
        Case {
            voted_for: None,
            candidate: 2,
            last_log_index: 0,
            last_log_term: 0,
            grant: false,
        },
    ];
    for (number, case) in cases.iter().enumerate() {
        let refusal = vote_refusal(
            case.voted_for,
            case.candidate,
            &log,
            case.last_log_index,
            case.last_log_term,
            BrokenRules::none(),
        );
        assert_eq!(refusal.is_none(), case.grant, "case {number}: {refusal:?}");
    }
    // An empty log votes for an empty candidate.
    assert_eq!(
        vote_refusal(None, 2, &Log::new(), 0, 0, BrokenRules::none()),
        None
    );
    // With the rules broken, both refusals go.
    let broken = |rule| [rule].into_iter().collect::<BrokenRules>();
    assert!(vote_refusal(Some(3), 2, &log, 9, 9, BrokenRules::none()).is_some());
    assert_eq!(
        vote_refusal(Some(3), 2, &log, 9, 9, broken(Rule::DoubleVote)),
        None
    );
    assert!(vote_refusal(None, 2, &log, 0, 0, BrokenRules::none()).is_some());
    assert_eq!(
        vote_refusal(None, 2, &log, 0, 0, broken(Rule::VoteWithoutLogCheck)),
        None
    );
}

#[test]
fn fast_backup_table() {
    struct Case {
        name: &'static str,
        leader: &'static [Term],
        follower: &'static [Term],
        prev_log_index: Index,
        hint: ConflictHint,
        next_index: Index,
    }
    let cases = [
        Case {
            // Lab case 3: the follower's log is too short; continue from its end.
            name: "follower too short",
            leader: &[4, 6, 6, 6],
            follower: &[4],
            prev_log_index: 3,
            hint: ConflictHint {
                term: None,
                first_index: 2,
                log_end: 2,
            },
            next_index: 2,
        },
        Case {
            // Lab case 1: the leader has no entry of the follower's term 5: skip all of them.
            name: "leader lacks the conflicting term",
            leader: &[4, 6, 6, 6],
            follower: &[4, 5, 5, 5],
            prev_log_index: 3,
            hint: ConflictHint {
                term: Some(5),
                first_index: 2,
                log_end: 5,
            },
            next_index: 2,
        },
        Case {
            // Lab case 2: the leader has term 4; continue after its last term-4 entry.
            name: "leader has the conflicting term",
            leader: &[1, 1, 4, 4, 6, 6],
            follower: &[1, 1, 4, 4, 4, 4, 4],
            prev_log_index: 6,
            hint: ConflictHint {
                term: Some(4),
                first_index: 3,
                log_end: 8,
            },
            next_index: 5,
        },
        Case {
            // The conflicting run starts at the very first entry.
            name: "conflict from index 1",
            leader: &[2, 2],
            follower: &[1, 1, 1],
            prev_log_index: 2,
            hint: ConflictHint {
                term: Some(1),
                first_index: 1,
                log_end: 4,
            },
            next_index: 1,
        },
    ];
    for case in &cases {
        let leader = log_with_terms(case.leader);
        let follower = log_with_terms(case.follower);
        let hint = conflict_hint(&follower, case.prev_log_index);
        assert_eq!(hint, case.hint, "{}: hint", case.name);
        assert_eq!(
            next_index_after_conflict(&leader, &hint, false),
            case.next_index,
            "{}: next_index",
            case.name
        );
        // Coarse backup lands at XIndex, or XLen: never past the exact choice.
        let coarse = next_index_after_conflict(&leader, &hint, true);
        let expected = match hint.term {
            Some(_) => hint.first_index,
            None => hint.log_end,
        };
        assert_eq!(coarse, expected, "{}: coarse next_index", case.name);
        assert!(coarse <= case.next_index, "{}", case.name);
        // The chosen next_index never skips an entry the follower could still need: the
        // logs agree on everything before it, as far as the follower has entries.
        let agreed = case.next_index - 1;
        assert!(
            agreed == 0 || leader.term_at(agreed) == follower.term_at(agreed),
            "{}",
            case.name
        );
    }
}

#[test]
fn fast_backup_across_a_snapshot() {
    // The follower compacted through 3 (term 2); it holds term 3 at 4..=5.
    let mut follower = log_with_terms(&[1, 2, 2, 3, 3]);
    follower.compact(3, 2);
    let hint = conflict_hint(&follower, 5);
    assert_eq!(
        hint,
        ConflictHint {
            term: Some(3),
            first_index: 4,
            log_end: 6
        }
    );
    // The leader has no term 3: it backs up to 4, whose prev (3) is the snapshot base.
    let leader = log_with_terms(&[1, 2, 2, 4, 4, 4]);
    assert_eq!(next_index_after_conflict(&leader, &hint, false), 4);
}

#[test]
fn a_single_node_elects_itself_and_commits_alone() {
    let mut node = Node::new(1, vec![1], RaftConfig::default(), 7);
    for _ in 0..20 {
        node.tick();
    }
    assert_eq!(node.role(), Role::Leader);
    assert_eq!(node.propose("x".into()), Ok(Proposal { index: 1, term: 1 }));
    let ready = node.ready();
    assert!(ready.log.is_some(), "the entry is persisted");
    assert_eq!(ready.committed.len(), 1);
    assert!(ready.messages.is_empty());
}

#[test]
fn the_vote_is_persisted_in_the_same_ready_as_the_reply() {
    let mut net = Net::new(3);
    net.node_mut(1).timeout_now();
    net.collect(1);
    let request = net
        .queue
        .iter()
        .find(|envelope| envelope.to == 2)
        .cloned()
        .unwrap();
    net.node_mut(2).step(request);
    let ready = net.node_mut(2).ready();
    assert_eq!(
        ready.hard_state,
        Some(HardState {
            current_term: 1,
            voted_for: Some(1)
        })
    );
    assert!(matches!(
        ready.messages[0].message,
        Message::RequestVoteReply { vote_granted: true }
    ));
}

#[test]
fn a_restarted_node_does_not_vote_twice_in_one_term() {
    let mut net = Net::new(3);
    net.elect(1, &[1, 2, 3]);
    assert_eq!(net.node(2).status().voted_for, Some(1));
    net.crash(2);
    net.restart(2);
    assert_eq!(net.node(2).term(), 1);
    // n3 asks n2 for a vote in term 1 (as if its own timer had fired in that term).
    net.node_mut(2).step(Envelope {
        from: 3,
        to: 2,
        term: 1,
        message: Message::RequestVote {
            last_log_index: 5,
            last_log_term: 5,
            leadership_transfer: false,
        },
    });
    let ready = net.node_mut(2).ready();
    assert!(matches!(
        ready.messages[0].message,
        Message::RequestVoteReply {
            vote_granted: false
        }
    ));
}

#[test]
fn timers_elect_a_leader_with_randomized_timeouts() {
    let mut net = Net::new(5);
    for _ in 0..100 {
        for id in 1..=5 {
            net.node_mut(id).tick();
            net.collect(id);
        }
        net.deliver_within(&[1, 2, 3, 4, 5]);
        if net.nodes.values().any(|node| node.role() == Role::Leader) {
            break;
        }
    }
    let leaders: Vec<NodeId> = net
        .nodes
        .values()
        .filter(|node| node.role() == Role::Leader)
        .map(Node::id)
        .collect();
    assert_eq!(leaders.len(), 1, "{leaders:?}");
    // The timeout is within the configured range.
    let config = RaftConfig::default();
    for node in net.nodes.values() {
        let due = node.ticks_until_due();
        assert!(due <= config.election_timeout_max, "{due}");
    }
}

/// Figure 7: a leader for term 8 and six possible follower logs (a)–(f). Whatever a
/// follower's log looks like, AppendEntries makes it identical to the leader's, and
/// fast backup needs only a few round trips to find where they agree.
#[test]
fn figure_7_follower_logs_converge_to_the_leaders() {
    let leader_terms: &[Term] = &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    let followers: [(&str, &[Term]); 6] = [
        ("a", &[1, 1, 1, 4, 4, 5, 5, 6, 6]),
        ("b", &[1, 1, 1, 4]),
        ("c", &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6]),
        ("d", &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7]),
        ("e", &[1, 1, 1, 4, 4, 4, 4]),
        ("f", &[1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]),
    ];
    for (name, follower_terms) in followers {
        let state = |terms: &[Term]| PersistentState {
            hard_state: HardState {
                current_term: 7,
                voted_for: None,
            },
            log: log_with_terms(terms),
            snapshot: None,
        };
        let members = vec![1, 2];
        let mut leader = Node::restart(
            1,
            members.clone(),
            RaftConfig::default(),
            1,
            state(leader_terms),
        );
        let mut follower =
            Node::restart(2, members, RaftConfig::default(), 2, state(follower_terms));
        // Make n1 leader of term 8 directly (in the figure, other servers elected it).
        leader.current_term = 8;
        leader.role = RoleState::Candidate(Candidate::new(1, false));
        leader.become_leader();
        let mut round_trips = 0;
        let mut exchange = |leader: &mut Node, follower: &mut Node| {
            let mut queue = leader.ready().messages;
            while !queue.is_empty() {
                round_trips += 1;
                assert!(
                    round_trips <= 100,
                    "still exchanging after {round_trips} rounds"
                );
                for envelope in std::mem::take(&mut queue) {
                    let target = if envelope.to == 1 {
                        &mut *leader
                    } else {
                        &mut *follower
                    };
                    target.step(envelope);
                }
                queue.extend(leader.ready().messages);
                queue.extend(follower.ready().messages);
                assert!(queue.len() <= 10_000, "a message storm");
            }
        };
        exchange(&mut leader, &mut follower);
        // The follower now agrees with the leader through index 10 ((c) and (d) still
        // hold extra entries after it: Raft removes entries only when they conflict).
        assert_eq!(
            terms_of(follower.log())[..10],
            *leader_terms,
            "follower ({name})"
        );
        // The leader's next entry overwrites whatever the follower has at index 11.
        leader.propose("new".into()).unwrap();
        exchange(&mut leader, &mut follower);
        let mut expected = leader_terms.to_vec();
        expected.push(8);
        assert_eq!(terms_of(follower.log()), expected, "follower ({name})");
        assert_eq!(
            follower.log(),
            leader.log(),
            "follower ({name}) holds the same commands"
        );
        assert!(
            round_trips <= 8,
            "follower ({name}) took {round_trips} message rounds"
        );
    }
}

/// Figure 8: an entry from an older term is not committed by counting replicas, even
/// when a majority stores it, because a later leader could still overwrite it.
#[test]
fn figure_8_old_term_entry_is_not_committed_by_counting() {
    let all = [1, 2, 3, 4, 5];
    let mut net = Net::new(5);
    // (a) n1 leads term 1; "a" is committed everywhere; "b" reaches only n2.
    net.elect(1, &all);
    net.propose(1, "a");
    net.deliver_within(&all);
    net.heartbeat(1, &all);
    assert!(
        net.nodes
            .values()
            .all(|node| node.status().commit_index == 1)
    );
    assert_eq!(net.propose(1, "b"), Proposal { index: 2, term: 1 });
    net.deliver_within(&[1, 2]);
    // (b) n1 crashes; n5 wins term 2 with votes of n3, n4 and appends "c" at index 2.
    net.crash(1);
    net.elect(5, &[3, 4, 5]);
    assert_eq!(net.propose(5, "c"), Proposal { index: 2, term: 2 });
    net.crash(5);
    // (c) n1 comes back, wins a later term and replicates "b" to n3: now n1, n2 and n3
    // (a majority) store index 2 from term 1.
    net.restart(1);
    net.elect(1, &[1, 2, 3, 4]);
    let term = net.node(1).term();
    assert!(term >= 3);
    net.heartbeat(1, &[1, 2, 3]);
    for id in [1, 2, 3] {
        assert_eq!(net.node(id).log().term_at(2), Some(1), "n{id} stores b");
    }
    // The Figure 8 rule: n1 must not commit index 2, its entry is from term 1. (Its
    // commit index is even 0: it forgot it in the crash, and index 1 is from term 1 too.)
    assert_eq!(net.node(1).status().commit_index, 0);
    // (d) Indeed: n1 crashes, n5 is elected with votes of n2, n3, n4 (its last term 2
    // beats their term 1) and overwrites index 2 with "c".
    net.crash(1);
    net.restart(5);
    net.elect(5, &[2, 3, 4, 5]);
    net.propose(5, "d");
    net.deliver_within(&[2, 3, 4, 5]);
    net.heartbeat(5, &[2, 3, 4, 5]);
    for id in [2, 3, 4, 5] {
        assert_eq!(
            net.node(id).log().get(2).unwrap().command.as_str(),
            "c",
            "n{id}"
        );
        assert_eq!(net.node(id).status().commit_index, 3, "n{id}");
    }
    // Nobody ever applied "b": committing it would have lost a committed entry.
    for applied in net.applied.values() {
        assert_ne!(applied.get(&2).map(|command| command.as_str()), Some("b"));
    }
    // (e) When n1 returns, its "b" is replaced too.
    net.restart(1);
    net.heartbeat(5, &all);
    assert_eq!(net.node(1).log().get(2).unwrap().command.as_str(), "c");
    assert_eq!(net.applied[&1][&2].as_str(), "c");
}

#[test]
fn a_stale_leader_steps_down_and_loses_its_uncommitted_entries() {
    let all = [1, 2, 3];
    let mut net = Net::new(3);
    net.elect(1, &all);
    net.propose(1, "x");
    net.deliver_within(&all);
    // n1 is cut off; its new entries reach nobody.
    net.propose(1, "lost1");
    net.propose(1, "lost2");
    net.queue.clear();
    net.elect(2, &[2, 3]);
    net.propose(2, "y");
    net.deliver_within(&[2, 3]);
    // n1 rejoins: the next heartbeat makes it a follower and repairs its log.
    net.heartbeat(2, &all);
    net.heartbeat(2, &all);
    assert_eq!(net.node(1).role(), Role::Follower);
    assert_eq!(net.node(1).progress(), None, "a follower keeps no progress");
    assert_eq!(net.node(1).status().leader, Some(2));
    assert_eq!(net.node(1).log(), net.node(2).log());
    assert_eq!(net.node(1).log().get(2).unwrap().command.as_str(), "y");
}

#[test]
fn a_lagging_follower_gets_the_snapshot_and_applies_it_first() {
    let all = [1, 2, 3];
    let mut net = Net::new(3);
    net.elect(1, &all);
    for i in 0..10 {
        net.propose(1, &format!("c{i}"));
        net.deliver_within(&[1, 2]);
    }
    net.heartbeat(1, &[1, 2]);
    assert_eq!(net.node(1).status().last_applied, 10);
    net.node_mut(1)
        .snapshot(8, Arc::from(&b"state@8"[..]))
        .unwrap();
    net.collect(1);
    assert_eq!(net.node(1).log().snapshot_index(), 8);
    assert_eq!(
        net.storage[&1].log.snapshot_index(),
        8,
        "the snapshot is persisted"
    );
    // n3 was cut off all along: its next entry (1) is gone from the leader's log.
    net.heartbeat(1, &all);
    let status = net.node(3).status();
    assert_eq!(
        (
            status.snapshot_index,
            status.last_log_index,
            status.commit_index
        ),
        (8, 10, 10)
    );
    // The state machine got the snapshot, then 9 and 10 in order, nothing before.
    assert_eq!(
        net.applied[&3].keys().copied().collect::<Vec<_>>(),
        vec![9, 10]
    );
    // A restart loads the snapshot again from storage.
    net.crash(3);
    net.restart(3);
    assert_eq!(net.node(3).status().last_applied, 8);
    assert_eq!(net.node(3).status().commit_index, 8);
}

/// Entries from index `first` on with the given terms, their commands named as
/// [`log_with_terms`] names them.
fn entries_from(first: Index, terms: &[Term]) -> Vec<Entry> {
    terms
        .iter()
        .enumerate()
        .map(|(offset, &term)| {
            let index = first + offset as Index;
            Entry::command(index, term, format!("t{term}.{index}").into())
        })
        .collect()
}

/// An AppendEntries with no entries, from the start of the log (a first heartbeat).
fn empty_append(from: NodeId, to: NodeId, term: Term) -> Envelope {
    Envelope {
        from,
        to,
        term,
        message: Message::AppendEntries {
            prev_log_index: 0,
            prev_log_term: 0,
            entries: vec![],
            leader_commit: 0,
        },
    }
}

/// A granted vote.
fn vote_granted(from: NodeId, to: NodeId, term: Term) -> Envelope {
    Envelope {
        from,
        to,
        term,
        message: Message::RequestVoteReply { vote_granted: true },
    }
}

/// n2 of a two-node cluster, restarted in term 3 with log terms `[1, 2, 3, 3]`.
fn follower_in_term_3() -> Node {
    Node::restart(
        2,
        vec![1, 2],
        RaftConfig::default(),
        2,
        PersistentState {
            hard_state: HardState {
                current_term: 3,
                voted_for: None,
            },
            log: log_with_terms(&[1, 2, 3, 3]),
            snapshot: None,
        },
    )
}

/// An AppendEntries from n1, leader of term 3, to [`follower_in_term_3`]'s n2.
fn append_from_leader_of_term_3(
    prev_log_index: Index,
    prev_log_term: Term,
    entries: Vec<Entry>,
    leader_commit: Index,
) -> Envelope {
    Envelope {
        from: 1,
        to: 2,
        term: 3,
        message: Message::AppendEntries {
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit,
        },
    }
}

/// [`follower_in_term_3`] breaking `rule`, its start-up output taken.
fn follower_in_term_3_breaking(rule: Rule) -> Node {
    let mut follower = follower_in_term_3();
    follower.set_config(RaftConfig {
        broken: [rule].into_iter().collect(),
        ..RaftConfig::default()
    });
    let _ = follower.ready();
    follower
}

/// A snapshot of `1..=index` of n1 and n2's cluster, its last entry of `term`.
fn snapshot_through(index: Index, term: Term) -> Snapshot {
    Snapshot {
        last_included_index: index,
        last_included_term: term,
        configuration: Configuration::with_voters([1, 2]).into(),
        data: Arc::from(&b""[..]),
    }
}

/// The outcomes of the AppendEntries replies in `ready`, in order (panics on any
/// other message).
fn append_outcomes(ready: &Ready) -> Vec<AppendOutcome> {
    ready
        .messages
        .iter()
        .map(|envelope| match envelope.message {
            Message::AppendEntriesReply { outcome, .. } => outcome,
            ref other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn install_snapshot_keeps_a_matching_suffix_and_never_moves_backwards() {
    let mut node = follower_in_term_3();
    let snapshot = snapshot_through;
    node.step(Envelope {
        from: 1,
        to: 2,
        term: 3,
        message: Message::InstallSnapshot {
            snapshot: snapshot(3, 3),
        },
    });
    let ready = node.ready();
    assert_eq!(ready.apply_snapshot.map(|s| s.last_included_index), Some(3));
    assert_eq!(
        (node.log().snapshot_index(), node.log().last_index()),
        (3, 4),
        "suffix kept"
    );
    // An older snapshot is acknowledged but changes nothing.
    node.step(Envelope {
        from: 1,
        to: 2,
        term: 3,
        message: Message::InstallSnapshot {
            snapshot: snapshot(2, 2),
        },
    });
    let ready = node.ready();
    assert!(ready.apply_snapshot.is_none());
    assert!(matches!(
        ready.messages[0].message,
        Message::InstallSnapshotReply {
            installed_index: Some(2)
        }
    ));
    assert_eq!(node.status().last_applied, 3);
    // A snapshot whose last entry conflicts discards the whole log.
    node.step(Envelope {
        from: 1,
        to: 2,
        term: 3,
        message: Message::InstallSnapshot {
            snapshot: snapshot(4, 2),
        },
    });
    assert_eq!((node.log().snapshot_index(), node.log().len()), (4, 0));
}

/// AppendEntries receiver below a snapshot: entries the snapshot covers are
/// committed, so they are skipped and the consistency check moves to the snapshot
/// base; what lies beyond it is appended as usual.
#[test]
fn an_append_that_starts_below_the_snapshot_appends_what_lies_beyond_it() {
    let mut node = follower_in_term_3();
    node.step(Envelope {
        from: 1,
        to: 2,
        term: 3,
        message: Message::InstallSnapshot {
            snapshot: snapshot_through(3, 3),
        },
    });
    let _ = node.ready();
    let append = |prev_log_index: Index, terms: &[Term]| Envelope {
        from: 1,
        to: 2,
        term: 3,
        message: Message::AppendEntries {
            prev_log_index,
            prev_log_term: log_with_terms(&[1, 2, 3, 3])
                .term_at(prev_log_index)
                .unwrap(),
            entries: entries_from(prev_log_index + 1, terms),
            leader_commit: 0,
        },
    };
    let replies = |node: &mut Node| append_outcomes(&node.ready());
    // Wholly covered by the snapshot: accepted up to the snapshot base.
    node.step(append(0, &[1, 2]));
    assert_eq!(
        replies(&mut node),
        [AppendOutcome::Accepted { match_index: 3 }]
    );
    // Starting below it and reaching past the log's end: 2 and 3 are skipped, 4
    // matches, 5 and 6 are appended.
    node.step(append(1, &[2, 3, 3, 3, 3]));
    assert_eq!(
        replies(&mut node),
        [AppendOutcome::Accepted { match_index: 6 }]
    );
    assert_eq!(
        (node.log().snapshot_index(), node.log().last_index()),
        (3, 6)
    );
    assert_eq!(terms_of(node.log()), [3, 3, 3]);
}

#[test]
fn stale_messages_get_the_newer_term_back() {
    let mut node = Node::new(1, vec![1, 2], RaftConfig::default(), 1);
    node.timeout_now();
    node.timeout_now();
    let _ = node.ready();
    node.step(empty_append(2, 1, 1));
    let ready = node.ready();
    let reply = &ready.messages[0];
    assert_eq!(reply.term, 2);
    assert!(matches!(
        reply.message,
        Message::AppendEntriesReply {
            outcome: AppendOutcome::StaleTerm,
            ..
        }
    ));
    assert_eq!(
        node.role(),
        Role::Candidate,
        "a stale leader does not make us follow it"
    );
}

#[test]
fn duplicated_and_reordered_appends_never_shorten_the_log() {
    let mut follower = Node::new(2, vec![1, 2], RaftConfig::default(), 2);
    let append = |prev: Index, terms: &[Term]| Envelope {
        from: 1,
        to: 2,
        term: 1,
        message: Message::AppendEntries {
            prev_log_index: prev,
            prev_log_term: if prev == 0 { 0 } else { 1 },
            entries: entries_from(prev + 1, terms),
            leader_commit: 0,
        },
    };
    follower.step(append(0, &[1, 1, 1]));
    follower.step(append(0, &[1])); // a late, shorter copy of an earlier request
    assert_eq!(follower.log().last_index(), 3);
    let ready = follower.ready();
    let outcomes = append_outcomes(&ready);
    assert_eq!(
        outcomes,
        vec![
            AppendOutcome::Accepted { match_index: 3 },
            AppendOutcome::Accepted { match_index: 1 }
        ]
    );
}

#[test]
fn a_candidate_counts_granted_votes_until_a_majority() {
    let mut net = Net::new(5);
    assert_eq!(
        net.node(1).votes_received(),
        None,
        "a follower has no votes"
    );
    net.node_mut(1).timeout_now();
    net.collect(1);
    let votes = |net: &Net| -> Option<Vec<NodeId>> {
        Some(net.node(1).votes_received()?.iter().copied().collect())
    };
    assert_eq!(votes(&net), Some(vec![1]), "a candidate votes for itself");
    assert_eq!(
        net.node(1).progress(),
        None,
        "a candidate keeps no progress"
    );
    assert_eq!(net.node(1).status().leader, None);
    // n2 grants its vote; n3 already voted for itself in term 1 and refuses.
    net.node_mut(3).timeout_now();
    let _ = net.node_mut(3).ready();
    let mut requests = std::mem::take(&mut net.queue);
    requests.retain(|envelope| envelope.from == 1 && [2, 3].contains(&envelope.to));
    for request in requests {
        let to = request.to;
        net.node_mut(to).step(request);
        net.collect(to);
    }
    for reply in std::mem::take(&mut net.queue) {
        net.node_mut(1).step(reply);
    }
    assert_eq!(votes(&net), Some(vec![1, 2]), "a refusal is not counted");
    assert_eq!(net.node(1).role(), Role::Candidate, "2 of 5 is no majority");
    // A third vote wins: the candidate's votes go, a leader's progress comes.
    net.node_mut(1).step(vote_granted(4, 1, 1));
    assert_eq!(net.node(1).role(), Role::Leader);
    assert_eq!(net.node(1).votes_received(), None);
    let progress = net.node(1).progress().expect("a leader has progress");
    assert_eq!(
        progress.keys().copied().collect::<Vec<_>>(),
        vec![2, 3, 4, 5]
    );
    assert!(progress.values().all(|view| *view
        == ProgressView {
            next_index: 1,
            match_index: 0,
            state: ProgressState::Probe { in_flight: false }
        }));
}

/// Takes what `id` sends in its next Ready: (recipient, envelope term, message).
fn sent_by(net: &mut Net, id: NodeId) -> Vec<(NodeId, Term, Message)> {
    net.collect(id);
    std::mem::take(&mut net.queue)
        .into_iter()
        .map(|envelope| (envelope.to, envelope.term, envelope.message))
        .collect()
}

/// §5.1, "servers retry RPCs if they do not receive a response in a timely manner":
/// a candidate asks again, every heartbeat interval, the voters that have not
/// answered, with the same request; a voter that answered, granting or refusing, is
/// not asked again. A pre-candidate does the same with its PreVote.
#[test]
fn a_candidate_asks_again_whoever_has_not_answered() {
    for pre_vote in [false, true] {
        let mut config = RaftConfig::default();
        config.features.pre_vote = pre_vote;
        config.heartbeat_interval = 3;
        let mut net = Net::with_config(5, config);
        net.node_mut(1).timeout_now();
        let first = sent_by(&mut net, 1);
        let recipients = |sent: &[(NodeId, Term, Message)]| -> Vec<NodeId> {
            sent.iter().map(|(to, _, _)| *to).collect()
        };
        assert_eq!(recipients(&first), [2, 3, 4, 5], "pre-vote {pre_vote}");
        // n2 grants, n3 refuses (a pre-vote is granted in the term it asked about,
        // refused in the voter's own term).
        let (granted_term, refused_term) = if pre_vote { (1, 0) } else { (1, 1) };
        let reply = |from: NodeId, term: Term, vote_granted: bool| Envelope {
            from,
            to: 1,
            term,
            message: if pre_vote {
                Message::PreVoteReply { vote_granted }
            } else {
                Message::RequestVoteReply { vote_granted }
            },
        };
        net.node_mut(1).step(reply(2, granted_term, true));
        net.node_mut(1).step(reply(3, refused_term, false));
        assert_eq!(net.node(1).role(), Role::Candidate);
        // The retry is due before the election timer, which views show.
        let election = net.node(1).timer_due_in();
        assert_eq!(net.node(1).timer_length(), election);
        assert!(election >= RaftConfig::default().election_timeout_min);
        for due_in in [3, 2] {
            assert_eq!(net.node(1).ticks_until_due(), due_in);
            net.node_mut(1).tick();
            assert!(sent_by(&mut net, 1).is_empty(), "pre-vote {pre_vote}");
        }
        assert_eq!(net.node(1).ticks_until_due(), 1);
        net.node_mut(1).tick();
        let again = sent_by(&mut net, 1);
        assert_eq!(recipients(&again), [4, 5], "pre-vote {pre_vote}");
        assert_eq!(again[..], first[2..], "the same requests");
        assert_eq!(net.node(1).ticks_until_due(), 3, "the retry timer restarts");
        // Another interval, the same two again: a retry is not an answer.
        for _ in 0..3 {
            net.node_mut(1).tick();
        }
        assert_eq!(recipients(&sent_by(&mut net, 1)), [4, 5]);
    }
}

/// A leader's transfer asks for an election whose every request says so (§3.10),
/// retries included; a repeated request is granted again by the voter that granted
/// it, restarting its timer as any grant does (Figure 2).
#[test]
fn a_retried_request_is_the_same_request_and_is_granted_again() {
    let mut net = Net::new(3);
    net.node_mut(1).start_election(true);
    let first = sent_by(&mut net, 1);
    let interval = RaftConfig::default().heartbeat_interval;
    for _ in 0..interval {
        net.node_mut(1).tick();
    }
    let again = sent_by(&mut net, 1);
    assert_eq!(again, first);
    assert!(again.iter().all(|(_, _, message)| matches!(
        message,
        Message::RequestVote {
            leadership_transfer: true,
            ..
        }
    )));
    let request = |(to, term, message): &(NodeId, Term, Message)| Envelope {
        from: 1,
        to: *to,
        term: *term,
        message: message.clone(),
    };
    net.node_mut(2).step(request(&first[0]));
    assert_eq!(
        sent_by(&mut net, 2)[0].2,
        Message::RequestVoteReply { vote_granted: true }
    );
    for _ in 0..5 {
        net.node_mut(2).tick();
    }
    let before = net.node(2).ticks_until_due();
    net.node_mut(2).step(request(&again[0]));
    assert_eq!(
        sent_by(&mut net, 2)[0].2,
        Message::RequestVoteReply { vote_granted: true }
    );
    assert_eq!(net.node(2).status().voted_for, Some(1));
    assert!(
        net.node(2).ticks_until_due() > before,
        "the grant restarts the timer"
    );
    assert!(net.node(2).ticks_until_due() >= RaftConfig::default().election_timeout_min);
}

/// With `truncate-on-match` broken, a follower given a stale AppendEntries whose
/// entries all match deletes everything after `prev_log_index` (and exactly that),
/// then appends the request's entries: its newer entries are gone.
#[test]
fn a_follower_breaking_truncate_on_match_drops_what_follows_prev_log_index() {
    let mut follower = follower_in_term_3_breaking(Rule::TruncateOnMatch);
    follower.step(append_from_leader_of_term_3(1, 1, entries_from(2, &[2]), 0));
    let ready = follower.ready();
    assert_eq!(terms_of(follower.log()), [1, 2]);
    assert!(ready.events.contains(&Event::Truncated { from: 2 }));
    assert_eq!(ready.log.as_ref().map(|suffix| suffix.first), Some(2));
    assert_eq!(
        append_outcomes(&ready),
        [AppendOutcome::Accepted { match_index: 2 }]
    );
    // A request that ends where the log ends deletes nothing.
    follower.step(append_from_leader_of_term_3(2, 2, vec![], 0));
    let ready = follower.ready();
    assert!(
        !ready
            .events
            .iter()
            .any(|event| matches!(event, Event::Truncated { .. })),
        "{:?}",
        ready.events
    );
}

/// A snapshot that brings the configuration already in force changes nothing to
/// say; one that brings another says so (§4.1).
#[test]
fn an_installed_snapshot_reports_a_configuration_change_only_when_there_is_one() {
    for (configuration, changes) in [
        (Configuration::with_voters([1, 2]), false),
        (Configuration::with_voters([1, 2, 3]), true),
    ] {
        let mut node = follower_in_term_3();
        let snapshot = Snapshot {
            configuration: configuration.into(),
            ..snapshot_through(3, 3)
        };
        node.step(Envelope {
            from: 1,
            to: 2,
            term: 3,
            message: Message::InstallSnapshot { snapshot },
        });
        let events = node.ready().events;
        let changed = events
            .iter()
            .any(|event| matches!(event, Event::ConfigurationChanged { .. }));
        assert_eq!(changed, changes, "{events:?}");
    }
}

/// With `forget-log` broken, a follower acknowledges entries it has not persisted
/// (its Ready carries no log); a leader still persists its own.
#[test]
fn forget_log_holds_back_a_followers_log_only() {
    let mut follower = follower_in_term_3_breaking(Rule::ForgetLog);
    follower.step(append_from_leader_of_term_3(4, 3, entries_from(5, &[3]), 0));
    let ready = follower.ready();
    assert!(ready.log.is_none(), "not persisted");
    assert_eq!(
        append_outcomes(&ready),
        [AppendOutcome::Accepted { match_index: 5 }]
    );
    let mut leader = node_with_one_entry(1);
    leader.set_config(RaftConfig {
        broken: [Rule::ForgetLog].into_iter().collect(),
        ..RaftConfig::default()
    });
    leader.timeout_now();
    leader.step(vote_granted(2, 1, 2));
    assert_eq!(leader.role(), Role::Leader);
    let _ = leader.ready();
    leader.propose("x".into()).expect("a leader takes commands");
    assert_eq!(leader.ready().log.map(|suffix| suffix.first), Some(2));
}

/// A follower says its commit index moved only when it did: the same heartbeat
/// twice commits once.
#[test]
fn a_follower_reports_a_commit_only_when_its_commit_index_moves() {
    let mut follower = follower_in_term_3();
    let _ = follower.ready();
    let heartbeat = append_from_leader_of_term_3(4, 3, vec![], 2);
    let commits = |ready: Ready| {
        ready
            .events
            .iter()
            .filter(|event| matches!(event, Event::Committed { .. }))
            .count()
    };
    follower.step(heartbeat.clone());
    assert_eq!(commits(follower.ready()), 1);
    follower.step(heartbeat);
    assert_eq!(commits(follower.ready()), 0);
}

/// A message's payload-free view for traces names the same type as the message.
#[test]
fn message_infos_name_their_messages_type() {
    let snapshot = snapshot_through(1, 1);
    let messages = [
        Message::RequestVote {
            last_log_index: 1,
            last_log_term: 1,
            leadership_transfer: false,
        },
        Message::RequestVote {
            last_log_index: 1,
            last_log_term: 1,
            leadership_transfer: true,
        },
        Message::RequestVoteReply { vote_granted: true },
        Message::AppendEntries {
            prev_log_index: 0,
            prev_log_term: 0,
            entries: vec![],
            leader_commit: 0,
        },
        Message::AppendEntriesReply {
            prev_log_index: 0,
            outcome: AppendOutcome::Accepted { match_index: 0 },
        },
        Message::InstallSnapshot { snapshot },
        Message::InstallSnapshotReply {
            installed_index: Some(1),
        },
        Message::PreVote {
            last_log_index: 1,
            last_log_term: 1,
        },
        Message::PreVoteReply { vote_granted: true },
        Message::TimeoutNow,
    ];
    let kinds: Vec<&str> = messages
        .iter()
        .map(|message| message.info().kind())
        .collect();
    assert_eq!(
        kinds,
        messages.iter().map(Message::kind).collect::<Vec<_>>()
    );
    assert_eq!(
        kinds[1], "RequestVote",
        "a transfer's vote request is one too"
    );
}

/// A leader's view of each follower moves through Probe, Replicate and Snapshot as
/// its messages are answered or lost.
#[test]
fn the_leaders_progress_shows_each_followers_state() {
    let all = [1, 2, 3];
    let mut net = Net::new(3);
    // n3 is cut off from the start: its first probe is lost.
    net.elect(1, &[1, 2]);
    let view = |net: &Net, follower: NodeId| net.node(1).progress().expect("leads")[&follower];
    assert_eq!(view(&net, 2).state, ProgressState::Replicate);
    assert_eq!(
        view(&net, 3),
        ProgressView {
            next_index: 1,
            match_index: 0,
            state: ProgressState::Probe { in_flight: true }
        }
    );
    for i in 0..10 {
        net.propose(1, &format!("c{i}"));
        net.deliver_within(&[1, 2]);
    }
    net.heartbeat(1, &[1, 2]);
    assert_eq!(
        view(&net, 2),
        ProgressView {
            next_index: 11,
            match_index: 10,
            state: ProgressState::Replicate
        }
    );
    // The leader compacts past what n3 needs: n3's next message is the snapshot.
    net.node_mut(1)
        .snapshot(8, Arc::from(&b"state@8"[..]))
        .unwrap();
    net.collect(1);
    net.heartbeat(1, &[1, 2]);
    assert_eq!(
        view(&net, 3),
        ProgressView {
            next_index: 1,
            match_index: 0,
            state: ProgressState::Snapshot { index: 8 }
        }
    );
    // n3 comes back: it installs the snapshot, then gets 9 and 10 by streaming.
    net.heartbeat(1, &all);
    assert_eq!(
        view(&net, 3),
        ProgressView {
            next_index: 11,
            match_index: 10,
            state: ProgressState::Replicate
        }
    );
    assert_eq!(net.node(3).status().commit_index, 10);
}

/// Planted bad input: a second leader of the same term. The core cannot produce it
/// (one vote per term), so it is a broken invariant, not a message to answer.
#[test]
#[should_panic(expected = "a leader never receives a leader's request in its own term")]
fn a_leader_hearing_from_another_leader_of_its_term_panics() {
    let mut node = Node::new(1, vec![1], RaftConfig::default(), 1);
    assert!(node.timeout_now());
    assert_eq!(node.role(), Role::Leader);
    node.step(empty_append(2, 1, 1));
}

/// Planted bad input: a leader that lacks a committed entry (which Leader
/// Completeness rules out) sends a conflicting one in its place.
#[test]
#[should_panic(expected = "committed entries are never overwritten (Leader Completeness")]
fn overwriting_a_committed_entry_panics() {
    let mut follower = Node::new(2, vec![1, 2, 3], RaftConfig::default(), 2);
    let append =
        |from, term, prev_log_index, entries: Vec<(Index, Term)>, leader_commit| Envelope {
            from,
            to: 2,
            term,
            message: Message::AppendEntries {
                prev_log_index,
                prev_log_term: if prev_log_index == 0 { 0 } else { 1 },
                entries: entries
                    .into_iter()
                    .map(|(index, term)| Entry {
                        index,
                        term,
                        command: "c".into(),
                        kind: Default::default(),
                    })
                    .collect(),
                leader_commit,
            },
        };
    follower.step(append(1, 1, 0, vec![(1, 1), (2, 1)], 2));
    assert_eq!(follower.status().commit_index, 2);
    follower.step(append(3, 2, 1, vec![(2, 2)], 2));
}

/// A node of a 3-node cluster whose log holds one entry of term 1, so it refuses its
/// vote to a candidate with an empty log (§5.4.1).
fn node_with_one_entry(id: NodeId) -> Node {
    let state = PersistentState {
        hard_state: HardState {
            current_term: 1,
            voted_for: None,
        },
        log: log_with_terms(&[1]),
        snapshot: None,
    };
    Node::restart(id, vec![1, 2, 3], RaftConfig::default(), 5, state)
}

/// A RequestVote from `from` in `term`, by a candidate whose log is empty.
fn stale_vote_request(from: NodeId, to: NodeId, term: Term) -> Envelope {
    Envelope {
        from,
        to,
        term,
        message: Message::RequestVote {
            last_log_index: 0,
            last_log_term: 0,
            leadership_transfer: false,
        },
    }
}

/// Ticks `node` until its election timer is due in `ticks` ticks, within 1,000
/// ticks (a core whose timers do not advance fails here, not hangs).
fn tick_until_election_due_in(node: &mut Node, ticks: u64) {
    let election_due_in = |node: &Node| node.election_timeout - node.election_elapsed;
    let mut budget = 1_000;
    while election_due_in(node) > ticks {
        assert!(
            budget > 0,
            "the election timer never came within {ticks} ticks of due"
        );
        budget -= 1;
        node.tick();
    }
    assert_eq!(election_due_in(node), ticks);
}

/// The liveness flake of the lab's Figure 8 (unreliable) test: with long reply
/// delays the node with the most up-to-date log was often the only one that could
/// win, and every time a node whose log was behind timed out and raised the term,
/// the up-to-date candidate (or the leader it had just become) stepped down *and
/// restarted its election timer*, so it kept waiting a whole new timeout while the
/// stale nodes, whose timers restart when they vote for each other, kept raising the
/// term. Figure 2 restarts the timer only on granting a vote, on hearing from the
/// current leader and on starting an election; stepping down is none of these.
#[test]
fn stepping_down_to_a_newer_term_keeps_the_election_timer() {
    // A candidate two ticks from its next election refuses a stale candidate of a
    // newer term: it becomes a follower of that term and still fires in two ticks.
    let mut candidate = node_with_one_entry(1);
    candidate.timeout_now();
    assert_eq!((candidate.role(), candidate.term()), (Role::Candidate, 2));
    let _ = candidate.ready();
    tick_until_election_due_in(&mut candidate, 2);
    candidate.step(stale_vote_request(3, 1, 3));
    let ready = candidate.ready();
    assert!(matches!(
        ready.events.as_slice(),
        [Event::SteppedDown { term: 3, .. }, Event::VoteDenied { .. }]
    ));
    assert_eq!((candidate.role(), candidate.term()), (Role::Follower, 3));
    assert_eq!(
        candidate.ticks_until_due(),
        2,
        "the refused stale candidate must not restart our election timer"
    );
    candidate.tick();
    candidate.tick();
    assert_eq!((candidate.role(), candidate.term()), (Role::Candidate, 4));

    // A leader deposed the same way resumes the timer where it stood when it won
    // (the timer does not run while a node leads), instead of starting afresh.
    let mut leader = node_with_one_entry(1);
    leader.timeout_now();
    tick_until_election_due_in(&mut leader, 3);
    leader.step(vote_granted(2, 1, 2));
    assert_eq!(leader.role(), Role::Leader);
    for _ in 0..10 {
        leader.tick();
    }
    leader.step(stale_vote_request(3, 1, 3));
    assert_eq!((leader.role(), leader.term()), (Role::Follower, 3));
    assert_eq!(leader.ticks_until_due(), 3);

    // Granting a vote still restarts the timer (Figure 2), whatever the role was.
    let mut voter = node_with_one_entry(1);
    voter.timeout_now();
    tick_until_election_due_in(&mut voter, 1);
    voter.step(Envelope {
        from: 2,
        to: 1,
        term: 3,
        message: Message::RequestVote {
            last_log_index: 1,
            last_log_term: 1,
            leadership_transfer: false,
        },
    });
    assert_eq!(voter.status().voted_for, Some(2));
    let config = RaftConfig::default();
    assert!(voter.ticks_until_due() >= config.election_timeout_min);
}

/// `set heartbeat` shorter than the time a leader's heartbeat timer has run: the
/// timer fires at the next tick, and the leader says so when asked when it is due.
#[test]
fn a_shorter_heartbeat_interval_fires_at_the_next_tick() {
    let mut leader = node_with_one_entry(1);
    leader.set_config(RaftConfig {
        heartbeat_interval: 6,
        ..RaftConfig::default()
    });
    leader.timeout_now();
    leader.step(vote_granted(2, 1, 2));
    assert_eq!(leader.role(), Role::Leader);
    let _ = leader.ready();
    for _ in 0..4 {
        leader.tick();
    }
    assert_eq!(leader.ticks_until_due(), 2);
    assert!(leader.ready().messages.is_empty(), "no heartbeat yet");
    leader.set_config(RaftConfig {
        heartbeat_interval: 2,
        ..RaftConfig::default()
    });
    assert_eq!(leader.ticks_until_due(), 1);
    leader.tick();
    assert!(
        !leader.ready().messages.is_empty(),
        "the heartbeat went out at the next tick"
    );
    assert_eq!(leader.ticks_until_due(), 2, "and the timer started over");
    // `tick N heartbeat` fires it by hand, at once; only a leader has one.
    assert!(leader.heartbeat_now());
    assert!(!leader.ready().messages.is_empty());
    assert!(!node_with_one_entry(2).heartbeat_now());
}

/// A leader records each change of its view of a follower (`ProgressUpdated`) and
/// each advance of its commit index (`Committed`), and only changes: heartbeats that
/// teach it nothing stay quiet.
#[test]
fn progress_changes_are_recorded_and_steady_heartbeats_stay_quiet() {
    let all = [1, 2, 3];
    let mut net = Net::new(3);
    net.elect(1, &all);
    net.heartbeat(1, &all);
    // The followers whose progress changed, and the indexes committed.
    let changes = |net: &mut Net| {
        let events = net.events.remove(&1).unwrap_or_default();
        let mut followers = Vec::new();
        let mut committed = Vec::new();
        for event in events {
            match event {
                Event::ProgressUpdated { follower, .. } => followers.push(follower),
                Event::Committed { index } => committed.push(index),
                _ => {}
            }
        }
        followers.sort();
        (followers, committed)
    };
    let _ = changes(&mut net);
    net.heartbeat(1, &all);
    assert_eq!(changes(&mut net), (vec![], vec![]), "nothing new to learn");
    net.propose(1, "x");
    net.deliver_within(&all);
    assert_eq!(
        changes(&mut net),
        (vec![2, 3], vec![1]),
        "both acknowledged the entry, committed once"
    );
    net.heartbeat(1, &all);
    assert_eq!(changes(&mut net), (vec![], vec![]), "and no more");
}

/// What the byte counters count: 8 bytes a word (from, to, term and tag head every
/// message), plus each command's bytes, and for the entries that are not commands a
/// tag (no-op) or a tag, two counts and a word per server (configuration). The persisted
/// state's size counts entries the same way.
#[test]
fn encoded_lengths_count_words_and_bytes() {
    let envelope = |message| Envelope {
        from: 1,
        to: 2,
        term: 3,
        message,
    };
    let entries = vec![
        Entry::command(1, 1, "abcde".into()),
        Entry::internal(2, 1, EntryKind::NoOp),
        Entry::internal(
            3,
            1,
            EntryKind::Configuration(Configuration::with_voters([1, 2, 3]).into()),
        ),
    ];
    // 3 words + 5 bytes; 3 words + a tag; 3 words + tag, two counts, 3 voters.
    let entry_bytes = (3 * 8 + 5) + (3 * 8 + 8) + (3 * 8 + 6 * 8);
    // Learners count a word each, like voters.
    let mut with_learners = Configuration::with_voters([1, 2, 3]);
    with_learners.learners.extend([4, 5]);
    assert_eq!(
        EntryKind::Configuration(with_learners.into()).extra_encoded_len(),
        8 * 8
    );
    let snapshot = Snapshot {
        last_included_index: 3,
        last_included_term: 1,
        configuration: Configuration::with_voters([1, 2, 3]).into(),
        data: Arc::from(&b"0123456789"[..]),
    };
    let table: Vec<(Message, u64)> = vec![
        (
            Message::RequestVote {
                last_log_index: 1,
                last_log_term: 1,
                leadership_transfer: false,
            },
            32 + 16,
        ),
        (Message::RequestVoteReply { vote_granted: true }, 32 + 8),
        (
            Message::AppendEntries {
                prev_log_index: 0,
                prev_log_term: 0,
                entries: entries.clone(),
                leader_commit: 0,
            },
            32 + 32 + entry_bytes,
        ),
        (
            Message::AppendEntries {
                prev_log_index: 0,
                prev_log_term: 0,
                entries: vec![],
                leader_commit: 0,
            },
            32 + 32,
        ),
        (
            Message::AppendEntriesReply {
                prev_log_index: 0,
                outcome: AppendOutcome::Accepted { match_index: 3 },
            },
            32 + 40,
        ),
        (Message::InstallSnapshot { snapshot }, 32 + 24 + 10),
        (
            Message::InstallSnapshotReply {
                installed_index: Some(3),
            },
            32 + 16,
        ),
        (
            Message::PreVote {
                last_log_index: 1,
                last_log_term: 1,
            },
            32 + 16,
        ),
        (
            Message::PreVoteReply {
                vote_granted: false,
            },
            32 + 8,
        ),
        (Message::TimeoutNow, 32),
    ];
    for (message, bytes) in table {
        let name = message.kind();
        assert_eq!(envelope(message).encoded_len(), bytes, "{name}");
    }
    let mut log = Log::new();
    for entry in entries {
        log.push(entry);
    }
    let state = PersistentState {
        hard_state: HardState::default(),
        log,
        snapshot: None,
    };
    assert_eq!(state.raft_state_size(), 5 * 8 + entry_bytes);
}

/// RequestVote rule 2 across a step-down: a candidate that hears from the leader of
/// its own term becomes its follower but keeps its vote (for itself), so it refuses
/// any other candidate of that term.
#[test]
fn a_candidate_that_concedes_keeps_its_vote_for_the_term() {
    let mut node = Node::new(1, vec![1, 2, 3], RaftConfig::default(), 1);
    node.timeout_now();
    assert_eq!((node.role(), node.term()), (Role::Candidate, 1));
    let _ = node.ready();
    node.step(empty_append(2, 1, 1));
    assert_eq!((node.role(), node.term()), (Role::Follower, 1));
    assert_eq!(node.status().voted_for, Some(1), "the vote of term 1 stays");
    let _ = node.ready();
    node.step(Envelope {
        from: 3,
        to: 1,
        term: 1,
        message: Message::RequestVote {
            last_log_index: 0,
            last_log_term: 0,
            leadership_transfer: false,
        },
    });
    let ready = node.ready();
    assert!(matches!(
        ready.messages.as_slice(),
        [Envelope {
            message: Message::RequestVoteReply {
                vote_granted: false
            },
            ..
        }]
    ));
}

/// `timer_length` is the whole length of the timer that runs now: the randomized
/// election timeout for a follower, which `ticks_until_due` counts down; the
/// heartbeat interval for a leader.
#[test]
fn the_timer_length_is_the_running_timers_whole_length() {
    let config = RaftConfig::default();
    let mut node = node_with_one_entry(1);
    let length = node.timer_length();
    assert!((config.election_timeout_min..config.election_timeout_max).contains(&length));
    assert_eq!(node.ticks_until_due(), length);
    node.tick();
    assert_eq!(
        (node.timer_length(), node.ticks_until_due()),
        (length, length - 1)
    );
    node.timeout_now();
    node.step(vote_granted(2, 1, 2));
    assert_eq!(node.role(), Role::Leader);
    assert_eq!(node.timer_length(), config.heartbeat_interval);
}

/// The timing a node accepts: election timeouts above the heartbeat interval, as a
/// range (`check_config`); anything else is refused loudly.
#[test]
#[should_panic(expected = "election timeouts must exceed the heartbeat interval")]
fn an_election_timeout_no_longer_than_the_heartbeat_is_refused() {
    let mut node = node_with_one_entry(1);
    node.set_config(RaftConfig {
        heartbeat_interval: 5,
        election_timeout_min: 5,
        election_timeout_max: 10,
        ..RaftConfig::default()
    });
}

/// With a rule broken, two leaders of one term can send a follower entries whose
/// terms would make its log's terms decrease: it keeps what it has and acknowledges
/// only the entries before the first such one.
#[test]
fn a_follower_refuses_entries_whose_terms_would_decrease() {
    let broken: BrokenRules = [Rule::SmallQuorum].into_iter().collect();
    let mut follower = Node::restart(
        2,
        vec![1, 2, 3],
        RaftConfig {
            broken,
            ..RaftConfig::default()
        },
        2,
        PersistentState {
            hard_state: HardState {
                current_term: 2,
                voted_for: None,
            },
            log: log_with_terms(&[1, 2]),
            snapshot: None,
        },
    );
    follower.step(Envelope {
        from: 1,
        to: 2,
        term: 2,
        message: Message::AppendEntries {
            prev_log_index: 1,
            prev_log_term: 1,
            entries: vec![
                Entry::command(2, 2, "t2.2".into()),
                Entry::command(3, 1, "from another leader".into()),
            ],
            leader_commit: 0,
        },
    });
    let ready = follower.ready();
    assert!(matches!(
        ready.messages.as_slice(),
        [Envelope {
            message: Message::AppendEntriesReply {
                outcome: AppendOutcome::Accepted { match_index: 2 },
                ..
            },
            ..
        }]
    ));
    assert_eq!(terms_of(follower.log()), [1, 2]);
}
