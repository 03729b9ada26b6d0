//! The binary's text side: arguments, the interactive prompt, the script runner and
//! rendering.
//!
//! One grammar and one executor serve both the prompt and scripts, so a demo is
//! exactly what a person could type:
//!
//! - `command.rs`: the grammar as data: [`Command`]; `usage.rs`: the table of every
//!   command's usage, summary and example that `help`, completion and errors read;
//!   `parse.rs` turns a line into a `Command` ([`parse()`]) or a concrete
//!   [`crate::cluster::Action`] ([`parse_action`]).
//! - `session.rs`: a [`Session`] runs commands; it handles time (`tick`, `wait`, the
//!   free-running clock) and the session itself (`cluster`, `help`, `quit`), and hands
//!   the rest to the executor, `exec.rs`, which resolves targets (`target.rs`), turns
//!   commands that change the cluster into Actions (`actions.rs`), and runs views
//!   (`views.rs`) and expectations (`expect.rs`). `error.rs` holds [`ExecError`].
//! - `repl.rs` is the interactive prompt, `script.rs` the script runner, `news.rs`
//!   what happened since the user last looked, `help.rs` the help text, and
//!   `render.rs` turns data into colored text or JSON (`grid.rs`: the log grid).
//! - Stepping by hand: `stepping.rs` (message filters, `stabilize`, what a delivery
//!   did and why), `wait.rs` (what `wait` waits for), `expect_detail.rs` (votes,
//!   logs, entries, progress, messages in flight), `parse_check.rs` (the `wait` and
//!   `expect` grammar).

pub(crate) mod actions;
pub(crate) mod command;
pub(crate) mod error;
pub(crate) mod exec;
pub(crate) mod expect;
pub(crate) mod expect_detail;
pub(crate) mod grid;
pub(crate) mod help;
pub mod html;
pub(crate) mod news;
pub(crate) mod parse;
pub(crate) mod parse_check;
pub(crate) mod progress;
pub(crate) mod record_file;
pub(crate) mod render;
pub(crate) mod repl;
pub(crate) mod script;
pub(crate) mod session;
pub(crate) mod stepping;
pub(crate) mod target;
pub(crate) mod timeline;
pub(crate) mod timetravel;
pub(crate) mod usage;
pub(crate) mod views;
pub(crate) mod wait;
pub mod watch;

pub use self::command::Command;
pub use self::error::ExecError;
pub use self::parse::{ParseError, parse, parse_action};
pub use self::render::visible_width;
pub use self::script::has_json_views;
pub use self::session::{Output, Ran, Session};

