//! A playground session: the cluster, its free-running clock if any, and what the
//! user has been told. The session handles what involves time or the session itself
//! (`tick`, `wait`, `pause`, `resume`, `speed`, `cluster`, `help`, `quit`) and hands
//! every other command to the executor ([`super::exec::execute_on`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use colored::Colorize;

use super::actions::{Concrete, actions_of};
use super::command::SearchRequest;
use super::command::{Command, ExportFormat, WaitFor};
use super::error::ExecError;
use super::exec::{ViewContext, execute_on};
use super::expect::roles_summary;
use super::help::help;
use super::html;
use super::news::Reported;
use super::parse::parse;
use super::record_file::{SharedRecordFile, lock_file};
use super::wait::{Baseline, describe_wait, wait_satisfied};
use crate::cluster::realtime::{RealTimeDriver, SharedCluster, lock};
use crate::cluster::{Action, Cluster, Config, Violation, derive_seed};
use crate::search::{self, Counterexample, SearchConfig};

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

    /// The same output with `lines` before it: what happened while the command ran
    /// comes before what the command says about it.
    fn after(mut self, lines: &[String]) -> Output {
        if !lines.is_empty() {
            let mut text = lines.join("\n");
            if !self.text.is_empty() {
                text.push('\n');
                text.push_str(&self.text);
            }
            self.text = text;
        }
        self
    }
}

/// What running one command did: the news of what happened while it ran (events in
/// the order they happened, then any violation), and the command's own result. The
/// news is there whether the command succeeded, failed or was interrupted, and is
/// shown before the result.
#[derive(Debug)]
pub struct Ran {
    /// What happened while the command ran, one line per event.
    pub news: Vec<String>,
    /// What the command printed, or why it failed.
    pub result: Result<Output, ExecError>,
}

/// True for a command whose output tells every event it caused, in order, beside
/// the deliveries that caused them (`deliver`, `stabilize`): news of the same events
/// before that output would say them twice, and out of order.
fn narrates_its_events(command: &Command) -> bool {
    matches!(
        command,
        Command::Deliver(_) | Command::Stabilize(_) | Command::Act(Action::Deliver(_))
    )
}

/// A plural `s` for a count (of any unsigned width).
pub(super) fn plural<N: PartialEq + From<u8>>(count: N) -> &'static str {
    if count == N::from(1) { "" } else { "s" }
}

/// A playground session: the cluster, its clock if free-running, and what was reported.
pub struct Session {
    /// The cluster, shared with the clock thread.
    pub(super) cluster: SharedCluster,
    /// The free-running clock; `None` on virtual time only (scripts).
    clock: Option<RealTimeDriver>,
    /// Set by Ctrl-C; long commands check it.
    interrupt: Arc<AtomicBool>,
    /// What the user has been told.
    pub(super) reported: Arc<Mutex<Reported>>,
    /// Whether a command's output ends with the news since the last one (the
    /// dashboard shows the trace itself and turns this off).
    news: bool,
    /// Where `--record` writes the session as it goes, shared with the clock.
    pub(super) record_file: Option<SharedRecordFile>,
    /// The session's seed: a `cluster` line without a seed takes one derived from it,
    /// so a session started with `--seed S` replays whole, `cluster` lines included.
    seed: u64,
    /// How many clusters `cluster` lines made so far (each gets its own seed).
    clusters: u64,
    /// How deep `source` lines nest now.
    sourcing: usize,
    /// The configuration a `cluster` line starts from (its size and seed replaced):
    /// the one the session began with, with any rules `--break` broke.
    base: Config,
    /// How many times the cluster was replaced (`cluster`, `search`), so a reader of
    /// its violations can tell a new cluster from the old one.
    generation: u64,
}

/// The deepest `source` may nest (a script that sources itself stops there).
const MAX_SOURCE_DEPTH: usize = 8;

/// Notable events printed after one command at most.
const NEWS_LIMIT: usize = 12;

