//! Membership changes through the cluster (dissertation §4.1–§4.2): nodes added as
//! learners and promoted, removed ones retired for good once the change commits,
//! ids never reused, at most 15 nodes; and leadership transfer. Each refusal is
//! typed and changes nothing.

use raft_playground::raft::{Configuration, Membership, MembershipError};
use raft_playground::{Action, Cluster, ClusterError, Config, Role};

/// A cluster of `nodes` with a leader that has committed an entry of its term (so
/// membership changes may start); returns it and the leader.
fn cluster_with_leader(nodes: usize, seed: u64) -> (Cluster, usize) {
    let mut cluster = Cluster::new(Config::new(nodes).seed(seed));
    assert!(cluster.tick_until(200, |cluster| cluster.leader().is_some()));
    let leader = cluster.leader().unwrap();
    let (index, _) = cluster.submit(leader, "set x 1").unwrap();
    assert!(cluster.tick_until(50, |cluster| cluster.applied_count(index).0 == nodes));
    (cluster, leader)
}

/// The checker found nothing wrong.
fn assert_no_violations(cluster: &Cluster) {
    assert!(
        cluster.violations().is_empty(),
        "{:?}",
        cluster.violations()
    );
}

/// Ticks until every up member uses `voters` (at most `ticks`).
fn wait_for_voters(cluster: &mut Cluster, voters: &[usize], ticks: u64) -> bool {
    let wanted = Configuration::with_voters(voters.iter().copied());
    cluster.tick_until(ticks, |cluster| {
        cluster
            .nodes()
            .into_iter()
            .filter(|&id| cluster.is_up(id))
            .all(|id| *cluster.status(id).configuration == wanted)
    })
}

#[test]
fn an_added_node_learns_then_votes() {
    let (mut cluster, leader) = cluster_with_leader(3, 1);
    let node = cluster.add_node(leader).unwrap();
    assert_eq!(node, 4);
    assert_eq!(cluster.size(), 4);
    assert_eq!(cluster.nodes(), vec![1, 2, 3, 4]);
    // On the leader at once: n4 is a learner.
    let status = cluster.status(leader);
    assert!(status.configuration.is_learner(4));
    assert!(wait_for_voters(&mut cluster, &[1, 2, 3, 4], 100));
    let status = cluster.status(4);
    assert_eq!(status.membership, Membership::Voter);
    assert_eq!(status.commit_index, cluster.status(leader).commit_index);
    assert_no_violations(&cluster);
    // Four voters: three make a majority; commands still commit.
    let (index, _) = cluster.submit(leader, "set y 2").unwrap();
    assert!(cluster.tick_until(50, |cluster| cluster.applied_count(index).0 == 4));
}

#[test]
fn a_removed_follower_leaves_for_good_and_its_id_stays_taken() {
    let (mut cluster, leader) = cluster_with_leader(3, 2);
    let removed = if leader == 3 { 2 } else { 3 };
    let before = cluster.size();
    cluster.remove_node(leader, removed).unwrap();
    let others: Vec<usize> = (1..=3).filter(|&id| id != removed).collect();
    assert!(wait_for_voters(&mut cluster, &others, 100));
    assert!(cluster.tick_until(20, |cluster| cluster.is_removed(removed)));
    assert_eq!(cluster.nodes(), others);
    assert!(!cluster.is_up(removed));
    assert!(cluster.status(removed).removed);
    assert_eq!(cluster.size(), before, "the id is not given back");
    for refused in [
        cluster.restart(removed),
        cluster.crash(removed),
        cluster.apply(&Action::Timeout(removed)).map(drop),
    ] {
        assert_eq!(refused, Err(ClusterError::Removed(removed)));
    }
    // The next node gets a new id.
    let node = cluster.add_node(cluster.leader().unwrap()).unwrap();
    assert_eq!(node, 4);
    assert_no_violations(&cluster);
}

