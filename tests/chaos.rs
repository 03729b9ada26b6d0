//! Seeded chaos through [`raft_playground::chaos`]: hundreds of random schedules of
//! faults, crashes, partitions, snapshots and client commands, each a pure function
//! of its seed, with zero safety violations allowed and every command a client saw
//! committed required on every node at the end.
//!
//! A failure prints the seed, the schedule, the violations and the last events, and
//! the command that replays exactly that seed:
//!
//! ```text
//! CHAOS_SEED=1234 cargo test --release --test chaos -- --nocapture replay
//! cargo run --release -- chaos --seed 1234
//! ```
//!
//! `CHAOS_SEEDS=N` runs seeds `0..N` instead of the default 320, split over the four
//! `seeds_part_*` tests so the harness runs them in parallel.

use std::io::Write as _;

use raft_playground::chaos;

/// Seeds run by default, over all parts.
const DEFAULT_SEEDS: u64 = 320;
/// How many `seeds_part_*` tests share the seeds.
const PARTS: u64 = 4;

/// Runs `seeds`, prints a one-line summary, and fails with every failing seed's report.
fn run_seeds(name: &str, seeds: std::ops::Range<u64>) {
    let (mut ticks, mut submitted, mut committed) = (0, 0, 0);
    let mut failures = Vec::new();
    let mut count = 0;
    let mut idle = 0;
    for seed in seeds.clone() {
        count += 1;
        let report = chaos::run(seed);
        ticks += report.ticks;
        submitted += report.submitted;
        committed += report.committed;
        // Every run commits at least the final command; more shows the chaos let
        // clients through.
        if report.committed <= 1 {
            idle += 1;
        }
        if let Some(failure) = report.failure {
            failures.push((seed, failure));
        }
    }
    // Straight to stderr in one write, past the harness's capture: the counts are
    // the point.
    let line = format!(
        "chaos {name}: seeds {}..{}: {count} seeds, {} ticks, {} commands accepted, {} committed, {} failed\n",
        seeds.start,
        seeds.end,
        ticks,
        submitted,
        committed,
        failures.len()
    );
    let _ = std::io::stderr().write_all(line.as_bytes());
    for (_, report) in &failures {
        eprintln!("{report}");
    }
    let failed: Vec<u64> = failures.iter().map(|(seed, _)| *seed).collect();
    assert!(failed.is_empty(), "chaos seeds failed: {failed:?}");
    assert!(
        idle * 4 <= count,
        "{idle} of {count} seeds committed nothing before the end: the chaos is too harsh to test much"
    );
}

/// The seeds of part `part` of `PARTS`: `0..CHAOS_SEEDS` (default 320), split evenly.
fn part(part: u64) -> std::ops::Range<u64> {
    let total = std::env::var("CHAOS_SEEDS")
        .ok()
        .map(|text| {
            text.trim()
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("CHAOS_SEEDS must be a number of seeds, not {text:?}"))
        })
        .unwrap_or(DEFAULT_SEEDS);
    total * part / PARTS..total * (part + 1) / PARTS
}

#[test]
fn seeds_part_1_of_4() {
    run_seeds("part 1/4", part(0));
}

#[test]
fn seeds_part_2_of_4() {
    run_seeds("part 2/4", part(1));
}

#[test]
fn seeds_part_3_of_4() {
    run_seeds("part 3/4", part(2));
}

#[test]
fn seeds_part_4_of_4() {
    run_seeds("part 4/4", part(3));
}

/// Replays the seed in `CHAOS_SEED` (seed 0 if unset) and shows its schedule.
#[test]
fn replay() {
    let seed = match std::env::var("CHAOS_SEED") {
        Ok(text) => text
            .trim()
            .parse::<u64>()
            .unwrap_or_else(|_| panic!("CHAOS_SEED must be a seed number, not {text:?}")),
        Err(_) => 0,
    };
    let report = chaos::run(seed);
    if let Some(failure) = report.failure {
        panic!("{failure}");
    }
    println!("chaos seed {seed}: {}; schedule:", report.setup);
    for step in &report.steps {
        println!("  {step}");
    }
    println!(
        "chaos seed {seed}: passed: {} ticks, {} commands accepted, {} committed",
        report.ticks, report.submitted, report.committed
    );
    assert!(report.committed >= 1, "the final command commits");
}

/// The same engine from the binary: `raft-playground chaos`.
#[test]
fn the_chaos_subcommand_runs_ranges_and_replays_seeds() {
    let binary = env!("CARGO_BIN_EXE_raft-playground");
    let output = std::process::Command::new(binary)
        .args(["chaos", "--from", "10", "--seeds", "3"])
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("chaos seeds 10..13: 3 run, 0 failed"),
        "{text}"
    );
    let output = std::process::Command::new(binary)
        .args(["chaos", "--seed", "11"])
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("chaos seed 11: ") && text.contains("seed 11 passed"),
        "{text}"
    );
    assert_eq!(text, chaos_replay_text(11), "a replay is deterministic");
}

fn chaos_replay_text(seed: u64) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_raft-playground"))
        .args(["chaos", "--seed", &seed.to_string()])
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}
