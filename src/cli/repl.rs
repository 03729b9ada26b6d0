//! The interactive prompt: rustyline line editing, history kept across sessions,
//! completion of commands and node names, usage hints, and a free-running clock whose
//! news (elections, crashes, violations) is printed above the prompt as it happens.
//!
//! Ctrl-C at the prompt pauses a running clock (or says how to leave); during a long
//! `tick` or `wait` it interrupts that command. Ctrl-D or `quit` leaves cleanly.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use colored::Colorize;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Config as EditorConfig, Context, Editor, ExternalPrinter, Helper};

use super::command::{
    COMMANDS, EXPECT_FORMS, MESSAGE_TYPES, OPERATORS, PROGRESS_STATES, WAIT_FORMS, form_of, spec_of,
};
use super::error::ExecError;
use super::news::Reported;
use super::parse::parse;
use super::record_file::{RecordFile, SharedRecordFile, lock_file};
use super::session::Session;
use super::stepping::MESSAGE_FIELDS;
use crate::cluster::action::SETTINGS;
use crate::cluster::realtime::{OnTick, RealTimeDriver, SharedCluster, lock};
use crate::cluster::{Cluster, Config, Invariant};
use crate::raft::Rule;

/// Completion and hints for the prompt.
pub struct PromptHelper {
    /// The cluster's size, for node names (updated after every command).
    nodes: Arc<AtomicUsize>,
    /// Whether hints may be colored.
    color: bool,
    /// File names, for `save`.
    files: FilenameCompleter,
}

impl PromptHelper {
    /// A helper for a cluster of `nodes` nodes.
    pub fn new(nodes: Arc<AtomicUsize>, color: bool) -> PromptHelper {
        PromptHelper {
            nodes,
            color,
            files: FilenameCompleter::new(),
        }
    }

