//! Prints a behaviour fingerprint: the history digest of many seeded runs that drive
//! a cluster through its public control surface (faults, crashes, partitions,
//! snapshots, submits, stepping by hand). A refactor that must not change behaviour
//! keeps every line identical:
//!
//! ```sh
//! cargo run --release --example fingerprint > before.txt
//! # ... change the code ...
//! cargo run --release --example fingerprint | diff before.txt -
//! ```
//!
//! Then the same for seeded chaos schedules ([`raft_playground::chaos`]).
//! `FINGERPRINT_SEEDS=N` sets how many seeds of each (default 300).

// `let _ =` on every control call: some return `()` and others a `Result` that a
// random schedule may well make an error (a crashed node, nothing to snapshot); the
// fingerprint only records what happened.
#![allow(clippy::let_unit_value)]

use raft_playground::{Action, Cluster, Config};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

fn main() {
    let seeds: u64 = std::env::var("FINGERPRINT_SEEDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(300);
    for seed in 0..seeds {
        let (digest, now, applied) = run(seed);
        println!("seed {seed}: digest {digest:016x} tick {now} applied {applied}");
    }
    for seed in 0..seeds {
        let report = raft_playground::chaos::run(seed);
        println!("chaos seed {seed}: digest {:016x}", report.digest);
    }
}

/// One seeded run; returns its history digest, final tick and highest applied index.
fn run(seed: u64) -> (u64, u64, u64) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x5eed_f00d);
    let nodes = [1, 3, 3, 5, 5, 7][rng.random_range(0..6)];
    let mut config = Config::new(nodes).seed(seed);
    if rng.random_bool(0.5) {
        config.raft.max_entries_per_append = rng.random_range(1..=4);
    }
    let mut cluster = Cluster::new(config);
    cluster.tick(30);
    for number in 0..250 {
        let node = rng.random_range(1..=nodes);
        match rng.random_range(0..100) {
            0..40 => cluster.tick(rng.random_range(1..=10)),
            40..60 => {
                if let Some(leader) = cluster.leader() {
                    let _ = cluster.submit(leader, &format!("set k{} v{number}", number % 7));
                }
            }
            60..63 => {
                let _ = cluster.crash(node);
            }
            63..68 => {
                let _ = cluster.restart(node);
            }
            68..70 => {
                let _ = cluster.disconnect(node);
            }
            70..73 => {
                let _ = cluster.connect(node);
            }
            73..76 => {
                let mut groups = vec![Vec::new(), Vec::new()];
                for id in 1..=nodes {
                    groups[rng.random_range(0..2)].push(id);
                }
                // An empty group separates nobody: without it the same pairs link.
                groups.retain(|group| !group.is_empty());
                let _ = cluster.apply(&Action::Partition(groups));
            }
            76..79 => {
                let _ = cluster.apply(&Action::Heal);
            }
            79..81 => {
                let rate = [0.0, 0.1, 0.3][rng.random_range(0..3)];
                let _ = cluster.apply(&Action::DropRate(rate));
            }
            81..83 => {
                let min = rng.random_range(1..=2);
                let max = min + rng.random_range(0..=6);
                let _ = cluster.apply(&Action::Latency { min, max });
            }
            83..85 => {
                let rate = [0.0, 0.1][rng.random_range(0..2)];
                let _ = cluster.apply(&Action::DuplicateRate(rate));
            }
            85..87 => {
                let _ = cluster.set_unreliable(rng.random_bool(0.5));
            }
            87..89 => {
                let _ = cluster.set_long_reordering(rng.random_bool(0.5));
            }
            89..92 => {
                let _ = cluster.snapshot(node);
            }
            92..94 => {
                let _ = cluster.set_auto_snapshot(rng.random_bool(0.5).then_some(5));
            }
            94..96 => {
                let _ = cluster.apply(&Action::Timeout(node));
            }
            96..98 => {
                if let Some(message) = cluster.in_flight().first() {
                    let _ = cluster.apply(&Action::Deliver(message.id));
                }
            }
            _ => {
                if let Some(message) = cluster.in_flight().first() {
                    let _ = cluster.apply(&Action::DropMessage(message.id));
                }
            }
        }
    }
    for action in [
        Action::Heal,
        Action::DropRate(0.0),
        Action::Latency { min: 1, max: 1 },
        Action::DuplicateRate(0.0),
    ] {
        let _ = cluster.apply(&action);
    }
    let _ = cluster.set_unreliable(false);
    let _ = cluster.set_long_reordering(false);
    for node in 1..=nodes {
        let _ = cluster.restart(node);
    }
    cluster.tick(100);
    if let Some(leader) = cluster.leader() {
        let _ = cluster.submit(leader, "set last 1");
    }
    cluster.tick(50);
    (
        cluster.history_digest(),
        cluster.now(),
        cluster.checker().max_applied(),
    )
}
