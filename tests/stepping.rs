//! Stepping by hand as precisely as etcd raft's interaction scripts: message filters,
//! `stabilize`, `flush`, per-node timers, `cluster N log K`, `snapshot NODE at
//! INDEX`, the detailed expectations and waits (each shown holding and failing),
//! `progress`, vote tallies, receivers' decisions with their reasons, and views that
//! fit 80 columns.

use raft_playground::Config;
use raft_playground::cli::{ExecError, Session, parse, visible_width};
use raft_playground::cluster::lock;

fn run(session: &mut Session, line: &str) -> String {
    let command = parse(line)
        .unwrap_or_else(|error| panic!("`{line}`: {error}"))
        .unwrap();
    session
        .execute(command)
        .unwrap_or_else(|error| panic!("`{line}`: {error}"))
        .text
}

fn fails(session: &mut Session, line: &str) -> String {
    let command = parse(line).unwrap().unwrap();
    match session.execute(command) {
        Err(ExecError::Failed(text)) => text,
        other => panic!("`{line}` did not fail as an expectation: {other:?}"),
    }
}

fn session(nodes: usize, seed: u64, lines: &[&str]) -> Session {
    let mut session = Session::scripted(Config::new(nodes).seed(seed));
    for line in lines {
        run(&mut session, line);
    }
    session
}

fn in_flight(session: &Session) -> Vec<(usize, usize, &'static str)> {
    lock(session.cluster())
        .in_flight()
        .iter()
        .map(|message| {
            let envelope = &message.envelope;
            (envelope.from, envelope.to, envelope.message.kind())
        })
        .collect()
}

#[test]
fn filters_pick_messages_by_sender_recipient_and_type() {
    let mut s = session(5, 1, &["timeout 1"]);
    assert_eq!(in_flight(&s).len(), 4);
    let text = run(&mut s, "deliver to 2,3");
    assert_eq!(text.matches("delivered").count(), 2, "{text}");
    // Two requests left, two replies in flight.
    let left = in_flight(&s);
    assert!(left.contains(&(1, 4, "RequestVote")) && left.contains(&(2, 1, "RequestVoteReply")));
    let text = run(&mut s, "drop-msg from 1 to 5 type RequestVote");
    assert!(
        text.starts_with("dropped #") && text.contains("n1→n5"),
        "{text}"
    );
    // A filter that picks nothing says so and is no error.
    let text = run(&mut s, "deliver from 4 type AppendEntries");
    assert!(
        text.contains("no message in flight matches `from n4 type AppendEntries`"),
        "{text}"
    );
    let text = run(&mut s, "deliver type requestvotereply");
    assert_eq!(text.matches("delivered").count(), 2, "{text}");
    assert!(text.contains("becomes leader of term 1"), "{text}");
    assert!(
        in_flight(&s).iter().all(
            |&(from, _, kind)| from == 1 && kind != "RequestVoteReply" || kind == "RequestVote"
        )
    );
}

#[test]
fn stabilize_delivers_everything_or_only_between_the_named_nodes() {
    let mut s = session(5, 1, &["timeout 1"]);
    let text = run(&mut s, "stabilize 1,2,3");
    assert!(text.contains("between n1, n2 and n3"), "{text}");
    // Messages to n4 and n5 are still in flight, untouched; none between 1, 2, 3.
    let left = in_flight(&s);
    assert!(!left.is_empty());
    assert!(
        left.iter()
            .all(|&(from, to, _)| to == 4 || to == 5 || from == 4 || from == 5),
        "{left:?}"
    );
    run(&mut s, "expect leader n1");
    let before = lock(s.cluster()).now();
    run(&mut s, "stabilize");
    assert!(in_flight(&s).is_empty());
    assert_eq!(
        lock(s.cluster()).now(),
        before,
        "stabilize does not advance time"
    );
    run(
        &mut s,
        "expect progress 1 followers replicate match 0 next 1",
    );
}

