//! The one executor: runs a parsed [`Command`] on the session's cluster and says what
//! happened, for the prompt and for scripts alike.
//!
//! A command that changes the cluster becomes [`crate::cluster::Action`]s
//! ([`super::actions`]), each applied through the cluster's one `apply`. Every
//! command resolves and validates all of its arguments before it changes anything,
//! so a bad line leaves the cluster exactly as it was.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use colored::Colorize;

use super::actions::{self, ClusterTargets, actions_of};
use super::command::{COMMANDS, Command, WaitFor, spec_of};
use super::expect::{committed_on, describe_quorum, expect, roles_summary};
use super::render;
use super::views;
use crate::cluster::action::SETTINGS;
use crate::cluster::clock::{FreeRunningClock, SharedCluster, lock};
use crate::cluster::trace::TraceEvent;
use crate::cluster::{Action, Cluster, ClusterError, Config};

/// The default limit of a `wait`, in ticks.
pub const DEFAULT_WITHIN: u64 = 1000;

/// Why a command did not succeed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// The input cannot be carried out (a node that does not exist, no leader to send
    /// to, ...). Nothing changed.
    #[error("{0}")]
    Invalid(String),
    /// A `wait` or `expect` saw something else than expected.
    #[error("{0}")]
    Failed(String),
    /// Ctrl-C stopped a `tick` or `wait` part way.
    #[error("interrupted at tick {0}")]
    Interrupted(u64),
}

impl From<ClusterError> for ExecError {
    fn from(error: ClusterError) -> ExecError {
        ExecError::Invalid(error.to_string())
    }
}

/// What a command printed, and whether the session should end.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// Text for the user (may be empty).
    pub text: String,
    /// True after `quit`.
    pub quit: bool,
}

impl Output {
    fn text(text: impl Into<String>) -> Output {
        Output {
            text: text.into(),
            quit: false,
        }
    }
}

/// How far the user has been told about events and violations, shared with the
/// free-running clock's printer so nothing is printed twice.
#[derive(Debug, Default)]
pub struct Reported {
    /// Trace events seen so far (by count).
    pub events: u64,
    /// Violations printed so far.
    pub violations: usize,
}

impl Reported {
    /// The notable events and violations since the last call, as lines.
    pub fn news(&mut self, cluster: &Cluster, limit: usize) -> Vec<String> {
        let total = cluster.event_count();
        let fresh = (total - self.events.min(total)) as usize;
        self.events = total;
        let events = cluster.events(fresh);
        let violations = cluster.violations();
        let new_violations = &violations[self.violations.min(violations.len())..];
        self.violations = violations.len();
        news_lines(&events, new_violations, limit)
    }
}

/// Lines for new events (the notable ones, at most `limit`) and every new violation,
/// in red: a violation is never lost to the limit.
fn news_lines(events: &[TraceEvent], violations: &[String], limit: usize) -> Vec<String> {
    let notable: Vec<&TraceEvent> = events
        .iter()
        .filter(|event| render::is_notable(&event.kind))
        .collect();
    let mut lines: Vec<String> = notable
        .iter()
        .take(limit)
        .map(|event| render::event_line(event))
        .collect();
    if notable.len() > limit {
        let more = notable.len() - limit;
        lines.push(
            format!("… and {more} more (see `events`)")
                .dimmed()
                .to_string(),
        );
    }
    for violation in violations {
        lines.push(format!("VIOLATION {violation}").red().bold().to_string());
    }
    lines
}

/// A playground session: the cluster, its clock if free-running, and what was reported.
pub struct Session {
    /// The cluster, shared with the clock thread.
    cluster: SharedCluster,
    /// The free-running clock; `None` on virtual time only (scripts).
    clock: Option<FreeRunningClock>,
    /// Set by Ctrl-C; long commands check it.
    interrupt: Arc<AtomicBool>,
    /// What the user has been told.
    reported: Arc<Mutex<Reported>>,
}

/// Notable events printed after one command at most.
const NEWS_LIMIT: usize = 12;

impl Session {
    /// A session on virtual time only: time moves through `tick` and `wait` alone.
    pub fn scripted(config: Config) -> Session {
        Session {
            cluster: Arc::new(Mutex::new(Cluster::new(config))),
            clock: None,
            interrupt: Arc::new(AtomicBool::new(false)),
            reported: Arc::new(Mutex::new(Reported::default())),
        }
    }

