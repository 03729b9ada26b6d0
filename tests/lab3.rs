//! The 28 tests of MIT 6.5840 Lab 3 (Spring 2024, `src/raft/test_test.go`), ported
//! step by step to the playground's [`Cluster`](raft_playground::Cluster): leader
//! election (3A), log replication (3B), persistence (3C) and log compaction (3D).
//!
//! Each test keeps the lab's structure, checks and failure messages; the harness in
//! `common/lab.rs` explains how the lab's servers, seconds, goroutines, crashes and
//! RPC counters map onto the playground. In short: servers are numbered from 0 as in
//! the lab, one lab second is 20 ticks, and a lab RPC is two messages (request and
//! reply). Every test has a fixed seed, so a failure replays exactly; the failure
//! message names the seed. Run with `--nocapture` to see each test's summary line
//! (ticks, peers, messages, bytes, highest index applied) and the measured counts of
//! the economy checks.

#[path = "common/lab.rs"]
pub(crate) mod lab;

/// The switches beyond Lab 3 this binary runs the suite with: none, the lab exactly
/// (`tests/lab3_beyond.rs` includes this file and runs it with some switched on).
#[allow(dead_code)] // in `lab3_beyond` the including crate's own constant is used
const LAB3_FEATURES: &str = "";

use lab::{ELECTION_TIMEOUT, Lab, MAX_LOG_SIZE, SECOND, SNAPSHOT_INTERVAL, ms, seed};

// ---------------------------------------------------------------------------------
// 3A: leader election
// ---------------------------------------------------------------------------------

#[test]
fn initial_election() {
    let servers = 3;
    let mut lab = Lab::new(
        servers,
        false,
        false,
        "Test (3A): initial election",
        seed(301),
    );

    // Is a leader elected?
    lab.check_one_leader();

    // Sleep a bit to avoid racing with followers learning of the election, then check
    // that all peers agree on the term.
    lab.sleep(ms(50));
    let term1 = lab.check_terms();
    if term1 < 1 {
        lab.fail(format!("term is {term1}, but should be at least 1"));
    }

    // Does the leader+term stay the same if there is no network failure?
    lab.sleep(2 * ELECTION_TIMEOUT);
    let term2 = lab.check_terms();
    if term1 != term2 {
        println!("warning: term changed even though there were no failures");
    }

    // There should still be a leader.
    lab.check_one_leader();

    lab.end();
}

#[test]
fn re_election() {
    let servers = 3;
    let mut lab = Lab::new(
        servers,
        false,
        false,
        "Test (3A): election after network failure",
        seed(302),
    );

    let leader1 = lab.check_one_leader();

    // If the leader disconnects, a new one should be elected.
    lab.disconnect(leader1);
    lab.check_one_leader();

    // If the old leader rejoins, that shouldn't disturb the new leader, and the old
    // leader should switch to follower.
    lab.connect(leader1);
    let leader2 = lab.check_one_leader();

    // If there's no quorum, no new leader should be elected.
    lab.disconnect(leader2);
    lab.disconnect((leader2 + 1) % servers);
    lab.sleep(2 * ELECTION_TIMEOUT);

    // Check that the one connected server does not think it is the leader.
    lab.check_no_leader();

    // If a quorum arises, it should elect a leader.
    lab.connect((leader2 + 1) % servers);
    lab.check_one_leader();

    // Re-join of last node shouldn't prevent leader from existing.
    lab.connect(leader2);
    lab.check_one_leader();

    lab.end();
}

#[test]
fn many_elections() {
    let servers = 7;
    let mut lab = Lab::new(
        servers,
        false,
        false,
        "Test (3A): multiple elections",
        seed(303),
    );

    lab.check_one_leader();

    let iters = 10;
    for _ in 1..iters {
        // Disconnect three nodes.
        let i1 = lab.rand_server();
        let i2 = lab.rand_server();
        let i3 = lab.rand_server();
        lab.disconnect(i1);
        lab.disconnect(i2);
        lab.disconnect(i3);

        // Either the current leader should still be alive, or the remaining four
        // should elect a new one.
        lab.check_one_leader();

        lab.connect(i1);
        lab.connect(i2);
        lab.connect(i3);
    }

    lab.check_one_leader();

    lab.end();
}