    /// The words that may come at this point of `line` (before the word being typed).
    fn candidates(&self, words: &[&str]) -> Vec<String> {
        let targets = || {
            let mut names: Vec<String> = (1..=self.nodes.load(Ordering::Relaxed))
                .map(|id| format!("n{id}"))
                .collect();
            names.extend(["leader", "followers", "all"].map(String::from));
            names
        };
        let list = |items: &[&str]| items.iter().map(|item| item.to_string()).collect();
        let targets_and = |items: &[&str]| {
            let mut options = targets();
            options.extend(items.iter().map(|item| item.to_string()));
            options
        };
        let roles = [
            "leader",
            "candidate",
            "follower",
            "learner",
            "down",
            "removed",
        ];
        match words {
            [] => {
                let mut names: Vec<String> =
                    COMMANDS.iter().map(|spec| spec.name.to_string()).collect();
                names.push("exit".into());
                names
            }
            ["help"] => COMMANDS.iter().map(|spec| spec.name.to_string()).collect(),
            ["unreliable" | "reorder"] => list(&["on", "off"]),
            ["set"] => SETTINGS.iter().map(|spec| spec.name.to_string()).collect(),
            ["set", name]
                if SETTINGS
                    .iter()
                    .any(|spec| spec.name == *name && spec.value == "on|off") =>
            {
                list(&["on", "off"])
            }
            ["set", _] => Vec::new(),
            ["expect", "digest"] => Vec::new(),
            ["break"] => Rule::ALL
                .iter()
                .map(|rule| rule.name().to_string())
                .collect(),
            ["mend"] => Rule::ALL
                .iter()
                .map(|rule| rule.name().to_string())
                .chain(["all".to_string()])
                .collect(),
            ["expect", "violation"] | ["search", .., "for"] => Invariant::ALL
                .iter()
                .map(|invariant| invariant.name().to_string())
                .collect(),
            ["search", .., "seeds" | "budget" | "out"] => Vec::new(),
            ["search", ..] => list(&["seeds", "budget", "for", "out"]),
            ["rules"] => list(&["--json"]),
            ["autosnapshot"] => list(&["off", "10"]),
            ["deliver" | "drop-msg"] => list(&["all", "from", "to", "type"]),
            ["deliver" | "drop-msg" | "expect", ..] if words.last() == Some(&"type") => {
                list(MESSAGE_TYPES)
            }
            ["expect", "members", _] | ["wait", "members"] => list(&["="]),
            ["expect", "members", _, "=", _] | ["wait", "members", "=", _] => list(&["learners"]),
            ["add-node", ..] => Vec::new(),
            ["deliver" | "drop-msg", ..] | ["expect", "no-message", ..]
                if !matches!(words.last(), Some(&"from" | &"to")) =>
            {
                list(&["from", "to", "type"])
            }
            ["tick", _] => list(&["heartbeat", "election"]),
            ["snapshot", _] => list(&["at"]),
            ["wait"] => list(WAIT_FORMS),
            ["wait", "leader"] => list(&["new", "within"]),
            ["wait", "role", _] | ["expect", "role", _] => list(&roles),
            ["wait", "term" | "applied" | "snapshot" | "last-index"] => targets_and(OPERATORS),
            ["expect"] => list(EXPECT_FORMS),
            ["expect", "voted" | "leader-known", _] => targets_and(&["none"]),
            ["expect", "log", _] => list(&["=="]),
            ["expect", "progress", _, _] => list(PROGRESS_STATES),
            ["expect", "progress", _, _, _, ..] => list(&["match", "next"]),
            ["expect", "message", _] => list(MESSAGE_TYPES),
            ["expect", "message", _, _, ..] => MESSAGE_FIELDS
                .iter()
                .map(|field| format!("{field}="))
                .collect(),
            [
                "expect",
                "term" | "commit" | "snapshot" | "last-index" | "applied",
                _,
            ]
            | ["wait", "term" | "applied" | "snapshot" | "last-index", _] => list(OPERATORS),
            ["wait", "commit", _] | ["expect", "committed", _] => list(&["on", "within"]),
            [.., "on"] => targets_and(&["all", "majority"]),
            ["wait", ..] => list(&["within"]),
            [
                "status" | "stats" | "messages" | "events" | "log" | "kv" | "digest" | "progress"
                | "timeline" | "members",
                ..,
            ] => {
                let mut options = targets();
                options.push("--json".into());
                options
            }
            ["cluster", _, ..] => list(&["seed", "log"]),
            ["undo" | "rewind" | "goto", ..] => Vec::new(),
            _ => targets(),
        }
    }
}

impl Completer for PromptHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        // `save FILE` completes file names.
        if before.trim_start().starts_with("save ") {
            return self.files.complete_path(line, pos);
        }
        // The word being typed starts after the last space, comma, bar or @.
        let start = before
            .rfind(|c: char| c.is_whitespace() || c == ',' || c == '|' || c == '@')
            .map_or(0, |at| at + 1);
        let partial = &before[start..];
        let words: Vec<&str> = before[..start]
            .split(|c: char| c.is_whitespace() || c == '|')
            .filter(|word| !word.is_empty())
            .collect();
        let candidates = self
            .candidates(&words)
            .into_iter()
            .filter(|candidate| candidate.starts_with(partial))
            .map(|candidate| Pair {
                display: candidate.clone(),
                replacement: candidate,
            })
            .collect();
        Ok((start, candidates))
    }
}

impl Hinter for PromptHelper {
    type Hint = String;

    /// After a bare command word, shows the rest of its usage.
    fn hint(&self, line: &str, pos: usize, _: &Context<'_>) -> Option<String> {
        if pos < line.len() {
            return None;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        // A command's usage after its name; after `expect log`, that form's usage.
        let (name, usage) = match words.as_slice() {
            [command] => {
                let spec = spec_of(command)?;
                (spec.name.to_string(), spec.usage)
            }
            [command, form] => {
                let spec = form_of(command, form)?;
                (format!("{command} {form}"), spec.usage)
            }
            _ => return None,
        };
        let rest = usage.strip_prefix(name.as_str())?.trim_start();
        if rest.is_empty() {
            return None;
        }
        Some(if line.ends_with(' ') {
            rest.to_string()
        } else {
            format!(" {rest}")
        })
    }
}

impl Highlighter for PromptHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color {
            Cow::Owned(format!("\u{1b}[2m{hint}\u{1b}[0m"))
        } else {
            Cow::Borrowed(hint)
        }
    }
}

