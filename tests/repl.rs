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
    start_with(args, history, if no_color { Some("1") } else { None })
}

/// Starts the playground in a pseudo-terminal with `NO_COLOR` set to `no_color`.
fn start_with(args: &[&str], history: &PathBuf, no_color: Option<&str>) -> PtySession {
    let mut command = Command::new(env!("CARGO_BIN_EXE_raft-playground"));
    command.args(args);
    command.env("RAFT_PLAYGROUND_HISTORY", history);
    command.env("TERM", "xterm");
    command.env_remove("NO_COLOR");
    command.env_remove("CLICOLOR");
    if let Some(value) = no_color {
        command.env("NO_COLOR", value);
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
    status_output_with(args, history, if no_color { Some("1") } else { None })
}

/// The text of `status` as the terminal received it, with `NO_COLOR` set so.
fn status_output_with(args: &[&str], history: &PathBuf, no_color: Option<&str>) -> String {
    let mut session = start_with(args, history, no_color);
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
        colored.contains("\u{1b}[1m") && colored.contains("\u{1b}[37m"),
        "expected ANSI colors: {colored:?}"
    );
    let is_plain = |text: &str| {
        !text.contains("\u{1b}[1m") && !text.contains("\u{1b}[37m") && !text.contains("\u{1b}[2m")
    };
    let plain = status_output(&["--paused", "--nodes", "3"], &history, true);
    assert!(plain.contains("follower"), "{plain:?}");
    assert!(is_plain(&plain), "NO_COLOR: {plain:?}");
    let plain = status_output(&["--paused", "--nodes", "3", "--no-color"], &history, false);
    assert!(is_plain(&plain), "--no-color: {plain:?}");
    // An empty NO_COLOR is no request (no-color.org): colors stay on.
    let empty = status_output_with(&["--paused", "--nodes", "3"], &history, Some(""));
    assert!(empty.contains("\u{1b}[37m"), "NO_COLOR=: {empty:?}");
}

#[test]
fn news_printed_while_a_command_runs_is_one_event_per_line() {
    let history = history_file("news-lines");
    let mut session = start(
        &["--tick-ms", "5", "--nodes", "3", "--seed", "5"],
        &history,
        true,
    );
    session.exp_string("raft> ").unwrap();
    session.send_line("wait leader").unwrap();
    session.exp_string("leads term").unwrap();
    session.exp_string("raft> ").unwrap();
    // The new election happens while `wait` runs, so the clock prints its news
    // straight to the terminal.
    keys(&mut session, "crash leader\rwait ticks 150\r");
    let (text, _) = session.exp_regex(r"\(after \d+ ticks\)").unwrap();
    let event = regex_lite(&text);
    assert!(event >= 1, "events were printed during the wait: {text:?}");
    quit(session);
}

/// Counts event lines (`tick   42 n5  ...`) in `text`, and checks each starts a line.
fn regex_lite(text: &str) -> usize {
    let mut count = 0;
    for (at, _) in text.match_indices("tick ") {
        let rest = &text[at + 5..];
        let digits = rest.trim_start();
        let is_event = digits.starts_with(|c: char| c.is_ascii_digit())
            && digits
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .starts_with(" n");
        if is_event {
            count += 1;
            let before = &text[..at];
            // At the start of a line: after a line break, or after the prompt line
            // was cleared (`\r`, then erase to its end) to print above it.
            let line_start = before.is_empty()
                || before.ends_with('\n')
                || before.ends_with('\r')
                || before.ends_with("\r\u{1b}[K");
            assert!(
                line_start,
                "an event runs on from the text before it: {:?}",
                &text[at.saturating_sub(40)..(at + 30).min(text.len())]
            );
        }
    }
    count
}

#[test]
fn pasted_and_typed_ahead_lines_run_in_order() {
    let history = history_file("paste");
    let mut session = start(&["--paused", "--nodes", "3"], &history, true);
    session.exp_string("raft[t0]> ").unwrap();
    // Three lines at once, as a terminal without bracketed paste delivers them.
    keys(&mut session, "tick 1\rtick 1\rtick 1\r");
    session.exp_string("raft[t3]> ").unwrap();
    // A bracketed paste of two lines, then Enter.
    keys(&mut session, "\u{1b}[200~tick 2\ntick 2\n\u{1b}[201~\r");
    session.exp_string("raft[t7]> ").unwrap();
    // Typed while a long command runs: kept, and run after it.
    session.send_line("tick 300000").unwrap();
    keys(&mut session, "tick 1\r");
    session.exp_string("raft[t300008]> ").unwrap();
    quit(session);
}

#[test]
fn ctrl_c_erases_the_usage_hint() {
    let history = history_file("hint");
    let mut session = start(&["--paused", "--nodes", "3"], &history, true);
    session.exp_string("raft[t0]> ").unwrap();
    keys(&mut session, "crash");
    session.exp_string("NODES").unwrap();
    session.send_control('c').unwrap();
    // The rest of the screen, the hint included, is erased before the message.
    session.exp_string("\u{1b}[J").unwrap();
    session.exp_string("Ctrl-D or `quit` leaves").unwrap();
    quit(session);
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

#[test]
fn a_recorded_session_with_a_running_clock_replays_to_the_same_end() {
    let history = history_file("record");
    let dir = history.parent().unwrap().to_path_buf();
    let recorded = dir.join("recorded.txt");
    let saved = dir.join("saved.txt");
    let args = [
        "--tick-ms",
        "3",
        "--nodes",
        "3",
        "--seed",
        "12",
        "--record",
        recorded.to_str().unwrap(),
    ];
    let mut session = start(&args, &history, true);
    session.exp_string("raft> ").unwrap();
    session.send_line("wait leader").unwrap();
    session.exp_string("leads term").unwrap();
    session.exp_string("raft> ").unwrap();
    session.send_line("submit set x 1").unwrap();
    session.exp_string("accepted it").unwrap();
    session.send_line("crash leader").unwrap();
    session.exp_string("crashed").unwrap();
    session.send_line("wait ticks 30").unwrap();
    session.exp_string("(after").unwrap();
    // The crash goes, with the clock's ticks after it.
    session.send_line("undo").unwrap();
    session
        .exp_string("undid 1 command: `crash leader`")
        .unwrap();
    session.exp_string("now at tick").unwrap();
    session.send_line("wait ticks 20").unwrap();
    session.exp_string("(after").unwrap();
    session.send_line("pause").unwrap();
    session.exp_string("paused at tick").unwrap();
    session
        .send_line(&format!("save {}", saved.display()))
        .unwrap();
    session
        .exp_string("replays it to the same history")
        .unwrap();
    quit(session);
    for file in [&recorded, &saved] {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.contains("cluster 3 seed 12\ntick "), "{text}");
        assert!(text.contains("\n# submit set x 1\nsubmit @"), "{text}");
        assert!(!text.contains("crash"), "undone: {text}");
        let output = Command::new(env!("CARGO_BIN_EXE_raft-playground"))
            .args(["run", file.to_str().unwrap()])
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let shown = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{text}\n{shown}");
        assert!(shown.contains("✓ history digest"), "{shown}");
    }
}