// ---------------------------------------------------------------------------------
// 3B: log replication
// ---------------------------------------------------------------------------------

#[test]
fn basic_agree() {
    let servers = 3;
    let mut lab = Lab::new(
        servers,
        false,
        false,
        "Test (3B): basic agreement",
        seed(304),
    );

    let iters = 3;
    for index in 1..iters + 1 {
        let (nd, _) = lab.n_committed(index);
        if nd > 0 {
            lab.fail("some have committed before Start()");
        }

        let xindex = lab.one(index * 100, servers, false);
        if xindex != index {
            lab.fail(format!("got index {xindex} but expected {index}"));
        }
    }

    lab.end();
}

#[test]
fn rpc_bytes() {
    let servers = 3;
    let mut lab = Lab::new(
        servers,
        false,
        false,
        "Test (3B): RPC byte count",
        seed(305),
    );

    lab.one(99, servers, false);
    let bytes0 = lab.bytes();

    let iters = 10;
    let mut sent = 0;
    for index in 2..iters + 2 {
        let cmd = lab.rand_string(5000);
        let xindex = lab.one(&cmd, servers, false);
        if xindex != index {
            lab.fail(format!("got index {xindex} but expected {index}"));
        }
        sent += cmd.len() as u64;
    }

    let bytes1 = lab.bytes();
    let got = bytes1 - bytes0;
    let expected = servers as u64 * sent;
    println!(
        "  RPC bytes for {iters} commands of 5000 bytes: {got} (limit {})",
        expected + 50_000
    );
    if got > expected + 50_000 {
        lab.fail(format!(
            "too many RPC bytes; got {got}, expected {expected}"
        ));
    }

    lab.end();
}

#[test]
fn follower_failure() {
    let servers = 3;
    let mut lab = Lab::new(
        servers,
        false,
        false,
        "Test (3B): test progressive failure of followers",
        seed(306),
    );

    let index1 = lab.one(101, servers, false);
    let (nn, _) = lab.n_committed(index1);
    if nn != servers {
        lab.fail(format!("{nn} committed but no majority"));
    }

    // Disconnect one follower from the network.
    let leader1 = lab.check_one_leader();
    lab.disconnect((leader1 + 1) % servers);

    // The leader and remaining follower should be able to agree despite the
    // disconnected follower.
    lab.one(102, servers - 1, false);
    lab.sleep(ELECTION_TIMEOUT);
    lab.one(103, servers - 1, false);

    // Disconnect the remaining follower.
    let leader2 = lab.check_one_leader();
    lab.disconnect((leader2 + 1) % servers);
    lab.disconnect((leader2 + 2) % servers);

    // Submit a command.
    let Some((index, _)) = lab.start(leader2, 104) else {
        lab.fail("leader rejected Start()");
    };
    if index != 4 {
        lab.fail(format!("expected index 4, got {index}"));
    }

    lab.sleep(2 * ELECTION_TIMEOUT);

    // Check that command 104 did not commit.
    let (n, _) = lab.n_committed(index);
    if n > 0 {
        lab.fail(format!("{n} committed but no majority"));
    }

    lab.end();
}

#[test]
fn leader_failure() {
    let servers = 3;
    let mut lab = Lab::new(
        servers,
        false,
        false,
        "Test (3B): test failure of leaders",
        seed(307),
    );

    lab.one(101, servers, false);

    // Disconnect the first leader.
    let leader1 = lab.check_one_leader();
    lab.disconnect(leader1);

    // The remaining followers should elect a new leader.
    lab.one(102, servers - 1, false);
    lab.sleep(ELECTION_TIMEOUT);
    lab.one(103, servers - 1, false);

    // Disconnect the new leader.
    let leader2 = lab.check_one_leader();
    lab.disconnect(leader2);

    // Submit a command to each server.
    for i in 0..servers {
        lab.start(i, 104);
    }

    lab.sleep(2 * ELECTION_TIMEOUT);

    // Check that command 104 did not commit.
    let (n, _) = lab.n_committed(4);
    if n > 0 {
        lab.fail(format!("{n} committed but no majority"));
    }

    lab.end();
}