impl Session {
    /// A session on virtual time only: time moves through `tick` and `wait` alone.
    /// Its cluster keeps a record, whatever `config` says, so that `undo`, `save`
    /// and `export` work in scripts too.
    pub fn scripted(config: Config) -> Session {
        Session {
            seed: config.seed,
            clusters: 0,
            sourcing: 0,
            cluster: Arc::new(Mutex::new(Cluster::new(config.clone().recorded()))),
            clock: None,
            interrupt: Arc::new(AtomicBool::new(false)),
            reported: Arc::new(Mutex::new(Reported::default())),
            news: true,
            record_file: None,
            base: config,
            generation: 0,
        }
    }

    /// A session over a shared cluster driven by a free-running clock. Time travel
    /// and `export` need the cluster to keep a record ([`Config::recorded`]).
    pub fn free_running(
        cluster: SharedCluster,
        clock: RealTimeDriver,
        interrupt: Arc<AtomicBool>,
        reported: Arc<Mutex<Reported>>,
    ) -> Session {
        let seed = lock(&cluster).seed();
        let base = lock(&cluster).config().clone();
        Session {
            seed,
            clusters: 0,
            sourcing: 0,
            cluster,
            clock: Some(clock),
            interrupt,
            reported,
            news: true,
            record_file: None,
            base,
            generation: 0,
        }
    }

    /// The same session, writing itself to `file` as it goes (`--record`). A
    /// free-running clock's tick callback should sync the same file
    /// (`RecordFile::sync`) so its ticks reach it too.
    pub fn with_record_file(mut self, file: SharedRecordFile) -> Session {
        self.record_file = Some(file);
        self
    }

