//! Whole-cluster workloads, measured and printed as a table next to their goals:
//!
//! 1. simulation speed: virtual ticks per second for idle clusters of 3, 5 and 15;
//! 2. commit throughput: 100,000 commands of 16 bytes on 3 and 5 nodes, committed
//!    entries per second and ticks from submit to commit (p50, p99);
//! 3. the lab suite: wall and CPU seconds of `tests/lab3.rs` (release build);
//! 4. chaos search rate: seeded chaos schedules checked per second;
//! 5. memory: peak resident memory after 1,000,000 commands on 3 nodes, with
//!    `autosnapshot 1000` and without (each in a fresh process);
//! 6. undo: a session of 100,000 ticks at the prompt's grammar (a command every ~100
//!    ticks: submits, crashes, restarts, partitions), then `undo`, `rewind 500` and
//!    `goto` half-way, each timed as the whole command; an `export json` of it all
//!    (a replay from tick 0 with the timeline recorder watching every tick); and the
//!    cost of the record and its checkpoints to the session's ticking.
//!
//! Run with `cargo bench --bench workloads` (or `cargo bench` for everything).
//! Numbers depend on the machine and its load; they are reported, never asserted.

use std::process::Command;
use std::time::{Duration, Instant};

use raft_playground::chaos;
use raft_playground::cli::{Session, parse};
use raft_playground::cluster::lock;
use raft_playground::{Cluster, Config, Role};

/// Environment variable that makes this binary run one memory scenario and exit.
const MEMORY_CHILD: &str = "RAFT_BENCH_MEMORY_CHILD";

fn main() {
    if let Ok(autosnapshot) = std::env::var(MEMORY_CHILD) {
        memory_child(autosnapshot.parse().ok());
        return;
    }
    // `cargo bench` passes `--bench`; a filter argument selects sections.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    let wanted =
        |section: &str| filter.is_empty() || filter.iter().any(|f| section.contains(f.as_str()));
    println!("{:<56} {:>28}   goal", "workload", "measured");
    if wanted("idle") {
        for nodes in [3, 5, 15] {
            let rate = idle_ticks_per_second(nodes);
            let goal = if nodes == 5 {
                "≥ 100,000 ticks/s"
            } else {
                ""
            };
            row(
                &format!("idle ticks/s, {nodes} nodes"),
                &format!("{rate:.0}"),
                goal,
            );
        }
    }
    if wanted("throughput") {
        for nodes in [3, 5] {
            let result = throughput(nodes, 100_000, 16);
            let goal = if nodes == 3 {
                "≥ 1,000,000 entries/s"
            } else {
                ""
            };
            row(
                &format!("commit throughput, {nodes} nodes (entries/s)"),
                &format!("{:.0}", result.entries_per_second),
                goal,
            );
            row(
                &format!("  submit→commit ticks p50 / p99, {nodes} nodes"),
                &format!("{} / {}", result.p50, result.p99),
                "",
            );
        }
    }
    if wanted("chaos") {
        let (seeds, elapsed) = chaos_rate(Duration::from_secs(3));
        row(
            "chaos schedules checked per second",
            &format!("{:.0}", seeds as f64 / elapsed.as_secs_f64()),
            "",
        );
    }
    if wanted("memory") {
        for autosnapshot in [Some(1000), None] {
            let label = match autosnapshot {
                Some(every) => format!("peak RSS, 1M commands, 3 nodes, autosnapshot {every}"),
                None => "peak RSS, 1M commands, 3 nodes, no snapshots".to_string(),
            };
            let measured =
                memory_in_child(autosnapshot).unwrap_or_else(|error| format!("({error})"));
            let goal = if autosnapshot.is_some() {
                "flat, < 64 MB"
            } else {
                "≤ 100 MB (one copy of each log)"
            };
            row(&label, &measured, goal);
        }
    }
    if wanted("undo") {
        let undo = undo_latency(100_000);
        row(
            "session of 100,000 ticks, 5 nodes: built in (s)",
            &format!("{:.2}", undo.build.as_secs_f64()),
            "",
        );
        row(
            "  `undo` latency, median / max of 10 (ms)",
            &format!("{:.1} / {:.1}", undo.undo_median_ms, undo.undo_max_ms),
            "< 200 ms",
        );
        row(
            "  `rewind 500` / `goto` half-way (ms)",
            &format!("{:.1} / {:.1}", undo.rewind_ms, undo.goto_ms),
            "",
        );
        row(
            "  `export json` of all of it, replayed from tick 0 (s)",
            &format!("{:.2}", undo.export.as_secs_f64()),
            "",
        );
        row(
            "  replay of all of it from tick 0, no checkpoints (ms)",
            &format!("{:.0}", undo.from_start_ms),
            "",
        );
        row(
            "  checkpoints kept; resident memory the session added (MB)",
            &format!("{}; {}", undo.checkpoints, undo.memory_mb),
            "",
        );
        let (plain, recorded) = recording_cost(5);
        row(
            "idle ticks/s, 5 nodes, plain / recorded with checkpoints",
            &format!("{plain:.0} / {recorded:.0}"),
            "",
        );
    }
    if wanted("lab") {
        match lab_suite() {
            Ok((wall, cpu)) => {
                row(
                    "tests/lab3.rs wall seconds",
                    &format!("{:.2}", wall.as_secs_f64()),
                    "≤ 2 s (course: 360 s)",
                );
                row(
                    "tests/lab3.rs CPU seconds",
                    &format!("{cpu:.2}"),
                    "≤ 2 s (course: 60 s)",
                );
            }
            Err(error) => row("tests/lab3.rs", &format!("({error})"), ""),
        }
    }
}