#[test]
fn fail_agree() {
    let servers = 3;
    let mut lab = Lab::new(
        servers,
        false,
        false,
        "Test (3B): agreement after follower reconnects",
        seed(308),
    );

    lab.one(101, servers, false);

    // Disconnect one follower from the network.
    let leader = lab.check_one_leader();
    lab.disconnect((leader + 1) % servers);

    // The leader and remaining follower should be able to agree despite the
    // disconnected follower.
    lab.one(102, servers - 1, false);
    lab.one(103, servers - 1, false);
    lab.sleep(ELECTION_TIMEOUT);
    lab.one(104, servers - 1, false);
    lab.one(105, servers - 1, false);

    // Re-connect.
    lab.connect((leader + 1) % servers);

    // The full set of servers should preserve previous agreements, and be able to
    // agree on new commands.
    lab.one(106, servers, true);
    lab.sleep(ELECTION_TIMEOUT);
    lab.one(107, servers, true);

    lab.end();
}

#[test]
fn fail_no_agree() {
    let servers = 5;
    let mut lab = Lab::new(
        servers,
        false,
        false,
        "Test (3B): no agreement if too many followers disconnect",
        seed(309),
    );

    lab.one(10, servers, false);

    // 3 of 5 followers disconnect.
    let leader = lab.check_one_leader();
    lab.disconnect((leader + 1) % servers);
    lab.disconnect((leader + 2) % servers);
    lab.disconnect((leader + 3) % servers);

    let Some((index, _)) = lab.start(leader, 20) else {
        lab.fail("leader rejected Start()");
    };
    if index != 2 {
        lab.fail(format!("expected index 2, got {index}"));
    }

    lab.sleep(2 * ELECTION_TIMEOUT);

    let (n, _) = lab.n_committed(index);
    if n > 0 {
        lab.fail(format!("{n} committed but no majority"));
    }

    // Repair.
    lab.connect((leader + 1) % servers);
    lab.connect((leader + 2) % servers);
    lab.connect((leader + 3) % servers);

    // The disconnected majority may have chosen a leader from among their own ranks,
    // forgetting index 2.
    let leader2 = lab.check_one_leader();
    let Some((index2, _)) = lab.start(leader2, 30) else {
        lab.fail("leader2 rejected Start()");
    };
    if !(2..=3).contains(&index2) {
        lab.fail(format!("unexpected index {index2}"));
    }

    lab.one(1000, servers, true);

    lab.end();
}

#[test]
fn concurrent_starts() {
    let servers = 3;
    let mut lab = Lab::new(
        servers,
        false,
        false,
        "Test (3B): concurrent Start()s",
        seed(310),
    );

    let mut success = false;
    'tries: for attempt in 0..5 {
        if attempt > 0 {
            // Give the solution some time to settle.
            lab.sleep(3 * SECOND);
        }

        let leader = lab.check_one_leader();
        let Some((_, term)) = lab.start(leader, 1) else {
            // Leader moved on really quickly.
            continue;
        };

        // Five goroutines call Start() at once: here, one after the other in a seeded
        // random order, with no time passing in between.
        let iters = 5;
        let mut order: Vec<u64> = (0..iters).collect();
        lab.shuffle(&mut order);
        let mut is = Vec::new();
        for i in order {
            if let Some((index, term1)) = lab.start(leader, 100 + i)
                && term1 == term
            {
                is.push(index);
            }
        }

        for j in 0..servers {
            if lab.get_state(j).0 != term {
                // Term changed: can't expect low RPC counts.
                continue 'tries;
            }
        }

        let mut cmds = Vec::new();
        for index in is {
            match lab.wait(index, servers, Some(term)) {
                // Peers have moved on to later terms, so we can't expect all Start()s
                // to have succeeded.
                None => continue 'tries,
                Some(cmd) => match cmd.parse::<u64>() {
                    Ok(ix) => cmds.push(ix),
                    Err(_) => lab.fail(format!("value {cmd} is not an int")),
                },
            }
        }

        for ii in 0..iters {
            let x = 100 + ii;
            if !cmds.contains(&x) {
                lab.fail(format!("cmd {x} missing in {cmds:?}"));
            }
        }

        success = true;
        break;
    }

    if !success {
        lab.fail("term changed too often");
    }

    lab.end();
}