impl Validator for PromptHelper {}

impl Helper for PromptHelper {}

/// Where the prompt's history lives: `$RAFT_PLAYGROUND_HISTORY`, else `history` in
/// the platform's data directory for the application, as the `directories` crate
/// knows it (Linux: `$XDG_DATA_HOME/raft-playground` or
/// `~/.local/share/raft-playground`; macOS: `~/Library/Application
/// Support/raft-playground`; Windows: `%APPDATA%\raft-playground\data`).
pub fn history_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("RAFT_PLAYGROUND_HISTORY") {
        return Some(PathBuf::from(path));
    }
    let dirs = directories::ProjectDirs::from("", "", "raft-playground")?;
    Some(dirs.data_dir().join("history"))
}

/// How the interactive playground starts.
#[derive(Clone, Debug)]
pub struct ReplOptions {
    /// The first cluster.
    pub config: Config,
    /// Real time per tick while free-running.
    pub tick: Duration,
    /// Start in step mode.
    pub paused: bool,
    /// Whether output is colored.
    pub color: bool,
    /// Write the session to this file as it goes (`--record`).
    pub record: Option<PathBuf>,
}

/// Runs the interactive playground until `quit` or Ctrl-D.
pub fn run(options: ReplOptions) -> rustyline::Result<()> {
    // The cluster keeps a record: undo, rewind, goto, save and --record need it.
    let config = options.config.clone().recorded();
    let cluster: SharedCluster = Arc::new(Mutex::new(Cluster::new(config)));
    let node_count = Arc::new(AtomicUsize::new(options.config.nodes));
    let mut editor = new_editor(node_count.clone(), options.color)?;
    let history = history_path();
    if let Some(path) = &history {
        // A missing history file is normal on the first run.
        let _ = editor.load_history(path);
    }
    let reported = Arc::new(Mutex::new(Reported::default()));
    let record_file = match &options.record {
        Some(path) => {
            let file = {
                let cluster = lock(&cluster);
                let record = cluster
                    .record()
                    .expect("the playground's cluster keeps a record");
                RecordFile::create(path, record)
            };
            match file {
                Ok(file) => Some(Arc::new(Mutex::new(file))),
                Err(error) => {
                    let text = format!("--record {}: {error}", path.display());
                    return Err(ReadlineError::Io(std::io::Error::new(error.kind(), text)));
                }
            }
        }
        None => None,
    };
    let on_tick = print_news_above_prompt(&mut editor, reported.clone(), record_file.clone())?;
    let clock = RealTimeDriver::start(cluster.clone(), options.tick, options.paused, on_tick);
    let interrupt = Arc::new(AtomicBool::new(false));
    let handler_flag = interrupt.clone();
    // Ctrl-C outside the prompt (during a command) interrupts the command; at the
    // prompt rustyline reads it as a key instead.
    let _ = ctrlc::set_handler(move || handler_flag.store(true, Ordering::SeqCst));
    let mut session = Session::free_running(cluster, clock, interrupt, reported);
    if let Some(file) = record_file {
        session = session.with_record_file(file);
    }
    print_banner(&options);
    loop {
        let prompt = if session.is_running() {
            "raft> ".to_string()
        } else {
            format!("raft[t{}]> ", lock(session.cluster()).now())
        };
        match editor.readline(&prompt) {
            Ok(text) => {
                // A bracketed paste of several lines arrives as one text: each line is
                // a command, run in order (lines typed ahead arrive one by one).
                let mut quit = false;
                for line in pasted_lines(&text) {
                    let _ = editor.add_history_entry(line);
                    quit = run_line(&mut session, line);
                    node_count.store(lock(session.cluster()).size(), Ordering::Relaxed);
                    if quit {
                        break;
                    }
                }
                if quit {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => on_ctrl_c(&mut session),
            Err(ReadlineError::Eof) => break,
            Err(error) => return Err(error),
        }
    }
    if let Some(path) = &history {
        save_history(&mut editor, path);
    }
    println!("bye");
    Ok(())
}

/// A line editor with history, completion and hints for a cluster whose size
/// `node_count` tracks.
fn new_editor(
    node_count: Arc<AtomicUsize>,
    color: bool,
) -> rustyline::Result<Editor<PromptHelper, DefaultHistory>> {
    let config = EditorConfig::builder()
        .max_history_size(1000)?
        .history_ignore_dups(true)?
        .auto_add_history(false)
        .completion_type(rustyline::CompletionType::List)
        .build();
    let mut editor = Editor::with_config(config)?;
    editor.set_helper(Some(PromptHelper::new(node_count, color)));
    Ok(editor)
}

/// What the free-running clock does after each tick: print the news (elections,
/// crashes, violations) above the prompt, sharing `reported` with the session so
/// nothing is printed twice, and bring the `--record` file up to date.
fn print_news_above_prompt(
    editor: &mut Editor<PromptHelper, DefaultHistory>,
    reported: Arc<Mutex<Reported>>,
    record_file: Option<SharedRecordFile>,
) -> rustyline::Result<OnTick> {
    let mut printer = editor.create_external_printer()?;
    Ok(Box::new(move |cluster: &mut Cluster| {
        if let (Some(file), Some(record)) = (&record_file, cluster.record()) {
            lock_file(file).sync(record);
        }
        let news = reported
            .lock()
            .map(|mut reported| reported.news(cluster, 8, false))
            .unwrap_or_default();
        if let Some(message) = news_message(&news) {
            let _ = printer.print(message);
        }
    }))
}

/// The news lines as one message for the printer, every line ending in a line
/// break: while a command runs the printer writes straight to the terminal, and
/// lines without their break would run together (`…term 2tick 42 n5 …`).
fn news_message(lines: &[String]) -> Option<String> {
    if lines.is_empty() {
        return None;
    }
    let mut message = String::new();
    for line in lines {
        message.push_str(line);
        message.push('\n');
    }
    Some(message)
}

/// The commands in what the editor returned: one line, or several from a
/// bracketed paste; blank lines are left out.
fn pasted_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|line| !line.is_empty())
}

