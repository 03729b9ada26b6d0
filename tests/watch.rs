//! The `watch` dashboard's screens, drawn on ratatui's `TestBackend` from real,
//! seeded sessions and compared with the text checked in under `tests/screens/`.
//!
//! After an intended change to the dashboard, rewrite the screens with
//! `GOLDEN_REWRITE=1 cargo test --release --test watch` and review the diff.

use std::path::PathBuf;
use std::time::Duration;

use raft_playground::Config;
use raft_playground::cli::watch::draw::draw;
use raft_playground::cli::watch::scene::{ClockState, Scene};
use raft_playground::cli::watch::state::{Overlay, Ui};
use raft_playground::cli::{Session, parse};
use raft_playground::cluster::{TraceEvent, TraceKind, lock};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

/// A paused clock at the prompt's default speed.
const PAUSED: ClockState = ClockState {
    running: false,
    interval: Duration::from_millis(100),
};

/// A scripted session after `lines`, and its scene.
fn scene_after(nodes: usize, seed: u64, lines: &[&str]) -> Scene {
    let mut session = Session::scripted(Config::new(nodes).seed(seed));
    for line in lines {
        let command = parse(line).unwrap().unwrap();
        if let Err(error) = session.execute(command) {
            panic!("`{line}` failed (seed {seed}): {error}");
        }
    }
    Scene::gather(&mut lock(session.cluster()), PAUSED)
}

/// Draws a frame of `width`×`height`.
fn render(scene: &Scene, ui: &Ui, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| draw(frame, scene, ui)).unwrap();
    terminal.backend().buffer().clone()
}

/// The buffer's text, one line per row, trailing blanks trimmed.
fn text(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut lines = Vec::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(buffer[(x, y)].symbol());
        }
        lines.push(line.trim_end().to_string());
    }
    lines.join("\n") + "\n"
}

/// Compares a screen with `tests/screens/NAME.txt` (or rewrites it, see above).
fn check_screen(name: &str, buffer: &Buffer) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/screens")
        .join(format!("{name}.txt"));
    let actual = text(buffer);
    if std::env::var_os("GOLDEN_REWRITE").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "{}: {error}; create it with GOLDEN_REWRITE=1 cargo test --release --test watch",
            path.display()
        )
    });
    assert!(
        actual == expected,
        "screen {name} differs from {}\n--- expected\n{expected}--- actual\n{actual}\
         (GOLDEN_REWRITE=1 cargo test --release --test watch rewrites it)",
        path.display()
    );
}

/// The cell where `needle` starts on the screen.
fn find(buffer: &Buffer, needle: &str) -> (u16, u16) {
    let lines = text(buffer);
    for (y, line) in lines.lines().enumerate() {
        if let Some(byte) = line.find(needle) {
            let x = line[..byte].chars().count();
            return (x as u16, y as u16);
        }
    }
    panic!("`{needle}` is not on the screen:\n{lines}");
}

#[test]
fn a_stepped_election_at_80_by_24() {
    // n1's timer fires at tick 13; its RequestVotes are on their way.
    let scene = scene_after(5, 5, &["tick 13"]);
    let buffer = render(&scene, &Ui::default(), 80, 24);
    check_screen("election-votes-in-flight", &buffer);
    let screen = text(&buffer);
    assert!(screen.contains("candidate t1"), "{screen}");
    assert!(screen.contains("n1→n2 ──●── vote? log 0@t0"), "{screen}");
    // The candidate is yellow; the selected node's name is reversed.
    let (x, y) = find(&buffer, "candidate");
    assert_eq!(buffer[(x, y)].fg, Color::Yellow);
    let (x, y) = find(&buffer, "n1  candidate");
    assert!(buffer[(x, y)].modifier.contains(Modifier::REVERSED));
}

#[test]
fn replication_with_a_crashed_node_and_uncommitted_entries() {
    let scene = scene_after(
        5,
        5,
        &[
            "wait leader",
            "submit set a 1",
            "submit set b 2",
            "tick 4",
            "crash n3",
            "submit set c 3",
            "tick 1",
        ],
    );
    let ui = Ui {
        selected: 3,
        ..Ui::default()
    };
    let buffer = render(&scene, &ui, 80, 24);
    check_screen("replication-crash", &buffer);
    let screen = text(&buffer);
    assert!(screen.contains("down"), "{screen}");
    // Entries 1 and 2 are committed (filled), entry 3 is not yet: the mark sits
    // between them on the leader's row.
    let (x, y) = find(&buffer, "n1 c2");
    let row: String = (x..80).map(|x| buffer[(x, y)].symbol()).collect();
    assert!(row.contains(" 1  1▏ 1"), "{row:?}");
    let (x, y) = find(&buffer, "down");
    assert_eq!(buffer[(x, y)].fg, Color::Red);
}