    /// A session over a shared cluster driven by a free-running clock.
    pub fn free_running(
        cluster: SharedCluster,
        clock: FreeRunningClock,
        interrupt: Arc<AtomicBool>,
        reported: Arc<Mutex<Reported>>,
    ) -> Session {
        Session {
            cluster,
            clock: Some(clock),
            interrupt,
            reported,
        }
    }

    /// The shared cluster.
    pub fn cluster(&self) -> &SharedCluster {
        &self.cluster
    }

    /// True while the free-running clock ticks.
    pub fn is_running(&self) -> bool {
        self.clock
            .as_ref()
            .is_some_and(FreeRunningClock::is_running)
    }

    /// Pauses the free-running clock, if it runs; returns whether it did.
    pub fn pause(&mut self) -> bool {
        match &mut self.clock {
            Some(clock) if clock.is_running() => {
                clock.pause();
                true
            }
            _ => false,
        }
    }

    fn reported(&self) -> std::sync::MutexGuard<'_, Reported> {
        self.reported
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs one command.
    pub fn execute(&mut self, command: Command) -> Result<Output, ExecError> {
        self.interrupt.store(false, Ordering::SeqCst);
        let result = self.dispatch(command);
        // Whatever happened, tell the user about new elections, crashes and violations.
        let news = {
            let cluster = lock(&self.cluster);
            self.reported
                .lock()
                .map(|mut reported| reported.news(&cluster, NEWS_LIMIT))
                .unwrap_or_default()
        };
        match result {
            Ok(mut output) => {
                if !news.is_empty() {
                    if !output.text.is_empty() {
                        output.text.push('\n');
                    }
                    output.text.push_str(&news.join("\n"));
                }
                Ok(output)
            }
            Err(error) => Err(error),
        }
    }

    fn dispatch(&mut self, command: Command) -> Result<Output, ExecError> {
        match command {
            Command::Help(topic) => help(topic.as_deref()).map(Output::text),
            Command::Quit => Ok(Output {
                text: String::new(),
                quit: true,
            }),
            Command::Cluster { nodes, seed } => {
                let seed = seed.unwrap_or_else(rand::random);
                let mut cluster = lock(&self.cluster);
                *cluster = Cluster::new(Config::new(nodes).seed(seed));
                *self.reported() = Reported::default();
                Ok(Output::text(format!(
                    "new cluster: {nodes} node{}, seed {seed} (replay with --seed {seed})",
                    if nodes == 1 { "" } else { "s" }
                )))
            }
            Command::Pause => Ok(Output::text(match &mut self.clock {
                Some(clock) => {
                    clock.pause();
                    format!(
                        "paused at tick {}: time moves with tick and wait",
                        lock(&self.cluster).now()
                    )
                }
                None => "(a script runs on virtual time already: nothing to pause)".to_string(),
            })),
            Command::Resume => Ok(Output::text(match &mut self.clock {
                Some(clock) => {
                    clock.resume();
                    format!(
                        "running: one tick every {} ms",
                        clock.interval().as_millis()
                    )
                }
                None => "(a script runs on virtual time: time moves only with tick and wait)"
                    .to_string(),
            })),
            Command::Speed(ms) => Ok(Output::text(match &mut self.clock {
                Some(clock) => {
                    clock.set_interval(Duration::from_millis(ms));
                    format!("one tick every {ms} ms")
                }
                None => "(a script runs on virtual time: speed has no effect)".to_string(),
            })),
            Command::Act(Action::Tick(ticks)) => self.tick(ticks),
            Command::Wait { until, within } => self.wait(until, within.unwrap_or(DEFAULT_WITHIN)),
            other => {
                let mut cluster = lock(&self.cluster);
                let running = self.clock.as_ref().map(FreeRunningClock::is_running);
                execute_on(&mut cluster, other, running)
            }
        }
    }

    /// Advances time, in slices so Ctrl-C can stop it.
    fn tick(&mut self, ticks: u64) -> Result<Output, ExecError> {
        let start = lock(&self.cluster).now();
        let mut left = ticks;
        while left > 0 {
            if self.interrupt.load(Ordering::SeqCst) {
                return Err(ExecError::Interrupted(lock(&self.cluster).now()));
            }
            let slice = left.min(1000);
            lock(&self.cluster).apply(&Action::Tick(slice))?;
            left -= slice;
        }
        let now = lock(&self.cluster).now();
        Ok(Output::text(
            format!("tick {start} → {now}").dimmed().to_string(),
        ))
    }

