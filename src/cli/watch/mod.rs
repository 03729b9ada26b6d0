//! `raft-playground watch`: the live dashboard, in the spirit of RaftScope.
//!
//! One full-screen view of a free-running cluster: every node with its role, term,
//! vote and election timer draining; the messages in flight, each a dot moving from
//! sender to recipient; the logs side by side with their commit marks; the recent
//! events. Keys act on it (see [`state::KEYS`]), and `:` opens a line for any prompt
//! command.
//!
//! How it is built, so each part can be tested without a terminal:
//! - [`scene`] gathers one frame's data from the cluster's public views (status,
//!   links, messages in flight, logs, the trace) under one lock;
//! - [`state`] is the dashboard's own state and turns keys into command lines;
//! - [`draw`] (with `panels.rs`) renders a scene and that state with ratatui (tests
//!   draw on its `TestBackend` and compare the text with checked-in screens);
//! - [`terminal`] takes the terminal over and gives it back on every way out.
//!
//! Every change to the cluster goes through the same [`Session`] executor as the
//! prompt, on a worker thread, so a long `wait` or `tick` does not freeze the screen
//! and Ctrl-C can stop it. The free-running clock ticks the shared cluster as at the
//! prompt; the screen is redrawn from a fresh scene a few dozen times a second.

pub mod draw;
mod panels;
pub mod scene;
pub mod state;
pub mod terminal;

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use crossterm::event::{self, Event as TermEvent};

use self::scene::{ClockState, Scene};
use self::state::{Effect, Ui};
use self::terminal::TerminalGuard;
use super::error::ExecError;
use super::news::Reported;
use super::parse::parse;
use super::record_file::{RecordFile, lock_file};
use super::session::Session;
use crate::cluster::realtime::{RealTimeDriver, SharedCluster, lock};
use crate::cluster::{Cluster, Config};

/// How the dashboard starts.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    /// The cluster.
    pub config: Config,
    /// Real time per tick while the clock runs.
    pub tick: Duration,
    /// Start paused.
    pub paused: bool,
    /// `--record FILE`: write the session to this file as it goes.
    pub record: Option<PathBuf>,
}

/// How often the screen is redrawn at most (and how long a key is waited for).
const FRAME: Duration = Duration::from_millis(40);

/// A command line for the worker, and whether it was typed at `:`.
struct Job {
    line: String,
    typed: bool,
}

/// What the worker says when a command is done.
struct Done {
    job: Job,
    /// The output, or why it failed.
    result: Result<String, String>,
    /// The clock afterwards (`pause`, `resume` and `speed` change it).
    clock: ClockState,
    /// True after `quit`.
    quit: bool,
}

/// The session's executor on its own thread.
struct Worker {
    jobs: Option<Sender<Job>>,
    done: Receiver<Done>,
    thread: Option<JoinHandle<()>>,
}

/// The clock as the session has it.
fn clock_state(session: &Session) -> ClockState {
    ClockState {
        running: session.is_running(),
        interval: session.interval().unwrap_or_default(),
    }
}

/// Runs one command line on the session, as the prompt would.
fn run_line(session: &mut Session, line: &str) -> (Result<String, String>, bool) {
    match parse(line) {
        Ok(None) => (Ok(String::new()), false),
        Err(error) => (Err(error.0), false),
        Ok(Some(command)) => match session.execute_line(command, line) {
            Ok(output) => (Ok(output.text), output.quit),
            Err(error @ (ExecError::Invalid(_) | ExecError::Failed(_))) => {
                (Err(error.to_string()), false)
            }
            Err(error @ ExecError::Interrupted(_)) => (Err(error.to_string()), false),
        },
    }
}

impl Worker {
    fn start(mut session: Session) -> Worker {
        let (jobs, inbox) = crossbeam_channel::unbounded::<Job>();
        let (done_sender, done) = crossbeam_channel::unbounded();
        let thread = std::thread::Builder::new()
            .name("watch-executor".into())
            .spawn(move || {
                for job in inbox {
                    let (result, quit) = run_line(&mut session, &job.line);
                    let clock = clock_state(&session);
                    let reply = Done {
                        job,
                        result,
                        clock,
                        quit,
                    };
                    if done_sender.send(reply).is_err() {
                        return;
                    }
                }
            })
            .expect("the OS can start a thread");
        Worker {
            jobs: Some(jobs),
            done,
            thread: Some(thread),
        }
    }