fn row(label: &str, measured: &str, goal: &str) {
    println!("{label:<56} {measured:>28}   {goal}");
}

/// A cluster of `nodes` with a leader elected.
fn cluster_with_leader(nodes: usize) -> (Cluster, usize) {
    let mut cluster = Cluster::new(Config::new(nodes).seed(1));
    let elected = cluster.tick_until(500, |cluster| cluster.leader().is_some());
    assert!(elected, "a leader within 500 ticks");
    let leader = cluster.leader().expect("elected");
    assert_eq!(cluster.status(leader).role, Role::Leader);
    (cluster, leader)
}

/// Virtual ticks per second of wall time for an idle cluster (heartbeats only).
fn idle_ticks_per_second(nodes: usize) -> f64 {
    let (mut cluster, _) = cluster_with_leader(nodes);
    cluster.tick(1000);
    let ticks = 200_000;
    let start = Instant::now();
    cluster.tick(ticks);
    ticks as f64 / start.elapsed().as_secs_f64()
}

/// What the throughput workload measured.
struct Throughput {
    entries_per_second: f64,
    p50: u64,
    p99: u64,
}

/// The `index`-th command of the workloads: `size` bytes, over 1000 keys.
fn command(index: usize, size: usize) -> String {
    let mut text = format!("set k{:03} v{index}", index % 1000);
    text.truncate(size);
    while text.len() < size {
        text.push('0');
    }
    text
}

/// Submits `count` commands of `size` bytes to the leader as fast as it takes them
/// (a batch every tick) and advances time as fast as possible until all commit.
fn throughput(nodes: usize, count: usize, size: usize) -> Throughput {
    let (mut cluster, leader) = cluster_with_leader(nodes);
    let commands: Vec<String> = (0..count).map(|index| command(index, size)).collect();
    let batch = 5000;
    let base = cluster.status(leader).commit_index;
    let mut submitted_at: Vec<u64> = Vec::with_capacity(count);
    let mut latencies: Vec<u64> = Vec::with_capacity(count);
    let start = Instant::now();
    let mut sent = 0;
    while latencies.len() < count {
        if sent < count {
            let end = (sent + batch).min(count);
            let slice: Vec<&str> = commands[sent..end].iter().map(String::as_str).collect();
            cluster
                .submit_batch(leader, &slice)
                .expect("the leader accepts");
            submitted_at.extend(std::iter::repeat_n(cluster.now(), end - sent));
            sent = end;
        }
        cluster.tick(1);
        let committed = (cluster.status(leader).commit_index - base) as usize;
        while latencies.len() < committed.min(count) {
            latencies.push(cluster.now() - submitted_at[latencies.len()]);
        }
    }
    let elapsed = start.elapsed();
    assert!(
        cluster.violations().is_empty(),
        "{:?}",
        cluster.violations()
    );
    latencies.sort_unstable();
    Throughput {
        entries_per_second: count as f64 / elapsed.as_secs_f64(),
        p50: latencies[latencies.len() / 2],
        p99: latencies[latencies.len() * 99 / 100],
    }
}