#[test]
fn a_partitioned_leader_and_the_key_help() {
    let scene = scene_after(
        5,
        5,
        &[
            "wait leader",
            "submit set a 1",
            "tick 3",
            "partition leader | followers",
            "submit set lost 1",
            "tick 40",
        ],
    );
    let plain = render(&scene, &Ui::default(), 80, 24);
    check_screen("partitioned-leader", &plain);
    let screen = text(&plain);
    assert!(screen.contains("alone"), "{screen}");
    assert!(screen.contains("✂1"), "{screen}");
    let help = Ui {
        overlay: Overlay::Help,
        ..Ui::default()
    };
    check_screen("help", &render(&scene, &help, 80, 24));
}

#[test]
fn the_command_line_and_a_commands_output() {
    let scene = scene_after(3, 1, &["wait leader"]);
    let mut ui = Ui {
        overlay: Overlay::Prompt("submit set x 1".into()),
        ..Ui::default()
    };
    check_screen("prompt", &render(&scene, &ui, 80, 24));
    ui.overlay = Overlay::None;
    ui.finished(
        "kv",
        true,
        Ok("n1's state machine, through index 0\n(empty)".into()),
    );
    check_screen("output", &render(&scene, &ui, 80, 24));
}

#[test]
fn a_violation_is_shown_in_the_title_and_the_events() {
    // Planted: the checker's text as it would report a double leader.
    let mut scene = scene_after(3, 1, &["wait leader"]);
    let text = "n1 and n2 both lead term 1".to_string();
    scene
        .violations
        .push(format!("tick {}: n2: election-safety: {text}", scene.tick));
    scene.events.push(TraceEvent {
        tick: scene.tick,
        node: 2,
        kind: TraceKind::Violation {
            invariant: "election-safety",
            text,
        },
    });
    let buffer = render(&scene, &Ui::default(), 80, 24);
    check_screen("violation", &buffer);
    let (x, y) = find(&buffer, "1 VIOLATION");
    assert_eq!(buffer[(x, y)].bg, Color::Red);
    let (x, y) = find(&buffer, "VIOLATION election-safety");
    assert_eq!(buffer[(x, y)].fg, Color::Red);
}

#[test]
fn more_nodes_and_other_sizes_stay_readable() {
    let scene = scene_after(7, 3, &["wait leader", "submit set a 1", "tick 5"]);
    let buffer = render(&scene, &Ui::default(), 80, 24);
    check_screen("seven-nodes", &buffer);
    let screen = text(&buffer);
    for id in 1..=7 {
        assert!(
            screen.contains(&format!("n{id} ")),
            "n{id} shown:\n{screen}"
        );
    }
    // Fifteen nodes on 80×24: the selected node is always on screen.
    let scene = scene_after(15, 3, &["wait leader"]);
    let ui = Ui {
        selected: 15,
        ..Ui::default()
    };
    let screen = text(&render(&scene, &ui, 80, 24));
    assert!(screen.contains("▶n15"), "{screen}");
    // Too small: a message instead of a garbled screen.
    let screen = text(&render(&scene, &ui, 40, 10));
    assert!(screen.contains("needs a terminal"), "{screen}");
    // Wide: nothing breaks.
    check_screen(
        "wide",
        &render(&scene_after(5, 5, &["tick 30"]), &ui, 120, 30),
    );
}

/// The dashboard in a pseudo-terminal: it takes over the screen, keys select, crash
/// and step, `?` opens the help, and `q` gives the terminal back (alternate screen
/// left, cursor shown) and exits 0. Ctrl-C does the same.
///
/// ratatui redraws only the cells that changed, so the raw output is no text to
/// search; a tiny terminal emulator ([`Screen`]) replays it onto a grid first.
mod pty {
    use std::process::Command;
    use std::time::{Duration, Instant};

    use rexpect::process::WaitStatus;
    use rexpect::session::{PtySession, spawn_command};

    /// Escape sequences: enter and leave the alternate screen, show the cursor.
    const ENTER_ALTERNATE: &str = "\u{1b}[?1049h";
    const LEAVE_ALTERNATE: &str = "\u{1b}[?1049l";
    const SHOW_CURSOR: &str = "\u{1b}[?25h";
    const ROWS: usize = 24;
    const COLUMNS: usize = 80;

