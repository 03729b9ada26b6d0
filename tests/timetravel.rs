//! Time travel: `undo`, `rewind`, `goto`, `save` and `--record`, checked as
//! properties over many random command sequences (each case prints its seed and
//! commands when it fails, and proptest shrinks it):
//!
//! 1. `save`, then running the saved script, reaches the same end: the same history
//!    digest, node statuses, messages in flight and settings, also after `undo`,
//!    `rewind` and `goto`;
//! 2. N commands then `undo K` equals the commands before the K-th last one that
//!    changed the cluster, run straight;
//! 3. `goto T` equals running the commands straight and stopping at tick T, and
//!    rebuilding from checkpoints equals rebuilding from tick 0.
//!
//! Then the binary: `run` of a saved session and of a `--record` file.

use std::path::PathBuf;
use std::process::Command as Process;

use proptest::prelude::*;
use raft_playground::cli::{ExecError, Session, parse};
use raft_playground::cluster::lock;
use raft_playground::{Cluster, Config};

/// Everything observable about a session's cluster that a replay must reproduce.
fn observed(session: &Session) -> String {
    let cluster = lock(session.cluster());
    observed_cluster(&cluster)
}

fn observed_cluster(cluster: &Cluster) -> String {
    let statuses: Vec<_> = (1..=cluster.size()).map(|id| cluster.status(id)).collect();
    let logs: Vec<_> = (1..=cluster.size())
        .map(|id| format!("{:?}", cluster.persisted_log(id).unwrap()))
        .collect();
    let size = cluster.size();
    let links: Vec<bool> = (1..=size)
        .flat_map(|a| (1..=size).map(move |b| (a, b)))
        .map(|(a, b)| cluster.linked(a, b))
        .collect();
    format!(
        "tick {} digest {:016x}\n{statuses:?}\n{logs:?}\n{links:?}\n{:?}\n{:?} {:?} {:?}\n{:?}",
        cluster.now(),
        cluster.history_digest(),
        cluster.in_flight(),
        cluster.faults(),
        cluster.auto_snapshot(),
        cluster.raft_config(),
        cluster.violations(),
    )
}

/// Runs one line; `Ok(true)` if it parsed and ran (a failed `wait` or `expect` ran
/// too), `Ok(false)` if the cluster refused it.
fn run(session: &mut Session, line: &str) -> Result<bool, String> {
    let command = parse(line)
        .map_err(|error| format!("`{line}` does not parse: {error}"))?
        .ok_or_else(|| format!("`{line}` is no command"))?;
    match session.execute_line(command, line) {
        Ok(_) | Err(ExecError::Failed(_)) => Ok(true),
        Err(ExecError::Invalid(_)) => Ok(false),
        Err(ExecError::Interrupted(_)) => Err(format!("`{line}` was interrupted")),
    }
}

/// How many commands that changed the cluster the record holds.
fn commands_recorded(session: &Session) -> usize {
    let cluster = lock(session.cluster());
    cluster
        .record()
        .expect("a session keeps a record")
        .commands()
        .count()
}

/// One step of a random session, as a line (`None`: skip it, the line depends on
/// the moment and there is nothing to say).
#[derive(Clone, Debug)]
enum Step {
    Line(String),
    /// `goto` a tick this fraction (in thousandths) of the way from 0 to now.
    GotoFraction(u64),
    /// `rewind` this many ticks, at most to tick 0.
    Rewind(u64),
    /// `undo` this many commands, at most all.
    Undo(usize),
}

impl Step {
    /// The line for a session at `now` with `commands` commands to undo.
    fn line(&self, now: u64, commands: usize) -> Option<String> {
        match self {
            Step::Line(line) => Some(line.clone()),
            Step::GotoFraction(thousandths) => Some(format!("goto {}", now * thousandths / 1000)),
            Step::Rewind(ticks) => {
                Some(format!("rewind {}", (*ticks).min(now).max(1))).filter(|_| now > 0)
            }
            Step::Undo(count) => {
                Some(format!("undo {}", (*count).min(commands).max(1))).filter(|_| commands > 0)
            }
        }
    }
}

