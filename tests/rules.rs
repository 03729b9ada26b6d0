//! The safety net proving itself: for every rule of the paper that a switch can break
//! (`raft/rules.rs`), a bounded search over seeded chaos schedules finds a run in which
//! the checker reports a broken invariant (a named checker invariant: not a node
//! panic, not a liveness failure), shrinks it to a short script, and the same seeds
//! with every rule intact find nothing. A switch that no checker invariant catches
//! would fail here.
//!
//! Each test pins the invariant that catches its rule first and the seed that finds
//! it: a run is a pure function of the seed and the actions, so a change in either
//! is a change in behaviour to look at, not noise.

use std::path::PathBuf;
use std::process::{Command, Output};

use raft_playground::search::{Counterexample, Progress, SearchConfig, search};
use raft_playground::{BrokenRules, Cluster, ClusterError, Config, Invariant, Rule, rules};

/// The most seeds any switch's test tries (the slowest, `stale-reply`, needs a few
/// hundred; the control below runs them all).
const SEEDS: u64 = 400;

/// The longest a shrunk counterexample may be, in steps after the `cluster` line
/// (the goal; the search's own `SHORT_ENOUGH` must not exceed it).
const MAX_STEPS: usize = 30;

/// Searches seeds `0..=last_seed` with `rule` broken, expecting `invariant` at
/// `last_seed`. Each test pins the seed that gives its counterexample (the first that
/// fails, or a later one when the first shrank to more than [`MAX_STEPS`]), so
/// searching past it could only fail the test later: stopping there, and failing as
/// soon as the search finds another invariant (before shrinking it), keeps a checker
/// or core that misses a rule (a mutant, say) from costing a long search.
/// Also returns each seed the search shrank, with the length of the shortest
/// counterexample it had then (as its progress reported them).
fn find(
    rule: Rule,
    invariant: Invariant,
    last_seed: u64,
) -> (Counterexample, Vec<(u64, Option<usize>)>) {
    assert!(
        last_seed < SEEDS,
        "{rule}: seed {last_seed} beyond the bound"
    );
    let broken: BrokenRules = [rule].into_iter().collect();
    let mut shrunk = Vec::new();
    let mut expect_found = |progress: &Progress| {
        if let Progress::Found {
            seed,
            invariant: found,
            shortest,
            ..
        } = progress
        {
            assert_eq!(*found, invariant, "{rule}: found at seed {seed}");
            shrunk.push((*seed, *shortest));
        }
    };
    let found = search(&SearchConfig::new(broken, last_seed + 1), &mut expect_found)
        .unwrap_or_else(|not_found| panic!("{rule}: {not_found}"));
    (found, shrunk)
}

/// Fails as soon as a search finds a violation (before shrinking it): for searches
/// that must find none.
fn expect_nothing(progress: &Progress) {
    if let Progress::Found {
        seed, invariant, ..
    } = progress
    {
        panic!("seed {seed} violates {invariant}");
    }
}

/// Asserts that breaking `rule` is caught by `invariant`, at `seed`, and shrinks to
/// at most [`MAX_STEPS`] steps that replay to the same violation.
fn caught(rule: Rule, invariant: Invariant, seed: u64) -> Counterexample {
    caught_shrinking(rule, invariant, seed).0
}

/// [`caught`], also returning the seeds shrunk (see [`find`]).
fn caught_shrinking(
    rule: Rule,
    invariant: Invariant,
    seed: u64,
) -> (Counterexample, Vec<(u64, Option<usize>)>) {
    let (found, shrunk) = find(rule, invariant, seed);
    assert_ne!(
        found.invariant,
        Invariant::NodePanic,
        "{rule}: a core panic"
    );
    assert_eq!(
        (found.invariant, found.seed),
        (invariant, seed),
        "{rule}: found at seed {}: {}",
        found.seed,
        found.violation
    );
    assert!(
        found.steps.len() <= MAX_STEPS,
        "{rule}: {} steps:\n{}",
        found.steps.len(),
        found.script()
    );
    assert_eq!(found.steps[0], raft_playground::Action::Break(rule));
    // The steps replay to the violation on a fresh cluster, as `run` will.
    let replay = raft_playground::search::replay(found.nodes, found.seed, &found.steps, invariant);
    let (position, violation) = replay.violation.expect("the shrunk steps still fail");
    assert_eq!(position + 1, found.steps.len(), "the last step shows it");
    assert_eq!(violation, found.violation);
    // Without the broken rule, the same steps are safe.
    let mended = &found.steps[1..];
    let replay = raft_playground::search::replay(found.nodes, found.seed, mended, invariant);
    assert_eq!(replay.violation, None, "{rule}: the steps fail without it");
    (found, shrunk)
}