    /// An 80×24 grid that understands what ratatui's crossterm backend sends:
    /// printable text, cursor moves (`ESC [ row ; col H`) and clears (`J`, `K`);
    /// colors and modes are read and ignored.
    struct Screen {
        cells: Vec<Vec<char>>,
        row: usize,
        column: usize,
        /// Bytes of a UTF-8 character not complete yet.
        pending: Vec<u8>,
        /// An escape sequence being read.
        escape: Option<String>,
        /// Everything received, raw (for the escape sequences the test checks).
        raw: Vec<u8>,
    }

    impl Screen {
        fn new() -> Screen {
            Screen {
                cells: vec![vec![' '; COLUMNS]; ROWS],
                row: 0,
                column: 0,
                pending: Vec::new(),
                escape: None,
                raw: Vec::new(),
            }
        }

        fn text(&self) -> String {
            let lines: Vec<String> = self
                .cells
                .iter()
                .map(|row| row.iter().collect::<String>().trim_end().to_string())
                .collect();
            lines.join("\n")
        }

        fn raw(&self) -> String {
            String::from_utf8_lossy(&self.raw).into_owned()
        }

        /// Takes one byte (rexpect hands the pty's bytes over one `char` each).
        fn feed(&mut self, byte: u8) {
            self.raw.push(byte);
            if let Some(escape) = &mut self.escape {
                escape.push(byte as char);
                let done = escape.len() > 1 && (byte as char).is_ascii_alphabetic()
                    || escape.len() == 1 && byte != b'[';
                if done {
                    let escape = self.escape.take().unwrap();
                    self.control(&escape);
                }
                return;
            }
            match byte {
                0x1b => self.escape = Some(String::new()),
                b'\r' => self.column = 0,
                b'\n' => self.row = (self.row + 1).min(ROWS - 1),
                _ => {
                    self.pending.push(byte);
                    if let Ok(text) = std::str::from_utf8(&self.pending) {
                        let text = text.to_string();
                        self.pending.clear();
                        for c in text.chars() {
                            self.put(c);
                        }
                    } else if self.pending.len() >= 4 {
                        self.pending.clear();
                    }
                }
            }
        }

        fn put(&mut self, c: char) {
            if self.row < ROWS && self.column < COLUMNS {
                self.cells[self.row][self.column] = c;
            }
            self.column += 1;
        }

        /// Runs a CSI sequence (`escape` is what followed ESC).
        fn control(&mut self, escape: &str) {
            let Some(body) = escape.strip_prefix('[') else {
                return;
            };
            let (parameters, command) = body.split_at(body.len() - 1);
            let numbers: Vec<usize> = parameters
                .split(';')
                .map(|number| number.parse().unwrap_or(1))
                .collect();
            match command {
                "H" => {
                    self.row = numbers.first().copied().unwrap_or(1).max(1) - 1;
                    self.column = numbers.get(1).copied().unwrap_or(1).max(1) - 1;
                }
                "J" => self.cells = vec![vec![' '; COLUMNS]; ROWS],
                "K" if self.row < ROWS => {
                    for cell in &mut self.cells[self.row][self.column.min(COLUMNS)..] {
                        *cell = ' ';
                    }
                }
                _ => {}
            }
        }

