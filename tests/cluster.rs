//! Integration tests of the cluster runtime through its public surface: elections,
//! crashes, partitions, snapshots and the checker, beyond the lab's scenarios.

use raft_playground::raft::{Message, Proposal};
use raft_playground::{Action, Cluster, ClusterError, Config, Outcome, Role};

fn leader(cluster: &Cluster) -> Option<usize> {
    (1..=cluster.size()).find(|&id| {
        let status = cluster.status(id);
        status.up && status.connected && status.role == Role::Leader
    })
}

fn wait_leader(cluster: &mut Cluster) -> usize {
    assert!(
        cluster.tick_until(200, |c| leader(c).is_some()),
        "no leader within 200 ticks"
    );
    leader(cluster).unwrap()
}

#[test]
fn leader_crash_and_reelection() {
    let mut cluster = Cluster::new(Config::new(5).seed(11));
    let first = wait_leader(&mut cluster);
    let (index, _) = cluster.submit(first, "set a 1").unwrap();
    cluster.tick(10);
    assert_eq!(cluster.applied_count(index).0, 5);
    cluster.crash(first).unwrap();
    assert!(!cluster.status(first).up);
    let second = wait_leader(&mut cluster);
    assert_ne!(first, second);
    assert!(cluster.status(second).term > cluster.status(first).term);
    let (index, _) = cluster.submit(second, "set b 2").unwrap();
    cluster.tick(10);
    assert_eq!(cluster.applied_count(index).0, 4);
    cluster.restart(first).unwrap();
    cluster.tick(20);
    assert_eq!(cluster.applied_count(index).0, 5);
    assert_eq!(cluster.inspect(first).unwrap().kv.get("b"), Some("2"));
    assert!(
        cluster.violations().is_empty(),
        "{:?}",
        cluster.violations()
    );
}

#[test]
fn minority_leader_cannot_commit_and_is_repaired() {
    let mut cluster = Cluster::new(Config::new(5).seed(3));
    let old = wait_leader(&mut cluster);
    let others: Vec<usize> = (1..=5).filter(|&id| id != old).collect();
    let buddy = others[0];
    cluster
        .apply(&Action::Partition(vec![
            vec![old, buddy],
            others[1..].to_vec(),
        ]))
        .unwrap();
    let (stale, _) = cluster.submit(old, "set lost yes").unwrap();
    cluster.tick(100);
    assert_eq!(
        cluster.applied_count(stale).0,
        0,
        "a minority commits nothing"
    );
    let new = (1..=5)
        .find(|&id| id != old && id != buddy && cluster.status(id).role == Role::Leader)
        .expect("majority elects");
    let (index, _) = cluster.submit(new, "set kept yes").unwrap();
    cluster.tick(10);
    assert_eq!(index, stale, "the majority reuses the index");
    cluster.apply(&Action::Heal).unwrap();
    cluster.tick(40);
    for id in 1..=5 {
        assert_eq!(
            cluster.applied(id, index).as_deref(),
            Some("set kept yes"),
            "n{id}"
        );
    }
    assert!(
        cluster.violations().is_empty(),
        "{:?}",
        cluster.violations()
    );
}

#[test]
fn snapshots_install_on_a_lagging_follower_and_survive_restart() {
    let mut cluster = Cluster::new(Config::new(3).seed(5));
    cluster.set_auto_snapshot(Some(10));
    let leader = wait_leader(&mut cluster);
    let lagging = (1..=3).find(|&id| id != leader).unwrap();
    cluster.disconnect(lagging).unwrap();
    for i in 0..35 {
        cluster.submit(leader, &format!("set k{i} {i}")).unwrap();
        cluster.tick(1);
    }
    cluster.tick(10);
    assert_eq!(cluster.status(leader).snapshot_index, 30);
    cluster.connect(lagging).unwrap();
    cluster.tick(20);
    let status = cluster.status(lagging);
    assert_eq!(status.snapshot_index, 30);
    assert_eq!(status.last_applied, 35);
    assert_eq!(
        cluster.applied(lagging, 20),
        None,
        "index 20 came inside the snapshot"
    );
    assert_eq!(cluster.applied(lagging, 31).as_deref(), Some("set k30 30"));
    cluster.crash(lagging).unwrap();
    cluster.restart(lagging).unwrap();
    cluster.tick(10);
    assert_eq!(cluster.inspect(lagging).unwrap().kv.get("k34"), Some("34"));
    assert!(cluster.raft_state_size(leader).unwrap() < 2000);
    assert!(
        cluster.violations().is_empty(),
        "{:?}",
        cluster.violations()
    );
}