#[test]
fn rejoin() {
    let servers = 3;
    let mut lab = Lab::new(
        servers,
        false,
        false,
        "Test (3B): rejoin of partitioned leader",
        seed(311),
    );

    lab.one(101, servers, true);

    // Leader network failure.
    let leader1 = lab.check_one_leader();
    lab.disconnect(leader1);

    // Make the old leader try to agree on some entries.
    lab.start(leader1, 102);
    lab.start(leader1, 103);
    lab.start(leader1, 104);

    // New leader commits, also for index=2.
    lab.one(103, 2, true);

    // New leader network failure.
    let leader2 = lab.check_one_leader();
    lab.disconnect(leader2);

    // Old leader connected again.
    lab.connect(leader1);

    lab.one(104, 2, true);

    // All together now.
    lab.connect(leader2);

    lab.one(105, servers, true);

    lab.end();
}

#[test]
fn backup() {
    let servers = 5;
    let mut lab = Lab::new(
        servers,
        false,
        false,
        "Test (3B): leader backs up quickly over incorrect follower logs",
        seed(312),
    );

    let cmd = lab.rand_int();
    lab.one(cmd, servers, true);

    // Put the leader and one follower in a partition.
    let leader1 = lab.check_one_leader();
    lab.disconnect((leader1 + 2) % servers);
    lab.disconnect((leader1 + 3) % servers);
    lab.disconnect((leader1 + 4) % servers);

    // Submit lots of commands that won't commit.
    for _ in 0..50 {
        let cmd = lab.rand_int();
        lab.start(leader1, cmd);
    }

    lab.sleep(ELECTION_TIMEOUT / 2);

    lab.disconnect(leader1 % servers);
    lab.disconnect((leader1 + 1) % servers);

    // Allow the other partition to recover.
    lab.connect((leader1 + 2) % servers);
    lab.connect((leader1 + 3) % servers);
    lab.connect((leader1 + 4) % servers);

    // Lots of successful commands to the new group.
    for _ in 0..50 {
        let cmd = lab.rand_int();
        lab.one(cmd, 3, true);
    }

    // Now another partitioned leader and one follower.
    let leader2 = lab.check_one_leader();
    let mut other = (leader1 + 2) % servers;
    if leader2 == other {
        other = (leader2 + 1) % servers;
    }
    lab.disconnect(other);

    // Lots more commands that won't commit.
    for _ in 0..50 {
        let cmd = lab.rand_int();
        lab.start(leader2, cmd);
    }

    lab.sleep(ELECTION_TIMEOUT / 2);

    // Bring the original leader back to life.
    for i in 0..servers {
        lab.disconnect(i);
    }
    lab.connect(leader1 % servers);
    lab.connect((leader1 + 1) % servers);
    lab.connect(other);

    // Lots of successful commands to the new group.
    for _ in 0..50 {
        let cmd = lab.rand_int();
        lab.one(cmd, 3, true);
    }

    // Now everyone.
    for i in 0..servers {
        lab.connect(i);
    }
    let cmd = lab.rand_int();
    lab.one(cmd, servers, true);

    lab.end();
}

