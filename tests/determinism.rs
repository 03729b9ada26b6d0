//! Determinism: a run is a pure function of its seed and the sequence of actions.
//!
//! A random driver picks [`Action`]s online, from its own generator and the
//! cluster's state (whom to submit to, which message to deliver), and records them.
//! Replaying the recorded actions on a cluster built with the same seed (faults,
//! crashes, partitions, submits, snapshots, stepping by hand, thousands of ticks)
//! must end in the same state with the same history, event for event, even when
//! replays run at the same time on different threads of a busy machine. The same
//! actions on a different seed must give a different history: otherwise the seed
//! would not reach the random choices.

use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, Ordering};

use raft_playground::cli::parse_action;
use raft_playground::cluster::TraceEvent;
use raft_playground::{Action, Cluster, Config, NodeId, NodeStatus, Stats};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// How many trace events each run keeps and compares (more than any run here records,
/// so the whole history is compared event by event, not only through the digest).
const TRACE_CAPACITY: usize = 200_000;

/// The next action of a random but reproducible schedule for a cluster of `nodes`,
/// drawn from `rng`. Actions that depend on the moment ("the leader", "the first
/// message in flight") are resolved against `cluster` now and recorded concretely;
/// `None` if there is nobody to send to or nothing in flight.
fn next_action(
    rng: &mut Xoshiro256PlusPlus,
    cluster: &Cluster,
    nodes: usize,
    number: usize,
) -> Option<Action> {
    let node = rng.random_range(1..=nodes);
    let command = format!("set k{} v{number}", number % 5);
    let action = match rng.random_range(0..100) {
        0..35 => Action::Tick(rng.random_range(1..=15)),
        35..55 => Action::Submit {
            node: cluster.leader()?,
            command,
        },
        55..58 => Action::Submit { node, command },
        58..61 => Action::Crash(node),
        61..66 => Action::Restart(node),
        66..68 => Action::Disconnect(node),
        68..71 => Action::Connect(node),
        71..74 => {
            let mut groups = vec![Vec::new(), Vec::new()];
            for id in 1..=nodes {
                groups[rng.random_range(0..2)].push(id);
            }
            // An empty group separates nobody.
            groups.retain(|group| !group.is_empty());
            Action::Partition(groups)
        }
        74..78 => Action::Heal,
        78..80 => Action::DropRate([0.0, 0.1, 0.3][rng.random_range(0..3)]),
        80..82 => {
            let min = rng.random_range(1..=2);
            Action::Latency {
                min,
                max: min + rng.random_range(0..=6),
            }
        }
        82..84 => Action::DuplicateRate([0.0, 0.1, 0.3][rng.random_range(0..3)]),
        84..86 => Action::Unreliable(rng.random_bool(0.5)),
        86..88 => Action::LongReordering(rng.random_bool(0.5)),
        88..91 => Action::Snapshot(node),
        91..93 => Action::AutoSnapshot(rng.random_bool(0.5).then_some(5)),
        93..95 => Action::Timeout(node),
        95..98 => Action::Deliver(cluster.in_flight().first()?.id),
        _ => Action::DropMessage(cluster.in_flight().first()?.id),
    };
    Some(action)
}

/// A cluster of `nodes` with `seed`, keeping its whole trace.
fn cluster(seed: u64, nodes: usize) -> Cluster {
    let mut config = Config::new(nodes).seed(seed);
    config.trace_capacity = TRACE_CAPACITY;
    Cluster::new(config)
}

/// Applies one action; returns what the caller could observe of its result.
fn apply(cluster: &mut Cluster, action: &Action) -> String {
    format!("{action}: {:?}", cluster.apply(action))
}

/// Drives a fresh cluster with `length` random actions chosen online from
/// `schedule_seed` and the cluster's state, then heals it and lets a leader commit
/// one more command. Returns the actions taken and the outcome.
fn generate(seed: u64, nodes: usize, schedule_seed: u64, length: usize) -> (Vec<Action>, Outcome) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(schedule_seed);
    let mut cluster = cluster(seed, nodes);
    let mut actions = Vec::new();
    let mut transcript = Vec::new();
    let mut take = |cluster: &mut Cluster, action: Action| {
        transcript.push(apply(cluster, &action));
        actions.push(action);
    };
    take(&mut cluster, Action::Tick(40));
    for number in 0..length {
        if let Some(action) = next_action(&mut rng, &cluster, nodes, number) {
            take(&mut cluster, action);
        }
    }
    for action in [
        Action::Heal,
        Action::DropRate(0.0),
        Action::Latency { min: 1, max: 1 },
        Action::DuplicateRate(0.0),
        Action::Unreliable(false),
        Action::LongReordering(false),
    ] {
        take(&mut cluster, action);
    }
    for node in 1..=nodes {
        take(&mut cluster, Action::Connect(node));
    }
    take(&mut cluster, Action::Tick(100));
    if let Some(leader) = cluster.leader() {
        let command = "set last 1".to_string();
        take(
            &mut cluster,
            Action::Submit {
                node: leader,
                command,
            },
        );
    }
    take(&mut cluster, Action::Tick(100));
    let outcome = observe(&cluster, nodes, transcript);
    (actions, outcome)
}