    fn send(&self, job: Job) -> bool {
        self.jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send(job).is_ok())
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Hanging up ends the worker's loop once its command is done.
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Why the dashboard ended other than by quitting.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// Standard input or output is not a terminal.
    #[error("watch draws on a terminal, and this is not one (for scripts, use `run`)")]
    NotATerminal,
    /// The terminal could not be set up or drawn on.
    #[error("the terminal failed: {0}")]
    Terminal(#[from] io::Error),
    /// The `--record` file could not be created.
    #[error("--record {path}: {source}")]
    Record {
        /// The file.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// The executor thread ended (a bug; its panic message was printed).
    #[error("the session ended unexpectedly (a bug in raft-playground; see the message above)")]
    SessionLost,
}

/// Runs the dashboard until `q`, Ctrl-C, `:quit` or a signal.
pub fn run(options: WatchOptions) -> Result<(), WatchError> {
    use std::io::IsTerminal;
    if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
        return Err(WatchError::NotATerminal);
    }
    // Command output is shown inside the dashboard: plain text, no escape codes.
    colored::control::set_override(false);
    // The session keeps a record (for undo, save, export and --record).
    let cluster = Cluster::new(options.config.clone().recorded());
    let record_file = match &options.record {
        Some(path) => {
            let record = cluster.record().expect("a recorded cluster keeps a record");
            let file = RecordFile::create(path, record).map_err(|source| WatchError::Record {
                path: path.display().to_string(),
                source,
            })?;
            Some(Arc::new(Mutex::new(file)))
        }
        None => None,
    };
    let cluster: SharedCluster = Arc::new(Mutex::new(cluster));
    // The dashboard shows the trace itself: the clock marks each tick's news as seen.
    let reported = Arc::new(Mutex::new(Reported::default()));
    let seen = reported.clone();
    let clock_file = record_file.clone();
    let on_tick = Box::new(move |cluster: &mut Cluster| {
        if let Ok(mut reported) = seen.lock() {
            reported.news(cluster, 0, false);
        }
        if let (Some(file), Some(record)) = (&clock_file, cluster.record()) {
            lock_file(file).sync(record);
        }
    });
    let clock = RealTimeDriver::start(cluster.clone(), options.tick, options.paused, on_tick);
    let interrupt = Arc::new(AtomicBool::new(false));
    let mut session = Session::free_running(cluster.clone(), clock, interrupt.clone(), reported);
    session.set_news(false);
    if let Some(file) = record_file {
        session = session.with_record_file(file);
    }
    let mut clock = clock_state(&session);
    let worker = Worker::start(session);

    // SIGINT or SIGTERM from outside (raw mode turns Ctrl-C into a key instead).
    let signalled = Arc::new(AtomicBool::new(false));
    let flag = signalled.clone();
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));

    let mut guard = TerminalGuard::enter()?;
    let mut ui = Ui::default();
    let mut scene = Scene::gather(&mut lock(&cluster), clock);
    let mut drawn_at: Option<Instant> = None;
    let mut dirty = true;
    loop {
        if signalled.load(Ordering::SeqCst) {
            interrupt.store(true, Ordering::SeqCst);
            break;
        }
        // Commands that finished.
        let mut quit = false;
        while let Ok(done) = worker.done.try_recv() {
            clock = done.clock;
            ui.finished(&done.job.line, done.job.typed, done.result);
            quit |= done.quit;
            dirty = true;
        }
        if quit {
            break;
        }
        // Redraw when something changed or a frame's time has passed.
        if dirty || drawn_at.is_none_or(|at| at.elapsed() >= FRAME) {
            scene = Scene::gather(&mut lock(&cluster), clock);
            ui.fit(&scene);
            guard
                .terminal
                .draw(|frame| draw::draw(frame, &scene, &ui))?;
            drawn_at = Some(Instant::now());
            dirty = false;
        }
        if !event::poll(FRAME)? {
            continue;
        }
        match event::read()? {
            TermEvent::Key(key) => {
                dirty = true;
                match ui.on_key(key, &scene) {
                    Effect::Nothing => {}
                    Effect::Quit => {
                        interrupt.store(true, Ordering::SeqCst);
                        break;
                    }
                    Effect::Interrupt => interrupt.store(true, Ordering::SeqCst),
                    Effect::Run { line, typed } => {
                        ui.started(&line);
                        if !worker.send(Job { line, typed }) {
                            return Err(WatchError::SessionLost);
                        }
                    }
                }
            }
            TermEvent::Resize(..) => dirty = true,
            _ => {}
        }
        if worker.thread.as_ref().is_some_and(JoinHandle::is_finished) {
            return Err(WatchError::SessionLost);
        }
    }
    // Give the terminal back before waiting for the worker to finish its command.
    drop(guard);
    drop(worker);
    Ok(())
}