    /// Advances time until `until` holds, for at most `within` ticks. While the clock
    /// runs, it follows the clock in real time instead of ticking itself (so `wait
    /// ticks 20` then takes 20 ticks of real time).
    fn wait(&mut self, until: WaitFor, within: u64) -> Result<Output, ExecError> {
        let start = lock(&self.cluster).now();
        let within = match until {
            // Without a running clock, ticks pass as fast as they can.
            WaitFor::Ticks(ticks) if !self.is_running() => return self.tick(ticks),
            WaitFor::Ticks(ticks) => ticks,
            WaitFor::Leader | WaitFor::Commit { .. } => within,
        };
        loop {
            {
                let cluster = lock(&self.cluster);
                let waited = cluster.now() - start;
                if let Some(text) = wait_satisfied(&cluster, &until, waited)? {
                    let plural = if waited == 1 { "" } else { "s" };
                    return Ok(Output::text(format!(
                        "{text} (after {waited} tick{plural})"
                    )));
                }
                if waited >= within {
                    return Err(ExecError::Failed(format!(
                        "wait {}: not reached within {within} ticks (now tick {}); {}",
                        describe_wait(&until),
                        cluster.now(),
                        roles_summary(&cluster)
                    )));
                }
            }
            if self.interrupt.load(Ordering::SeqCst) {
                return Err(ExecError::Interrupted(lock(&self.cluster).now()));
            }
            if self.is_running() {
                std::thread::sleep(Duration::from_millis(5));
            } else {
                lock(&self.cluster).tick(1);
            }
        }
    }
}

/// `help` and `help COMMAND`.
pub fn help(topic: Option<&str>) -> Result<String, ExecError> {
    match topic {
        None => {
            let mut lines = vec![
                "Commands (help COMMAND for details). NODES: 3, n3, leader, followers, all, or a list like 1,2."
                    .bold()
                    .to_string(),
            ];
            let mut group = "";
            for spec in COMMANDS {
                if spec.group != group {
                    group = spec.group;
                    lines.push(format!("{}", group.cyan().bold()));
                }
                lines.push(format!("  {:<13} {}", spec.name.bold(), spec.summary));
            }
            lines.push(
                "Lines starting with # are comments (narration in scripts)."
                    .dimmed()
                    .to_string(),
            );
            Ok(lines.join("\n"))
        }
        Some(name) => {
            let spec = spec_of(name).ok_or_else(|| {
                let names: Vec<&str> = COMMANDS.iter().map(|spec| spec.name).collect();
                ExecError::Invalid(format!(
                    "no command `{name}`; commands are: {}",
                    names.join(", ")
                ))
            })?;
            let mut text = format!(
                "{}\n  {}\n  example: {}",
                spec.usage.bold(),
                spec.summary,
                spec.example.green()
            );
            if spec.name == "set" {
                for setting in SETTINGS {
                    let name = format!("{} {}", setting.name, setting.value);
                    text.push_str(&format!("\n  {:<17} {}", name.bold(), setting.summary));
                }
            }
            Ok(text)
        }
    }
}

fn describe_wait(until: &WaitFor) -> String {
    match until {
        WaitFor::Leader => "leader".to_string(),
        WaitFor::Commit { index, on } => format!("commit {index} {}", describe_quorum(on)),
        WaitFor::Ticks(ticks) => format!("ticks {ticks}"),
    }
}

/// `Some(description)` once the wait's condition holds, `waited` ticks after it began.
fn wait_satisfied(
    cluster: &Cluster,
    until: &WaitFor,
    waited: u64,
) -> Result<Option<String>, ExecError> {
    Ok(match until {
        WaitFor::Leader => cluster.leader().map(|leader| {
            format!(
                "n{leader} leads term {} at tick {}",
                cluster.status(leader).term,
                cluster.now()
            )
        }),
        WaitFor::Commit { index, on } => {
            let (holds, seen) = committed_on(cluster, *index, on)?;
            holds.then(|| {
                format!(
                    "index {index} committed {} ({seen}) at tick {}",
                    describe_quorum(on),
                    cluster.now()
                )
            })
        }
        WaitFor::Ticks(ticks) => (waited >= *ticks).then(|| format!("tick {}", cluster.now())),
    })
}

