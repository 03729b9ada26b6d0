//! The text side of [`crate::search`]: progress as a live line on standard error
//! (only while it is a terminal, so logs and pipes get nothing), a found
//! counterexample in words, and the `raft-playground search` subcommand.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use colored::Colorize;

use crate::search::{self, Counterexample, SearchConfig};

/// `raft-playground search`: searches, prints what it found and the shrunk script
/// (and writes the script to `file`). Exit status 0 when a counterexample was found
/// (the search did its job), 1 when none was, 2 when the file cannot be written.
pub fn run_search(config: &SearchConfig, file: Option<&Path>) -> ExitCode {
    let mut progress = Progress::on_stderr();
    let result = search::search(config, &mut |step| progress.show(step));
    progress.clear();
    let found = match result {
        Ok(found) => found,
        Err(not_found) => {
            let rules = if config.broken.is_empty() {
                "every rule intact".to_string()
            } else {
                format!("rules broken: {}", config.broken)
            };
            println!("{}", format!("{not_found} ({rules})").yellow());
            return ExitCode::FAILURE;
        }
    };
    let script = found.script();
    // Written with errors ignored: a reader that stops early (`| head`) is no failure.
    let mut out = std::io::stdout().lock();
    for line in found_summary(&found).lines() {
        let _ = writeln!(out, "# {line}");
    }
    let _ = write!(out, "{script}");
    if let Some(path) = file {
        if let Err(error) = std::fs::write(path, &script) {
            eprintln!(
                "{} cannot write {}: {error}",
                "error:".red().bold(),
                path.display()
            );
            return ExitCode::from(2);
        }
        let _ = writeln!(
            out,
            "# written to {}: `raft-playground run {}` replays it",
            path.display(),
            path.display()
        );
    }
    ExitCode::SUCCESS
}

/// The shortest time between two redraws of the progress line.
const REDRAW: Duration = Duration::from_millis(100);

/// A live progress line.
pub struct Progress {
    /// False when standard error is not a terminal: nothing is shown.
    live: bool,
    /// When the line was last drawn.
    drawn: Option<Instant>,
}

impl Progress {
    /// A progress line on standard error, shown only if it is a terminal.
    pub fn on_stderr() -> Progress {
        Progress {
            live: std::io::stderr().is_terminal(),
            drawn: None,
        }
    }

    /// Shows how the search is getting on (at most every [`REDRAW`], except for
    /// the moment a violation is found).
    pub fn show(&mut self, step: &search::Progress) {
        if !self.live {
            return;
        }
        let found = matches!(step, search::Progress::Found { .. });
        if !found && self.drawn.is_some_and(|drawn| drawn.elapsed() < REDRAW) {
            return;
        }
        self.drawn = Some(Instant::now());
        let _ = write!(std::io::stderr(), "\r\x1b[K{}", progress_line(step));
        let _ = std::io::stderr().flush();
    }

    /// Clears the line.
    pub fn clear(&mut self) {
        if self.live && self.drawn.is_some() {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
            let _ = std::io::stderr().flush();
        }
    }
}

/// One progress line, without color.
pub fn progress_line(step: &search::Progress) -> String {
    match step {
        search::Progress::Seed {
            seed,
            tried,
            of,
            elapsed,
        } => format!(
            "searching: seed {seed} ({tried} of at most {of} tried, {:.1} s)",
            elapsed.as_secs_f64()
        ),
        search::Progress::Found {
            seed,
            invariant,
            steps,
            shortest: None,
        } => format!("seed {seed} breaks {invariant} after {steps} steps: shrinking"),
        search::Progress::Found {
            seed,
            invariant,
            steps,
            shortest: Some(shortest),
        } => format!(
            "seed {seed} breaks {invariant} after {steps} steps: shrinking (the shortest so far: {shortest} steps)"
        ),
        search::Progress::Shrinking {
            steps,
            replays,
            elapsed,
        } => format!(
            "shrinking: {steps} steps left after {replays} replays ({:.1} s)",
            elapsed.as_secs_f64()
        ),
    }
}

/// What a search found, in two lines: the invariant, the seed and the figures, then
/// the violation.
pub fn found_summary(found: &Counterexample) -> String {
    let rules = if found.broken.is_empty() {
        "with every rule intact".to_string()
    } else {
        format!("with {} broken", found.broken)
    };
    format!(
        "{} {rules}, the checker reports {} (chaos seed {}, {} node{}): found after {} seed{} in {:.1} s, shrunk from {} to {} steps in {:.1} s{}\n{}",
        "found:".red().bold(),
        found.invariant.name().bold(),
        found.seed,
        found.nodes,
        if found.nodes == 1 { "" } else { "s" },
        found.seeds_tried,
        if found.seeds_tried == 1 { "" } else { "s" },
        found.search_time.as_secs_f64(),
        found.found_steps,
        found.steps.len(),
        found.shrink_time.as_secs_f64(),
        found.shortest_of(),
        found.violation.to_string().red()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Invariant;

    #[test]
    fn a_search_that_goes_on_says_why() {
        let found = |shortest| search::Progress::Found {
            seed: 83,
            invariant: Invariant::StateMachineSafety,
            steps: 120,
            shortest,
        };
        assert_eq!(
            progress_line(&found(None)),
            "seed 83 breaks state-machine-safety after 120 steps: shrinking"
        );
        assert_eq!(
            progress_line(&found(Some(47))),
            "seed 83 breaks state-machine-safety after 120 steps: shrinking (the shortest so far: 47 steps)"
        );
    }
}