#[test]
fn submit_batch_takes_contiguous_indexes_in_one_message() {
    let mut cluster = Cluster::new(Config::new(3).seed(9));
    let leader = wait_leader(&mut cluster);
    let follower = (1..=3).find(|&id| id != leader).unwrap();
    assert!(
        cluster.submit_batch(follower, &["a"]).is_err(),
        "followers refuse"
    );
    assert!(
        cluster.submit_batch(leader, &[]).is_err(),
        "nothing to submit"
    );
    let Proposal { index: first, term } = cluster.submit_batch(leader, &["a", "b", "c"]).unwrap();
    cluster.tick(1);
    // One AppendEntries per follower carries all three.
    let carrying: Vec<_> = cluster
        .in_flight()
        .into_iter()
        .filter(|message| match &message.envelope.message {
            Message::AppendEntries { entries, .. } => !entries.is_empty(),
            _ => false,
        })
        .collect();
    assert_eq!(carrying.len(), 2, "{carrying:?}");
    for message in &carrying {
        let Message::AppendEntries { entries, .. } = &message.envelope.message else {
            unreachable!()
        };
        assert_eq!(entries.len(), 3);
    }
    cluster.tick(5);
    for (offset, command) in ["a", "b", "c"].iter().enumerate() {
        let index = first + offset as u64;
        assert_eq!(cluster.applied_count(index), (3, Some(command.to_string())));
    }
    assert_eq!(cluster.status(leader).term, term);
}

#[test]
fn the_checker_forgets_commands_every_node_compacted_long_ago() {
    use raft_playground::cluster::HISTORY_WINDOW;
    let mut cluster = Cluster::new(Config::new(3).seed(2));
    cluster.set_auto_snapshot(Some(10));
    let leader = wait_leader(&mut cluster);
    let total = 3 * HISTORY_WINDOW as usize;
    let commands: Vec<String> = (0..total).map(|i| format!("set k{} {i}", i % 10)).collect();
    for chunk in commands.chunks(500) {
        let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
        cluster.submit_batch(leader, &chunk).unwrap();
        cluster.tick(2);
    }
    cluster.tick(10);
    let last = total as u64;
    assert_eq!(
        cluster.applied_count(last),
        (3, Some(commands[total - 1].clone()))
    );
    // Long compacted everywhere: still counted, its text forgotten.
    assert_eq!(cluster.applied_count(1), (3, None));
    assert_eq!(cluster.applied(leader, 1), None);
    // Recent indexes inside snapshots are still known.
    let recent = last - 20;
    assert_eq!(
        cluster.applied_count(recent).1.as_deref(),
        Some(commands[recent as usize - 1].as_str())
    );
    assert!(
        cluster.violations().is_empty(),
        "{:?}",
        cluster.violations()
    );
}

#[test]
fn a_crashed_node_shows_its_persisted_state_and_keeps_its_links() {
    let mut cluster = Cluster::new(Config::new(3).seed(4));
    let leader = wait_leader(&mut cluster);
    let (index, term) = cluster.submit(leader, "set a 1").unwrap();
    cluster.tick(5);
    let node = (1..=3).find(|&id| id != leader).unwrap();
    cluster.disconnect(node).unwrap();
    cluster.crash(node).unwrap();
    let status = cluster.status(node);
    assert!(!status.up);
    assert_eq!(
        (status.term, status.last_log_index),
        (term, index),
        "persisted term and log"
    );
    assert!(!status.connected);
    // Crashing and cutting links are independent: it comes back still cut off.
    cluster.restart(node).unwrap();
    assert!(cluster.status(node).up);
    assert!(!cluster.status(node).connected && !cluster.linked(node, leader));
    cluster.connect(node).unwrap();
    assert!(cluster.linked(node, leader));
    // Crashing a down node is harmless; a bad id is an error that changes nothing.
    cluster.crash(node).unwrap();
    let digest = cluster.history_digest();
    assert_eq!(
        cluster.apply(&Action::Crash(node)),
        Ok(Outcome::AlreadyDown(node))
    );
    let no_such_node = Err(ClusterError::NoSuchNode { node: 99, nodes: 3 });
    assert_eq!(cluster.crash(99), no_such_node);
    assert_eq!(cluster.restart(99), no_such_node);
    assert_eq!(cluster.history_digest(), digest, "nothing happened");
    assert!(cluster.submit(node, "x").is_err());
    assert!(cluster.violations().is_empty());
}