/// etcd's confchange_v1_remove_leader: the leader removes itself, keeps leading until
/// the removal commits, then steps down, and the others elect a new leader.
#[test]
fn a_leader_that_removes_itself_steps_down_after_the_commit() {
    let (mut cluster, leader) = cluster_with_leader(3, 3);
    let index = cluster.remove_node(leader, leader).unwrap();
    assert_eq!(cluster.status(leader).role, Role::Leader);
    assert_eq!(cluster.status(leader).membership, Membership::Outside);
    assert!(cluster.tick_until(50, |cluster| cluster.is_removed(leader)));
    assert!(
        cluster
            .events(200)
            .iter()
            .any(|event| format!("{:?}", event.kind).contains("LeftCluster"))
    );
    assert!(cluster.tick_until(100, |cluster| cluster.leader().is_some()));
    let new_leader = cluster.leader().unwrap();
    assert_ne!(new_leader, leader);
    // It holds the removal (Leader Completeness) and uses the configuration without n1.
    let status = cluster.status(new_leader);
    assert!(status.last_log_index >= index);
    assert!(!status.configuration.contains(leader));
    assert_no_violations(&cluster);
}

#[test]
fn membership_refusals_are_typed_and_change_nothing() {
    let (mut cluster, leader) = cluster_with_leader(3, 4);
    let follower = (1..=3).find(|&id| id != leader).unwrap();
    let digest = cluster.history_digest();
    assert_eq!(
        cluster.add_node(follower),
        Err(ClusterError::NotLeader {
            node: follower,
            leader: Some(leader)
        })
    );
    assert!(matches!(
        cluster.remove_node(leader, 9),
        Err(ClusterError::NoSuchNode { node: 9, .. })
    ));
    assert_eq!(cluster.history_digest(), digest, "nothing changed");
    assert_eq!(cluster.size(), 3);
    // One change at a time.
    cluster.add_node(leader).unwrap();
    assert!(matches!(
        cluster.add_node(leader),
        Err(ClusterError::ChangeRefused {
            reason: MembershipError::ChangePending { .. },
            ..
        })
    ));
    assert_eq!(
        cluster.size(),
        4,
        "no node was started for the refused change"
    );
}

/// `timeout NODE` is refused exactly when the core would not campaign: a node just
/// added (joining) or a learner never does; a former leader whose removal has not
/// committed still may (§4.2.2), though its own configuration leaves it out.
#[test]
fn a_timeout_is_refused_only_to_nodes_that_never_campaign() {
    let (mut cluster, leader) = cluster_with_leader(3, 1);
    let joining = cluster.add_node(leader).unwrap();
    assert_eq!(cluster.status(joining).membership, Membership::Outside);
    let digest = cluster.history_digest();
    assert_eq!(
        cluster.apply(&Action::Timeout(joining)),
        Err(ClusterError::NotAVoter(joining))
    );
    assert_eq!(cluster.history_digest(), digest, "nothing changed");

    // The leader removes itself while a follower is cut off: the removal cannot
    // commit (the new configuration's majority needs that follower). Restarted, the
    // old leader is a follower its own latest configuration leaves out.
    let (mut cluster, leader) = cluster_with_leader(3, 1);
    let cut = (1..=3).find(|&id| id != leader).unwrap();
    cluster.disconnect(cut).unwrap();
    cluster.remove_node(leader, leader).unwrap();
    cluster.tick(3);
    cluster.restart(leader).unwrap();
    let status = cluster.status(leader);
    assert_eq!(status.membership, Membership::Outside);
    assert!(!status.removed);
    cluster.apply(&Action::Timeout(leader)).unwrap();
    assert_eq!(
        cluster.status(leader).role,
        Role::Candidate,
        "it campaigns, as the core allows"
    );
    assert_no_violations(&cluster);
}

/// A removed node shows what it had when it left, not what a restart would begin
/// with: it never restarts, and its commit and applied indexes were never persisted.
#[test]
fn a_removed_node_shows_its_last_report() {
    let (mut cluster, leader) = cluster_with_leader(3, 2);
    let gone = (1..=3).find(|&id| id != leader).unwrap();
    let before = cluster.status(gone);
    assert!(before.commit_index >= 1 && before.last_applied >= 1);
    cluster.remove_node(leader, gone).unwrap();
    assert!(cluster.tick_until(50, |cluster| cluster.is_removed(gone)));
    cluster.tick(5);
    let after = cluster.status(gone);
    assert!(after.removed && !after.up);
    assert_eq!(
        (after.term, after.commit_index, after.last_applied),
        (before.term, before.commit_index, before.last_applied)
    );
    assert_eq!(after.timer_due, None);
}