    /// The cluster's violations so far, with the number of times the cluster was
    /// replaced (a different number means a different cluster).
    pub fn violations(&self) -> (u64, Vec<Violation>) {
        let cluster = lock(&self.cluster);
        (self.generation, cluster.checker().violations().to_vec())
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

    pub(super) fn reported(&self) -> std::sync::MutexGuard<'_, Reported> {
        self.reported
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs one command, and says what happened while it ran and what it printed.
    /// The record names it by what it did (`crash 3`); see [`Session::run_line`].
    pub fn run(&mut self, command: Command) -> Ran {
        self.run_typed(command, None)
    }

    /// Runs one command parsed from `line`: the record names the command as typed
    /// (`crash leader`), and a saved session shows it above what it did (`crash 3`).
    pub fn run_line(&mut self, command: Command, line: &str) -> Ran {
        self.run_typed(command, Some(line.trim()))
    }

    fn run_typed(&mut self, command: Command, line: Option<&str>) -> Ran {
        self.interrupt.store(false, Ordering::SeqCst);
        let narrated = narrates_its_events(&command);
        let result = self.dispatch(command, line);
        let warning = self.sync_record_file();
        // Whatever happened, tell the user about new elections, crashes and violations.
        let news = {
            let cluster = lock(&self.cluster);
            self.reported
                .lock()
                .map(|mut reported| reported.news(&cluster, NEWS_LIMIT, narrated))
                .unwrap_or_default()
        };
        // The dashboard shows the trace itself: no news for it.
        let mut news = if self.news { news } else { Vec::new() };
        news.extend(warning.map(|text| text.yellow().to_string()));
        Ran { news, result }
    }

    /// Runs one command: on success its output comes after the news of what happened
    /// while it ran; on failure the news is left out ([`Session::run`] keeps both).
    pub fn execute(&mut self, command: Command) -> Result<Output, ExecError> {
        let Ran { news, result } = self.run(command);
        result.map(|output| output.after(&news))
    }

    /// [`Session::execute`] of a command parsed from `line` (see [`Session::run_line`]).
    pub fn execute_line(&mut self, command: Command, line: &str) -> Result<Output, ExecError> {
        let Ran { news, result } = self.run_line(command, line);
        result.map(|output| output.after(&news))
    }

    /// Brings the `--record` file up to date; its first write error, once.
    fn sync_record_file(&mut self) -> Option<String> {
        let file = self.record_file.as_ref()?;
        let cluster = lock(&self.cluster);
        let mut file = lock_file(file);
        if let Some(record) = cluster.record() {
            file.sync(record);
        }
        file.take_error()
    }

    fn dispatch(&mut self, command: Command, line: Option<&str>) -> Result<Output, ExecError> {
        match command {
            Command::Help(topic) => {
                help(topic.as_deref(), self.view_context().width).map(Output::text)
            }
            Command::Quit => Ok(Output {
                text: String::new(),
                quit: true,
            }),
            Command::Cluster { nodes, seed, log } => {
                self.clusters += 1;
                let seed = seed.unwrap_or_else(|| derive_seed(self.seed, &[self.clusters]));
                // The session's base keeps what `--break` broke.
                let config = Config {
                    nodes,
                    seed,
                    ..self.base.clone()
                }
                .initial_log(log)
                .recorded();
                self.replace_cluster(Cluster::new(config));
                let mut text = format!(
                    "new cluster: {nodes} node{}, seed {seed} (replay with --seed {seed})",
                    if nodes == 1 { "" } else { "s" }
                );
                if log > 0 {
                    text.push_str(&format!(
                        "; every node holds {log} committed entr{} (a snapshot through {log}, term 1)",
                        if log == 1 { "y" } else { "ies" }
                    ));
                }
                Ok(Output::text(text))
            }
            Command::Source(path) => self.source(&path),
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
            Command::Act(Action::Tick(ticks)) => self.tick(ticks, line),
            Command::Wait { until, within } => {
                self.wait(until, within.unwrap_or(DEFAULT_WITHIN), line)
            }
            Command::Search(request) => self.search(request),
            Command::Undo(count) => self.undo(count),
            Command::Rewind(ticks) => self.rewind(ticks),
            Command::Goto(tick) => self.goto(tick),
            Command::Save(file) => self.save(&file),
            other => {
                let context = self.view_context();
                let mut cluster = lock(&self.cluster);
                // `stabilize` resolves its deliveries as it runs, but changes the
                // cluster like any command with actions.
                let changes = matches!(other, Command::Stabilize(_))
                    || actions_of(&other, &Concrete).is_some();
                if !changes {
                    return execute_on(&mut cluster, other, &context);
                }
                // Under one lock, so the clock's ticks come before or after it.
                let first = cluster.begin_command();
                let result = execute_on(&mut cluster, other, &context);
                cluster.end_command(first, line);
                result
            }
        }
    }

    /// `source FILE`: runs a script's lines in this session, as `run` would show
    /// them; stops at the first bad line or failed expectation, with `FILE:LINE:`.
    fn source(&mut self, path: &str) -> Result<Output, ExecError> {
        if self.sourcing >= MAX_SOURCE_DEPTH {
            return Err(ExecError::Invalid(format!(
                "source: scripts nest more than {MAX_SOURCE_DEPTH} deep (does {path} source itself?)"
            )));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|error| ExecError::Invalid(format!("source: cannot read {path}: {error}")))?;
        self.sourcing += 1;
        let mut transcript = Vec::new();
        let mut failure = None;
        for (number, line) in text.lines().enumerate() {
            match self.source_line(line, &mut transcript) {
                Ok(true) => {}
                Ok(false) => break,
                Err(error) => {
                    failure = Some(format!("{path}:{}: {error}", number + 1));
                    break;
                }
            }
        }
        self.sourcing -= 1;
        match failure {
            None => Ok(Output::text(transcript.join("\n"))),
            Some(failure) => {
                transcript.push(failure);
                Err(ExecError::Failed(transcript.join("\n")))
            }
        }
    }

    /// One line of a sourced script into `transcript`; false after `quit`.
    fn source_line(&mut self, line: &str, transcript: &mut Vec<String>) -> Result<bool, String> {
        let line = line.trim();
        if line.is_empty() {
            return Ok(true);
        }
        if let Some(narration) = line.strip_prefix('#') {
            transcript.push(narration.trim().italic().cyan().to_string());
            return Ok(true);
        }
        transcript.push(format!("{} {}", "»".bold(), line.bold()));
        let Some(command) = parse(line).map_err(|error| error.0)? else {
            return Ok(true);
        };
        let ran = self.run_line(command, line);
        transcript.extend(ran.news.iter().map(|text| format!("  {text}")));
        let output = ran.result.map_err(|error| error.to_string())?;
        transcript.extend(output.text.lines().map(|text| format!("  {text}")));
        Ok(!output.quit)
    }

    /// How views are shown now: at the prompt, as wide as the terminal (80 columns
    /// if it cannot tell); in scripts, always 80 columns.
    fn view_context(&self) -> ViewContext {
        let width = match &self.clock {
            Some(_) => terminal_size::terminal_size()
                .map_or(80, |(width, _)| usize::from(width.0))
                .max(40),
            None => 80,
        };
        ViewContext {
            running: self.clock.as_ref().map(RealTimeDriver::is_running),
            width,
        }
    }

    /// `export html|json FILE`: the session so far (since its `cluster` line), its
    /// timeline built by replaying the cluster's record from tick 0 with
    /// [`html::record::Recorder`] watching every tick. Nothing watches a live session:
    /// its record is all an export needs, and an undone future is not in it.
    fn export(&mut self, format: ExportFormat, path: &str) -> Result<Output, ExecError> {
        // Copy the record and let go of the cluster: the free-running clock keeps
        // ticking while the replay runs, and the export shows the moment it was asked.
        let record = lock(&self.cluster).record().cloned().ok_or_else(|| {
            ExecError::Invalid(
                "this session keeps no record of its actions, so there is nothing to export"
                    .to_string(),
            )
        })?;
        let timeline = html::record::replay_record(&record);
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
            said.push_str(
                " (the most recent part only: the session is longer than a timeline keeps)",
            );
        }
        Ok(Output::text(said))
    }