#[test]
fn count() {
    let servers = 3;
    let mut lab = Lab::new(
        servers,
        false,
        false,
        "Test (3B): RPC counts aren't too high",
        seed(313),
    );

    // The lab's limits are in RPCs; a message here is half an RPC (request or reply).
    let rpcs = |lab: &Lab| lab.messages();

    lab.check_one_leader();

    let total1 = rpcs(&lab);
    println!("  messages to elect the initial leader: {total1} (limit 60)");
    if !(1..=30 * 2).contains(&total1) {
        lab.fail(format!(
            "too many or few RPCs ({total1}) to elect initial leader"
        ));
    }

    let mut total2 = 0;
    let mut success = false;
    'tries: for attempt in 0..5 {
        if attempt > 0 {
            // Give the solution some time to settle.
            lab.sleep(3 * SECOND);
        }

        let leader = lab.check_one_leader();
        let total1 = rpcs(&lab);

        let iters = 10;
        let Some((starti, term)) = lab.start(leader, 1) else {
            // Leader moved on really quickly.
            continue;
        };
        let mut cmds = Vec::new();
        for i in 1..iters + 2 {
            let x = lab.rand_int31();
            cmds.push(x.to_string());
            match lab.start(leader, x) {
                // No longer the leader, so the term has changed.
                None => continue 'tries,
                // Term changed while starting.
                Some((_, term1)) if term1 != term => continue 'tries,
                Some((index1, _)) => {
                    if starti + i != index1 {
                        lab.fail("Start() failed");
                    }
                }
            }
        }

        for i in 1..iters + 1 {
            match lab.wait(starti + i, servers, Some(term)) {
                // Term changed: try again.
                None => continue 'tries,
                Some(cmd) if cmd != cmds[i as usize - 1] => lab.fail(format!(
                    "wrong value {cmd} committed for index {}; expected {cmds:?}",
                    starti + i
                )),
                Some(_) => {}
            }
        }

        let mut failed = false;
        total2 = rpcs(&lab);
        for j in 0..servers {
            if lab.get_state(j).0 != term {
                // Term changed: can't expect low RPC counts.
                failed = true;
            }
        }

        if failed {
            continue;
        }

        let used = total2 - total1;
        println!(
            "  messages for {} entries: {used} (limit {})",
            iters + 2,
            (iters + 1 + 3) * 3 * 2
        );
        if used > (iters + 1 + 3) * 3 * 2 {
            lab.fail(format!("too many RPCs ({used}) for {iters} entries"));
        }

        success = true;
        break;
    }

    if !success {
        lab.fail("term changed too often");
    }

    lab.sleep(ELECTION_TIMEOUT);

    let total3 = rpcs(&lab);
    let idle = total3 - total2;
    println!("  messages in 1 second ({SECOND} ticks) of idleness: {idle} (limit 120)");
    if idle > 3 * 20 * 2 {
        lab.fail(format!("too many RPCs ({idle}) for 1 second of idleness"));
    }

    lab.end();
}

// ---------------------------------------------------------------------------------
// 3C: persistence
// ---------------------------------------------------------------------------------

#[test]
fn persist1() {
    let servers = 3;
    let mut lab = Lab::new(
        servers,
        false,
        false,
        "Test (3C): basic persistence",
        seed(314),
    );

    lab.one(11, servers, true);

    // Crash and re-start all.
    for i in 0..servers {
        lab.start1(i);
    }
    for i in 0..servers {
        lab.disconnect(i);
        lab.connect(i);
    }

    lab.one(12, servers, true);

    let leader1 = lab.check_one_leader();
    lab.disconnect(leader1);
    lab.start1(leader1);
    lab.connect(leader1);

    lab.one(13, servers, true);

    let leader2 = lab.check_one_leader();
    lab.disconnect(leader2);
    lab.one(14, servers - 1, true);
    lab.start1(leader2);
    lab.connect(leader2);

    // Wait for leader2 to join before killing i3.
    lab.wait(4, servers, None);

    let i3 = (lab.check_one_leader() + 1) % servers;
    lab.disconnect(i3);
    lab.one(15, servers - 1, true);
    lab.start1(i3);
    lab.connect(i3);

    lab.one(16, servers, true);

    lab.end();
}

#[test]
fn persist2() {
    let servers = 5;
    let mut lab = Lab::new(
        servers,
        false,
        false,
        "Test (3C): more persistence",
        seed(315),
    );

    let mut index = 1;
    for _ in 0..5 {
        lab.one(10 + index, servers, true);
        index += 1;

        let leader1 = lab.check_one_leader();

        lab.disconnect((leader1 + 1) % servers);
        lab.disconnect((leader1 + 2) % servers);

        lab.one(10 + index, servers - 2, true);
        index += 1;

        lab.disconnect(leader1 % servers);
        lab.disconnect((leader1 + 3) % servers);
        lab.disconnect((leader1 + 4) % servers);

        lab.start1((leader1 + 1) % servers);
        lab.start1((leader1 + 2) % servers);
        lab.connect((leader1 + 1) % servers);
        lab.connect((leader1 + 2) % servers);

        lab.sleep(ELECTION_TIMEOUT);

        lab.start1((leader1 + 3) % servers);
        lab.connect((leader1 + 3) % servers);

        lab.one(10 + index, servers - 2, true);
        index += 1;

        lab.connect((leader1 + 4) % servers);
        lab.connect(leader1 % servers);
    }

    lab.one(1000, servers, true);

    lab.end();
}