        /// Reads the pty until `done` holds for the screen, for up to 20 seconds.
        fn wait_until(
            &mut self,
            session: &mut PtySession,
            what: &str,
            done: impl Fn(&Screen) -> bool,
        ) {
            let deadline = Instant::now() + Duration::from_secs(20);
            while !done(self) {
                match session.try_read() {
                    Some(c) => self.feed(c as u32 as u8),
                    None if Instant::now() > deadline => {
                        panic!("timed out waiting for {what}; the screen:\n{}", self.text())
                    }
                    None => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        }

        /// Waits until `text` is on the screen.
        fn expect(&mut self, session: &mut PtySession, text: &str) {
            self.wait_until(session, &format!("`{text}`"), |screen| {
                screen.text().contains(text)
            });
        }
    }

    fn start() -> (PtySession, Screen) {
        start_with(&[])
    }

    /// Starts watch with more arguments.
    fn start_with(extra: &[&str]) -> (PtySession, Screen) {
        // A new pty has no size; `stty` gives it 80×24 before the dashboard starts.
        let mut command = Command::new("sh");
        command.args([
            "-c",
            "stty rows 24 cols 80 && exec \"$0\" \"$@\"",
            env!("CARGO_BIN_EXE_raft-playground"),
            "watch",
            "--paused",
            "--nodes",
            "3",
            "--seed",
            "5",
        ]);
        command.args(extra);
        command.env("TERM", "xterm");
        let mut session = spawn_command(command, Some(20_000)).expect("watch starts in a pty");
        let mut screen = Screen::new();
        screen.wait_until(&mut session, "the alternate screen", |screen| {
            screen.raw().contains(ENTER_ALTERNATE)
        });
        screen.expect(&mut session, "raft-playground watch  tick 0");
        (session, screen)
    }

    fn key(session: &mut PtySession, text: &str) {
        session.send(text).unwrap();
        session.flush().unwrap();
    }

    fn exits_cleanly(mut session: PtySession, mut screen: Screen) {
        screen.wait_until(&mut session, "the terminal given back", |screen| {
            let raw = screen.raw();
            // The last frame is followed by leaving the alternate screen and showing
            // the cursor again.
            raw.rfind(LEAVE_ALTERNATE)
                .is_some_and(|at| raw[at..].contains(SHOW_CURSOR))
        });
        assert!(!screen.raw().contains("panicked"), "{}", screen.raw());
        match session.process().wait().unwrap() {
            WaitStatus::Exited(_, code) => assert_eq!(code, 0, "watch exits 0"),
            other => panic!("unexpected exit: {other:?}"),
        }
    }

    #[test]
    fn keys_act_and_q_gives_the_terminal_back() {
        let (mut session, mut screen) = start();
        key(&mut session, "2");
        screen.expect(&mut session, "▶n2");
        key(&mut session, "c");
        screen.expect(&mut session, "> crash n2  n2 crashed");
        screen.expect(&mut session, "▶n2  down");
        key(&mut session, ".");
        screen.expect(&mut session, "> tick 1  tick 0 → 1");
        key(&mut session, ":");
        key(&mut session, "tick 20\r");
        screen.expect(&mut session, "> tick 20  tick 1 → 21");
        screen.expect(&mut session, "timed out, starts an election");
        // The session is recorded from its start: `:export` writes all of it.
        let page = std::env::temp_dir().join(format!("watch-{}.html", std::process::id()));
        key(&mut session, &format!(":export html {}\r", page.display()));
        screen.expect(&mut session, "wrote");
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(
            html.contains("\"start\":0,\"end\":21,\"complete\":true"),
            "{}",
            &html[html.len() - 3000..]
        );
        let _ = std::fs::remove_file(&page);
        key(&mut session, "?");
        screen.expect(&mut session, "keys (any key closes)");
        // The first key closes the help; the second quits.
        key(&mut session, "x");
        screen.wait_until(&mut session, "the help to close", |screen| {
            !screen.text().contains("keys (any key closes)")
        });
        key(&mut session, "q");
        exits_cleanly(session, screen);
    }

    #[test]
    fn record_keeps_the_session_in_a_file_that_run_replays() {
        let file = std::env::temp_dir().join(format!("watch-record-{}.txt", std::process::id()));
        let (mut session, mut screen) = start_with(&["--record", file.to_str().unwrap()]);
        key(&mut session, ".");
        screen.expect(&mut session, "> tick 1  tick 0 → 1");
        key(&mut session, ":");
        key(&mut session, "timeout 2\r");
        screen.expect(&mut session, "> timeout 2");
        key(&mut session, ":");
        key(&mut session, "tick 30\r");
        screen.expect(&mut session, "> tick 30  tick 1 → 31");
        // A key's command is kept as the dashboard said it, above what it did.
        key(&mut session, "3");
        screen.expect(&mut session, "▶n3");
        key(&mut session, "c");
        screen.expect(&mut session, "> crash n3");
        key(&mut session, "q");
        exits_cleanly(session, screen);
        let text = std::fs::read_to_string(&file).unwrap();
        for line in [
            "cluster 3 seed 5",
            "tick 1",
            "timeout 2",
            "tick 30",
            "# crash n3\ncrash 3",
            "expect digest ",
        ] {
            assert!(text.contains(line), "no `{line}` in:\n{text}");
        }
        let replay = Command::new(env!("CARGO_BIN_EXE_raft-playground"))
            .arg("run")
            .arg(&file)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&replay.stdout);
        assert!(replay.status.success(), "{text}\n{said}");
        assert!(said.contains("✓ history digest"), "{said}");
        let _ = std::fs::remove_file(&file);
    }

    #[test]
    fn ctrl_c_gives_the_terminal_back_too() {
        let (mut session, screen) = start();
        session.send_control('c').unwrap();
        exits_cleanly(session, screen);
    }

    #[test]
    fn an_interrupt_signal_from_outside_gives_the_terminal_back() {
        let (mut session, screen) = start();
        session
            .process_mut()
            .signal(rexpect::process::Signal::SIGINT)
            .unwrap();
        exits_cleanly(session, screen);
    }
}

#[test]
fn without_a_terminal_watch_says_so_and_fails() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_raft-playground"))
        .arg("watch")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("watch draws on a terminal"), "{error}");
    // Nothing was drawn: no escape codes went out.
    assert!(output.stdout.is_empty());
}
