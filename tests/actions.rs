//! The one vocabulary of actions: every action prints as the script line that parses
//! back to it (a property over arbitrary actions), `Cluster::apply` has one error
//! policy (an unknown node is `NoSuchNode` for every action, and an error changes
//! nothing), and each action's `Outcome` says what happened.

use proptest::prelude::*;
use raft_playground::cli::parse_action;
use raft_playground::cluster::DropReason;
use raft_playground::cluster::{MAX_LATENCY, MAX_TICKS, check_command_text};
use raft_playground::raft::Feature;
use raft_playground::{Action, Cluster, ClusterError, Config, Outcome, Role, Setting};

/// Node ids as a script can name them (up to six digits).
fn node() -> impl Strategy<Value = usize> {
    prop_oneof![1usize..=15, 1usize..=999_999]
}

/// Rates, with the awkward ones: the ends, the smallest numbers, and -0.
fn rate() -> impl Strategy<Value = f64> {
    prop_oneof![
        0.0..=1.0f64,
        Just(0.0),
        Just(-0.0),
        Just(1.0),
        Just(0.1),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
        Just(1.0 - f64::EPSILON / 2.0),
    ]
}

/// Command texts a script line can carry: one line, no leading or trailing spaces;
/// inside, anything but control characters (tabs allowed), `#` and `--json` too.
fn command_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "set k[0-9] [a-z0-9.]{1,8}",
        "[a-z]{1,5}( (--json|#|@[0-9]|\t|[a-z]{1,3})){0,4}",
        "[^\\s\\p{Cc}](([^\\p{Cc}]|\t){0,30}[^\\s\\p{Cc}])?",
    ]
    .prop_filter("fits on a script line", |text| {
        check_command_text(text).is_ok()
    })
}

/// Partitions: one or more non-empty groups of distinct nodes, in any order.
fn groups() -> impl Strategy<Value = Vec<Vec<usize>>> {
    proptest::collection::btree_set(node(), 1..9)
        .prop_map(|ids| ids.into_iter().collect::<Vec<_>>())
        .prop_shuffle()
        .prop_flat_map(|ids| {
            let cuts = proptest::collection::vec(any::<bool>(), ids.len() - 1);
            (Just(ids), cuts)
        })
        .prop_map(|(ids, cuts)| {
            let mut groups = vec![vec![ids[0]]];
            for (&id, &cut) in ids[1..].iter().zip(&cuts) {
                if cut {
                    groups.push(Vec::new());
                }
                groups.last_mut().expect("a group").push(id);
            }
            groups
        })
}

fn setting() -> impl Strategy<Value = Setting> {
    prop_oneof![
        (1..=usize::MAX).prop_map(Setting::BatchEntries),
        (1usize..=64).prop_map(Setting::BatchEntries),
        (1..=usize::MAX).prop_map(Setting::BatchBytes),
        (0..Feature::ALL.len(), any::<bool>())
            .prop_map(|(feature, on)| Setting::Feature(Feature::ALL[feature], on)),
    ]
}

/// Every kind of action, with values a cluster accepts.
fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (1..=MAX_TICKS).prop_map(Action::Tick),
        (node(), command_text()).prop_map(|(node, command)| Action::Submit { node, command }),
        node().prop_map(Action::Crash),
        node().prop_map(Action::Restart),
        node().prop_map(Action::Disconnect),
        node().prop_map(Action::Connect),
        groups().prop_map(Action::Partition),
        Just(Action::Heal),
        rate().prop_map(Action::DropRate),
        (1..=MAX_LATENCY)
            .prop_flat_map(|min| (Just(min), min..=MAX_LATENCY))
            .prop_map(|(min, max)| Action::Latency { min, max }),
        (1..=3u64).prop_map(|min| Action::Latency { min, max: min }),
        rate().prop_map(Action::DuplicateRate),
        any::<bool>().prop_map(Action::Unreliable),
        any::<bool>().prop_map(Action::LongReordering),
        node().prop_map(Action::Snapshot),
        proptest::option::of(1..=u64::MAX).prop_map(Action::AutoSnapshot),
        node().prop_map(Action::Timeout),
        node().prop_map(Action::Heartbeat),
        node().prop_map(Action::Flush),
        (node(), any::<u64>()).prop_map(|(node, index)| Action::SnapshotAt { node, index }),
        (node(), node()).prop_map(|(leader, target)| Action::Transfer { leader, target }),
        node().prop_map(|leader| Action::AddNode { leader }),
        (node(), node()).prop_map(|(leader, node)| Action::RemoveNode { leader, node }),
        any::<u64>().prop_map(Action::Deliver),
        any::<u64>().prop_map(Action::DropMessage),
        setting().prop_map(Action::Set),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_action_reads_back_from_the_line_it_prints(action in action()) {
        let line = action.to_string();
        prop_assert_eq!(parse_action(&line), Ok(action), "line: {:?}", line);
    }
}