#[test]
fn flush_sends_proposals_now_and_stabilize_commits_them() {
    let mut s = session(3, 1, &["timeout 1", "stabilize", "submit set x 1"]);
    run(&mut s, "expect no-message");
    let text = run(&mut s, "flush 1");
    assert!(text.contains("n1 sends 2 messages"), "{text}");
    assert!(text.contains("entry 1 [t1 set x 1]"), "{text}");
    run(
        &mut s,
        "expect message 1->2 AppendEntries entries=1 prev_log_index=0 leader_commit=0",
    );
    // Nothing pending: a flush sends nothing.
    assert!(run(&mut s, "flush 2").contains("n2 has nothing to send"));
    run(&mut s, "submit set y 2");
    let text = run(&mut s, "stabilize");
    assert!(
        text.contains("n1 sends 2 messages"),
        "stabilize flushes first: {text}"
    );
    // The leader knows 2 is committed; followers learn it with its next message.
    run(&mut s, "expect committed 2 on 1");
    run(&mut s, "expect commit 2,3 == 0");
    run(&mut s, "tick 1 heartbeat");
    run(&mut s, "stabilize");
    run(&mut s, "expect committed 2 on all");
    run(&mut s, "expect log all = 1 1");
    run(&mut s, "expect entry all 2 1 set y 2");
}

#[test]
fn per_node_timers_fire_by_hand() {
    let mut s = session(3, 1, &["tick 1 election", "stabilize"]);
    run(&mut s, "expect leader n1");
    let text = run(&mut s, "tick 1 heartbeat");
    assert!(
        text.contains("n1 sends 2 messages") && text.contains("heartbeat"),
        "{text}"
    );
    let error = parse("tick 2 heartbeat").unwrap().unwrap();
    match s.execute(error) {
        Err(ExecError::Invalid(text)) => assert!(text.contains("no heartbeat timer"), "{text}"),
        other => panic!("a follower fired a heartbeat: {other:?}"),
    }
    let text = run(&mut s, "tick 2,3 election");
    assert!(
        text.contains("n2's election timer fired") && text.contains("n3's"),
        "{text}"
    );
}

#[test]
fn a_cluster_can_start_with_committed_entries_and_snapshot_at_an_index() {
    let mut s = session(3, 2, &["cluster 3 seed 2 log 5"]);
    run(&mut s, "expect commit all == 5");
    run(&mut s, "expect applied all == 5");
    run(&mut s, "expect snapshot all == 5");
    run(&mut s, "expect term all == 1");
    run(&mut s, "wait leader");
    for n in 1..=4 {
        run(&mut s, &format!("submit set k{n} {n}"));
    }
    run(&mut s, "wait commit 9 on all");
    run(&mut s, "expect no-violations");
    let text = run(&mut s, "snapshot 2 at 7");
    assert!(text.contains("n2 snapshotted through index 7"), "{text}");
    run(&mut s, "expect snapshot 2 == 7");
    run(&mut s, "expect log 2 = 2 2");
    // The snapshot holds the state at 7, not the state now: a restart replays 8, 9.
    run(&mut s, "restart 2");
    run(&mut s, "wait commit 9 on all");
    run(&mut s, "expect kv 2 k4 4");
    run(&mut s, "expect no-violations");
    let error = parse("snapshot 2 at 7").unwrap().unwrap();
    match s.execute(error) {
        Err(ExecError::Invalid(text)) => assert!(text.contains("already compacted through 7")),
        other => panic!("a snapshot at a compacted index was taken: {other:?}"),
    }
}