#[test]
fn persist3() {
    let servers = 3;
    let mut lab = Lab::new(
        servers,
        false,
        false,
        "Test (3C): partitioned leader and one follower crash, leader restarts",
        seed(316),
    );

    lab.one(101, 3, true);

    let leader = lab.check_one_leader();
    lab.disconnect((leader + 2) % servers);

    lab.one(102, 2, true);

    lab.crash1(leader % servers);
    lab.crash1((leader + 1) % servers);
    lab.connect((leader + 2) % servers);
    lab.start1(leader % servers);
    lab.connect(leader % servers);

    lab.one(103, 2, true);

    lab.start1((leader + 1) % servers);
    lab.connect((leader + 1) % servers);

    lab.one(104, servers, true);

    lab.end();
}

/// The Figure 8 tests' pause after each round of Start()s: 10% of the time up to half
/// an election timeout (0–499 ms: 0–9 ticks), otherwise 0–12 ms (0–1 ticks).
fn figure8_pause(lab: &mut Lab) -> u64 {
    if lab.chance(100) {
        lab.rand_below(ELECTION_TIMEOUT / 2)
    } else {
        lab.rand_below(2)
    }
}

#[test]
fn figure8() {
    let servers = 5;
    let mut lab = Lab::new(servers, false, false, "Test (3C): Figure 8", seed(317));

    let cmd = lab.rand_int();
    lab.one(cmd, 1, true);

    let mut nup = servers;
    for _ in 0..1000 {
        let mut leader = None;
        for i in 0..servers {
            if lab.up(i) {
                let cmd = lab.rand_int();
                if lab.start(i, cmd).is_some() {
                    leader = Some(i);
                }
            }
        }

        let pause = figure8_pause(&mut lab);
        lab.sleep(pause);

        if let Some(leader) = leader {
            lab.crash1(leader);
            nup -= 1;
        }

        if nup < 3 {
            let s = lab.rand_server();
            if !lab.up(s) {
                lab.start1(s);
                lab.connect(s);
                nup += 1;
            }
        }
    }

    for i in 0..servers {
        if !lab.up(i) {
            lab.start1(i);
            lab.connect(i);
        }
    }

    let cmd = lab.rand_int();
    lab.one(cmd, servers, true);

    lab.end();
}

#[test]
fn unreliable_agree() {
    let servers = 5;
    let mut lab = Lab::new(
        servers,
        true,
        false,
        "Test (3C): unreliable agreement",
        seed(318),
    );

    for iters in 1..50 {
        for j in 0..4 {
            lab.spawn_one(100 * iters + j, 1, true);
        }
        lab.one(iters, 1, true);
    }

    lab.set_unreliable(false);

    // wg.Wait(). A goroutine's one() fails by itself after its 10 s budget (plus the
    // 2 s wait for the index it last got), so this bound never decides the outcome.
    lab.join_tasks(13 * SECOND, "a one() goroutine never returned");

    lab.one(100, servers, true);

    lab.end();
}

#[test]
fn figure8_unreliable() {
    let servers = 5;
    let mut lab = Lab::new(
        servers,
        true,
        false,
        "Test (3C): Figure 8 (unreliable)",
        seed(319),
    );

    let cmd = lab.rand_below(10_000);
    lab.one(cmd, 1, true);

    let mut nup = servers;
    for iters in 0..1000 {
        if iters == 200 {
            lab.set_long_reordering(true);
        }
        let mut leader = None;
        for i in 0..servers {
            let cmd = lab.rand_below(10_000);
            if lab.start(i, cmd).is_some() && lab.connected(i) {
                leader = Some(i);
            }
        }

        let pause = figure8_pause(&mut lab);
        lab.sleep(pause);

        if let Some(leader) = leader
            && lab.chance(500)
        {
            lab.disconnect(leader);
            nup -= 1;
        }

        if nup < 3 {
            let s = lab.rand_server();
            if !lab.connected(s) {
                lab.connect(s);
                nup += 1;
            }
        }
    }

    for i in 0..servers {
        if !lab.connected(i) {
            lab.connect(i);
        }
    }

    // Unreliable and long reordering stay on for the final agreement.
    let cmd = lab.rand_below(10_000);
    lab.one(cmd, servers, true);

    lab.end();
}

