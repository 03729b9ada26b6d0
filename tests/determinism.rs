//! Determinism: a run is a pure function of its seed and the sequence of calls.
//!
//! Two clusters built with the same seed and driven by the same calls (faults,
//! crashes, partitions, submits, snapshots, stepping by hand, thousands of ticks) must
//! end in the same state with the same history, event for event, even when they run
//! at the same time on different threads of a busy machine. Different seeds must give
//! different histories: otherwise the seed would not reach the random choices.

use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, Ordering};

use raft_playground::cluster::trace::TraceEvent;
use raft_playground::{Cluster, Config, NodeId, NodeStatus, Stats};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// How many trace events each run keeps and compares (more than any run here records,
/// so the whole history is compared event by event, not only through the digest).
const TRACE_CAPACITY: usize = 200_000;

/// One call on a cluster. Calls that name a node's role ("the leader", "the first
/// message in flight") are resolved against the cluster when they run, so they test
/// that both clusters are in the same state at that moment.
#[derive(Clone, Debug)]
enum Call {
    Tick(u64),
    SubmitToLeader(String),
    SubmitTo(NodeId, String),
    Crash(NodeId),
    Restart(NodeId),
    Disconnect(NodeId),
    Connect(NodeId),
    Partition(Vec<Vec<NodeId>>),
    Heal,
    DropRate(f64),
    Latency(u64, u64),
    DuplicateRate(f64),
    Unreliable(bool),
    LongReordering(bool),
    Snapshot(NodeId),
    AutoSnapshot(Option<u64>),
    Timeout(NodeId),
    DeliverFirstInFlight,
    DropFirstInFlight,
}

/// A random but fixed call sequence for a cluster of `nodes`, from `script_seed`
/// alone. It ends with a healed network and enough ticks for a leader to commit.
fn script(script_seed: u64, nodes: usize, length: usize) -> Vec<Call> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(script_seed);
    let mut calls = vec![Call::Tick(40)];
    for number in 0..length {
        let node = rng.random_range(1..=nodes);
        let command = format!("set k{} v{number}", number % 5);
        let call = match rng.random_range(0..100) {
            0..35 => Call::Tick(rng.random_range(1..=15)),
            35..55 => Call::SubmitToLeader(command),
            55..58 => Call::SubmitTo(node, command),
            58..61 => Call::Crash(node),
            61..66 => Call::Restart(node),
            66..68 => Call::Disconnect(node),
            68..71 => Call::Connect(node),
            71..74 => {
                let mut groups = vec![Vec::new(), Vec::new()];
                for id in 1..=nodes {
                    groups[rng.random_range(0..2)].push(id);
                }
                Call::Partition(groups)
            }
            74..78 => Call::Heal,
            78..80 => Call::DropRate([0.0, 0.1, 0.3][rng.random_range(0..3)]),
            80..82 => {
                let min = rng.random_range(1..=2);
                Call::Latency(min, min + rng.random_range(0..=6))
            }
            82..84 => Call::DuplicateRate([0.0, 0.1, 0.3][rng.random_range(0..3)]),
            84..86 => Call::Unreliable(rng.random_bool(0.5)),
            86..88 => Call::LongReordering(rng.random_bool(0.5)),
            88..91 => Call::Snapshot(node),
            91..93 => Call::AutoSnapshot(rng.random_bool(0.5).then_some(5)),
            93..95 => Call::Timeout(node),
            95..98 => Call::DeliverFirstInFlight,
            _ => Call::DropFirstInFlight,
        };
        calls.push(call);
    }
    calls.extend([
        Call::Heal,
        Call::DropRate(0.0),
        Call::Latency(1, 1),
        Call::DuplicateRate(0.0),
        Call::Unreliable(false),
        Call::LongReordering(false),
    ]);
    calls.extend((1..=nodes).map(Call::Connect));
    calls.extend([
        Call::Tick(100),
        Call::SubmitToLeader("set last 1".to_string()),
        Call::Tick(100),
    ]);
    calls
}