#[test]
fn detailed_expectations_hold_and_fail() {
    let mut s = session(3, 1, &["timeout 1", "deliver to 2"]);
    run(&mut s, "expect voted 2 1");
    run(&mut s, "expect voted 3 none");
    assert!(fails(&mut s, "expect voted 3 1").contains("saw nobody"));
    run(&mut s, "expect leader-known 2 none");
    run(&mut s, "stabilize");
    run(&mut s, "expect leader-known 2,3 1");
    assert!(fails(&mut s, "expect leader-known 2 3").contains("it knows n1"));
    run(&mut s, "submit set x 1");
    run(&mut s, "flush 1");
    run(&mut s, "expect message 1->3 AppendEntries entries=1");
    assert!(fails(&mut s, "expect message 1->3 AppendEntries entries=2").contains("saw #"));
    assert!(fails(&mut s, "expect message 2->3 AppendEntries").contains("none from n2 to n3"));
    assert!(fails(&mut s, "expect no-message to 3").contains("n1→n3"));
    run(&mut s, "expect no-message from 2");
    assert!(fails(&mut s, "expect log 1 = 2").contains("saw 1"));
    assert!(fails(&mut s, "expect entry 2 1 1").contains("n2's log ends at 0"));
    assert!(fails(&mut s, "expect entry 1 1 1 set x 2").contains("saw t1 `set x 1`"));
    assert!(fails(&mut s, "expect progress 1 2 probe").contains("saw replicate"));
    assert!(fails(&mut s, "expect progress 2 1 probe").contains("does not lead"));
    assert!(fails(&mut s, "expect applied 1 == 1").contains("saw 0"));
    run(&mut s, "expect applied 1 >= 0");
}

#[test]
fn waits_for_roles_terms_and_a_new_leader() {
    let mut s = session(5, 3, &["wait leader"]);
    let leader = lock(s.cluster()).leader().unwrap();
    run(&mut s, &format!("crash {leader}"));
    let text = run(&mut s, "wait leader new within 100");
    assert!(text.contains("leads term 2"), "{text}");
    run(&mut s, &format!("restart {leader}"));
    let text = run(&mut s, &format!("wait role {leader} follower within 50"));
    assert!(text.contains("follower at tick"), "{text}");
    let text = run(&mut s, "wait term >= 2");
    assert!(text.contains("term >= 2"), "{text}");
    let error = fails(&mut s, "wait term 1 > 5 within 3");
    assert!(
        error.contains("wait term n1 > 5: not reached within 3 ticks"),
        "{error}"
    );
}

#[test]
fn waits_for_applied_snapshot_and_last_index() {
    let mut s = session(3, 4, &["wait leader"]);
    let leader = lock(s.cluster()).leader().unwrap();
    run(&mut s, &format!("submit {leader} set x 1"));
    run(&mut s, &format!("submit {leader} set y 2"));
    // Every up node, at least through index 2.
    let text = run(&mut s, "wait applied 2 within 20");
    assert!(text.contains("applied >= 2 at tick"), "{text}");
    assert!(text.contains("(n1 2, n2 2, n3 2)"), "{text}");
    for id in 1..=3 {
        assert!(lock(s.cluster()).status(id).last_applied >= 2);
    }
    let error = fails(&mut s, "wait applied 1,2 3 within 5");
    assert!(
        error.contains("wait applied n1,n2 >= 3: not reached within 5 ticks"),
        "{error}"
    );
    run(&mut s, &format!("snapshot {leader}"));
    let text = run(&mut s, &format!("wait snapshot {leader} == 2 within 5"));
    assert!(text.contains("snapshot == 2 at tick"), "{text}");
    run(&mut s, "wait last-index all >= 2");
    let error = fails(&mut s, "wait last-index > 2 within 3");
    assert!(error.contains("not reached within 3 ticks"), "{error}");
}