/// Runs chaos schedules from seed 0 on for about `budget`.
fn chaos_rate(budget: Duration) -> (u64, Duration) {
    let start = Instant::now();
    let mut seeds = 0;
    while start.elapsed() < budget {
        let report = chaos::run(seeds);
        assert!(
            report.failure.is_none(),
            "chaos seed {seeds} failed: {:?}",
            report.failure
        );
        seeds += 1;
    }
    (seeds, start.elapsed())
}

/// Runs the memory scenario in a fresh process (peak memory is per process).
fn memory_in_child(autosnapshot: Option<u64>) -> Result<String, String> {
    let exe = std::env::current_exe().map_err(|error| error.to_string())?;
    let output = Command::new(exe)
        .env(
            MEMORY_CHILD,
            autosnapshot.map_or("off".to_string(), |every| every.to_string()),
        )
        .output()
        .map_err(|error| error.to_string())?;
    let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if output.status.success() {
        Ok(text)
    } else {
        Err(format!(
            "failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// Resident memory of this process now, in kB (Linux).
fn rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Peak resident memory of this process, in kB (Linux).
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The memory scenario: 1,000,000 commands of 16 bytes on 3 nodes. Prints the peak
/// RSS after a quarter, half and all of them, to show whether it stays flat.
fn memory_child(autosnapshot: Option<u64>) {
    let (mut cluster, leader) = cluster_with_leader(3);
    cluster.set_auto_snapshot(autosnapshot);
    let total = 1_000_000;
    let batch = 10_000;
    let base = cluster.status(leader).commit_index;
    let mut marks = Vec::new();
    let mut sent = 0;
    while sent < total {
        let commands: Vec<String> = (sent..sent + batch)
            .map(|index| command(index, 16))
            .collect();
        let slice: Vec<&str> = commands.iter().map(String::as_str).collect();
        cluster
            .submit_batch(leader, &slice)
            .expect("the leader accepts");
        sent += batch;
        cluster.tick(1);
        if sent % (total / 4) == 0 {
            marks.push(peak_rss_kb().unwrap_or(0));
        }
    }
    let all_committed = cluster.tick_until(10_000, |cluster| {
        (1..=3).all(|id| cluster.status(id).last_applied >= base + total as u64)
    });
    assert!(all_committed, "every command applied everywhere");
    assert!(cluster.violations().is_empty());
    let peak = peak_rss_kb().unwrap_or(0);
    let shown: Vec<String> = marks.iter().map(|kb| format!("{}", kb / 1024)).collect();
    println!(
        "{} MB (at 25/50/75/100%: {} MB)",
        peak / 1024,
        shown.join("/")
    );
}

/// What the undo workload measured.
struct UndoLatency {
    build: Duration,
    export: Duration,
    undo_median_ms: f64,
    undo_max_ms: f64,
    rewind_ms: f64,
    goto_ms: f64,
    from_start_ms: f64,
    checkpoints: usize,
    memory_mb: String,
}

/// Runs one line in a session (refusals are part of the workload) and says how long
/// it took.
fn timed(session: &mut Session, line: &str) -> Duration {
    let command = parse(line)
        .expect("the workload's lines parse")
        .expect("the workload's lines are commands");
    let start = Instant::now();
    let _ = session.execute_line(command, line);
    start.elapsed()
}

/// A session of `ticks` ticks in the prompt's grammar, then time travel through it.
fn undo_latency(ticks: u64) -> UndoLatency {
    let rss_before = rss_kb();
    let start = Instant::now();
    let mut session = Session::scripted(Config::new(5).seed(1));
    let mut step = 0u64;
    while lock(session.cluster()).now() < ticks {
        step += 1;
        let lines: Vec<String> = match step % 50 {
            7 => vec!["crash leader".into(), "tick 40".into()],
            8 => vec!["restart all".into()],
            21 => vec!["partition leader | followers".into(), "tick 60".into()],
            22 => vec!["heal".into()],
            33 => vec!["drop 5%".into(), "delay 1..3".into()],
            34 => vec!["drop 0".into(), "delay 1".into()],
            _ => vec![format!("submit set k{} v{step}", step % 10)],
        };
        for line in lines {
            timed(&mut session, &line);
        }
        timed(&mut session, "tick 97");
    }
    let build = start.elapsed();
    let memory_mb = match (rss_before, rss_kb()) {
        (Some(before), Some(after)) => format!("{}", after.saturating_sub(before) / 1024),
        _ => "?".to_string(),
    };
    let checkpoints = lock(session.cluster())
        .record()
        .map_or(0, |record| record.checkpoint_count());
    let from_start_ms = {
        let cluster = lock(session.cluster());
        let record = cluster.record().expect("a session keeps a record");
        let start = Instant::now();
        let replayed = record.replay_with_trace(10_000, |_, _| {});
        let elapsed = start.elapsed();
        assert_eq!(replayed.history_digest(), cluster.history_digest());
        ms(elapsed)
    };
    let page = std::env::temp_dir().join(format!("undo-bench-{}.json", std::process::id()));
    let export = timed(&mut session, &format!("export json {}", page.display()));
    let _ = std::fs::remove_file(&page);
    let mut undos: Vec<f64> = (0..10).map(|_| ms(timed(&mut session, "undo"))).collect();
    undos.sort_by(f64::total_cmp);
    let rewind_ms = ms(timed(&mut session, "rewind 500"));
    let half = lock(session.cluster()).now() / 2;
    let goto_ms = ms(timed(&mut session, &format!("goto {half}")));
    UndoLatency {
        build,
        export,
        undo_median_ms: undos[undos.len() / 2],
        undo_max_ms: undos[undos.len() - 1],
        rewind_ms,
        goto_ms,
        from_start_ms,
        checkpoints,
        memory_mb,
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Idle ticks per second of a session's cluster, without a record and with one
/// (and its checkpoints), ticked a tick at a time as a free-running clock does: the
/// best of three runs of each, taken in turns so both see the same machine load.
fn recording_cost(nodes: usize) -> (f64, f64) {
    let rate = |config: Config| {
        let mut cluster = Cluster::new(config);
        cluster.tick(200);
        let ticks = 30_000;
        let start = Instant::now();
        for _ in 0..ticks {
            cluster.tick(1);
        }
        ticks as f64 / start.elapsed().as_secs_f64()
    };
    let config = Config::new(nodes).seed(1);
    let (mut plain, mut recorded) = (0f64, 0f64);
    for _ in 0..3 {
        plain = plain.max(rate(config.clone()));
        recorded = recorded.max(rate(config.clone().recorded()));
    }
    (plain, recorded)
}

/// Builds `tests/lab3.rs` in release mode, runs it, and measures its wall and CPU time.
fn lab_suite() -> Result<(Duration, f64), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let build = Command::new(&cargo)
        .args([
            "test",
            "--release",
            "--test",
            "lab3",
            "--no-run",
            "--message-format=json",
        ])
        .output()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    let executable = String::from_utf8_lossy(&build.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["target"]["name"] == "lab3")
        .filter_map(|message| message.get("executable")?.as_str().map(str::to_string))
        .next_back()
        .ok_or("cargo built no lab3 test binary")?;
    let cpu_before = children_cpu_seconds();
    let start = Instant::now();
    let status = Command::new(&executable)
        .arg("--quiet")
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|error| error.to_string())?;
    let wall = start.elapsed();
    if !status.success() {
        return Err("the lab suite failed".into());
    }
    let cpu = children_cpu_seconds()
        .zip(cpu_before)
        .map_or(f64::NAN, |(after, before)| after - before);
    Ok((wall, cpu))
}

/// User plus system CPU seconds of this process's waited-for children (Linux,
/// `/proc/self/stat` fields 16–17, at 100 ticks per second).
fn children_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let cutime: f64 = fields.get(13)?.parse().ok()?;
    let cstime: f64 = fields.get(14)?.parse().ok()?;
    Some((cutime + cstime) / 100.0)
}