#[test]
fn commit_old_terms_is_caught() {
    caught(Rule::CommitOldTerms, Invariant::CommitJustified, 0);
}

#[test]
fn vote_without_log_check_is_caught() {
    caught(Rule::VoteWithoutLogCheck, Invariant::LeaderCompleteness, 4);
}

#[test]
fn forget_vote_is_caught() {
    caught(Rule::ForgetVote, Invariant::PersistBeforeSend, 0);
}

#[test]
fn forget_log_is_caught() {
    caught(Rule::ForgetLog, Invariant::PersistBeforeSend, 0);
}

#[test]
fn truncate_on_match_is_caught() {
    caught(Rule::TruncateOnMatch, Invariant::CommitJustified, 4);
}

#[test]
fn accept_stale_leader_is_caught() {
    caught(Rule::AcceptStaleLeader, Invariant::AckedEntriesKept, 11);
}

#[test]
fn stale_reply_is_caught() {
    caught(Rule::StaleReply, Invariant::CommitJustified, 315);
}

#[test]
fn double_vote_is_caught() {
    caught(Rule::DoubleVote, Invariant::PersistBeforeSend, 0);
}

#[test]
fn commit_to_leader_commit_is_caught() {
    let (found, shrunk) = caught_shrinking(
        Rule::CommitToLeaderCommit,
        Invariant::StateMachineSafety,
        83,
    );
    // Seed 34 fails first, but its schedule shrinks to more than 30 steps; the
    // search goes on to the next failing seed, says why, and keeps the shorter one.
    assert_eq!(found.seeds_shrunk, 2);
    assert_eq!(found.seeds_tried, 84);
    assert_eq!(shrunk.len(), 2, "{shrunk:?}");
    assert_eq!(shrunk[0], (34, None));
    assert!(
        shrunk[1].0 == 83 && shrunk[1].1.is_some_and(|steps| steps > MAX_STEPS),
        "{shrunk:?}"
    );
}

#[test]
fn snapshot_backwards_is_caught() {
    caught(Rule::SnapshotBackwards, Invariant::ApplyOrder, 4);
}

#[test]
fn small_quorum_is_caught() {
    caught(Rule::SmallQuorum, Invariant::ElectionSafety, 0);
}

#[test]
fn forget_term_is_caught() {
    caught(Rule::ForgetTerm, Invariant::PersistBeforeSend, 0);
}

#[test]
fn every_rule_has_a_test_above() {
    // The tests above name each rule once; a new rule needs a new test.
    let source = include_str!("rules.rs");
    for rule in Rule::ALL {
        let variant = format!("{rule:?}");
        let test = format!("fn {}_is_caught()", rule.name().replace('-', "_"));
        let call = format!("Rule::{variant},");
        assert!(
            source.contains(&test) && source.contains(&call),
            "no test breaks {rule}"
        );
    }
    assert_eq!(rules().len(), Rule::ALL.len());
}

#[test]
fn with_every_rule_intact_the_same_seeds_find_nothing() {
    let result = search(
        &SearchConfig::new(BrokenRules::none(), SEEDS),
        &mut expect_nothing,
    );
    let not_found = result.expect_err("no violation with every rule intact");
    assert_eq!(not_found.tried, SEEDS);
    assert!(!not_found.out_of_time);
}

#[test]
fn set_rule_broken_takes_the_documented_names_and_refuses_others() {
    let mut cluster = Cluster::new(Config::new(3).seed(4));
    for (name, description) in rules() {
        assert!(description.contains('§') || description.contains("Figure"));
        cluster.set_rule_broken(name, true).unwrap();
    }
    assert_eq!(cluster.broken_rules().iter().count(), 12);
    let error = cluster.set_rule_broken("no-such-rule", true).unwrap_err();
    assert!(matches!(error, ClusterError::UnknownRule(_)));
    let text = error.to_string();
    assert!(
        text.contains("no-such-rule") && text.contains("commit-old-terms, vote-without-log-check"),
        "{text}"
    );
    for (name, _) in rules() {
        cluster.set_rule_broken(name, false).unwrap();
    }
    assert!(cluster.broken_rules().is_empty());
}

