//! The dashboard's own state and its keys, apart from any terminal: which node is
//! selected, what the bottom line says, whether help or a command's output is open,
//! and what a key press asks for.
//!
//! A key that acts on the cluster does not touch it: it becomes an ordinary command
//! line (`crash n3`, `tick 1`, `deliver 17`), which the session's one executor runs
//! exactly as if it had been typed at the prompt. So a key press and a `:` command are
//! the same thing, and a watch session is recorded like any other.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::scene::Scene;
use crate::raft::NodeId;

/// What a key press asks the dashboard to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Nothing beyond the change to the dashboard's own state.
    Nothing,
    /// Run this command line through the session's executor.
    Run {
        /// The command line.
        line: String,
        /// True if typed at the `:` line (its whole output is then shown); false
        /// for a key, whose first line of output is enough.
        typed: bool,
    },
    /// Stop the command that runs (Ctrl-C during a long `wait` or `tick`).
    Interrupt,
    /// Leave the dashboard.
    Quit,
}

/// What the bottom line says about the last command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Feedback {
    /// A command (or key) did what it said: the line and its first line of output.
    Done {
        /// The command line.
        line: String,
        /// What it printed first.
        text: String,
    },
    /// A command was refused or failed: the line and why.
    Failed {
        /// The command line (empty for a key that had nothing to act on).
        line: String,
        /// Why.
        text: String,
    },
    /// A command is running (a long `wait` or `tick`).
    Busy(String),
}

/// What covers the dashboard, if anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Overlay {
    /// Nothing: the dashboard and its keys.
    None,
    /// The key help (`?`); any key closes it.
    Help,
    /// The text a `:` command printed that does not fit one line; any key closes it.
    Output {
        /// The command line.
        title: String,
        /// Its output, one entry per line.
        lines: Vec<String>,
    },
    /// The `:` command line being typed.
    Prompt(String),
}

/// The dashboard's state. See the module documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ui {
    /// The selected node (keys act on it).
    pub selected: NodeId,
    /// What covers the dashboard.
    pub overlay: Overlay,
    /// The bottom line.
    pub feedback: Option<Feedback>,
    /// How many commands the `s` key has submitted (numbers the next one).
    pub submitted: u64,
    /// How many commands were started and have not finished (they run in order).
    pub running: usize,
}

impl Default for Ui {
    fn default() -> Ui {
        Ui {
            selected: 1,
            overlay: Overlay::None,
            feedback: None,
            submitted: 0,
            running: 0,
        }
    }
}

/// The fastest and slowest clock the speed keys reach, in milliseconds per tick (the
/// range `speed` accepts).
const SPEED_RANGE: (u64, u64) = (1, 60_000);

impl Ui {
    /// True while a command runs (keys pressed meanwhile queue behind it).
    pub fn is_busy(&self) -> bool {
        self.running > 0
    }

    /// Keeps the selection on a node of this scene (a `:cluster` command may have
    /// made the cluster smaller).
    pub fn fit(&mut self, scene: &Scene) {
        self.selected = self.selected.clamp(1, scene.nodes.len().max(1));
    }