/// The round trip is promised for actions a cluster accepts; those it refuses as
/// malformed are exactly the ones whose line would not read back.
#[test]
fn actions_that_have_no_line_are_refused() {
    let cluster = Cluster::new(Config::new(3).seed(1));
    let malformed = [
        Action::Tick(0),
        Action::Tick(MAX_TICKS + 1),
        Action::Submit {
            node: 1,
            command: " padded".into(),
        },
        Action::Submit {
            node: 1,
            command: "two\nlines".into(),
        },
        Action::Partition(vec![]),
        Action::Partition(vec![vec![1], vec![]]),
        Action::Partition(vec![vec![1, 2], vec![2, 3]]),
        Action::DropRate(1.5),
        Action::DuplicateRate(f64::NAN),
        Action::Latency { min: 0, max: 1 },
        Action::Latency { min: 3, max: 2 },
        Action::AutoSnapshot(Some(0)),
        Action::Set(Setting::BatchEntries(0)),
        Action::Set(Setting::BatchBytes(0)),
    ];
    for action in malformed {
        assert!(cluster.check(&action).is_err(), "{action:?} was accepted");
        assert!(
            parse_action(&action.to_string()) != Ok(action.clone()),
            "{action:?} reads back, so it should be accepted"
        );
    }
}

/// Every action that names a node refuses an unknown one with `NoSuchNode`, and
/// nothing changes.
#[test]
fn an_unknown_node_is_an_error_for_every_action() {
    let mut cluster = Cluster::new(Config::new(3).seed(2));
    cluster.tick(30);
    let digest = cluster.history_digest();
    let no_such_node = Err(ClusterError::NoSuchNode { node: 9, nodes: 3 });
    for action in [
        Action::Submit {
            node: 9,
            command: "set x 1".into(),
        },
        Action::Crash(9),
        Action::Restart(9),
        Action::Disconnect(9),
        Action::Connect(9),
        Action::Partition(vec![vec![1, 9]]),
        Action::Snapshot(9),
        Action::SnapshotAt { node: 9, index: 1 },
        Action::Timeout(9),
        Action::Heartbeat(9),
        Action::Flush(9),
    ] {
        assert_eq!(cluster.apply(&action), no_such_node, "{action}");
    }
    assert_eq!(
        cluster.crash(9),
        Err(ClusterError::NoSuchNode { node: 9, nodes: 3 })
    );
    assert_eq!(
        cluster.restart(0),
        Err(ClusterError::NoSuchNode { node: 0, nodes: 3 })
    );
    assert_eq!(
        cluster.disconnect(4),
        Err(ClusterError::NoSuchNode { node: 4, nodes: 3 })
    );
    assert_eq!(
        cluster.connect(4),
        Err(ClusterError::NoSuchNode { node: 4, nodes: 3 })
    );
    assert_eq!(
        cluster.snapshot(4),
        Err(ClusterError::NoSuchNode { node: 4, nodes: 3 })
    );
    assert!(cluster.submit(9, "set x 1").is_err());
    assert!(cluster.try_status(9).is_err());
    assert!(cluster.raft_state_size(9).is_err() && cluster.persisted_log(9).is_err());
    assert_eq!(
        cluster.history_digest(),
        digest,
        "an error changed the cluster"
    );
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cluster.status(9)))
        .expect_err("status(9) panics");
    let message = panic.downcast_ref::<String>().expect("a formatted message");
    assert_eq!(message, "no node 9: this cluster has nodes 1 to 3");
}

fn leader_of(cluster: &mut Cluster) -> usize {
    assert!(cluster.tick_until(200, |cluster| cluster.leader().is_some()));
    cluster.leader().expect("a leader")
}

/// A refused timeout or snapshot never reaches the node: a leader holding a fresh
/// entry for its next round keeps holding it (handling any request would send it).
#[test]
fn a_refused_action_changes_nothing_even_for_a_busy_leader() {
    let mut cluster = Cluster::new(Config::new(3).seed(4));
    let leader = leader_of(&mut cluster);
    cluster.submit(leader, "set x 1").unwrap();
    let in_flight = cluster.in_flight();
    let digest = cluster.history_digest();
    assert_eq!(
        cluster.apply(&Action::Timeout(leader)),
        Err(ClusterError::IsLeader(leader))
    );
    assert_eq!(
        cluster.apply(&Action::Snapshot(leader)),
        Err(ClusterError::NothingToSnapshot {
            node: leader,
            snapshot_index: 0
        })
    );
    let follower = (1..=3).find(|&id| id != leader).unwrap();
    assert!(matches!(
        cluster.apply(&Action::Submit {
            node: follower,
            command: "set y 2".into()
        }),
        Err(ClusterError::NotLeader { node, .. }) if node == follower
    ));
    assert_eq!(cluster.in_flight(), in_flight, "the entry was sent early");
    assert_eq!(cluster.history_digest(), digest);
    // The next tick sends it, and a successful snapshot afterwards is allowed.
    cluster.tick(5);
    assert_eq!(cluster.applied_count(1).0, 3);
    assert_eq!(
        cluster.apply(&Action::Snapshot(leader)),
        Ok(Outcome::Snapshotted {
            node: leader,
            index: 1
        })
    );
}