/// Makes one call; returns what the caller could observe of its result.
fn call(cluster: &mut Cluster, call: &Call) -> String {
    match call {
        Call::Tick(ticks) => {
            cluster.tick(*ticks);
            format!("tick -> {}", cluster.now())
        }
        Call::SubmitToLeader(command) => match cluster.leader() {
            Some(leader) => format!("submit n{leader}: {:?}", cluster.submit(leader, command)),
            None => "submit: no leader".to_string(),
        },
        Call::SubmitTo(node, command) => {
            format!("submit n{node}: {:?}", cluster.submit(*node, command))
        }
        Call::Crash(node) => {
            cluster.crash(*node);
            format!("crash n{node}")
        }
        Call::Restart(node) => {
            cluster.restart(*node);
            format!("restart n{node}")
        }
        Call::Disconnect(node) => {
            cluster.disconnect(*node);
            format!("disconnect n{node}")
        }
        Call::Connect(node) => {
            cluster.connect(*node);
            format!("connect n{node}")
        }
        Call::Partition(groups) => format!("partition {groups:?}: {:?}", cluster.partition(groups)),
        Call::Heal => {
            cluster.heal();
            "heal".to_string()
        }
        Call::DropRate(rate) => format!("drop {rate}: {:?}", cluster.set_drop_rate(*rate)),
        Call::Latency(min, max) => format!(
            "latency {min}..{max}: {:?}",
            cluster.set_latency(*min, *max)
        ),
        Call::DuplicateRate(rate) => {
            format!("duplicate {rate}: {:?}", cluster.set_duplicate_rate(*rate))
        }
        Call::Unreliable(on) => {
            cluster.set_unreliable(*on);
            format!("unreliable {on}")
        }
        Call::LongReordering(on) => {
            cluster.set_long_reordering(*on);
            format!("long reordering {on}")
        }
        Call::Snapshot(node) => format!("snapshot n{node}: {:?}", cluster.take_snapshot(*node)),
        Call::AutoSnapshot(every) => {
            cluster.set_auto_snapshot(*every);
            format!("auto-snapshot {every:?}")
        }
        Call::Timeout(node) => format!("timeout n{node}: {:?}", cluster.timeout(*node)),
        Call::DeliverFirstInFlight => match cluster.in_flight().first() {
            Some(message) => format!("deliver {}: {:?}", message.id, cluster.deliver(message.id)),
            None => "deliver: nothing in flight".to_string(),
        },
        Call::DropFirstInFlight => match cluster.in_flight().first() {
            Some(message) => format!(
                "drop message {}: {:?}",
                message.id,
                cluster.drop_message(message.id)
            ),
            None => "drop message: nothing in flight".to_string(),
        },
    }
}

/// Everything observable at the end of a run.
#[derive(Clone, Debug, PartialEq)]
struct Outcome {
    /// What each call returned.
    transcript: Vec<String>,
    /// The final tick.
    now: u64,
    /// Every node's status.
    statuses: Vec<NodeStatus>,
    /// The digest of the whole trace.
    digest: u64,
    /// The whole trace, event by event.
    events: Vec<TraceEvent>,
    /// Traffic counters.
    stats: Stats,
    /// Broken invariants, if any.
    violations: Vec<String>,
    /// For each index up to the highest applied: how many nodes applied it, and what.
    applied: Vec<(usize, Option<String>)>,
}

/// Builds a cluster of `nodes` with `seed` and drives it through `calls`.
fn run(seed: u64, nodes: usize, calls: &[Call]) -> Outcome {
    let mut config = Config::new(nodes).seed(seed);
    config.trace_capacity = TRACE_CAPACITY;
    let mut cluster = Cluster::new(config);
    let transcript = calls.iter().map(|each| call(&mut cluster, each)).collect();
    let highest = cluster.checker().max_applied();
    Outcome {
        transcript,
        now: cluster.now(),
        statuses: (1..=nodes).map(|id| cluster.status(id)).collect(),
        digest: cluster.history_digest(),
        events: cluster.events(TRACE_CAPACITY),
        stats: cluster.stats(),
        violations: cluster.violations(),
        applied: (1..=highest)
            .map(|index| cluster.applied_count(index))
            .collect(),
    }
}

/// Where two lists first differ, for a readable failure.
fn first_difference<T: PartialEq + Debug>(a: &[T], b: &[T]) -> String {
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(at) => format!("first difference at #{at}:\n  {:?}\n  {:?}", a[at], b[at]),
        None => format!(
            "one is a prefix of the other ({} vs {} items)",
            a.len(),
            b.len()
        ),
    }
}

/// Asserts two outcomes are equal, field by field, saying where they part.
fn assert_same(a: &Outcome, b: &Outcome, what: &str) {
    assert!(
        a.transcript == b.transcript,
        "{what}: call results differ, {}",
        first_difference(&a.transcript, &b.transcript)
    );
    assert!(
        a.events == b.events,
        "{what}: events differ, {}",
        first_difference(&a.events, &b.events)
    );
    assert_eq!(a.now, b.now, "{what}: final tick");
    assert_eq!(a.statuses, b.statuses, "{what}: node statuses");
    assert_eq!(a.digest, b.digest, "{what}: history digest");
    assert_eq!(a.stats, b.stats, "{what}: traffic stats");
    assert_eq!(a.violations, b.violations, "{what}: violations");
    assert_eq!(a.applied, b.applied, "{what}: applied commands");
    assert_eq!(a, b, "{what}");
}

