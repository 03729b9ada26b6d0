//! The script runner: `raft-playground run FILE…` (and piped standard input).
//!
//! A script is what a person could type at the prompt, one command per line. Lines
//! starting with `#` are narration and are printed as such; a `#` that starts a word
//! later on a line begins a comment; blank lines are skipped. Each command is echoed
//! with its output. A script runs on virtual time, so it takes milliseconds and runs
//! the same way every time. The first bad line or failed expectation stops the run
//! with `FILE:LINE: what was expected, what was seen`; with `--keep-going` the run
//! continues and the failures are counted, except after a failed setup line
//! (`cluster`), since what follows was written for another cluster.
//!
//! For tools, a `--json` view prints its document compactly on a line of its own,
//! without the echo, to the JSON output ([`Outputs::json`]); presenter mode
//! (`run --step`) waits for Enter after each block of narration.
//!
//! A violation the checker reports is a failure too, unless the script expects it:
//! `expect violation [NAME]` after the line that caused it marks it expected (a
//! counterexample kept as a test ends so). One nobody expected is reported, with the
//! line during which it appeared, when the cluster is replaced or the script ends.

use std::io::{BufRead, Write};

use colored::Colorize;

use std::sync::{Arc, Mutex};

use super::command::{Command, Expectation};
use super::error::ExecError;
use super::parse::{parse, split_word};
use super::record_file::RecordFile;
use super::session::Session;
use crate::cluster::realtime::lock;
use crate::cluster::{Config, Invariant, Violation};

/// How to run scripts.
#[derive(Clone, Debug)]
pub struct ScriptOptions {
    /// The cluster each script starts with (a script may replace it with `cluster`).
    pub config: Config,
    /// Run to the end and count failures instead of stopping at the first.
    pub keep_going: bool,
    /// Print `--json` views as compact JSON alone on a line, without the echo of
    /// the command (for tools: output that is not a terminal).
    pub compact_json: bool,
    /// Write the session to this file as it runs (`--record`).
    pub record: Option<std::path::PathBuf>,
}

/// Where a script's output goes: the transcript (echo, narration, results,
/// failures) and the JSON documents of `--json` views; both may be one stream.
pub struct Outputs<'a> {
    /// The transcript.
    pub transcript: &'a mut dyn Write,
    /// The JSON documents (`None`: into the transcript).
    pub json: Option<&'a mut dyn Write>,
    /// Presenter mode: after each block of narration, wait for a line from here.
    pub step: Option<&'a mut dyn BufRead>,
}

/// The result of running scripts.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ScriptOutcome {
    /// Failed lines (bad input or failed expectations).
    pub failures: usize,
    /// Commands run.
    pub commands: usize,
}

/// True if `text` holds a line that is a `--json` view (so its output is for tools).
pub fn has_json_views(text: &str) -> bool {
    text.lines()
        .filter_map(|line| parse(line).ok().flatten())
        .any(|command| command.is_json())
}

/// What to do after a line.
enum Next {
    /// Go on with the next line.
    Continue,
    /// Stop this script.
    Stop,
}