    /// Handles one key press, given the frame on screen.
    pub fn on_key(&mut self, key: KeyEvent, scene: &Scene) -> Effect {
        if key.kind == KeyEventKind::Release {
            return Effect::Nothing;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(key.code, KeyCode::Char('c' | 'd')) {
            // Ctrl-C stops a running command first; otherwise, like Ctrl-D, it leaves.
            return if self.is_busy() && key.code == KeyCode::Char('c') {
                Effect::Interrupt
            } else {
                Effect::Quit
            };
        }
        match std::mem::replace(&mut self.overlay, Overlay::None) {
            Overlay::Prompt(text) => self.on_prompt_key(key, text),
            // Any key closes help or output.
            Overlay::Help | Overlay::Output { .. } => Effect::Nothing,
            Overlay::None => self.on_dashboard_key(key, scene),
        }
    }

    /// A key while the `:` line is open.
    fn on_prompt_key(&mut self, key: KeyEvent, mut text: String) -> Effect {
        match key.code {
            KeyCode::Enter => {
                let line = text.trim().to_string();
                if line.is_empty() {
                    Effect::Nothing
                } else {
                    Effect::Run { line, typed: true }
                }
            }
            KeyCode::Esc => Effect::Nothing,
            KeyCode::Backspace => {
                text.pop();
                self.overlay = Overlay::Prompt(text);
                Effect::Nothing
            }
            KeyCode::Char(c) if !c.is_control() => {
                text.push(c);
                self.overlay = Overlay::Prompt(text);
                Effect::Nothing
            }
            _ => {
                self.overlay = Overlay::Prompt(text);
                Effect::Nothing
            }
        }
    }

    /// A key on the dashboard itself.
    fn on_dashboard_key(&mut self, key: KeyEvent, scene: &Scene) -> Effect {
        let size = scene.nodes.len();
        self.fit(scene);
        match key.code {
            KeyCode::Char('q') | KeyCode::Esc => return Effect::Quit,
            KeyCode::Char('?') => {
                self.overlay = Overlay::Help;
                return Effect::Nothing;
            }
            KeyCode::Char(':') => {
                self.overlay = Overlay::Prompt(String::new());
                return Effect::Nothing;
            }
            KeyCode::Up | KeyCode::Left | KeyCode::Char('k') | KeyCode::BackTab => {
                self.selected = if self.selected <= 1 {
                    size
                } else {
                    self.selected - 1
                };
                return Effect::Nothing;
            }
            KeyCode::Down | KeyCode::Right | KeyCode::Char('j') | KeyCode::Tab => {
                self.selected = if self.selected >= size {
                    1
                } else {
                    self.selected + 1
                };
                return Effect::Nothing;
            }
            KeyCode::Char(digit @ '1'..='9') => {
                let id = digit as usize - '0' as usize;
                if id <= size {
                    self.selected = id;
                } else {
                    self.refuse(format!("no node {id}: this cluster has n1 to n{size}"));
                }
                return Effect::Nothing;
            }
            _ => {}
        }
        let node = self.selected;
        let line = match key.code {
            KeyCode::Char('c') => format!("crash n{node}"),
            KeyCode::Char('r') => format!("restart n{node}"),
            KeyCode::Char('d') => match scene.node(node) {
                Some(row) if !row.status.connected => format!("connect n{node}"),
                _ => format!("disconnect n{node}"),
            },
            KeyCode::Char('p') => {
                let others: Vec<String> = (1..=size)
                    .filter(|&id| id != node)
                    .map(|id| id.to_string())
                    .collect();
                if others.is_empty() {
                    self.refuse("a single node has nobody to be partitioned from".to_string());
                    return Effect::Nothing;
                }
                format!("partition n{node} | {}", others.join(","))
            }
            KeyCode::Char('h') => "heal".to_string(),
            KeyCode::Char('t') => format!("timeout n{node}"),
            KeyCode::Char('s') => {
                self.submitted += 1;
                let n = self.submitted;
                format!("submit set k{n} {n}")
            }
            KeyCode::Char(' ') => if scene.clock.running {
                "pause"
            } else {
                "resume"
            }
            .to_string(),
            KeyCode::Char('.') => "tick 1".to_string(),
            KeyCode::Char('n') | KeyCode::Char('x') => {
                let Some(next) = scene.messages.first() else {
                    self.refuse("no messages in flight".to_string());
                    return Effect::Nothing;
                };
                if key.code == KeyCode::Char('n') {
                    format!("deliver {}", next.id)
                } else {
                    format!("drop-msg {}", next.id)
                }
            }
            KeyCode::Char('+') | KeyCode::Char('=') | KeyCode::Char('-') => {
                let ms = scene.clock.interval.as_millis() as u64;
                let ms = if key.code == KeyCode::Char('-') {
                    ms.saturating_mul(2)
                } else {
                    ms / 2
                };
                format!("speed {}", ms.clamp(SPEED_RANGE.0, SPEED_RANGE.1))
            }
            _ => return Effect::Nothing,
        };
        Effect::Run { line, typed: false }
    }

    /// Says on the bottom line why a key did nothing.
    fn refuse(&mut self, text: String) {
        self.feedback = Some(Feedback::Failed {
            line: String::new(),
            text,
        });
    }

    /// A command started running.
    pub fn started(&mut self, line: &str) {
        self.running += 1;
        self.feedback = Some(Feedback::Busy(line.to_string()));
    }

    /// A command finished with `Ok(text)` or `Err(why)`. The first line of the text
    /// goes on the bottom line; the whole of a longer text typed at `:` (a view, say)
    /// opens as an overlay.
    pub fn finished(&mut self, line: &str, typed: bool, result: Result<String, String>) {
        self.running = self.running.saturating_sub(1);
        match result {
            Ok(text) => {
                let lines: Vec<String> = text.lines().map(strip_escapes).collect();
                let first = match lines.len() {
                    0 | 1 => lines.first().cloned().unwrap_or_default(),
                    more => format!("{} (+{} lines)", lines[0], more - 1),
                };
                if typed && lines.len() > 1 && self.overlay == Overlay::None {
                    self.overlay = Overlay::Output {
                        title: line.to_string(),
                        lines,
                    };
                }
                self.feedback = Some(Feedback::Done {
                    line: line.to_string(),
                    text: first,
                });
            }
            Err(text) => {
                self.feedback = Some(Feedback::Failed {
                    line: line.to_string(),
                    text: strip_escapes(&text),
                })
            }
        }
    }
}

/// Text without ANSI escape sequences (command output is meant to be plain in the
/// dashboard; this makes sure a stray color code cannot garble the screen).
pub fn strip_escapes(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte (a letter).
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else if !c.is_control() || c == '\t' {
            plain.push(c);
        }
    }
    plain
}

