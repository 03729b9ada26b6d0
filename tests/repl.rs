//! The interactive prompt in a pseudo-terminal: the prompt appears, commands run,
//! history is recalled (also across sessions), tab completes, Ctrl-C interrupts a
//! wait and pauses the clock, output is colored on a terminal but not with NO_COLOR,
//! and quit (or Ctrl-D) exits 0.

use std::path::PathBuf;
use std::process::Command;

use rexpect::process::WaitStatus;
use rexpect::session::{PtySession, spawn_command};

const TIMEOUT_MS: u64 = 20_000;

fn history_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("raft-playground-repl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

/// Starts the playground in a pseudo-terminal.
fn start(args: &[&str], history: &PathBuf, no_color: bool) -> PtySession {
    let mut command = Command::new(env!("CARGO_BIN_EXE_raft-playground"));
    command.args(args);
    command.env("RAFT_PLAYGROUND_HISTORY", history);
    command.env("TERM", "xterm");
    command.env_remove("NO_COLOR");
    command.env_remove("CLICOLOR");
    if no_color {
        command.env("NO_COLOR", "1");
    }
    spawn_command(command, Some(TIMEOUT_MS)).expect("the playground starts in a pty")
}

/// Types keys without a newline (rexpect buffers them until flushed).
fn keys(session: &mut PtySession, text: &str) {
    session.send(text).unwrap();
    session.flush().unwrap();
}

fn quit(mut session: PtySession) {
    session.send_line("quit").unwrap();
    session.exp_string("bye").unwrap();
    match session.process().wait().unwrap() {
        WaitStatus::Exited(_, code) => assert_eq!(code, 0, "quit exits 0"),
        other => panic!("unexpected exit: {other:?}"),
    }
}

#[test]
fn prompt_runs_commands_and_quits_cleanly() {
    let history = history_file("basic");
    let mut session = start(&["--paused", "--seed", "5", "--nodes", "3"], &history, true);
    session.exp_string("seed 5").unwrap();
    session.exp_string("raft[t0]> ").unwrap();
    session.send_line("wait leader").unwrap();
    session.exp_regex("n[1-3] leads term 1").unwrap();
    session.exp_string("raft[t").unwrap();
    session.send_line("status").unwrap();
    session.exp_string("node  role").unwrap();
    session.exp_string("raft[t").unwrap();
    session.send_line("crash 42").unwrap();
    session.exp_string("no node 42").unwrap();
    quit(session);
}

#[test]
fn history_is_recalled_and_kept_across_sessions() {
    let history = history_file("history");
    let mut session = start(&["--paused", "--nodes", "3"], &history, true);
    session.exp_string("raft[t0]> ").unwrap();
    session.send_line("help heal").unwrap();
    session.exp_string("example: heal").unwrap();
    session.exp_string("> ").unwrap();
    // Up arrow, then Enter: the same command again.
    keys(&mut session, "\u{1b}[A");
    keys(&mut session, "\r");
    session.exp_string("example: heal").unwrap();
    quit(session);
    let saved = std::fs::read_to_string(&history).expect("history was saved");
    assert!(saved.contains("help heal"), "{saved}");

    // A new session remembers: the last line was `quit`, the one before `help heal`.
    let mut session = start(&["--paused", "--nodes", "3"], &history, true);
    session.exp_string("raft[t0]> ").unwrap();
    keys(&mut session, "\u{1b}[A");
    keys(&mut session, "\u{1b}[A");
    keys(&mut session, "\r");
    session.exp_string("example: heal").unwrap();
    quit(session);
}

#[test]
fn tab_completes_a_command() {
    let history = history_file("tab");
    let mut session = start(&["--paused", "--nodes", "3"], &history, true);
    session.exp_string("raft[t0]> ").unwrap();
    keys(&mut session, "hea\t");
    keys(&mut session, "\r");
    session.exp_string("healed: every node connected").unwrap();
    keys(&mut session, "partition n1 | n\t");
    // Several candidates: the list is shown; finish the line by hand.
    keys(&mut session, "2,n3\r");
    session.exp_string("partitioned").unwrap();
    quit(session);
}

#[test]
fn ctrl_c_interrupts_a_wait_and_pauses_the_clock() {
    let history = history_file("ctrl-c");
    let mut session = start(&["--tick-ms", "5", "--nodes", "3"], &history, true);
    session.exp_string("The clock is running").unwrap();
    session.exp_string("raft> ").unwrap();
    // Index 99 is never committed: the wait follows the clock until interrupted.
    session.send_line("wait commit 99 within 1000000").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    session.send_control('c').unwrap();
    session.exp_string("interrupted at tick").unwrap();
    session.exp_string("raft> ").unwrap();
    // At the prompt, Ctrl-C pauses the running clock.
    session.send_control('c').unwrap();
    session.exp_string("paused at tick").unwrap();
    session.exp_string("raft[t").unwrap();
    // Ctrl-C again only says how to leave; Ctrl-D leaves.
    session.send_control('c').unwrap();
    session.exp_string("Ctrl-D or `quit` leaves").unwrap();
    session.send_control('d').unwrap();
    session.exp_string("bye").unwrap();
    match session.process().wait().unwrap() {
        WaitStatus::Exited(_, code) => assert_eq!(code, 0),
        other => panic!("unexpected exit: {other:?}"),
    }
}

/// The text of `status` as the terminal received it.
fn status_output(args: &[&str], history: &PathBuf, no_color: bool) -> String {
    let mut session = start(args, history, no_color);
    session.exp_string("raft[t0]> ").unwrap();
    session.send_line("status").unwrap();
    // The view starts with the clock line; take everything up to the next prompt.
    session.exp_string("tick 0").unwrap();
    let table = session.exp_string("raft[t0]> ").unwrap();
    quit(session);
    table
}

#[test]
fn output_is_colored_on_a_terminal_unless_no_color() {
    let history = history_file("color");
    let colored = status_output(&["--paused", "--nodes", "3"], &history, false);
    assert!(colored.contains("follower"), "{colored:?}");
    assert!(
        colored.contains("\u{1b}[32m"),
        "expected ANSI colors: {colored:?}"
    );
    let is_plain = |text: &str| {
        !text.contains("\u{1b}[1m") && !text.contains("\u{1b}[32m") && !text.contains("\u{1b}[2m")
    };
    let plain = status_output(&["--paused", "--nodes", "3"], &history, true);
    assert!(plain.contains("follower"), "{plain:?}");
    assert!(is_plain(&plain), "NO_COLOR: {plain:?}");
    let plain = status_output(&["--paused", "--nodes", "3", "--no-color"], &history, false);
    assert!(is_plain(&plain), "--no-color: {plain:?}");
}

#[test]
fn the_free_running_clock_pauses_resumes_and_changes_speed() {
    let history = history_file("speed");
    // One tick a second: without `speed`, waiting 40 ticks would take 40 s.
    let mut session = start(&["--tick-ms", "1000", "--nodes", "3"], &history, true);
    session.exp_string("one tick every 1000 ms").unwrap();
    session.exp_string("raft> ").unwrap();
    session.send_line("speed 2").unwrap();
    session.exp_string("one tick every 2 ms").unwrap();
    session.exp_string("raft> ").unwrap();
    session.send_line("wait ticks 40").unwrap();
    let (_, waited) = session.exp_regex(r"\(after \d+ ticks\)").unwrap();
    let digits: String = waited.chars().filter(char::is_ascii_digit).collect();
    assert!(digits.parse::<u64>().unwrap() >= 40, "{waited}");
    session.send_line("pause").unwrap();
    let (_, paused) = session.exp_regex(r"paused at tick \d+").unwrap();
    let tick: u64 = paused.rsplit(' ').next().unwrap().parse().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    // Paused: the prompt shows the tick, and it has not moved.
    session.send_line("status").unwrap();
    session
        .exp_string(&format!("tick {tick} (paused)"))
        .unwrap();
    session.send_line("resume").unwrap();
    session.exp_string("running: one tick every 2 ms").unwrap();
    session.exp_string("raft> ").unwrap();
    quit(session);
}