use std::io::{BufReader, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use colored::Colorize;

use self::command::DEFAULT_SEARCH_SEEDS;
use crate::chaos::ChaosOptions;
use crate::cluster::{Config, Invariant};
use crate::raft::{BrokenRules, Rule};
use crate::search::SearchConfig;

const EXAMPLES: &str = "\
Examples:
  raft-playground                       5 nodes, clock running, interactive prompt
  raft-playground --nodes 3 --paused    3 nodes in step mode: time moves with `tick`
  raft-playground --seed 8127           replay a session's randomness
  raft-playground run demos/*.txt       run narrated demos; exit 1 on a failed expect
  raft-playground < my-script.txt       run commands from standard input
  raft-playground chaos --seeds 1000    check 1000 seeded chaos schedules
  raft-playground chaos --seed 7 > s.txt; raft-playground run s.txt
                                        print one seed's schedule as a script, replay it
  raft-playground watch                 a live full-screen dashboard (? lists its keys)
  raft-playground --record s.txt        keep the session in s.txt as you go; replay it
                                        with `raft-playground run s.txt`
  raft-playground --break forget-vote   the playground with one rule of the paper broken
  raft-playground search --break commit-old-terms --out fig8.txt
                                        find a run the checker flags, shrunk to a script

At the prompt, `help` lists every command and `help CMD` shows one with an example.";

/// A playground for the Raft consensus algorithm (MIT 6.5840 Lab 3).
#[derive(Debug, Parser)]
#[command(name = "raft-playground", version, about, after_help = EXAMPLES)]
pub struct Args {
    /// Number of nodes (1-15; default 5, and for `search` each seed's own size)
    #[arg(long, global = true, value_parser = clap::value_parser!(u64).range(1..=15))]
    pub nodes: Option<u64>,
    /// Seed of every random choice (random if absent; scripts default to 0)
    #[arg(long, global = true)]
    pub seed: Option<u64>,
    /// Real milliseconds per tick while the clock runs (1-60000)
    #[arg(long, global = true, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub tick_ms: u64,
    /// Start paused, in step mode
    #[arg(long, global = true)]
    pub paused: bool,
    /// Plain text, no colors (also: NO_COLOR, or output that is not a terminal)
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Write the session to FILE as it goes, as a script `run` replays (saved after
    /// every command, so a crashed terminal loses nothing)
    #[arg(long, global = true, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Break this rule of the paper on every node from the start (repeatable; the
    /// `rules` command lists them)
    #[arg(long = "break", global = true, value_name = "RULE", value_parser = parse_rule_arg)]
    pub broken: Vec<Rule>,
    /// Switch pre-vote on (dissertation §9.6; at the prompt: `set pre-vote on|off`)
    #[arg(long, global = true)]
    pub pre_vote: bool,
    /// Switch check-quorum on (§6.2; at the prompt: `set check-quorum on|off`)
    #[arg(long, global = true)]
    pub check_quorum: bool,
    /// Switch the leader no-op on (§8; at the prompt: `set no-op on|off`)
    #[arg(long, global = true)]
    pub no_op: bool,
    /// What to do (default: the interactive playground)
    #[command(subcommand)]
    pub command: Option<Subcommands>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Subcommands {
    /// Run script files: echo each command and its output, stop at the first failure
    #[command(
        after_help = "When standard output is not a terminal, each `--json` view prints one compact JSON document on its own line, without the echo; if a script has such views, its transcript goes to standard error, so `raft-playground run x.txt | jq` reads JSON only."
    )]
    Run {
        /// Keep going after a failure and count failures (never past a failed `cluster` line)
        #[arg(long)]
        keep_going: bool,
        /// Presenter mode: pause after each narration block until Enter
        #[arg(long)]
        step: bool,
        /// Script files (`-` for standard input)
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// A live full-screen dashboard: nodes, timers, messages in flight, logs, events;
    /// keys crash, partition, submit and step (`?` lists them)
    #[command(
        after_help = "Examples:\n  raft-playground watch                       5 nodes, clock running\n  raft-playground watch --paused --seed 7     step by hand: `.` ticks, `n` delivers\n  raft-playground watch --nodes 3 --tick-ms 300"
    )]
    Watch,
    /// Run seeded chaos schedules and check every safety property (see `--help`)
    #[command(
        after_help = "Examples:\n  raft-playground chaos --seeds 1000          seeds 0..1000\n  raft-playground chaos --from 5000 --seeds 200\n  raft-playground chaos --seed 1234 > s.txt   run one seed, printing its schedule as a script\n  raft-playground run s.txt                   replay it: same end state, same history digest\n  raft-playground chaos --pre-vote --check-quorum --membership --seeds 2000\n  raft-playground chaos --every-combination --membership --toggle --seeds 2000\n                                              the 8 switch combinations, 2000 seeds each"
    )]
    Chaos {
        /// Run this one seed and print its schedule as a script for `run`
        #[arg(long, conflicts_with_all = ["from", "seeds"])]
        seed: Option<u64>,
        /// First seed of the range
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// How many seeds to run
        #[arg(long, default_value_t = 100)]
        seeds: u64,
        /// Also take the steps aimed at Raft's hard cases (crashes right after a vote,
        /// an acknowledgement or a new term; replies held back across elections; late
        /// duplicates; small batches)
        #[arg(long)]
        hard_cases: bool,
        /// Also draw membership changes (add-node, remove-node) and transfers
        #[arg(long)]
        membership: bool,
        /// Also draw steps that switch pre-vote, check-quorum and the no-op on or off
        #[arg(long)]
        toggle: bool,
        /// Run the seeds once per combination of the three switches (all 8)
        #[arg(long, conflicts_with = "seed")]
        every_combination: bool,
    },
    /// Search seeded chaos schedules (hard cases included) for a run in which the
    /// checker reports a violation, shrink it, and print it as a script for `run`
    #[command(
        after_help = "Examples:\n  raft-playground search --break commit-old-terms            Figure 8, found and shrunk\n  raft-playground search --break forget-vote --out fv.txt    keep it as a script\n  raft-playground run fv.txt                                 replays it (it ends with expect violation)\n  raft-playground search --seeds 200                         every rule intact: expect nothing"
    )]
    Search {
        /// How many seeds to try at most
        #[arg(long, default_value_t = DEFAULT_SEARCH_SEEDS)]
        seeds: u64,
        /// First seed to try
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// Give up after this many seconds (shrinking stops early with what it has)
        #[arg(long, value_name = "SECS")]
        budget: Option<u64>,
        /// Look only for a violation of this invariant (default: any)
        #[arg(long = "for", value_name = "INVARIANT", value_parser = parse_invariant_arg)]
        invariant: Option<Invariant>,
        /// Write the counterexample's script to this file (it is printed too)
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Also draw membership changes and transfers (with --pre-vote, --check-quorum,
        /// --no-op: those switches on from the start)
        #[arg(long)]
        membership: bool,
    },
}

/// `--break RULE`: a rule's name (the error lists them).
fn parse_rule_arg(text: &str) -> Result<Rule, String> {
    Rule::from_name(text).map_err(|unknown| unknown.to_string())
}

/// `--for INVARIANT`: an invariant's name (the error lists them).
fn parse_invariant_arg(text: &str) -> Result<Invariant, String> {
    Invariant::from_name(text)
}

/// The binary's entry point.
pub fn main() -> ExitCode {
    let args = Args::parse();
    let color = !args.no_color
        && std::io::stdout().is_terminal()
        && !no_color_requested(std::env::var_os("NO_COLOR").as_deref());
    // Decided here, not by the color library: it also treats an empty NO_COLOR as set.
    colored::control::set_override(color);
    let broken: BrokenRules = args.broken.iter().copied().collect();
    // Every session keeps a record of its actions: time travel and --record need it.
    let config = |default_seed: u64| {
        let mut config = Config::new(args.nodes.unwrap_or(5) as usize)
            .seed(args.seed.unwrap_or(default_seed))
            .recorded();
        config.raft.broken = broken;
        config.raft.features.pre_vote = args.pre_vote;
        config.raft.features.check_quorum = args.check_quorum;
        config.raft.features.leader_no_op = args.no_op;
        config
    };
    let record = args.record.clone();
    match &args.command {
        Some(Subcommands::Run {
            keep_going,
            step,
            files,
        }) => run_files(files, &config(0), *keep_going, *step, record),
        Some(Subcommands::Chaos { .. } | Subcommands::Search { .. }) if record.is_some() => {
            eprintln!(
                "{} --record writes a session of the prompt, `run` or `watch`; a chaos schedule is printed as a script with `chaos --seed S`",
                "error:".red().bold()
            );
            ExitCode::FAILURE
        }
        Some(Subcommands::Chaos {
            seed,
            from,
            seeds,
            hard_cases,
            membership,
            toggle,
            every_combination,
        }) => {
            let base = ChaosOptions {
                broken,
                nodes: args.nodes.map(|nodes| nodes as usize),
                hard_cases: *hard_cases,
                features: config(0).raft.features,
                membership: *membership,
                toggle: *toggle,
                ..ChaosOptions::default()
            };
            let options: Vec<ChaosOptions> = if *every_combination {
                ChaosOptions::every_combination(*membership, *toggle)
                    .into_iter()
                    .map(|combination| ChaosOptions {
                        features: combination.features,
                        ..base.clone()
                    })
                    .collect()
            } else {
                vec![base]
            };
            match seed {
                Some(seed) => replay_chaos(*seed, &options[0]),
                None => {
                    let failed = options
                        .iter()
                        .filter(|options| !run_chaos(*from, *seeds, options))
                        .count();
                    if failed == 0 {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
            }
        }
        Some(Subcommands::Search {
            seeds,
            from,
            budget,
            invariant,
            out,
            membership,
        }) => {
            let config = SearchConfig {
                nodes: args.nodes.map(|nodes| nodes as usize),
                first_seed: *from,
                budget: budget.map(Duration::from_secs),
                invariant: *invariant,
                features: config(0).raft.features,
                membership: *membership,
                ..SearchConfig::new(broken, *seeds)
            };
            progress::run_search(&config, out.as_deref())
        }
        Some(Subcommands::Watch) => {
            let options = watch::WatchOptions {
                config: config(rand::random_range(0..100_000)),
                tick: Duration::from_millis(args.tick_ms),
                paused: args.paused,
                record,
            };
            match watch::run(options) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("{} {error}", "error:".red().bold());
                    ExitCode::FAILURE
                }
            }
        }
        None if !std::io::stdin().is_terminal() => {
            run_files(&[PathBuf::from("-")], &config(0), false, false, record)
        }
        None => {
            let options = repl::ReplOptions {
                config: config(rand::random_range(0..100_000)),
                tick: Duration::from_millis(args.tick_ms),
                paused: args.paused,
                color,
                record,
            };
            match repl::run(options) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("{} the terminal failed: {error}", "error:".red().bold());
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// True if `NO_COLOR` asks for plain text: set and not empty (no-color.org).
fn no_color_requested(value: Option<&std::ffi::OsStr>) -> bool {
    value.is_some_and(|value| !value.is_empty())
}

/// Replays one chaos seed and prints its schedule as a script that `raft-playground
/// run` replays to the same end (every line but the script's own is a `#` comment);
/// exit status 1 if it failed.
fn replay_chaos(seed: u64, options: &ChaosOptions) -> ExitCode {
    let report = crate::chaos::run_with(seed, options);
    print!("{}", report.script());
    match report.failure {
        None => {
            let summary = format!(
                "seed {seed} passed: {} ticks, {} commands accepted, {} seen committed",
                report.ticks, report.submitted, report.committed
            );
            println!("# {}", summary.green());
            ExitCode::SUCCESS
        }
        Some(failure) => {
            for line in failure.lines() {
                println!("# {}", line.red());
            }
            ExitCode::FAILURE
        }
    }
}

/// Runs `count` chaos seeds from `from` with `options` and prints a summary; true if
/// every seed passed.
fn run_chaos(from: u64, count: u64, options: &ChaosOptions) -> bool {
    let start = std::time::Instant::now();
    let (mut ticks, mut failed) = (0, Vec::new());
    let end = from.saturating_add(count);
    for seed in from..end {
        let report = crate::chaos::run_with(seed, options);
        ticks += report.ticks;
        if let Some(failure) = report.failure {
            println!("{}", failure.red());
            failed.push(seed);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let summary = format!(
        "chaos seeds {from}..{end}{}: {count} run, {} failed, {ticks} ticks in {elapsed:.1} s ({:.0} seeds/s)",
        options.describe(),
        failed.len(),
        count as f64 / elapsed.max(1e-9)
    );
    if failed.is_empty() {
        println!("{}", summary.green());
        true
    } else {
        println!(
            "{} {}",
            summary.red(),
            format!("failed seeds: {failed:?}").red()
        );
        false
    }
}

/// Runs scripts in order; exit status 1 if any line failed.
fn run_files(
    files: &[PathBuf],
    config: &Config,
    keep_going: bool,
    step: bool,
    record: Option<PathBuf>,
) -> ExitCode {
    if record.is_some() && files.len() > 1 {
        eprintln!(
            "{} --record writes one session: run one script with it",
            "error:".red().bold()
        );
        return ExitCode::FAILURE;
    }
    let terminal = std::io::stdout().is_terminal();
    let options = script::ScriptOptions {
        config: config.clone(),
        keep_going,
        compact_json: !terminal,
        record,
    };
    let from_stdin = files.iter().any(|file| file.as_os_str() == "-");
    if step && from_stdin {
        eprintln!(
            "{} run --step reads Enter from standard input, so the script must be a file",
            "error:".red().bold()
        );
        return ExitCode::from(2);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut failures = 0;
    for file in files {
        let name = file.display().to_string();
        let bytes = if name == "-" {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes).map(|_| bytes)
        } else {
            std::fs::read(file)
        };
        let result = bytes.and_then(|bytes| {
            if files.len() > 1 {
                let _ = writeln!(out, "{}", format!("=== {name}").bold());
            }
            // For tools: JSON alone on standard output, the transcript beside it.
            let split = !terminal && has_json_views(&String::from_utf8_lossy(&bytes));
            let mut stderr = std::io::stderr();
            let mut stdin = BufReader::new(std::io::stdin());
            let (transcript, json): (&mut dyn Write, Option<&mut dyn Write>) = if split {
                (&mut stderr, Some(&mut out))
            } else {
                (&mut out, None)
            };
            let outputs = script::Outputs {
                transcript,
                json,
                step: if step { Some(&mut stdin) } else { None },
            };
            script::run_script(&name, bytes.as_slice(), &options, outputs)
        });
        let failed = match result {
            Ok(outcome) => outcome.failures,
            Err(error) => {
                let text = format!("{name}: cannot read: {error}");
                let _ = writeln!(out, "{}", text.red().bold());
                1
            }
        };
        failures += failed;
        if failed > 0 && !keep_going {
            break;
        }
    }
    if keep_going {
        let summary = format!("{failures} failure{}", if failures == 1 { "" } else { "s" });
        let _ = writeln!(
            out,
            "{}",
            if failures == 0 {
                summary.green()
            } else {
                summary.red()
            }
            .bold()
        );
    }
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_no_color_leaves_color_on() {
        use std::ffi::OsStr;
        assert!(!no_color_requested(None));
        assert!(!no_color_requested(Some(OsStr::new(""))));
        assert!(no_color_requested(Some(OsStr::new("1"))));
        assert!(no_color_requested(Some(OsStr::new("yes"))));
    }
}