    /// `search`: chaos schedules with this cluster's size, broken rules and switches
    /// beyond Lab 3 (on from the start), until one
    /// breaks an invariant; the shrunk counterexample replaces the cluster (the clock
    /// paused), so its end can be looked at, and is shown as a script. Progress goes
    /// to standard error while it is a terminal.
    fn search(&mut self, request: SearchRequest) -> Result<Output, ExecError> {
        let (nodes, broken, features) = {
            let cluster = lock(&self.cluster);
            (
                cluster.size(),
                cluster.broken_rules(),
                cluster.raft_config().features,
            )
        };
        let config = SearchConfig {
            nodes: Some(nodes),
            features,
            budget: request.budget.map(Duration::from_secs),
            invariant: request.invariant,
            ..SearchConfig::new(broken, request.seeds)
        };
        let mut progress = super::progress::Progress::on_stderr();
        let result = search::search(&config, &mut |step| progress.show(step));
        progress.clear();
        let found = match result {
            Ok(found) => found,
            Err(not_found) => {
                let rules = if broken.is_empty() {
                    "every rule holds".to_string()
                } else {
                    format!("rules broken: {broken}")
                };
                return Ok(Output::text(format!("{not_found} ({rules})")));
            }
        };
        let script = found.script();
        let written = match &request.out {
            Some(file) => {
                std::fs::write(file, &script)
                    .map_err(|error| ExecError::Invalid(format!("cannot write {file}: {error}")))?;
                format!(" (written to {file})")
            }
            None => String::new(),
        };
        let paused = self.pause();
        let now = self.load(&found);
        let mut text = super::progress::found_summary(&found);
        text.push_str(&format!(
            "\nthe cluster is now this counterexample at tick {now}{}: look with log, events, status; the script{written}:\n{}",
            if paused { " (paused)" } else { "" },
            script.trim_end()
        ));
        Ok(Output::text(text))
    }

    /// Replaces the cluster with a counterexample's run; returns the tick it ends at.
    fn load(&mut self, found: &Counterexample) -> u64 {
        let config = Config {
            trace_capacity: self.base.trace_capacity,
            ..Config::new(found.nodes).seed(found.seed)
        }
        .recorded();
        let mut cluster = Cluster::new(config);
        for action in &found.steps {
            // A step the cluster refuses changed nothing in the search's replay either.
            let _ = cluster.apply(action);
        }
        let now = cluster.now();
        self.replace_cluster(cluster);
        now
    }