#[test]
fn a_broken_rule_reaches_nodes_that_restart_later() {
    // Two nodes vote in term 1 before a crash; with forget-vote broken the restarted
    // node's core starts from a state without its vote, whatever the order.
    let mut cluster = Cluster::new(Config::new(3).seed(2));
    cluster.set_rule_broken("forget-vote", true).unwrap();
    cluster.crash(3).unwrap();
    cluster.tick(40);
    cluster.restart(3).unwrap();
    cluster.tick(40);
    assert!(cluster.raft_config().broken.contains(Rule::ForgetVote));
    // Every node, the restarted one included, broke the rule: the checker saw an
    // unpersisted vote or term claim.
    assert!(
        cluster
            .checker()
            .violations()
            .iter()
            .any(|violation| violation.invariant == Invariant::PersistBeforeSend),
        "{:?}",
        cluster.violations()
    );
}

// ----- through the binary -----

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_raft-playground"));
    command.env("NO_COLOR", "1");
    command
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("raft-playground-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn search_writes_a_script_that_run_replays_and_that_fails_without_its_expectation() {
    let path = scratch("fig8.txt");
    let output = binary()
        .args([
            "search",
            "--break",
            "commit-old-terms",
            "--seeds",
            "50",
            "--out",
        ])
        .arg(&path)
        .output()
        .unwrap();
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    assert!(
        said.contains("the checker reports commit-justified"),
        "{said}"
    );
    let script = std::fs::read_to_string(&path).unwrap();
    // The header says what broke and how to replay; the body is ordinary lines.
    assert!(script.starts_with("# Counterexample (rule broken: commit-old-terms)"));
    assert!(script.contains("chaos seed 0"), "{script}");
    assert!(script.contains("\nbreak commit-old-terms\n"), "{script}");
    assert!(
        script.ends_with("expect violation commit-justified\n"),
        "{script}"
    );

    let output = binary().arg("run").arg(&path).output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("✓ expected a violation of commit-justified"));

    let without: String = script
        .lines()
        .filter(|line| !line.starts_with("expect violation"))
        .map(|line| format!("{line}\n"))
        .collect();
    let path = scratch("fig8-unexpected.txt");
    std::fs::write(&path, without).unwrap();
    let output = binary().arg("run").arg(&path).output().unwrap();
    let said = text(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains("violation of commit-justified at tick "),
        "the failure names the invariant and the tick: {said}"
    );
}