/// `internalChurn`: three clients keep offering values while servers are
/// disconnected, crashed and restarted; afterwards every server must hold every
/// entry, and every value a client saw committed must be in the log.
fn internal_churn(unreliable: bool, seed: u64) {
    let servers = 5;
    let desc = if unreliable {
        "Test (3C): unreliable churn"
    } else {
        "Test (3C): churn"
    };
    let mut lab = Lab::new(servers, unreliable, false, desc, seed);

    // Create concurrent clients.
    let ncli = 3;
    for me in 0..ncli {
        lab.spawn_churn_client(me);
    }

    for _ in 0..20 {
        if lab.chance(200) {
            let i = lab.rand_server();
            lab.disconnect(i);
        }

        if lab.chance(500) {
            let i = lab.rand_server();
            if !lab.up(i) {
                lab.start1(i);
            }
            lab.connect(i);
        }

        if lab.chance(200) {
            let i = lab.rand_server();
            if lab.up(i) {
                lab.crash1(i);
            }
        }

        // Make crash/restart infrequent enough that the peers can often keep up, but
        // not so infrequent that everything has settled down from one change to the
        // next. Pick a value smaller than the election timeout, but not hugely smaller.
        lab.sleep(ELECTION_TIMEOUT * 7 / 10);
    }

    lab.sleep(ELECTION_TIMEOUT);
    lab.set_unreliable(false);
    for i in 0..servers {
        if !lab.up(i) {
            lab.start1(i);
        }
        lab.connect(i);
    }

    lab.stop_clients();

    // A client finishes its current attempt (at most 20 ticks of polling) and returns.
    let values: Vec<String> = lab
        .join_tasks(SECOND, "client failed")
        .into_iter()
        .flatten()
        .collect();

    lab.sleep(ELECTION_TIMEOUT);

    let cmd = lab.rand_int();
    let last_index = lab.one(cmd, servers, true);

    let mut really = Vec::new();
    for index in 1..=last_index {
        match lab.wait(index, servers, None) {
            Some(v) if v.parse::<u64>().is_ok() => really.push(v),
            _ => lab.fail("not an int"),
        }
    }

    for v1 in &values {
        if !really.contains(v1) {
            lab.fail("didn't find a value");
        }
    }
    println!(
        "  clients saw {} values committed; the log holds {last_index} entries",
        values.len()
    );

    lab.end();
}

#[test]
fn reliable_churn() {
    internal_churn(false, seed(320));
}

#[test]
fn unreliable_churn() {
    internal_churn(true, seed(321));
}

// ---------------------------------------------------------------------------------
// 3D: log compaction
// ---------------------------------------------------------------------------------

/// `snapcommon`: 30 rounds of sending enough entries for a snapshot while a victim is
/// disconnected or crashed (or not), then bringing it back, so that it must catch up
/// by InstallSnapshot; the persisted Raft state must stay small throughout.
fn snapcommon(desc: &'static str, disconnect: bool, reliable: bool, crash: bool, seed: u64) {
    let iters = 30;
    let servers = 3;
    let mut lab = Lab::new(servers, !reliable, true, desc, seed);

    let cmd = lab.rand_int();
    lab.one(cmd, servers, true);
    let mut leader1 = lab.check_one_leader();

    let mut max_log_size = 0;
    for i in 0..iters {
        let mut victim = (leader1 + 1) % servers;
        let mut sender = leader1;
        if i % 3 == 1 {
            sender = (leader1 + 1) % servers;
            victim = leader1;
        }

        if disconnect {
            lab.disconnect(victim);
            let cmd = lab.rand_int();
            lab.one(cmd, servers - 1, true);
        }
        if crash {
            lab.crash1(victim);
            let cmd = lab.rand_int();
            lab.one(cmd, servers - 1, true);
        }

        // Perhaps send enough to get a snapshot.
        let nn = SNAPSHOT_INTERVAL / 2 + lab.rand_below(SNAPSHOT_INTERVAL);
        for _ in 0..nn {
            let cmd = lab.rand_int();
            lab.start(sender, cmd);
        }

        // Let applier threads catch up with the Start()s.
        let cmd = lab.rand_int();
        if !disconnect && !crash {
            // Make sure all followers have caught up, so that an InstallSnapshot RPC
            // isn't required for TestSnapshotBasic3D().
            lab.one(cmd, servers, true);
        } else {
            lab.one(cmd, servers - 1, true);
        }

        let log_size = lab.log_size();
        max_log_size = max_log_size.max(log_size);
        if log_size >= MAX_LOG_SIZE {
            lab.fail(format!("Log size too large ({log_size} bytes)"));
        }
        if disconnect {
            // Reconnect a follower, who maybe behind and needs to receive a snapshot
            // to catch up.
            lab.connect(victim);
            let cmd = lab.rand_int();
            lab.one(cmd, servers, true);
            leader1 = lab.check_one_leader();
        }
        if crash {
            lab.start1(victim);
            lab.connect(victim);
            let cmd = lab.rand_int();
            lab.one(cmd, servers, true);
            leader1 = lab.check_one_leader();
        }
    }
    println!("  largest persisted Raft state: {max_log_size} bytes (limit {MAX_LOG_SIZE})");
    lab.end();
}

