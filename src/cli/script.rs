//! The script runner: `raft-playground run FILE…` (and piped standard input).
//!
//! A script is what a person could type at the prompt, one command per line. Lines
//! starting with `#` are narration and are printed as such, blank lines are skipped.
//! Each command is echoed with its output. A script runs on virtual time, so it takes
//! milliseconds and runs the same way every time. The first bad line or failed
//! expectation stops the run with `FILE:LINE: what was expected, what was seen`;
//! with `--keep-going` the run continues and the failures are counted.

use std::io::{BufRead, Write};

use colored::Colorize;

use super::error::ExecError;
use super::parse::parse;
use super::session::Session;
use crate::cluster::Config;

/// How to run scripts.
#[derive(Clone, Debug)]
pub struct ScriptOptions {
    /// The cluster each script starts with (a script may replace it with `cluster`).
    pub config: Config,
    /// Run to the end and count failures instead of stopping at the first.
    pub keep_going: bool,
}

/// The result of running scripts.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ScriptOutcome {
    /// Failed lines (bad input or failed expectations).
    pub failures: usize,
    /// Commands run.
    pub commands: usize,
}

/// Runs one script whose lines come from `input`, writing the transcript to `out`.
/// `name` is the file name used in failure messages.
pub fn run_script(
    name: &str,
    input: impl BufRead,
    options: &ScriptOptions,
    out: &mut impl Write,
) -> std::io::Result<ScriptOutcome> {
    let mut session = Session::scripted(options.config.clone());
    let mut outcome = ScriptOutcome::default();
    for (number, line) in input.split(b'\n').enumerate() {
        let number = number + 1;
        let bytes = line?;
        let fail = |out: &mut dyn Write,
                    outcome: &mut ScriptOutcome,
                    text: &str|
         -> std::io::Result<bool> {
            outcome.failures += 1;
            writeln!(out, "{}", format!("{name}:{number}: {text}").red().bold())?;
            Ok(!options.keep_going)
        };
        let Ok(line) = String::from_utf8(bytes) else {
            if fail(
                out,
                &mut outcome,
                "not valid UTF-8 text; a script holds commands as plain text",
            )? {
                return Ok(outcome);
            }
            continue;
        };
        let line = line.trim_end_matches('\r').trim();
        if line.is_empty() {
            continue;
        }
        if let Some(narration) = line.strip_prefix('#') {
            writeln!(out, "{}", narration.trim().italic().cyan())?;
            continue;
        }
        writeln!(out, "{} {}", "»".bold(), line.bold())?;
        let command = match parse(line) {
            Ok(Some(command)) => command,
            Ok(None) => continue,
            Err(error) => {
                if fail(out, &mut outcome, &error.0)? {
                    return Ok(outcome);
                }
                continue;
            }
        };
        outcome.commands += 1;
        match session.execute(command) {
            Ok(output) => {
                for text in output.text.lines() {
                    writeln!(out, "  {text}")?;
                }
                if output.quit {
                    break;
                }
            }
            Err(
                error @ (ExecError::Invalid(_) | ExecError::Failed(_) | ExecError::Interrupted(_)),
            ) => {
                if fail(out, &mut outcome, &error.to_string())? {
                    return Ok(outcome);
                }
            }
        }
    }
    Ok(outcome)
}