#[test]
fn search_with_every_rule_intact_reports_nothing_found() {
    let output = binary()
        .args(["search", "--seeds", "20", "--nodes", "3"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        text(&output).contains("no violation in 20 seeds"),
        "{}",
        text(&output)
    );
    let output = binary()
        .args(["search", "--break", "forget-everything"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains("unknown rule `forget-everything`; the rules are"),
        "{}",
        text(&output)
    );
}

#[test]
fn break_on_the_command_line_reaches_scripts_and_cluster_lines() {
    let path = scratch("broken.txt");
    std::fs::write(
        &path,
        "rules\nstatus\ncluster 3 seed 1\nrules\nmend all\nrules\n",
    )
    .unwrap();
    let output = binary()
        .args(["run", "--break", "small-quorum", "--break", "forget-term"])
        .arg(&path)
        .output()
        .unwrap();
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    assert!(
        said.contains("RULES BROKEN ON PURPOSE: small-quorum, forget-term"),
        "{said}"
    );
    // `rules` marks the broken ones, before and after the new cluster, not after mend.
    let marked = |rule: &str| {
        said.lines()
            .filter(|line| line.trim_start().starts_with(rule) && line.contains("BROKEN"))
            .count()
    };
    assert_eq!(
        (marked("small-quorum"), marked("forget-term")),
        (2, 2),
        "{said}"
    );
    assert_eq!(marked("forget-vote"), 0, "{said}");
    assert!(said.contains("every rule holds again"), "{said}");
}

#[test]
fn search_at_the_prompt_loads_the_counterexample_into_the_session() {
    use raft_playground::cli::{Session, parse};
    use raft_playground::cluster::lock;
    let mut session = Session::scripted(Config::new(3).seed(1));
    let mut run = |line: &str| {
        let command = parse(line).unwrap().unwrap();
        session.execute(command).map(|output| output.text)
    };
    run("break small-quorum").unwrap();
    let file = scratch("prompt-search.txt");
    let said = run(&format!("search seeds 20 out {}", file.display())).unwrap();
    assert!(
        said.contains("the checker reports election-safety"),
        "{said}"
    );
    assert!(
        said.contains("the cluster is now this counterexample"),
        "{said}"
    );
    assert!(said.contains("expect violation election-safety"), "{said}");
    let script = std::fs::read_to_string(&file).unwrap();
    assert!(said.contains(script.trim_end()), "{said}");
    // The session's cluster is the counterexample's end: its violation is there.
    let session_violations = session.violations().1;
    assert!(
        session_violations
            .iter()
            .any(|violation| violation.invariant == Invariant::ElectionSafety),
        "{session_violations:?}"
    );
    assert!(
        lock(session.cluster())
            .broken_rules()
            .contains(Rule::SmallQuorum)
    );
}

#[test]
fn hard_case_schedules_replay_as_scripts_to_the_same_digest() {
    // The hard cases are ordinary actions: their schedule is a script whose `expect
    // digest` line checks that `run` reproduced the history exactly.
    let options = raft_playground::chaos::ChaosOptions {
        hard_cases: true,
        ..Default::default()
    };
    for seed in [3, 11, 42] {
        let report = raft_playground::chaos::run_with(seed, &options);
        assert!(report.failure.is_none(), "{:?}", report.failure);
        let script = report.script();
        assert!(script.contains("\nexpect digest "), "{script}");
        assert!(
            script.contains("->") && script.contains("\nduplicate late "),
            "seed {seed} takes no hard case:\n{script}"
        );
        let path = scratch(&format!("hard-{seed}.txt"));
        std::fs::write(&path, &script).unwrap();
        let output = binary().arg("run").arg(&path).output().unwrap();
        assert!(output.status.success(), "seed {seed}:\n{}", text(&output));
    }
}

#[test]
fn an_undone_violation_is_not_reported_and_undo_mends_a_rule_broken_after_it() {
    let path = scratch("undo.txt");
    std::fs::write(
        &path,
        "cluster 3 seed 1\nbreak forget-vote\ntick 20\nundo\nundo\nrules\nexpect no-violations\n",
    )
    .unwrap();
    let output = binary().arg("run").arg(&path).output().unwrap();
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    assert!(
        !said
            .lines()
            .any(|line| line.trim_start().starts_with("forget-vote") && line.contains("BROKEN")),
        "{said}"
    );
}

/// Search draws the switches beyond Lab 3 and membership changes too (issue 11):
/// with every switch on and nodes added and removed, a broken rule is still caught
/// by a named checker invariant and its counterexample replays, and with every rule
/// intact the same kind of schedules find nothing.
#[test]
fn search_with_every_switch_and_membership_changes() {
    let features = raft_playground::raft::Features::parse_list("pre-vote,check-quorum,no-op")
        .expect("known switches");
    let beyond = |broken: BrokenRules, seeds: u64| SearchConfig {
        features,
        membership: true,
        ..SearchConfig::new(broken, seeds)
    };
    let broken: BrokenRules = [Rule::SmallQuorum].into_iter().collect();
    let found = search(&beyond(broken, SEEDS), &mut |_| {}).expect("small-quorum is caught");
    assert_ne!(found.invariant, Invariant::NodePanic, "{}", found.violation);
    let replay =
        raft_playground::search::replay(found.nodes, found.seed, &found.steps, found.invariant);
    assert_eq!(
        replay.violation.map(|(_, violation)| violation),
        Some(found.violation.clone())
    );
    let not_found = search(&beyond(BrokenRules::none(), 150), &mut expect_nothing)
        .expect_err("no violation with every rule intact, every switch on");
    assert_eq!(not_found.tried, 150);
}
