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
//!
//! A seed's schedule is a script: `raft-playground chaos --seed S` prints it and
//! `raft-playground run` replays it to the same end state and history digest.

use std::io::Write as _;
use std::path::PathBuf;

use raft_playground::Action;
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
    print!("{}", report.script());
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

/// Runs the binary with `args`, without colors; returns success and standard output.
fn binary(args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_raft-playground"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    // A script with a `--json` view writes its JSON to standard output and its
    // transcript to standard error when output is not a terminal: read both.
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// Writes a script to a fresh temporary file.
fn script_file(name: &str, body: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("raft-playground-chaos-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join(name);
    std::fs::write(&path, body).expect("a writable temporary file");
    path
}

/// The `status --json` output in a `run` transcript: the indented lines after the
/// echoed command.
fn status_json(transcript: &str) -> serde_json::Value {
    // Output that is not a terminal gets `status --json` as one compact line.
    let json = transcript
        .lines()
        .find(|line| line.starts_with("{\"nodes\""))
        .unwrap_or_else(|| panic!("no status document in: {transcript}"));
    serde_json::from_str(json).unwrap_or_else(|error| panic!("{error}: {json}"))
}

/// Seeds whose schedules crash and partition a lot, plus the first seeds with one
/// and with seven nodes: the schedules where a replay has the most to get right.
fn busy_seeds() -> Vec<u64> {
    let count = |report: &chaos::ChaosReport, kind: fn(&Action) -> bool| {
        report.actions().filter(|action| kind(action)).count()
    };
    let mut scored: Vec<(usize, u64)> = Vec::new();
    let (mut one, mut seven) = (None, None);
    for seed in 0..80 {
        let report = chaos::run(seed);
        let crashes = count(&report, |action| matches!(action, Action::Crash(_)));
        let partitions = count(&report, |action| matches!(action, Action::Partition(_)));
        scored.push((crashes.min(partitions), seed));
        match report.nodes {
            1 => one = one.or(Some(seed)),
            7 => seven = seven.or(Some(seed)),
            _ => {}
        }
    }
    scored.sort_unstable_by(|a, b| b.cmp(a));
    assert!(
        scored[2].0 >= 3,
        "the busiest seeds crash and partition at least 3 times each: {:?}",
        &scored[..3]
    );
    let mut seeds: Vec<u64> = scored[..3].iter().map(|&(_, seed)| seed).collect();
    seeds.extend(one);
    seeds.extend(seven);
    assert_eq!(seeds.len(), 5, "seeds 0..80 include clusters of 1 and of 7");
    seeds
}

/// `chaos --seed S` prints a script; `run` replays it to the same end: the script's
/// `expect digest` passes, and every node's status is the one chaos ended with.
#[test]
fn a_chaos_schedule_replays_as_a_script_to_the_same_end() {
    let seeds = busy_seeds();
    println!("replaying chaos seeds {seeds:?} as scripts");
    for seed in seeds {
        let report = chaos::run(seed);
        assert!(report.failure.is_none(), "seed {seed} passes");
        let (ok, script) = binary(&["chaos", "--seed", &seed.to_string()]);
        assert!(ok, "chaos --seed {seed}:\n{script}");
        assert!(
            script.starts_with(&format!("# chaos seed {seed}: "))
                && script.contains(&format!("\ncluster {} seed {seed}\n", report.nodes)),
            "seed {seed}: the script begins with its cluster:\n{script}"
        );
        // Every line is a comment or an action that reads back as itself, but the
        // `cluster` line and the final `expect`.
        for line in script.lines().filter(|line| {
            !line.starts_with('#') && !line.starts_with("cluster ") && !line.starts_with("expect ")
        }) {
            let action = raft_playground::cli::parse_action(line)
                .unwrap_or_else(|error| panic!("seed {seed}: `{line}`: {error}"));
            assert_eq!(action.to_string(), line);
        }
        assert_eq!(
            script
                .lines()
                .filter(|line| !line.starts_with('#')
                    && !line.starts_with("cluster ")
                    && !line.starts_with("expect "))
                .count(),
            report.actions().count(),
            "seed {seed}: one line per applied action"
        );
        let file = script_file(
            &format!("seed-{seed}.txt"),
            &format!("{script}status --json\n"),
        );
        let (ok, transcript) = binary(&["run", file.to_str().expect("a UTF-8 path")]);
        assert!(ok, "seed {seed}: the replay failed:\n{transcript}");
        assert!(
            transcript.contains(&format!("✓ history digest {:016x}", report.digest)),
            "seed {seed}: {transcript}"
        );
        let replayed = status_json(&transcript);
        assert_eq!(
            replayed["tick"], report.ticks,
            "seed {seed}: the final tick"
        );
        let nodes = replayed["nodes"].as_array().expect("a list of nodes");
        assert_eq!(nodes.len(), report.statuses.len());
        for (node, status) in nodes.iter().zip(&report.statuses) {
            let mut node = node.clone();
            node.as_object_mut().expect("a node").remove("links");
            assert_eq!(
                node,
                serde_json::to_value(status).expect("a status serializes"),
                "seed {seed}: n{}",
                status.id
            );
        }
    }
}

/// The comparison can fail: a replay that leaves out one command ends with another
/// history, and its `expect digest` says so.
#[test]
fn a_schedule_missing_one_action_fails_its_digest() {
    let (ok, script) = binary(&["chaos", "--seed", "3"]);
    assert!(ok, "{script}");
    let first_submit = script
        .lines()
        .position(|line| line.starts_with("submit "))
        .expect("seed 3 submits commands");
    let tampered: Vec<&str> = script
        .lines()
        .enumerate()
        .filter(|&(number, _)| number != first_submit)
        .map(|(_, line)| line)
        .collect();
    let file = script_file("tampered.txt", &(tampered.join("\n") + "\n"));
    let (ok, transcript) = binary(&["run", file.to_str().expect("a UTF-8 path")]);
    assert!(!ok, "a different schedule passed:\n{transcript}");
    assert!(
        transcript.contains("expected history digest")
            && transcript.contains("the history differs"),
        "{transcript}"
    );
}

#[test]
fn a_node_that_panics_is_a_reported_failure_and_the_next_seed_runs() {
    // A planted panic (a test hook: a bug in the core would do the same) at tick 30.
    let options = chaos::ChaosOptions {
        plant_panic: Some((30, 1)),
        nodes: Some(3),
        ..chaos::ChaosOptions::default()
    };
    let report = chaos::run_with(4, &options);
    let failure = report.failure.expect("a panic fails the seed");
    assert!(
        failure.contains("=== chaos seed 4 FAILED"),
        "names the seed: {failure}"
    );
    assert!(
        failure.contains("node-panic: n1 panicked: a panic planted by a test"),
        "names the panic and its message: {failure}"
    );
    assert!(
        failure.contains("schedule (") && failure.contains("@26 tick 6"),
        "prints the schedule: {failure}"
    );
    assert!(
        failure.contains("chaos --seed 4 --nodes 3 > seed.txt"),
        "says how to replay: {failure}"
    );
    assert_eq!(
        report.violations[0].invariant,
        raft_playground::Invariant::NodePanic
    );
    // The next seed runs as usual in the same process.
    let next = chaos::run(5);
    assert!(next.failure.is_none(), "{:?}", next.failure);
}

/// Seeds per switch combination in `every_switch_combination_with_membership_changes`
/// (`CHAOS_BEYOND_SEEDS` overrides; the big runs are `raft-playground chaos
/// --every-combination --membership --toggle --seeds 2000`).
const BEYOND_SEEDS: u64 = 24;

/// Chaos beyond Lab 3: every combination of pre-vote, check-quorum and the leader
/// no-op, with membership changes, transfers and toggled switches drawn, at zero
/// violations; and the schedules really do change the membership.
#[test]
fn every_switch_combination_with_membership_changes() {
    let seeds = std::env::var("CHAOS_BEYOND_SEEDS")
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok())
        .unwrap_or(BEYOND_SEEDS);
    let (mut added, mut removed, mut transfers, mut toggles) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for options in chaos::ChaosOptions::every_combination(true, true) {
        for seed in 0..seeds {
            let report = chaos::run_with(seed, &options);
            // The switches the combination asks for are the script's first lines.
            for feature in options.features.on() {
                let line = format!("set {feature} on");
                assert!(
                    report.actions().any(|action| action.to_string() == line),
                    "seed {seed}{}: no `{line}`",
                    options.flags()
                );
            }
            for action in report.actions() {
                match action {
                    Action::AddNode { .. } => added += 1,
                    Action::RemoveNode { .. } => removed += 1,
                    Action::Transfer { .. } => transfers += 1,
                    Action::Set(raft_playground::Setting::Feature(..)) => toggles += 1,
                    _ => {}
                }
            }
            if let Some(failure) = report.failure {
                failures.push(format!("seed {seed}{}: {failure}", options.flags()));
            }
        }
    }
    eprintln!(
        "chaos beyond Lab 3: 8 switch combinations x {seeds} seeds: {added} nodes added, {removed} removed, {transfers} transfers, {toggles} switches set, {} failed",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        added >= seeds && removed >= seeds && transfers >= seeds,
        "the schedules change the membership: {added} added, {removed} removed, {transfers} transfers"
    );
}

/// Hard cases with membership changes: a node crashed right after it acknowledged,
/// to be restarted a few ticks later, may be removed meanwhile (seed 2995: its
/// removal commits while it is down); so may a leader cut off for a while, whose
/// own removal commits without it (seed 1728, with pre-vote and the no-op). The
/// schedule then leaves it be instead of asking to restart or reconnect a removed
/// node, which the cluster rightly refuses.
#[test]
fn hard_cases_never_bring_back_a_node_removed_meanwhile() {
    let mut options = chaos::ChaosOptions {
        hard_cases: true,
        membership: true,
        toggle: true,
        ..chaos::ChaosOptions::default()
    };
    let report = chaos::run_with(2995, &options);
    assert_eq!(report.failure, None, "{}", report.script());
    assert!(
        report
            .actions()
            .any(|action| *action == Action::RemoveNode { leader: 1, node: 2 }),
        "the seed still removes n2 while it is down"
    );
    options.features.pre_vote = true;
    options.features.leader_no_op = true;
    let report = chaos::run_with(1728, &options);
    assert_eq!(report.failure, None, "{}", report.script());
}

/// Hard cases and membership changes together, under every switch combination: the
/// steps aimed at Raft's corners meet nodes that come and go. (The big runs:
/// `raft-playground chaos --membership --toggle --hard-cases --every-combination
/// --seeds N`.)
#[test]
fn hard_cases_with_membership_changes_under_every_combination() {
    let mut failures = Vec::new();
    for mut options in chaos::ChaosOptions::every_combination(true, true) {
        options.hard_cases = true;
        for seed in 0..BEYOND_SEEDS {
            if let Some(failure) = chaos::run_with(seed, &options).failure {
                failures.push(format!("seed {seed}{}: {failure}", options.flags()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A schedule with membership changes is a script too: `chaos --seed S
/// --membership --pre-vote` prints it, and `run` replays it to the same digest.
#[test]
fn a_membership_schedule_replays_as_a_script() {
    let options = chaos::ChaosOptions {
        features: raft_playground::raft::Features::parse_list("pre-vote,no-op")
            .expect("known switches"),
        membership: true,
        toggle: true,
        ..chaos::ChaosOptions::default()
    };
    // The first of the seeds whose schedule added and removed a node.
    let (seed, report) = (0..40)
        .map(|seed| (seed, chaos::run_with(seed, &options)))
        .find(|(_, report)| {
            report
                .actions()
                .any(|action| matches!(action, Action::AddNode { .. }))
                && report
                    .actions()
                    .any(|action| matches!(action, Action::RemoveNode { .. }))
        })
        .expect("one of 40 seeds adds and removes a node");
    assert!(report.failure.is_none(), "seed {seed}");
    let (ok, script) = binary(&[
        "chaos",
        "--seed",
        &seed.to_string(),
        "--pre-vote",
        "--no-op",
        "--membership",
        "--toggle",
    ]);
    assert!(ok, "{script}");
    let file = script_file(&format!("membership-{seed}.txt"), &script);
    let (ok, transcript) = binary(&["run", file.to_str().expect("a UTF-8 path")]);
    assert!(ok, "seed {seed}: the replay failed:\n{transcript}");
    assert!(
        transcript.contains(&format!("✓ history digest {:016x}", report.digest)),
        "seed {seed}: {transcript}"
    );
}
