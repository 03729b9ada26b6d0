//! A playground session: the cluster, its free-running clock if any, and what the
//! user has been told. The session handles what involves time or the session itself
//! (`tick`, `wait`, `pause`, `resume`, `speed`, `cluster`, `help`, `quit`) and hands
//! every other command to the executor ([`super::exec::execute_on`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use colored::Colorize;

use super::command::{Command, ExportFormat, WaitFor};
use super::error::ExecError;
use super::exec::execute_on;
use super::expect::{committed_on, describe_quorum, roles_summary};
use super::help::help;
use super::html::{self, record::Recorder};
use super::news::Reported;
use crate::cluster::realtime::{RealTimeDriver, SharedCluster, lock};
use crate::cluster::{Action, Cluster, Config};

/// The default limit of a `wait`, in ticks.
pub const DEFAULT_WITHIN: u64 = 1000;

/// What a command printed, and whether the session should end.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// Text for the user (may be empty).
    pub text: String,
    /// True after `quit`.
    pub quit: bool,
}

impl Output {
    pub(super) fn text(text: impl Into<String>) -> Output {
        Output {
            text: text.into(),
            quit: false,
        }
    }
}

/// A playground session: the cluster, its clock if free-running, and what was reported.
pub struct Session {
    /// The cluster, shared with the clock thread.
    cluster: SharedCluster,
    /// The free-running clock; `None` on virtual time only (scripts).
    clock: Option<RealTimeDriver>,
    /// Set by Ctrl-C; long commands check it.
    interrupt: Arc<AtomicBool>,
    /// What the user has been told.
    reported: Arc<Mutex<Reported>>,
    /// Whether a command's output ends with the news since the last one (the
    /// dashboard shows the trace itself and turns this off).
    news: bool,
    /// Watches the cluster after every tick and command, for `export`.
    recorder: Arc<Mutex<Recorder>>,
}

/// Notable events printed after one command at most.
const NEWS_LIMIT: usize = 12;

impl Session {
    /// A session on virtual time only: time moves through `tick` and `wait` alone.
    pub fn scripted(config: Config) -> Session {
        let session = Session {
            cluster: Arc::new(Mutex::new(Cluster::new(config))),
            clock: None,
            interrupt: Arc::new(AtomicBool::new(false)),
            reported: Arc::new(Mutex::new(Reported::default())),
            news: true,
            recorder: Arc::new(Mutex::new(Recorder::new())),
        };
        // The recording starts at tick 0.
        session.observe(&mut lock(&session.cluster));
        session
    }

    /// A session over a shared cluster driven by a free-running clock.
    pub fn free_running(
        cluster: SharedCluster,
        clock: RealTimeDriver,
        interrupt: Arc<AtomicBool>,
        reported: Arc<Mutex<Reported>>,
    ) -> Session {
        let session = Session {
            cluster,
            clock: Some(clock),
            interrupt,
            reported,
            news: true,
            recorder: Arc::new(Mutex::new(Recorder::new())),
        };
        session.observe(&mut lock(&session.cluster));
        session
    }

    /// The shared cluster.
    pub fn cluster(&self) -> &SharedCluster {
        &self.cluster
    }

    /// True while the free-running clock ticks.
    pub fn is_running(&self) -> bool {
        self.clock.as_ref().is_some_and(RealTimeDriver::is_running)
    }

    /// The free-running clock's real time per tick; `None` on virtual time only.
    pub fn interval(&self) -> Option<Duration> {
        self.clock.as_ref().map(RealTimeDriver::interval)
    }

    /// Whether each command's output ends with the news since the last command
    /// (elections, crashes, violations; on by default).
    pub fn set_news(&mut self, on: bool) {
        self.news = on;
    }

    /// Uses `recorder` for `export` (the free-running clock's `on_tick` should
    /// observe with the same one, so every tick is seen).
    pub fn set_recorder(&mut self, recorder: Arc<Mutex<Recorder>>) {
        self.recorder = recorder;
        self.observe(&mut lock(&self.cluster));
    }

    /// The recorder, locked.
    fn recorder(&self) -> std::sync::MutexGuard<'_, Recorder> {
        self.recorder
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Lets the recorder look at the cluster after a command.
    fn observe(&self, cluster: &mut Cluster) {
        self.recorder().observe(cluster);
    }

    /// Lets the recorder look at the cluster after a tick (cheap if it changed
    /// nothing).
    fn observe_tick(&self, cluster: &mut Cluster) {
        self.recorder().observe_tick(cluster);
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
            let mut cluster = lock(&self.cluster);
            self.observe(&mut cluster);
            self.reported
                .lock()
                .map(|mut reported| reported.news(&cluster, NEWS_LIMIT))
                .unwrap_or_default()
        };
        match result {
            Ok(mut output) => {
                if self.news && !news.is_empty() {
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
                // The recording starts again with the new cluster.
                let mut recorder = self.recorder();
                *recorder = Recorder::new();
                recorder.observe(&mut cluster);
                drop(recorder);
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
            Command::Export { format, path } => self.export(format, &path),
            Command::Act(Action::Tick(ticks)) => self.tick(ticks),
            Command::Wait { until, within } => self.wait(until, within.unwrap_or(DEFAULT_WITHIN)),
            other => {
                let mut cluster = lock(&self.cluster);
                let running = self.clock.as_ref().map(RealTimeDriver::is_running);
                execute_on(&mut cluster, other, running)
            }
        }
    }

    /// `export html|json FILE`: the session so far, as the recorder saw it.
    fn export(&mut self, format: ExportFormat, path: &str) -> Result<Output, ExecError> {
        let timeline = {
            let mut cluster = lock(&self.cluster);
            let mut recorder = self.recorder();
            recorder.observe(&mut cluster);
            recorder
                .timeline()
                .expect("a recorder that observed has a timeline")
        };
        let text = match format {
            ExportFormat::Html => html::page(&timeline),
            ExportFormat::Json => html::json(&timeline),
        };
        html::write(path, &text).map_err(|error| ExecError::Invalid(error.to_string()))?;
        let mut said = format!(
            "wrote {path}: ticks {} to {}, {} messages, {} events",
            timeline.start,
            timeline.end,
            timeline.messages.len(),
            timeline.events.len()
        );
        if !timeline.complete {
            said.push_str(" (recent history only: earlier ticks were not recorded)");
        }
        Ok(Output::text(said))
    }

    /// Advances time, in slices so Ctrl-C can stop it.
    fn tick(&mut self, ticks: u64) -> Result<Output, ExecError> {
        let start = lock(&self.cluster).now();
        let mut left = ticks;
        while left > 0 {
            if self.interrupt.load(Ordering::SeqCst) {
                return Err(ExecError::Interrupted(lock(&self.cluster).now()));
            }
            // One tick at a time, so the recorder sees each (Ctrl-C is checked
            // every 1000).
            let slice = left.min(1000);
            let mut cluster = lock(&self.cluster);
            for _ in 0..slice {
                cluster.apply(&Action::Tick(1))?;
                self.observe_tick(&mut cluster);
            }
            drop(cluster);
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
                let mut cluster = lock(&self.cluster);
                cluster.tick(1);
                self.observe_tick(&mut cluster);
            }
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