#[test]
fn the_last_voter_stays_and_fifteen_ids_are_the_most() {
    let (mut cluster, leader) = cluster_with_leader(1, 5);
    assert!(matches!(
        cluster.remove_node(leader, leader),
        Err(ClusterError::ChangeRefused {
            reason: MembershipError::LastVoter(1),
            ..
        })
    ));
    // Grow to 15 ids, one change at a time.
    while cluster.size() < 15 {
        let leader = cluster.leader().expect("a leader");
        match cluster.add_node(leader) {
            Ok(_) => {}
            Err(ClusterError::ChangeRefused { .. }) => cluster.tick(5),
            Err(other) => panic!("{other}"),
        }
    }
    let leader = cluster.leader().unwrap();
    cluster.tick(50);
    assert_eq!(cluster.add_node(leader), Err(ClusterError::TooManyNodes));
    assert_no_violations(&cluster);
}

#[test]
fn a_new_node_catches_up_by_snapshot_and_configurations_survive_restarts() {
    let (mut cluster, leader) = cluster_with_leader(3, 6);
    cluster.set_auto_snapshot(Some(5));
    for i in 0..20 {
        cluster.submit(leader, &format!("set k{i} {i}")).unwrap();
        cluster.tick(1);
    }
    cluster.tick(10);
    assert!(cluster.status(leader).snapshot_index >= 15);
    let node = cluster.add_node(leader).unwrap();
    assert!(wait_for_voters(&mut cluster, &[1, 2, 3, node], 100));
    assert!(
        cluster.status(node).snapshot_index > 0,
        "it got the snapshot"
    );
    // Restart everyone: the configuration comes back from logs and snapshots.
    for id in cluster.nodes() {
        cluster.restart(id).unwrap();
    }
    for id in cluster.nodes() {
        assert_eq!(
            cluster.status(id).configuration.voters.len(),
            4,
            "n{id} after a restart"
        );
    }
    assert!(cluster.tick_until(100, |cluster| cluster.leader().is_some()));
    assert_no_violations(&cluster);
}

#[test]
fn a_transfer_moves_leadership_and_refuses_commands_meanwhile() {
    let (mut cluster, leader) = cluster_with_leader(3, 7);
    let target = (1..=3).find(|&id| id != leader).unwrap();
    cluster.transfer(leader, target).unwrap();
    assert_eq!(cluster.status(leader).transferring_to, Some(target));
    assert_eq!(
        cluster.submit(leader, "set z 1"),
        Err(ClusterError::Transferring {
            node: leader,
            target
        })
    );
    assert!(cluster.tick_until(30, |cluster| cluster.leader() == Some(target)));
    assert_eq!(
        cluster.transfer(target, target),
        Err(ClusterError::TransferToSelf(target))
    );
    assert_no_violations(&cluster);
}

#[test]
fn membership_changes_replay_exactly() {
    let run = || {
        let (mut cluster, leader) = cluster_with_leader(3, 8);
        let node = cluster.add_node(leader).unwrap();
        cluster.tick(30);
        let leader = cluster.leader().unwrap();
        cluster.remove_node(leader, node).unwrap();
        cluster.tick(30);
        (cluster.history_digest(), cluster.nodes())
    };
    assert_eq!(run(), run());
}

/// Time travel over membership changes: a checkpoint taken after `add-node` holds
/// the added node too (its thread state and slot), so going back to it and forward
/// again works, and going back before the addition gives the founding cluster.
#[test]
fn time_travel_crosses_membership_changes() {
    use raft_playground::cli::{Session, parse};
    colored::control::set_override(false);
    let mut session = Session::scripted(Config::new(3).seed(1));
    let mut run = |line: &str| {
        let command = parse(line).unwrap().unwrap();
        session
            .execute(command)
            .unwrap_or_else(|error| panic!("`{line}`: {error}"))
            .text
    };
    for line in [
        "wait leader",
        "submit set x 1",
        "wait commit 1 on all",
        "add-node",
        "wait members = 1,2,3,4 within 50",
        // Past the checkpoint interval, so `goto` restores a checkpoint with n4 in it.
        "tick 1500",
        "remove-node 2",
        "tick 20",
    ] {
        run(line);
    }
    assert!(run("members").contains("1,3,4"));
    run("goto 1200");
    let members = run("members");
    assert!(members.contains("n4    follower  1,2,3,4"), "{members}");
    run("tick 400");
    run("undo 4");
    let members = run("members");
    assert!(!members.contains("n4    follower"), "{members}");
    run("add-node");
    run("wait members = 1,2,3,4 within 50");
    assert!(run("expect no-violations").contains('✓'));
}