#[test]
fn snapshot_basic() {
    snapcommon("Test (3D): snapshots basic", false, true, false, seed(322));
}

#[test]
fn snapshot_install() {
    snapcommon(
        "Test (3D): install snapshots (disconnect)",
        true,
        true,
        false,
        seed(323),
    );
}

#[test]
fn snapshot_install_unreliable() {
    snapcommon(
        "Test (3D): install snapshots (disconnect+unreliable)",
        true,
        false,
        false,
        seed(324),
    );
}

#[test]
fn snapshot_install_crash() {
    snapcommon(
        "Test (3D): install snapshots (crash)",
        false,
        true,
        true,
        seed(325),
    );
}

#[test]
fn snapshot_install_uncrash() {
    snapcommon(
        "Test (3D): install snapshots (unreliable+crash)",
        false,
        false,
        true,
        seed(326),
    );
}

#[test]
fn snapshot_all_crash() {
    let servers = 3;
    let iters = 5;
    let mut lab = Lab::new(
        servers,
        false,
        true,
        "Test (3D): crash and restart all servers",
        seed(327),
    );

    let cmd = lab.rand_int();
    lab.one(cmd, servers, true);

    for _ in 0..iters {
        // Perhaps enough to get a snapshot.
        let nn = SNAPSHOT_INTERVAL / 2 + lab.rand_below(SNAPSHOT_INTERVAL);
        for _ in 0..nn {
            let cmd = lab.rand_int();
            lab.one(cmd, servers, true);
        }

        let cmd = lab.rand_int();
        let index1 = lab.one(cmd, servers, true);

        // Crash all.
        for i in 0..servers {
            lab.crash1(i);
        }

        // Revive all.
        for i in 0..servers {
            lab.start1(i);
            lab.connect(i);
        }

        let cmd = lab.rand_int();
        let index2 = lab.one(cmd, servers, true);
        if index2 < index1 + 1 {
            lab.fail(format!("index decreased from {index1} to {index2}"));
        }
    }

    lab.end();
}

#[test]
fn snapshot_init() {
    let servers = 3;
    let mut lab = Lab::new(
        servers,
        false,
        true,
        "Test (3D): snapshot initialization after crash",
        seed(328),
    );

    let cmd = lab.rand_int();
    lab.one(cmd, servers, true);

    // Enough ops to make a snapshot.
    let nn = SNAPSHOT_INTERVAL + 1;
    for _ in 0..nn {
        let cmd = lab.rand_int();
        lab.one(cmd, servers, true);
    }

    // Crash all.
    for i in 0..servers {
        lab.crash1(i);
    }

    // Revive all.
    for i in 0..servers {
        lab.start1(i);
        lab.connect(i);
    }

    // A single op, to get something to be written back to persistent storage.
    let cmd = lab.rand_int();
    lab.one(cmd, servers, true);

    // Crash all.
    for i in 0..servers {
        lab.crash1(i);
    }

    // Revive all.
    for i in 0..servers {
        lab.start1(i);
        lab.connect(i);
    }

    // Do another op to trigger a potential bug.
    let cmd = lab.rand_int();
    lab.one(cmd, servers, true);

    lab.end();
}