/// Everything but time and the session's own settings: runs on a locked cluster.
/// `running` is the free-running clock's state, if there is a clock.
pub fn execute_on(
    cluster: &mut Cluster,
    command: Command,
    running: Option<bool>,
) -> Result<Output, ExecError> {
    if let Some(resolved) = actions_of(&command, &ClusterTargets(cluster)) {
        let actions = resolved.map_err(ExecError::Invalid)?;
        if command == Command::DeliverAll && actions.is_empty() {
            return Ok(Output::text("no messages in flight".dimmed().to_string()));
        }
        return actions::run(cluster, &actions).map(Output::text);
    }
    let text = match command {
        Command::Status { json } => views::status(cluster, json, running),
        Command::Log { nodes, json } => views::log(cluster, nodes.as_deref(), json)?,
        Command::Kv { node, json } => views::kv(cluster, node.as_deref(), json)?,
        Command::Events { count, json } => views::events(cluster, count, json),
        Command::Stats { json } => views::stats(cluster, json),
        Command::Messages { json } => views::messages(cluster, json),
        Command::Digest { json } => views::digest(cluster, json),
        Command::Expect(expectation) => expect(cluster, &expectation)?,
        Command::Act(_)
        | Command::Submit { .. }
        | Command::Crash(_)
        | Command::Restart(_)
        | Command::Disconnect(_)
        | Command::Connect(_)
        | Command::Partition(_)
        | Command::Snapshot(_)
        | Command::Timeout(_)
        | Command::DeliverAll => unreachable!("commands that change the cluster are actions"),
        Command::Help(_)
        | Command::Quit
        | Command::Cluster { .. }
        | Command::Pause
        | Command::Resume
        | Command::Speed(_)
        | Command::Wait { .. } => unreachable!("the session handles these itself"),
    };
    Ok(Output::text(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::trace::TraceKind;
    use crate::raft::Event;

    fn event(tick: u64, kind: TraceKind) -> TraceEvent {
        TraceEvent {
            tick,
            node: 1,
            kind,
        }
    }

    #[test]
    fn help_lists_the_digest_the_settings_and_each_setting() {
        let all = help(None).unwrap();
        assert!(all.contains("digest") && all.contains("set"), "{all}");
        let set = help(Some("set")).unwrap();
        for spec in SETTINGS {
            assert!(
                set.contains(spec.name) && set.contains(spec.summary),
                "{set}"
            );
        }
        assert!(help(Some("expect")).unwrap().contains("digest HEX"));
    }

    #[test]
    fn the_digest_view_and_expect_digest() {
        use super::super::command::Expectation;
        let mut cluster = Cluster::new(Config::new(3).seed(1));
        cluster.tick(30);
        let digest = cluster.history_digest();
        let shown = |cluster: &mut Cluster, json| {
            execute_on(cluster, Command::Digest { json }, None)
                .unwrap()
                .text
        };
        let text = render::with_colors(|| shown(&mut cluster, false));
        assert!(text.contains(&format!("{digest:016x}")), "{text}");
        let json: serde_json::Value = serde_json::from_str(&shown(&mut cluster, true)).unwrap();
        assert_eq!(json["digest"], format!("{digest:016x}"));
        assert_eq!(json["tick"], 30);
        let expect = |cluster: &mut Cluster, wanted| {
            execute_on(cluster, Command::Expect(Expectation::Digest(wanted)), None)
        };
        assert!(expect(&mut cluster, digest).is_ok());
        match expect(&mut cluster, digest ^ 1) {
            Err(ExecError::Failed(text)) => {
                assert!(text.contains("the history differs"), "{text}");
            }
            other => panic!("a wrong digest was accepted: {other:?}"),
        }
    }

    #[test]
    fn news_keeps_notable_events_and_every_violation() {
        let elected = TraceKind::Raft {
            event: Event::BecameLeader { term: 2 },
        };
        let applied = TraceKind::Applied { from: 1, to: 3 };
        let events: Vec<TraceEvent> = (0..5)
            .map(|tick| event(tick, elected.clone()))
            .chain([event(6, applied)])
            .collect();
        let violations = vec![
            "tick 7: n1: Election Safety: n1 and n2 both won term 2".to_string(),
            "tick 7: n2: Log Matching: ...".to_string(),
        ];
        let lines = render::with_colors(|| news_lines(&events, &violations, 3));
        // Three elections, a note about the other two, the routine apply left out,
        // then both violations in red, though the limit was reached.
        assert_eq!(lines.len(), 6, "{lines:?}");
        assert!(lines[0].contains("becomes leader of term 2"));
        assert!(lines[3].contains("and 2 more"));
        assert!(lines[4].contains("VIOLATION tick 7: n1: Election Safety"));
        assert!(
            lines[4].contains("\u{1b}[1;31m") || lines[4].contains("\u{1b}[31"),
            "red: {:?}",
            lines[4]
        );
        assert!(lines[5].contains("Log Matching"));
    }
}