/// Lines that change the cluster (or try to), on a cluster of up to 5 nodes.
fn action_line() -> impl Strategy<Value = String> {
    let node = 1..=5usize;
    prop_oneof![
        4 => (1..40u64).prop_map(|ticks| format!("tick {ticks}")),
        3 => (0..6u32, 0..50u32).prop_map(|(key, value)| format!("submit set k{key} v{value}")),
        1 => node.clone().prop_map(|node| format!("submit @{node} set a 1")),
        1 => Just("crash leader".to_string()),
        1 => node.clone().prop_map(|node| format!("crash {node}")),
        2 => node.clone().prop_map(|node| format!("restart {node}")),
        1 => node.clone().prop_map(|node| format!("disconnect {node}")),
        1 => node.clone().prop_map(|node| format!("connect {node}")),
        1 => Just("partition leader | followers".to_string()),
        1 => Just("partition 1,2".to_string()),
        1 => Just("heal".to_string()),
        1 => prop_oneof![Just("drop 10%"), Just("drop 0"), Just("delay 1..3"), Just("delay 1"),
            Just("duplicate 0.1"), Just("unreliable on"), Just("unreliable off"),
            Just("reorder on"), Just("reorder off")].prop_map(str::to_string),
        1 => node.clone().prop_map(|node| format!("timeout {node}")),
        1 => Just("snapshot all".to_string()),
        1 => Just("autosnapshot 3".to_string()),
        1 => Just("set batch-entries 2".to_string()),
        1 => Just("deliver all".to_string()),
        // Issue 8's stepping: by filter, until quiet, a round now, one timer now.
        1 => node.clone().prop_map(|node| format!("deliver to {node}")),
        1 => node.clone().prop_map(|node| format!("drop-msg from {node} type AppendEntries")),
        1 => Just("stabilize".to_string()),
        1 => Just("flush leader".to_string()),
        1 => node.clone().prop_map(|node| format!("tick {node} heartbeat")),
        1 => node.clone().prop_map(|node| format!("snapshot {node} at 1")),
        1 => Just("wait leader within 60".to_string()),
        1 => Just("wait commit 2 on majority within 40".to_string()),
        1 => Just("status".to_string()),
        1 => Just("messages".to_string()),
    ]
}

/// Steps of a random session, with time travel among them.
fn steps_with_time_travel() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        10 => action_line().prop_map(Step::Line),
        1 => (0..=1000u64).prop_map(Step::GotoFraction),
        1 => (1..60u64).prop_map(Step::Rewind),
        1 => (1..4usize).prop_map(Step::Undo),
    ];
    prop::collection::vec(step, 1..40)
}