/// The greeting: version, cluster, seed, whether time runs, and what to try.
fn print_banner(options: &ReplOptions) {
    let (seed, nodes) = (options.config.seed, options.config.nodes);
    println!(
        "{} {} — {nodes} node{}, seed {seed} (replay with --seed {seed})",
        "raft-playground".bold(),
        env!("CARGO_PKG_VERSION"),
        if nodes == 1 { "" } else { "s" },
    );
    if options.paused {
        println!(
            "Paused (step mode): time moves with `tick N` and `wait`; `resume` starts the clock."
        );
    } else {
        println!(
            "The clock is running: one tick every {} ms. `pause` stops it.",
            options.tick.as_millis()
        );
    }
    println!("Try: status, log, submit set x 1, crash leader, partition leader | followers, help.");
}

/// Parses and runs one typed line, printing its output or error; true after `quit`.
fn run_line(session: &mut Session, line: &str) -> bool {
    let command = match parse(line) {
        Ok(Some(command)) => command,
        Ok(None) => return false,
        Err(error) => {
            eprintln!("{} {}", "error:".red().bold(), error.0);
            return false;
        }
    };
    let ran = session.run_line(command, line);
    for line in &ran.news {
        println!("{line}");
    }
    match ran.result {
        Ok(output) => {
            if !output.text.is_empty() {
                println!("{}", output.text);
            }
            output.quit
        }
        Err(ExecError::Invalid(text)) => {
            eprintln!("{} {text}", "error:".red().bold());
            false
        }
        Err(ExecError::Failed(text)) => {
            eprintln!("{} {text}", "✗".red().bold());
            false
        }
        Err(error @ ExecError::Interrupted(_)) => {
            eprintln!("{}", error.to_string().yellow());
            false
        }
    }
}