/// Runs one script whose lines come from `input`, writing to `outputs`. `name` is
/// the file name used in failure messages.
pub fn run_script(
    name: &str,
    input: impl BufRead,
    options: &ScriptOptions,
    mut outputs: Outputs<'_>,
) -> std::io::Result<ScriptOutcome> {
    let mut session = Session::scripted(options.config.clone());
    let mut outcome = ScriptOutcome::default();
    let mut narrated = false;
    if let Some(path) = &options.record {
        let file = {
            let cluster = lock(session.cluster());
            let record = cluster.record().expect("a scripted session keeps a record");
            RecordFile::create(path, record)
        };
        match file {
            Ok(file) => session = session.with_record_file(Arc::new(Mutex::new(file))),
            Err(error) => {
                let text = format!("--record {}: cannot write: {error}", path.display());
                writeln!(outputs.transcript, "{}", text.red().bold())?;
                outcome.failures += 1;
                return Ok(outcome);
            }
        }
    }
    let mut watch = Unexpected::default();
    // Failures for unexpected violations (the closure below holds `outcome`).
    let mut unexpected = 0;
    for (number, line) in input.split(b'\n').enumerate() {
        let number = number + 1;
        let mut fail = |outputs: &mut Outputs<'_>, text: &str, setup: bool| {
            outcome.failures += 1;
            let mut text = format!("{name}:{number}: {text}");
            let stop = !options.keep_going || setup;
            if setup && options.keep_going {
                text.push_str(" (a failed setup line ends this script: the rest was written for another cluster)");
            }
            writeln!(outputs.transcript, "{}", text.red().bold())?;
            Ok::<_, std::io::Error>(if stop { Next::Stop } else { Next::Continue })
        };
        let Ok(line) = String::from_utf8(line?) else {
            let text = "not valid UTF-8 text; a script holds commands as plain text";
            match fail(&mut outputs, text, false)? {
                Next::Stop => break,
                Next::Continue => continue,
            }
        };
        let line = line.trim_end_matches('\r').trim();
        if line.is_empty() {
            continue;
        }
        if let Some(narration) = line.strip_prefix('#') {
            writeln!(outputs.transcript, "{}", narration.trim().italic().cyan())?;
            narrated = true;
            continue;
        }
        if std::mem::take(&mut narrated) {
            pause(&mut outputs)?;
        }
        // A `cluster` line sets the scene for everything after it.
        let setup = split_word(line).0 == "cluster";
        let command = match parse(line) {
            Ok(Some(command)) => command,
            Ok(None) => continue,
            Err(error) => {
                writeln!(outputs.transcript, "{} {}", "»".bold(), line.bold())?;
                match fail(&mut outputs, &error.0, setup)? {
                    Next::Stop => break,
                    Next::Continue => continue,
                }
            }
        };
        let for_tools = options.compact_json && command.is_json();
        if !for_tools {
            writeln!(outputs.transcript, "{} {}", "»".bold(), line.bold())?;
        }
        outcome.commands += 1;
        // The cluster is about to be replaced: what it showed unexpectedly is reported
        // now, at the line where it appeared.
        if matches!(command, Command::Cluster { .. } | Command::Search(_))
            && let Some(text) = watch.report()
        {
            writeln!(
                outputs.transcript,
                "{}",
                format!("{name}:{text}").red().bold()
            )?;
            unexpected += 1;
            if !options.keep_going {
                break;
            }
        }
        let expects = match &command {
            Command::Expect(Expectation::Violation(invariant)) => Some(*invariant),
            _ => None,
        };
        let ran = session.run_line(command, line);
        watch.note(&session, number);
        for text in &ran.news {
            writeln!(outputs.transcript, "  {text}")?;
        }
        match ran.result {
            Ok(output) if for_tools => {
                let document: serde_json::Value = serde_json::from_str(&output.text)
                    .expect("a --json view prints one JSON document");
                match outputs.json.as_mut() {
                    Some(json) => writeln!(json, "{document}")?,
                    None => writeln!(outputs.transcript, "{document}")?,
                }
            }
            Ok(output) => {
                for text in output.text.lines() {
                    writeln!(outputs.transcript, "  {text}")?;
                }
                if let Some(invariant) = expects {
                    watch.expected(invariant);
                }
                if output.quit {
                    break;
                }
            }
            Err(
                error @ (ExecError::Invalid(_) | ExecError::Failed(_) | ExecError::Interrupted(_)),
            ) => {
                if let Next::Stop = fail(&mut outputs, &error.to_string(), setup)? {
                    break;
                }
            }
        }
    }
    if let Some(text) = watch.report() {
        unexpected += 1;
        writeln!(
            outputs.transcript,
            "{}",
            format!("{name}:{text}").red().bold()
        )?;
    }
    outcome.failures += unexpected;
    Ok(outcome)
}

/// Violations the script has not said it expects.
#[derive(Debug, Default)]
struct Unexpected {
    /// The cluster's generation and how many of its violations were looked at.
    seen: (u64, usize),
    /// Unexpected ones, with the line during which each appeared.
    pending: Vec<(usize, Violation)>,
}