/// Checks that a run did enough for its comparison to mean something.
fn assert_eventful(outcome: &Outcome, nodes: usize, what: &str) {
    let committed = outcome.applied.len();
    assert!(committed >= 10, "{what}: only {committed} commands applied");
    let least_events = if nodes > 1 { 200 } else { 100 };
    assert!(
        outcome.events.len() >= least_events,
        "{what}: only {} events",
        outcome.events.len()
    );
    let accepted = outcome
        .transcript
        .iter()
        .filter(|line| line.starts_with("submit") && line.contains(": Ok(("))
        .count();
    assert!(accepted >= 10, "{what}: only {accepted} commands accepted");
    let count = |kind: &str| {
        outcome
            .events
            .iter()
            .filter(|event| format!("{:?}", event.kind).contains(kind))
            .count()
    };
    for kind in ["Crashed", "Restarted", "SnapshotTaken", "BecameLeader"] {
        assert!(count(kind) > 0, "{what}: no {kind} event");
    }
    assert!(
        outcome.now >= 1000,
        "{what}: only {} ticks were simulated",
        outcome.now
    );
    if nodes > 1 {
        assert!(
            outcome.stats.messages_delivered > 100,
            "{what}: {:?}",
            outcome.stats
        );
        assert!(
            outcome.stats.messages_dropped > 0,
            "{what}: {:?}",
            outcome.stats
        );
        assert!(
            outcome.stats.messages_duplicated > 0,
            "{what}: {:?}",
            outcome.stats
        );
    }
}

/// The (cluster seed, size) pairs compared, each with its own script.
const CASES: [(u64, usize); 7] = [(1, 3), (2, 5), (3, 3), (4, 7), (5, 1), (6, 5), (7, 3)];

#[test]
fn same_seed_and_calls_give_the_same_history() {
    for (seed, nodes) in CASES {
        let calls = script(seed * 1000, nodes, 400);
        let first = run(seed, nodes, &calls);
        let second = run(seed, nodes, &calls);
        let what = format!("seed {seed}, {nodes} nodes");
        assert_eventful(&first, nodes, &what);
        assert_same(&first, &second, &what);
    }
}

#[test]
fn different_seeds_give_different_histories() {
    for (a, b, nodes) in [
        (1, 2, 3),
        (10, 11, 5),
        (100, 101, 3),
        (7, 1007, 5),
        (0, 1, 7),
    ] {
        let calls = script(42, nodes, 300);
        let first = run(a, nodes, &calls);
        let second = run(b, nodes, &calls);
        assert_ne!(
            first.digest, second.digest,
            "seeds {a} and {b} ({nodes} nodes) gave the same history"
        );
        assert_ne!(
            first.events, second.events,
            "seeds {a} and {b} ({nodes} nodes)"
        );
    }
}

/// Runs `seed` twice at once on two threads, with `spinners` more threads burning
/// CPU meanwhile, and returns both outcomes.
fn run_twice_at_once(
    seed: u64,
    nodes: usize,
    calls: &[Call],
    spinners: usize,
) -> (Outcome, Outcome) {
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let spinning: Vec<_> = (0..spinners)
            .map(|_| {
                scope.spawn(|| {
                    let mut spins = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        spins = std::hint::black_box(spins + 1);
                        std::hint::spin_loop();
                    }
                    spins
                })
            })
            .collect();
        let first = scope.spawn(|| run(seed, nodes, calls));
        let second = scope.spawn(|| run(seed, nodes, calls));
        let outcomes = (
            first.join().expect("the first run finishes"),
            second.join().expect("the second run finishes"),
        );
        stop.store(true, Ordering::Relaxed);
        for spinner in spinning {
            let spins = spinner.join().expect("a spinner finishes");
            assert!(spins > 0, "the spinner never ran");
        }
        outcomes
    })
}

#[test]
fn determinism_holds_with_two_runs_at_once() {
    for (seed, nodes) in [(21, 3), (22, 5), (23, 7)] {
        let calls = script(seed, nodes, 400);
        let alone = run(seed, nodes, &calls);
        let what = format!("seed {seed}, {nodes} nodes");
        assert_eventful(&alone, nodes, &what);
        let (first, second) = run_twice_at_once(seed, nodes, &calls, 0);
        assert_same(&alone, &first, &format!("{what}, two runs at once (first)"));
        assert_same(
            &alone,
            &second,
            &format!("{what}, two runs at once (second)"),
        );
    }
}

/// A spinning thread holds a core, so on a small machine the node threads of both
/// runs keep getting preempted mid-tick. Shorter scripts keep this test quick.
#[test]
fn determinism_holds_while_a_thread_spins() {
    for (seed, nodes) in [(24, 3), (25, 5)] {
        let calls = script(seed, nodes, 120);
        let alone = run(seed, nodes, &calls);
        let what = format!("seed {seed}, {nodes} nodes, two runs at once and a spinning thread");
        assert!(
            alone.applied.len() >= 3 && alone.events.len() >= 100,
            "{what}: too little happened to compare ({} applied, {} events)",
            alone.applied.len(),
            alone.events.len()
        );
        let (first, second) = run_twice_at_once(seed, nodes, &calls, 1);
        assert_same(&alone, &first, &format!("{what} (first)"));
        assert_same(&alone, &second, &format!("{what} (second)"));
    }
}