/// A scripted session of `nodes` nodes with `seed`, checkpointing every
/// `checkpoint_every` ticks.
fn session(nodes: usize, seed: u64, checkpoint_every: u64) -> Session {
    Session::scripted(Config {
        checkpoint_every,
        ..Config::new(nodes).seed(seed)
    })
}

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("raft-timetravel-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Runs every line of a saved script in a fresh session (as `run` does).
fn run_script(text: &str) -> Result<Session, String> {
    let mut session = Session::scripted(Config::new(1));
    for line in text.lines() {
        if parse(line).map_err(|error| error.0)?.is_none() {
            continue;
        }
        if !run(&mut session, line)? {
            return Err(format!("the saved line `{line}` was refused"));
        }
    }
    Ok(session)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Property 1: a saved session replays to the same end, time travel included.
    #[test]
    fn save_then_run_reaches_the_same_end(
        nodes in prop_oneof![Just(3usize), Just(5usize)],
        seed in 0..1000u64,
        checkpoint_every in prop_oneof![Just(0u64), Just(9u64), Just(50u64)],
        steps in steps_with_time_travel(),
    ) {
        let mut session = session(nodes, seed, checkpoint_every);
        let mut lines = Vec::new();
        for step in &steps {
            let now = lock(session.cluster()).now();
            let commands = commands_recorded(&session);
            if let Some(line) = step.line(now, commands) {
                run(&mut session, &line).map_err(TestCaseError::fail)?;
                lines.push(line);
            }
        }
        let path = temp_path(&format!("save-{seed}-{nodes}.txt"));
        let save = format!("save {}", path.display());
        prop_assert!(run(&mut session, &save).map_err(TestCaseError::fail)?, "save failed");
        let text = std::fs::read_to_string(&path).unwrap();
        let replayed = run_script(&text).map_err(TestCaseError::fail)?;
        prop_assert_eq!(observed(&replayed), observed(&session), "lines: {:?}\nscript:\n{}", lines, text);
    }

    /// Property 2: N commands then `undo K` equal the first ones run straight.
    #[test]
    fn undo_equals_never_having_done_it(
        nodes in prop_oneof![Just(3usize), Just(5usize)],
        seed in 0..1000u64,
        checkpoint_every in prop_oneof![Just(0u64), Just(9u64), Just(50u64)],
        lines in prop::collection::vec(action_line(), 1..30),
        undo in 1..6usize,
    ) {
        let mut session = session(nodes, seed, checkpoint_every);
        // Which lines changed the cluster: only those count for undo.
        let mut changed = Vec::new();
        for (position, line) in lines.iter().enumerate() {
            let before = commands_recorded(&session);
            run(&mut session, line).map_err(TestCaseError::fail)?;
            if commands_recorded(&session) > before {
                changed.push(position);
            }
        }
        prop_assume!(!changed.is_empty());
        let undo = undo.min(changed.len());
        let undo_line = format!("undo {}", undo);
        let ran = run(&mut session, &undo_line).map_err(TestCaseError::fail)?;
        prop_assert!(ran, "undo refused");
        let kept = changed[changed.len() - undo];
        let mut straight = self::session(nodes, seed, 0);
        for line in &lines[..kept] {
            run(&mut straight, line).map_err(TestCaseError::fail)?;
        }
        prop_assert_eq!(observed(&session), observed(&straight), "lines {:?}, undo {}", lines, undo);
        let entries = |session: &Session| {
            lock(session.cluster()).record().unwrap().entries().to_vec()
        };
        prop_assert_eq!(entries(&session), entries(&straight));
    }

    /// Property 3: `goto T` equals stopping at T, from checkpoints or not.
    #[test]
    fn goto_equals_stopping_there(
        seed in 0..1000u64,
        lines in prop::collection::vec(action_line(), 1..30),
        thousandths in 0..=1000u64,
    ) {
        // Waits are left out: a wait cut part way is no line a straight run could say.
        let lines: Vec<String> = lines.into_iter().filter(|line| !line.starts_with("wait")).collect();
        let mut fast = session(5, seed, 7);
        let mut slow = session(5, seed, 0);
        for line in &lines {
            run(&mut fast, line).map_err(TestCaseError::fail)?;
            run(&mut slow, line).map_err(TestCaseError::fail)?;
        }
        let target = lock(fast.cluster()).now() * thousandths / 1000;
        let goto = format!("goto {target}");
        run(&mut fast, &goto).map_err(TestCaseError::fail)?;
        run(&mut slow, &goto).map_err(TestCaseError::fail)?;
        prop_assert_eq!(lock(fast.cluster()).now(), target);
        prop_assert_eq!(observed(&fast), observed(&slow));
        // Straight: every line until time would pass the target, the last tick cut.
        let mut straight = session(5, seed, 0);
        for line in &lines {
            let now = lock(straight.cluster()).now();
            // `tick N` moves time; `tick 3 heartbeat` fires one timer now.
            if let Some(Ok(ticks)) = line.strip_prefix("tick ").map(str::parse::<u64>)
                && now + ticks > target
            {
                if target > now {
                    run(&mut straight, &format!("tick {}", target - now)).map_err(TestCaseError::fail)?;
                }
                break;
            }
            run(&mut straight, line).map_err(TestCaseError::fail)?;
        }
        prop_assert_eq!(observed(&fast), observed(&straight), "lines {:?}, goto {}", lines, target);
    }
}

#[test]
fn undo_rewind_and_goto_explain_where_they_are() {
    let mut session = session(3, 7, 10);
    for line in [
        "wait leader",
        "submit set x 1",
        "tick 5",
        "crash leader",
        "tick 30",
        "status",
    ] {
        run(&mut session, line).unwrap();
    }
    let text = |session: &mut Session, line: &str| {
        let command = parse(line).unwrap().unwrap();
        session.execute_line(command, line)
    };
    let undone = text(&mut session, "undo").unwrap().text;
    assert!(
        undone.starts_with("undid 1 command: `tick 30`\nnow at tick 21: "),
        "{undone}"
    );
    let rewound = text(&mut session, "rewind 3").unwrap().text;
    assert!(rewound.starts_with("back to tick 18"), "{rewound}");
    assert!(rewound.contains("`crash leader`"), "{rewound}");
    assert!(
        rewound.contains("now at tick 18: n2 leads term 1"),
        "{rewound}"
    );
    // Bad moments are one-line errors that change nothing.
    for (line, phrase) in [
        ("goto 19", "tick 19 has not happened"),
        ("rewind 19", "only 18 ticks to rewind"),
        ("undo 4", "`undo 3` is the most"),
    ] {
        let before = observed(&session);
        match text(&mut session, line) {
            Err(ExecError::Invalid(error)) => assert!(error.contains(phrase), "{line}: {error}"),
            other => panic!("{line}: {other:?}"),
        }
        assert_eq!(observed(&session), before);
    }
    let back = text(&mut session, "goto 18").unwrap().text;
    assert!(back.starts_with("already at tick 18"), "{back}");
}

#[test]
fn undo_takes_the_clock_ticks_after_a_command_along() {
    // A free-running clock's ticks land in the record between commands; as if they
    // were typed here, `tick 1` at a time outside any command.
    let mut session = session(3, 2, 0);
    run(&mut session, "wait leader").unwrap();
    let leader = lock(session.cluster()).leader().unwrap();
    let before = observed(&session);
    run(&mut session, "crash leader").unwrap();
    for _ in 0..25 {
        lock(session.cluster()).tick(1);
    }
    let record = lock(session.cluster()).record().unwrap().to_script();
    assert!(
        record.contains(&format!("# crash leader\ncrash {leader}\ntick 25\n")),
        "{record}"
    );
    run(&mut session, "undo").unwrap();
    assert_eq!(observed(&session), before);
}

#[test]
fn stabilize_is_one_command_to_undo() {
    // Its deliveries are resolved as it runs, yet it is a command like any other.
    let mut session = session(3, 2, 0);
    run(&mut session, "timeout 1").unwrap();
    let before = observed(&session);
    run(&mut session, "stabilize").unwrap();
    assert_ne!(observed(&session), before);
    let record = lock(session.cluster()).record().unwrap().to_script();
    assert!(record.contains("# stabilize\ndeliver "), "{record}");
    run(&mut session, "undo").unwrap();
    assert_eq!(observed(&session), before);
}

#[test]
fn a_cluster_started_with_a_log_is_saved_with_it() {
    let mut session = session(3, 2, 0);
    run(&mut session, "cluster 3 seed 4 log 5").unwrap();
    run(&mut session, "wait leader").unwrap();
    run(&mut session, "submit set a 1").unwrap();
    run(&mut session, "tick 5").unwrap();
    let script = lock(session.cluster()).record().unwrap().to_script();
    assert!(script.contains("cluster 3 seed 4 log 5\n"), "{script}");
    let replayed = run_script(&script).unwrap();
    assert_eq!(observed(&replayed), observed(&session));
}

/// The binary, on a file.
fn playground(args: &[&str]) -> (bool, String) {
    let output = Process::new(env!("CARGO_BIN_EXE_raft-playground"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

#[test]
fn the_binary_replays_a_saved_session_and_a_record() {
    let saved = temp_path("binary-saved.txt");
    let recorded = temp_path("binary-record.txt");
    let script = temp_path("binary-script.txt");
    std::fs::write(
        &script,
        format!(
            "cluster 5 seed 31\nwait leader\nsubmit set x 1\ncrash leader\ntick 40\nsubmit set y 2\ntick 7\nundo 2\nrewind 5\nsubmit set z 3\nwait commit 1 on all within 100\nsave {}\n",
            saved.display()
        ),
    )
    .unwrap();
    let (ok, text) = playground(&[
        "--record",
        recorded.to_str().unwrap(),
        "run",
        script.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    for file in [&saved, &recorded] {
        let contents = std::fs::read_to_string(file).unwrap();
        assert!(contents.contains("expect digest "), "{contents}");
        assert!(contents.contains("# crash leader\ncrash "), "{contents}");
        assert!(
            !contents.contains("set y 2"),
            "undone, so not saved: {contents}"
        );
        let (ok, text) = playground(&["run", file.to_str().unwrap()]);
        assert!(ok, "{}:\n{contents}\n{text}", file.display());
        assert!(text.contains("✓ history digest"), "{text}");
    }
    // Both end in the same place.
    let digest = |file: &PathBuf| {
        let contents = std::fs::read_to_string(file).unwrap();
        contents.lines().last().unwrap().to_string()
    };
    assert_eq!(digest(&saved), digest(&recorded));
    // One session per record file.
    let (ok, text) = playground(&[
        "--record",
        recorded.to_str().unwrap(),
        "run",
        script.to_str().unwrap(),
        script.to_str().unwrap(),
    ]);
    assert!(
        !ok && text.contains("--record writes one session"),
        "{text}"
    );
}

/// Runs `lines` in a fresh scripted session, then `export json` to `name`; returns
/// what was written.
fn exported(lines: &[&str], name: &str) -> String {
    let mut session = Session::scripted(Config::new(3).seed(5));
    let file = temp_path(name);
    let export = format!("export json {}", file.display());
    for line in lines.iter().copied().chain([export.as_str()]) {
        assert!(run(&mut session, line).unwrap(), "`{line}` was refused");
    }
    std::fs::read_to_string(&file).unwrap()
}

/// An exported timeline's first and last tick, and whether it is complete.
fn span(json: &str) -> (u64, u64, bool) {
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    (
        value["start"].as_u64().unwrap(),
        value["end"].as_u64().unwrap(),
        value["complete"].as_bool().unwrap(),
    )
}

#[test]
fn an_export_after_undo_and_rewind_is_the_session_run_straight() {
    // `export` replays the session's record: what was undone is not in it, and the
    // timeline still covers the whole session from tick 0.
    let straight = exported(&["tick 30", "submit set a 1", "tick 7"], "straight.json");
    assert_eq!(span(&straight), (0, 37, true));
    let travelled = exported(
        &[
            "tick 30",
            "submit set a 1",
            "tick 7",
            "crash leader",
            "tick 20",
            "undo 2",
            "tick 15",
            "rewind 15",
        ],
        "travelled.json",
    );
    assert_eq!(travelled, straight);
    let crashed = exported(&["tick 30", "crash leader", "tick 5"], "crashed.json");
    assert!(crashed.contains("\"crashed\""), "{crashed}");
    let undone = exported(
        &["tick 30", "crash leader", "tick 5", "undo 2"],
        "undone.json",
    );
    assert_eq!(span(&undone), (0, 30, true));
    assert!(!undone.contains("\"crashed\""), "{undone}");
}

#[test]
fn record_is_refused_where_there_is_no_session_to_keep() {
    let file = temp_path("chaos-record.txt");
    let (ok, text) = playground(&["--record", file.to_str().unwrap(), "chaos", "--seeds", "1"]);
    assert!(
        !ok && text.contains("--record writes a session of"),
        "{text}"
    );
    assert!(!file.exists(), "nothing was written");
}