/// The keys, for the help overlay: (keys, what they do).
pub const KEYS: &[(&str, &str)] = &[
    ("↑ ↓ ← → 1-9", "select a node (Tab cycles)"),
    ("c / r", "crash / restart the selected node"),
    ("d", "disconnect the selected node (again: connect it)"),
    ("p / h", "partition the selected node away / heal"),
    ("t", "fire the selected node's election timer"),
    ("s", "submit a command (set kN N) to the leader"),
    ("space", "pause / resume the clock"),
    (".", "step one tick"),
    ("n / x", "deliver / drop the next message in flight"),
    ("+ / -", "faster / slower clock"),
    (":", "type any prompt command (help lists them)"),
    ("?", "this help"),
    ("q  Ctrl-C", "quit (Ctrl-C first stops a running command)"),
];

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cli::watch::scene::ClockState;
    use crate::cluster::{Cluster, Config};

    fn scene(nodes: usize, setup: impl FnOnce(&mut Cluster)) -> Scene {
        let mut cluster = Cluster::new(Config::new(nodes).seed(3));
        setup(&mut cluster);
        let clock = ClockState {
            running: true,
            interval: Duration::from_millis(100),
        };
        Scene::gather(&mut cluster, clock)
    }

    fn press(ui: &mut Ui, scene: &Scene, code: KeyCode) -> Effect {
        ui.on_key(KeyEvent::new(code, KeyModifiers::NONE), scene)
    }

    fn run(line: &str) -> Effect {
        Effect::Run {
            line: line.to_string(),
            typed: false,
        }
    }

    #[test]
    fn arrows_and_digits_select_nodes_and_wrap() {
        let scene = scene(3, |_| {});
        let mut ui = Ui::default();
        assert_eq!(press(&mut ui, &scene, KeyCode::Up), Effect::Nothing);
        assert_eq!(ui.selected, 3, "up from the first wraps to the last");
        press(&mut ui, &scene, KeyCode::Down);
        assert_eq!(ui.selected, 1);
        press(&mut ui, &scene, KeyCode::Char('2'));
        assert_eq!(ui.selected, 2);
        // A node that does not exist: refused on the bottom line, selection kept.
        assert_eq!(press(&mut ui, &scene, KeyCode::Char('7')), Effect::Nothing);
        assert_eq!(ui.selected, 2);
        assert!(
            matches!(&ui.feedback, Some(Feedback::Failed { text, .. }) if text.contains("no node 7"))
        );
    }

    #[test]
    fn keys_become_the_commands_a_person_would_type() {
        let scene = scene(3, |cluster| {
            cluster.tick(30);
            cluster.disconnect(2).unwrap();
        });
        let mut ui = Ui::default();
        press(&mut ui, &scene, KeyCode::Char('2'));
        assert_eq!(press(&mut ui, &scene, KeyCode::Char('c')), run("crash n2"));
        assert_eq!(
            press(&mut ui, &scene, KeyCode::Char('r')),
            run("restart n2")
        );
        // n2 is disconnected, so `d` connects it; n1 is connected, so `d` cuts it.
        assert_eq!(
            press(&mut ui, &scene, KeyCode::Char('d')),
            run("connect n2")
        );
        press(&mut ui, &scene, KeyCode::Char('1'));
        assert_eq!(
            press(&mut ui, &scene, KeyCode::Char('d')),
            run("disconnect n1")
        );
        assert_eq!(
            press(&mut ui, &scene, KeyCode::Char('p')),
            run("partition n1 | 2,3")
        );
        assert_eq!(press(&mut ui, &scene, KeyCode::Char('h')), run("heal"));
        assert_eq!(
            press(&mut ui, &scene, KeyCode::Char('t')),
            run("timeout n1")
        );
        assert_eq!(
            press(&mut ui, &scene, KeyCode::Char('s')),
            run("submit set k1 1")
        );
        assert_eq!(
            press(&mut ui, &scene, KeyCode::Char('s')),
            run("submit set k2 2")
        );
        assert_eq!(press(&mut ui, &scene, KeyCode::Char(' ')), run("pause"));
        assert_eq!(press(&mut ui, &scene, KeyCode::Char('.')), run("tick 1"));
        assert_eq!(press(&mut ui, &scene, KeyCode::Char('+')), run("speed 50"));
        assert_eq!(press(&mut ui, &scene, KeyCode::Char('-')), run("speed 200"));
        let next = scene
            .messages
            .first()
            .expect("a leader's heartbeats are in flight");
        assert_eq!(
            press(&mut ui, &scene, KeyCode::Char('n')),
            run(&format!("deliver {}", next.id))
        );
        assert_eq!(
            press(&mut ui, &scene, KeyCode::Char('x')),
            run(&format!("drop-msg {}", next.id))
        );
        // Every line a key makes is one the prompt's grammar accepts.
        for key in "crdphts .+-nx".chars() {
            if let Effect::Run { line, .. } = press(&mut ui, &scene, KeyCode::Char(key)) {
                assert!(
                    matches!(crate::cli::parse::parse(&line), Ok(Some(_))),
                    "`{line}` parses"
                );
            }
        }
    }

    #[test]
    fn keys_with_nothing_to_act_on_say_so() {
        let paused = |mut scene: Scene| {
            scene.clock.running = false;
            scene.clock.interval = Duration::from_millis(1);
            scene
        };
        let scene = paused(scene(1, |_| {}));
        let mut ui = Ui::default();
        assert_eq!(press(&mut ui, &scene, KeyCode::Char('n')), Effect::Nothing);
        assert!(
            matches!(&ui.feedback, Some(Feedback::Failed { text, .. }) if text.contains("no messages"))
        );
        assert_eq!(press(&mut ui, &scene, KeyCode::Char('p')), Effect::Nothing);
        assert_eq!(press(&mut ui, &scene, KeyCode::Char(' ')), run("resume"));
        // The speed keys stop at the range `speed` accepts.
        assert_eq!(press(&mut ui, &scene, KeyCode::Char('+')), run("speed 1"));
        assert_eq!(press(&mut ui, &scene, KeyCode::Char('z')), Effect::Nothing);
    }

    #[test]
    fn the_command_line_edits_runs_and_cancels() {
        let scene = scene(3, |_| {});
        let mut ui = Ui::default();
        press(&mut ui, &scene, KeyCode::Char(':'));
        for c in "statuz".chars() {
            press(&mut ui, &scene, KeyCode::Char(c));
        }
        press(&mut ui, &scene, KeyCode::Backspace);
        press(&mut ui, &scene, KeyCode::Char('s'));
        assert_eq!(ui.overlay, Overlay::Prompt("status".into()));
        // While typing, letters are text, not keys: `c` crashed nothing.
        assert_eq!(
            press(&mut ui, &scene, KeyCode::Enter),
            Effect::Run {
                line: "status".into(),
                typed: true
            }
        );
        assert_eq!(ui.overlay, Overlay::None);
        press(&mut ui, &scene, KeyCode::Char(':'));
        press(&mut ui, &scene, KeyCode::Char('c'));
        assert_eq!(press(&mut ui, &scene, KeyCode::Esc), Effect::Nothing);
        assert_eq!(ui.overlay, Overlay::None);
        // An empty line runs nothing.
        press(&mut ui, &scene, KeyCode::Char(':'));
        assert_eq!(press(&mut ui, &scene, KeyCode::Enter), Effect::Nothing);
    }

    #[test]
    fn overlays_close_on_any_key_without_acting() {
        let scene = scene(3, |_| {});
        let mut ui = Ui::default();
        press(&mut ui, &scene, KeyCode::Char('?'));
        assert_eq!(ui.overlay, Overlay::Help);
        assert_eq!(press(&mut ui, &scene, KeyCode::Char('c')), Effect::Nothing);
        assert_eq!(ui.overlay, Overlay::None);
        ui.finished("log", true, Ok("line one\nline two".into()));
        assert!(matches!(ui.overlay, Overlay::Output { .. }));
        assert_eq!(press(&mut ui, &scene, KeyCode::Char('q')), Effect::Nothing);
        assert_eq!(press(&mut ui, &scene, KeyCode::Char('q')), Effect::Quit);
    }

    #[test]
    fn ctrl_c_stops_a_running_command_before_it_quits() {
        let scene = scene(3, |_| {});
        let mut ui = Ui::default();
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        ui.started("wait leader");
        assert!(ui.is_busy());
        assert_eq!(ui.on_key(ctrl_c, &scene), Effect::Interrupt);
        ui.finished("wait leader", false, Err("interrupted at tick 4".into()));
        assert!(!ui.is_busy());
        assert_eq!(ui.on_key(ctrl_c, &scene), Effect::Quit);
    }

    #[test]
    fn output_goes_to_the_bottom_line_and_long_typed_output_opens() {
        let mut ui = Ui::default();
        // A key's output: the first line only, even when there are more.
        ui.finished("deliver 3", false, Ok("delivered #3\n  → sent #9".into()));
        assert_eq!(ui.overlay, Overlay::None);
        assert!(
            matches!(&ui.feedback, Some(Feedback::Done { text, .. }) if text == "delivered #3 (+1 lines)")
        );
        // Escape codes never reach the screen.
        ui.finished("status", true, Ok("\u{1b}[1mtick 3\u{1b}[0m\nn1".into()));
        match &ui.overlay {
            Overlay::Output { lines, .. } => assert_eq!(lines, &["tick 3", "n1"]),
            other => panic!("expected output, got {other:?}"),
        }
    }
}