/// Erases from the cursor to the end of the screen: after Ctrl-C the editor leaves
/// the cursor after the typed text, and the usage hint drawn beyond it would stay.
const ERASE_HINT: &str = "\u{1b}[J";

/// Ctrl-C at the prompt: pauses a running clock, or says how to leave.
fn on_ctrl_c(session: &mut Session) {
    print!("{ERASE_HINT}");
    if session.pause() {
        println!(
            "paused at tick {} (Ctrl-C). `resume` restarts the clock; Ctrl-D or `quit` leaves.",
            lock(session.cluster()).now()
        );
    } else {
        println!("(Ctrl-D or `quit` leaves the playground)");
    }
}

/// Writes the history file, creating its directory if needed (best effort: a
/// read-only home must not spoil leaving the playground).
fn save_history(editor: &mut Editor<PromptHelper, DefaultHistory>, path: &std::path::Path) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = editor.save_history(path);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(line: &str) -> Vec<String> {
        let helper = PromptHelper::new(Arc::new(AtomicUsize::new(3)), false);
        let history = DefaultHistory::new();
        let context = Context::new(&history);
        let (_, pairs) = helper.complete(line, line.len(), &context).unwrap();
        pairs.into_iter().map(|pair| pair.replacement).collect()
    }

    #[test]
    fn completes_commands_nodes_and_forms() {
        assert_eq!(complete("sta"), vec!["status", "stats", "stabilize"]);
        assert_eq!(complete("crash n"), vec!["n1", "n2", "n3"]);
        assert_eq!(complete("crash 1,l"), vec!["leader"]);
        assert_eq!(complete("partition leader | f"), vec!["followers"]);
        assert_eq!(complete("wait c"), vec!["commit"]);
        assert_eq!(complete("unreliable o"), vec!["on", "off"]);
        assert_eq!(complete("submit @n"), vec!["n1", "n2", "n3"]);
        assert_eq!(complete("set batch-e"), vec!["batch-entries"]);
        assert_eq!(complete("set pre-"), vec!["pre-vote"]);
        assert_eq!(complete("set check-quorum o"), vec!["on", "off"]);
        assert_eq!(complete("transfer n"), vec!["n1", "n2", "n3"]);
        assert_eq!(complete("remove-node n"), vec!["n1", "n2", "n3"]);
        assert_eq!(complete("expect role 4 l"), vec!["leader", "learner"]);
        assert_eq!(complete("wait members "), vec!["="]);
        assert_eq!(complete("expect members 1 = 1,2 l"), vec!["learners"]);
        assert_eq!(complete("mem"), vec!["members"]);
        assert_eq!(complete("dig"), vec!["digest"]);
        assert_eq!(complete("digest --j"), vec!["--json"]);
        assert_eq!(complete("expect di"), vec!["digest"]);
        assert_eq!(complete("und"), vec!["undo"]);
        assert_eq!(complete("rew"), vec!["rewind"]);
        assert_eq!(complete("got"), vec!["goto"]);
        assert!(complete("undo ").is_empty());
        // `save` completes file names: this crate's manifest, from its directory.
        let dir = env!("CARGO_MANIFEST_DIR");
        assert_eq!(
            complete(&format!("save {dir}/Cargo.t")),
            vec![format!("{dir}/Cargo.toml")]
        );
        assert_eq!(complete("break forget-v"), vec!["forget-vote"]);
        assert_eq!(complete("mend a"), vec!["accept-stale-leader", "all"]);
        assert_eq!(complete("expect violation ele"), vec!["election-safety"]);
        assert_eq!(complete("search seeds 50 f"), vec!["for"]);
        assert_eq!(complete("search for comm"), vec!["commit-justified"]);
        assert_eq!(complete("rul"), vec!["rules"]);
    }

    #[test]
    fn completes_the_stepping_commands_and_new_checks() {
        assert_eq!(complete("deliver "), vec!["all", "from", "to", "type"]);
        assert_eq!(complete("deliver to n"), vec!["n1", "n2", "n3"]);
        assert_eq!(complete("deliver to 2 t"), vec!["to", "type"]);
        assert_eq!(
            complete("drop-msg type Append"),
            vec!["AppendEntries", "AppendEntriesReply"]
        );
        assert_eq!(complete("tick 2 h"), vec!["heartbeat"]);
        assert_eq!(complete("snapshot 2 a"), vec!["at"]);
        assert_eq!(complete("stab"), vec!["stabilize"]);
        assert_eq!(complete("flush l"), vec!["leader"]);
        assert_eq!(complete("progress --j"), vec!["--json"]);
        assert_eq!(complete("so"), vec!["source"]);
        assert_eq!(complete("wait leader n"), vec!["new"]);
        assert_eq!(complete("wait role 2 c"), vec!["candidate"]);
        assert_eq!(complete("wait term 2 >"), vec![">", ">="]);
        assert_eq!(complete("wait applied 2 >"), vec![">", ">="]);
        assert_eq!(complete("wait l"), vec!["leader", "last-index"]);
        assert!(complete("wait applied ").contains(&"all".to_string()));
        assert!(complete("wait snapshot ").contains(&">=".to_string()));
        assert_eq!(complete("expect voted 2 no"), vec!["none"]);
        assert_eq!(complete("expect progress 1 2 r"), vec!["replicate"]);
        assert_eq!(complete("expect progress 1 2 probe m"), vec!["match"]);
        assert_eq!(
            complete("expect message 1->2 RequestVoteR"),
            vec!["RequestVoteReply"]
        );
        assert_eq!(
            complete("expect message 1->2 AppendEntries prev_log_t"),
            vec!["prev_log_term="]
        );
        assert_eq!(complete("expect no-message t"), vec!["to", "type"]);
        assert_eq!(complete("expect applied 2 ="), vec!["=="]);
        assert_eq!(complete("cluster 3 l"), vec!["log"]);
        assert_eq!(complete("expect le"), vec!["leader", "leader-known"]);
    }

    #[test]
    fn news_lines_each_end_in_a_line_break() {
        assert_eq!(news_message(&[]), None);
        let lines = vec![
            "tick    10 n2  timed out, starts an election for term 2".to_string(),
            "tick    42 n5  becomes leader of term 2".to_string(),
        ];
        let message = news_message(&lines).unwrap();
        assert_eq!(message.lines().count(), 2, "{message:?}");
        assert!(message.ends_with('\n'), "{message:?}");
        assert!(message.contains("term 2\ntick"), "{message:?}");
    }

    #[test]
    fn a_paste_of_several_lines_is_several_commands() {
        let lines: Vec<&str> = pasted_lines("tick 1\ntick 2\r\n\n  status  \n").collect();
        assert_eq!(lines, vec!["tick 1", "tick 2", "status"]);
        assert_eq!(pasted_lines("heal").collect::<Vec<_>>(), vec!["heal"]);
        assert_eq!(pasted_lines("  ").count(), 0);
    }

    #[test]
    fn history_lives_in_the_platform_data_directory() {
        // The override wins; without it, the path ends in the application's folder.
        let path = history_path().expect("a home directory exists here");
        let expected = std::env::var_os("RAFT_PLAYGROUND_HISTORY")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                directories::ProjectDirs::from("", "", "raft-playground")
                    .unwrap()
                    .data_dir()
                    .join("history")
            });
        assert_eq!(path, expected);
        assert!(path.ends_with("history"));
    }

    #[test]
    fn hints_show_usage() {
        let helper = PromptHelper::new(Arc::new(AtomicUsize::new(3)), false);
        let history = DefaultHistory::new();
        let context = Context::new(&history);
        assert_eq!(helper.hint("crash", 5, &context).as_deref(), Some(" NODES"));
        assert_eq!(helper.hint("crash ", 6, &context).as_deref(), Some("NODES"));
        assert_eq!(helper.hint("crash 1", 7, &context), None);
        assert_eq!(helper.hint("heal", 4, &context), None);
        assert_eq!(
            helper.hint("expect voted ", 13, &context).as_deref(),
            Some("NODES NODE|none")
        );
        assert_eq!(helper.hint("expect voted 1", 14, &context), None);
    }
}