impl Unexpected {
    /// Takes in the violations that appeared during line `number`.
    fn note(&mut self, session: &Session, number: usize) {
        let (generation, violations) = session.violations();
        if generation != self.seen.0 {
            self.seen = (generation, 0);
        }
        if violations.len() < self.seen.1 {
            // Time went back (`undo`, `rewind`, `goto`): what was undone never happened.
            self.pending
                .retain(|(_, violation)| violations.contains(violation));
            self.seen.1 = violations.len();
        }
        for violation in &violations[self.seen.1.min(violations.len())..] {
            self.pending.push((number, violation.clone()));
        }
        self.seen.1 = violations.len();
    }

    /// `expect violation [NAME]` passed: those violations were the point.
    fn expected(&mut self, invariant: Option<Invariant>) {
        self.pending
            .retain(|(_, violation)| invariant.is_some_and(|wanted| violation.invariant != wanted));
    }

    /// The failure text for the unexpected violations so far (`LINE: ...`, for the
    /// first, with how many more), if any; they count as reported after this.
    fn report(&mut self) -> Option<String> {
        let (line, first) = self.pending.first()?;
        let more = self.pending.len() - 1;
        let text = format!(
            "{line}: violation of {} at tick {}: n{}: {} (if the script shows it on purpose, follow with `expect violation {}`){}",
            first.invariant,
            first.tick,
            first.node,
            first.text,
            first.invariant,
            if more > 0 {
                format!("; and {more} more")
            } else {
                String::new()
            }
        );
        self.pending.clear();
        Some(text)
    }
}

/// Presenter mode: waits for Enter (end of input goes on without waiting).
fn pause(outputs: &mut Outputs<'_>) -> std::io::Result<()> {
    let Some(input) = outputs.step.as_mut() else {
        return Ok(());
    };
    write!(outputs.transcript, "{}", "  (Enter to go on)".dimmed())?;
    outputs.transcript.flush()?;
    let mut line = String::new();
    input.read_line(&mut line)?;
    writeln!(outputs.transcript)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(script: &str, keep_going: bool, compact_json: bool) -> (ScriptOutcome, String) {
        let options = ScriptOptions {
            config: Config::new(3),
            keep_going,
            compact_json,
            record: None,
        };
        let mut out = Vec::new();
        let outputs = Outputs {
            transcript: &mut out,
            json: None,
            step: None,
        };
        let outcome = run_script("s.txt", script.as_bytes(), &options, outputs).unwrap();
        (outcome, String::from_utf8(out).unwrap())
    }

    #[test]
    fn keep_going_never_runs_past_a_failed_setup_line() {
        let script =
            "cluster 3 seed 1\nexpect term all = 5\ncluster 99\nwait leader\nexpect leader\n";
        let (outcome, text) = run(script, true, false);
        assert_eq!(outcome.failures, 2, "{text}");
        assert!(
            text.contains("s.txt:3: cluster: a cluster has 1 to 15 nodes"),
            "{text}"
        );
        assert!(text.contains("ends this script"), "{text}");
        assert!(!text.contains("» wait leader"), "{text}");
        // A failure that is not setup lets keep-going go on.
        assert!(text.contains("s.txt:2:"), "{text}");
    }

    #[test]
    fn trailing_comments_are_not_commands() {
        let (outcome, text) = run(
            "cluster 3 seed 1 # three nodes\ntick 5   # time passes\nsubmit @1 a #b\n",
            false,
            false,
        );
        // The submit is refused (no leader), but its text kept its `#b`.
        assert_eq!(outcome.failures, 0, "{text}");
        assert!(text.contains("tick 0 → 5"), "{text}");
        assert!(text.contains("n1 refused"), "{text}");
    }

    #[test]
    fn json_views_for_tools_are_compact_and_alone() {
        let (_, text) = run(
            "cluster 3 seed 1\nstatus --json\nstats --json\n",
            false,
            true,
        );
        let documents: Vec<&str> = text.lines().filter(|line| line.starts_with('{')).collect();
        assert_eq!(documents.len(), 2, "{text}");
        for document in documents {
            serde_json::from_str::<serde_json::Value>(document).unwrap();
        }
        assert!(!text.contains("» status"), "no echo: {text}");
        assert!(has_json_views("# x\nstatus --json\n"));
        assert!(!has_json_views("status\nsubmit @1 x --json\n"));
    }
}