#[test]
fn receivers_say_what_they_decided_and_why() {
    // n2 and n3 time out together: n1 asks n2 after n2 voted for itself.
    let mut s = session(3, 1, &["timeout 1,2"]);
    let text = run(&mut s, "deliver from 1 to 2");
    assert!(
        text.contains("n2 denies n1 its vote in term 1: already voted for n2"),
        "{text}"
    );
    // A stale message: n3 campaigns twice (term 2) and n1 hears it; then n2's
    // request of term 1 arrives.
    run(&mut s, "timeout 3");
    run(&mut s, "timeout 3");
    run(&mut s, "deliver from 3 to 1");
    run(&mut s, "expect term 1 == 2");
    let text = run(&mut s, "deliver from 2 to 1");
    assert!(
        text.contains("ignores n2's message of stale term 1"),
        "{text}"
    );
    // A follower whose log is too short rejects, and says where.
    let mut s = session(
        3,
        1,
        &["timeout 1", "stabilize", "submit set x 1", "flush 1"],
    );
    run(&mut s, "drop-msg to 3");
    run(&mut s, "stabilize 1,2");
    run(&mut s, "submit set y 2");
    run(&mut s, "flush 1");
    let text = run(&mut s, "deliver to 3");
    assert!(
        text.contains("n3 rejects n1's entries after 1: no entry at 1"),
        "{text}"
    );
    assert!(text.contains("conflict at 1: log ends at 0"), "{text}");
    let text = run(&mut s, "deliver from 3");
    assert!(
        text.contains("n1 updates its view of n3: match 0, next 1, probe"),
        "{text}"
    );
}

#[test]
fn progress_and_vote_tallies_are_shown() {
    let mut s = session(5, 1, &["timeout 1", "deliver to 2", "deliver from 2"]);
    let status = run(&mut s, "status");
    assert!(status.contains("2 of 3"), "a candidate's tally: {status}");
    let json: serde_json::Value = serde_json::from_str(&run(&mut s, "status --json")).unwrap();
    assert_eq!(json["nodes"][0]["votes"], serde_json::json!([1, 2]));
    run(&mut s, "stabilize");
    let text = run(&mut s, "progress");
    assert!(
        text.contains("n1 leads term 1") && text.contains("replicate"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&run(&mut s, "progress 1 --json")).unwrap();
    assert_eq!(json["leader"], 1);
    assert_eq!(json["followers"][0]["state"], "replicate");
    assert_eq!(json["followers"][0]["next_index"], 1);
}

#[test]
fn status_and_log_fit_80_columns_for_5_nodes_and_15_stay_readable() {
    let widest = |text: &str| {
        text.lines()
            .filter(|line| !line.starts_with("each cell"))
            .map(visible_width)
            .max()
            .unwrap()
    };
    // A busy cluster: big indexes and terms, a partition, a crash, a candidate.
    let mut s = session(5, 4, &["cluster 5 seed 4 log 12000", "wait leader"]);
    for n in 0..30 {
        run(&mut s, &format!("submit set key{n} {n}"));
    }
    for line in [
        "tick 3",
        "partition 1,2 | 3,4",
        "tick 60",
        "crash 5",
        "timeout 1",
    ] {
        run(&mut s, line);
    }
    let status = run(&mut s, "status");
    assert!(
        widest(&status) <= 80,
        "{} columns:\n{status}",
        widest(&status)
    );
    let log = run(&mut s, "log");
    assert!(widest(&log) <= 80, "{} columns:\n{log}", widest(&log));
    // 15 nodes: one readable row each, still within 80 columns.
    let mut s = session(15, 5, &["wait leader", "submit set x 1", "tick 3"]);
    let status = run(&mut s, "status");
    assert_eq!(status.lines().count(), 17, "{status}");
    assert!(widest(&status) <= 80, "{status}");
    let log = run(&mut s, "log");
    assert!(log.contains("n15 c") && widest(&log) <= 80, "{log}");
}

#[test]
fn a_delivery_tells_each_event_once_in_order() {
    // n2's vote makes n1 leader: `deliver` says so once, after the delivery that
    // caused it, not also as news before it.
    let mut s = session(3, 1, &["timeout 1", "deliver to 2"]);
    let text = run(&mut s, "deliver from 2");
    assert_eq!(text.matches("becomes leader").count(), 1, "{text}");
    assert!(text.starts_with("delivered #"), "{text}");
    // The same for stabilize, which also shows what the answers caused.
    let mut s = session(3, 1, &["timeout 1"]);
    let text = run(&mut s, "stabilize");
    assert_eq!(text.matches("becomes leader").count(), 1, "{text}");
    // A command that does not narrate its events still gets them as news.
    let mut s = session(3, 1, &[]);
    let text = run(&mut s, "wait leader");
    assert!(text.contains("becomes leader"), "{text}");
}