#[test]
fn the_trace_follows_every_message_from_send_to_delivery_or_loss() {
    use raft_playground::cluster::{DropReason, TraceKind};
    let mut cluster = Cluster::new(Config::new(3).seed(2));
    cluster.apply(&Action::Timeout(1)).unwrap();
    let requests: Vec<u64> = cluster.in_flight().iter().map(|m| m.id).collect();
    assert_eq!(requests.len(), 2, "a RequestVote to each peer");
    let sent: Vec<(u64, usize, usize)> = cluster
        .events(100)
        .into_iter()
        .filter_map(|event| match event.kind {
            TraceKind::Sent { id, to, copy, .. } => {
                assert!(!copy);
                Some((id, event.node, to))
            }
            _ => None,
        })
        .collect();
    assert_eq!(sent, vec![(requests[0], 1, 2), (requests[1], 1, 3)]);
    // Delivered by hand: the recipient records the delivery under the same id.
    cluster.apply(&Action::Deliver(requests[0])).unwrap();
    let delivered = cluster
        .events(100)
        .into_iter()
        .find_map(|event| match event.kind {
            TraceKind::Delivered { id, from } => Some((id, from, event.node)),
            _ => None,
        });
    assert_eq!(delivered, Some((requests[0], 1, 2)));
    // Dropped by hand, then a crash drops what is in flight to or from the node.
    cluster.apply(&Action::DropMessage(requests[1])).unwrap();
    let reply = cluster.in_flight()[0].id;
    cluster.apply(&Action::Crash(1)).unwrap();
    let drops: Vec<(u64, DropReason)> = cluster
        .events(100)
        .into_iter()
        .filter_map(|event| match event.kind {
            TraceKind::Dropped { id, reason, .. } => Some((id, reason)),
            _ => None,
        })
        .collect();
    assert_eq!(
        drops,
        vec![(requests[1], DropReason::Manual), (reply, DropReason::Down)]
    );
    // A partition tells every node its group; heal tells every node.
    cluster.apply(&Action::Partition(vec![vec![1, 2]])).unwrap();
    let groups: Vec<(usize, Vec<usize>)> = cluster
        .events(3)
        .into_iter()
        .filter_map(|event| match event.kind {
            TraceKind::Partitioned { group } => Some((event.node, group)),
            _ => None,
        })
        .collect();
    assert_eq!(groups, vec![(1, vec![1, 2]), (2, vec![1, 2]), (3, vec![3])]);
    cluster.apply(&Action::Heal).unwrap();
    assert!(
        cluster
            .events(3)
            .iter()
            .all(|event| event.kind == TraceKind::Healed)
    );
}

#[test]
fn duplicated_and_lost_messages_have_their_own_ids_in_the_trace() {
    use raft_playground::cluster::{DropReason, TraceKind};
    let mut cluster = Cluster::new(Config::new(3).seed(5));
    cluster.apply(&Action::DuplicateRate(1.0)).unwrap();
    cluster.apply(&Action::Timeout(1)).unwrap();
    let copies = cluster
        .events(100)
        .into_iter()
        .filter(|event| matches!(event.kind, TraceKind::Sent { copy: true, .. }))
        .count();
    assert_eq!(copies, 2, "each RequestVote was duplicated");
    assert_eq!(cluster.in_flight().len(), 4);
    let mut ids: Vec<u64> = cluster.in_flight().iter().map(|m| m.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 4, "every copy has its own id");
    cluster.apply(&Action::DuplicateRate(0.0)).unwrap();
    cluster.apply(&Action::Disconnect(2)).unwrap();
    cluster.apply(&Action::Timeout(3)).unwrap();
    let lost: Vec<(usize, usize, DropReason)> = cluster
        .events(100)
        .into_iter()
        .filter_map(|event| match event.kind {
            TraceKind::Dropped { to, reason, .. } => Some((event.node, to, reason)),
            _ => None,
        })
        .collect();
    assert_eq!(lost, vec![(3, 2, DropReason::Cut)], "dropped when sent");
}