#[test]
fn outcomes_say_what_happened() {
    let mut cluster = Cluster::new(Config::new(3).seed(6));
    let leader = leader_of(&mut cluster);
    let now = cluster.now();
    assert_eq!(
        cluster.apply(&Action::Tick(3)),
        Ok(Outcome::Ticked {
            from: now,
            to: now + 3
        })
    );
    let term = cluster.status(leader).term;
    assert_eq!(
        cluster.apply(&Action::Submit {
            node: leader,
            command: "set a 1".into()
        }),
        Ok(Outcome::Submitted {
            node: leader,
            index: 1,
            term
        })
    );
    let follower = (1..=3).find(|&id| id != leader).unwrap();
    assert_eq!(
        cluster.apply(&Action::Crash(follower)),
        Ok(Outcome::Crashed(follower))
    );
    assert_eq!(
        cluster.apply(&Action::Crash(follower)),
        Ok(Outcome::AlreadyDown(follower))
    );
    match cluster.apply(&Action::Restart(follower)) {
        Ok(Outcome::Restarted(status)) => {
            assert!(status.up && status.id == follower && status.term == term);
        }
        other => panic!("{other:?}"),
    }
    match cluster.apply(&Action::Timeout(follower)) {
        Ok(Outcome::TimedOut(status)) => {
            assert_eq!((status.role, status.term), (Role::Candidate, term + 1));
        }
        other => panic!("{other:?}"),
    }
    // Its RequestVote to the leader: delivered now, and the leader answers at once.
    let request = cluster
        .in_flight()
        .into_iter()
        .find(|message| message.envelope.from == follower && message.envelope.to == leader)
        .expect("a RequestVote to the leader");
    match cluster.apply(&Action::Deliver(request.id)) {
        Ok(Outcome::Delivered {
            message,
            fate,
            sent,
        }) => {
            assert_eq!(message, request);
            assert_eq!(fate, raft_playground::cluster::Fate::Delivered);
            assert!(
                sent.iter()
                    .any(|reply| reply.envelope.from == leader && reply.envelope.to == follower),
                "{sent:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    // A message over a cut link is dropped, and `deliver` says so.
    let message = cluster
        .in_flight()
        .into_iter()
        .next()
        .expect("a reply in flight");
    cluster.disconnect(message.envelope.to).unwrap();
    match cluster.apply(&Action::Deliver(message.id)) {
        Ok(Outcome::Delivered { fate, sent, .. }) => {
            assert_eq!(
                fate,
                raft_playground::cluster::Fate::Dropped(DropReason::Cut)
            );
            assert!(sent.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        cluster.apply(&Action::Deliver(message.id)),
        Err(ClusterError::NoSuchMessage(message.id))
    );
    assert!(
        cluster.violations().is_empty(),
        "{:?}",
        cluster.violations()
    );
}

/// `set batch-entries N` reaches every node's core from the next step, and a node
/// started later gets it too.
#[test]
fn settings_apply_to_every_node_at_runtime() {
    let mut cluster = Cluster::new(Config::new(3).seed(9));
    leader_of(&mut cluster);
    assert_eq!(
        cluster.apply(&Action::Set(Setting::BatchEntries(2))),
        Ok(Outcome::Done)
    );
    assert_eq!(cluster.raft_config().max_entries_per_append, 2);
    // Catching up takes requests of at most two entries each; and so it does after
    // every node restarted, its core built anew from the cluster's configuration.
    for round in 0..2 {
        if round == 1 {
            for node in 1..=3 {
                cluster.restart(node).unwrap();
            }
        }
        let leader = leader_of(&mut cluster);
        let follower = (1..=3).find(|&id| id != leader).unwrap();
        cluster.disconnect(follower).unwrap();
        let mut last = 0;
        for i in 0..7 {
            last = cluster.submit(leader, &format!("set k{i} {i}")).unwrap().0;
        }
        cluster.tick(10);
        cluster.connect(follower).unwrap();
        let mut largest = 0;
        assert!(cluster.tick_until(200, |cluster| {
            for message in cluster.in_flight() {
                if let raft_playground::raft::Message::AppendEntries { entries, .. } =
                    &message.envelope.message
                {
                    largest = largest.max(entries.len());
                }
            }
            cluster.status(follower).last_applied >= last
        }));
        assert_eq!(
            largest, 2,
            "round {round}: AppendEntries carry at most 2 entries"
        );
    }
    assert_eq!(cluster.raft_config().max_entries_per_append, 2);
    assert!(
        cluster.violations().is_empty(),
        "{:?}",
        cluster.violations()
    );
}