/// Replays recorded actions on a fresh cluster of `nodes` with `seed`.
fn replay(seed: u64, nodes: usize, actions: &[Action]) -> Outcome {
    let mut cluster = cluster(seed, nodes);
    let transcript = actions
        .iter()
        .map(|action| apply(&mut cluster, action))
        .collect();
    observe(&cluster, nodes, transcript)
}

/// Everything observable at the end of a run.
#[derive(Clone, Debug, PartialEq)]
struct Outcome {
    /// Each action and what applying it returned.
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

/// What a run ended with.
fn observe(cluster: &Cluster, nodes: usize, transcript: Vec<String>) -> Outcome {
    let highest = cluster.checker().max_applied();
    Outcome {
        transcript,
        now: cluster.now(),
        statuses: (1..=nodes as NodeId).map(|id| cluster.status(id)).collect(),
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
        .filter(|line| line.starts_with("submit") && line.contains(": Ok(Submitted"))
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

/// The (cluster seed, size) pairs compared, each with its own schedule.
const CASES: [(u64, usize); 7] = [(1, 3), (2, 5), (3, 3), (4, 7), (5, 1), (6, 5), (7, 3)];

#[test]
fn replaying_the_same_actions_on_the_same_seed_gives_the_same_history() {
    for (seed, nodes) in CASES {
        let (actions, first) = generate(seed, nodes, seed * 1000, 400);
        let second = replay(seed, nodes, &actions);
        let what = format!("seed {seed}, {nodes} nodes");
        assert_eventful(&first, nodes, &what);
        assert_same(&first, &second, &what);
    }
}

#[test]
fn every_recorded_action_is_a_script_line_that_reads_back_as_itself() {
    // Any schedule will do if its session is eventful. (8000 stopped being one when
    // stepping down stopped restarting the election timer: the session it drives
    // changed, and its random crashes then kept a majority down for most of it.)
    let (actions, outcome) = generate(8, 5, 8002, 400);
    assert_eventful(&outcome, 5, "seed 8, 5 nodes");
    for action in &actions {
        assert_eq!(
            parse_action(&action.to_string()).as_ref(),
            Ok(action),
            "`{action}`"
        );
    }
}

#[test]
fn the_same_actions_on_different_seeds_give_different_histories() {
    for (a, b, nodes) in [
        (1, 2, 3),
        (10, 11, 5),
        (100, 101, 3),
        (7, 1007, 5),
        (0, 1, 7),
    ] {
        let (actions, first) = generate(a, nodes, 42, 300);
        let second = replay(b, nodes, &actions);
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

/// Replays `actions` on `seed` twice at once on two threads, with `spinners` more
/// threads burning CPU meanwhile, and returns both outcomes.
fn replay_twice_at_once(
    seed: u64,
    nodes: usize,
    actions: &[Action],
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
        let first = scope.spawn(|| replay(seed, nodes, actions));
        let second = scope.spawn(|| replay(seed, nodes, actions));
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
        let (actions, alone) = generate(seed, nodes, seed, 400);
        let what = format!("seed {seed}, {nodes} nodes");
        assert_eventful(&alone, nodes, &what);
        let (first, second) = replay_twice_at_once(seed, nodes, &actions, 0);
        assert_same(&alone, &first, &format!("{what}, two runs at once (first)"));
        assert_same(
            &alone,
            &second,
            &format!("{what}, two runs at once (second)"),
        );
    }
}

/// A spinning thread holds a core, so on a small machine the node threads of both
/// runs keep getting preempted mid-tick. Shorter schedules keep this test quick.
#[test]
fn determinism_holds_while_a_thread_spins() {
    for (seed, nodes) in [(24, 3), (25, 5)] {
        let (actions, alone) = generate(seed, nodes, seed, 120);
        let what = format!("seed {seed}, {nodes} nodes, two runs at once and a spinning thread");
        assert!(
            alone.applied.len() >= 3 && alone.events.len() >= 100,
            "{what}: too little happened to compare ({} applied, {} events)",
            alone.applied.len(),
            alone.events.len()
        );
        let (first, second) = replay_twice_at_once(seed, nodes, &actions, 1);
        assert_same(&alone, &first, &format!("{what} (first)"));
        assert_same(&alone, &second, &format!("{what} (second)"));
    }
}