    /// Puts a new cluster in the old one's place: what was reported of the old one is
    /// forgotten, and a `--record` file starts a new part with it.
    fn replace_cluster(&mut self, cluster: Cluster) {
        let mut shared = lock(&self.cluster);
        *shared = cluster;
        self.generation += 1;
        *self.reported() = Reported::default();
        if let (Some(file), Some(record)) = (&self.record_file, shared.record()) {
            lock_file(file).new_part(record);
        }
    }

    /// Advances time, in slices so Ctrl-C can stop it. The first slice marks the
    /// command's beginning under the same lock, so no tick of the clock slips in.
    fn tick(&mut self, ticks: u64, line: Option<&str>) -> Result<Output, ExecError> {
        let mut begun: Option<(usize, u64)> = None;
        let mut result = Ok(());
        let mut left = ticks;
        while left > 0 {
            if self.interrupt.load(Ordering::SeqCst) {
                result = Err(ExecError::Interrupted(lock(&self.cluster).now()));
                break;
            }
            let slice = left.min(1000);
            let mut cluster = lock(&self.cluster);
            if begun.is_none() {
                begun = Some((cluster.begin_command(), cluster.now()));
            }
            if let Err(error) = cluster.apply(&Action::Tick(slice)) {
                result = Err(error.into());
                break;
            }
            left -= slice;
        }
        let mut cluster = lock(&self.cluster);
        let (first, start) = begun.unwrap_or((0, cluster.now()));
        if begun.is_some() {
            cluster.end_command(first, line);
        }
        result?;
        let now = cluster.now();
        Ok(Output::text(
            format!("tick {start} → {now}").dimmed().to_string(),
        ))
    }

    /// Advances time until `until` holds, for at most `within` ticks. While the clock
    /// runs, it follows the clock in real time instead of ticking itself (so `wait
    /// ticks 20` then takes 20 ticks of real time); those ticks are the clock's, so
    /// such a wait is no command that changed the cluster.
    fn wait(
        &mut self,
        until: WaitFor,
        within: u64,
        line: Option<&str>,
    ) -> Result<Output, ExecError> {
        if self.is_running() {
            return self.wait_for(until, within);
        }
        if let WaitFor::Ticks(ticks) = until {
            // Without a running clock, ticks pass as fast as they can.
            return self.tick(ticks, line);
        }
        let first = lock(&self.cluster).begin_command();
        let result = self.wait_for(until, within);
        lock(&self.cluster).end_command(first, line);
        result
    }

    /// The waiting itself: see [`Session::wait`].
    fn wait_for(&mut self, until: WaitFor, within: u64) -> Result<Output, ExecError> {
        let (start, baseline) = {
            let cluster = lock(&self.cluster);
            (cluster.now(), Baseline::now(&cluster))
        };
        let within = match until {
            WaitFor::Ticks(ticks) => ticks,
            _ => within,
        };
        loop {
            {
                let cluster = lock(&self.cluster);
                let waited = cluster.now() - start;
                if let Some(text) = wait_satisfied(&cluster, &until, waited, &baseline)? {
                    return Ok(Output::text(format!(
                        "{text} (after {waited} tick{})",
                        plural(waited)
                    )));
                }
                if waited >= within {
                    return Err(ExecError::Failed(format!(
                        "wait {}: not reached within {within} tick{} (now tick {}); {}",
                        describe_wait(&until),
                        plural(within),
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

impl Drop for Session {
    /// Closes the `--record` file with the session's end (after stopping the clock,
    /// so the end is the end).
    fn drop(&mut self) {
        if let Some(file) = &self.record_file {
            if let Some(clock) = &mut self.clock {
                clock.pause();
            }
            let cluster = lock(&self.cluster);
            lock_file(file).finish(&cluster);
        }
    }
}
