//! Taking over the terminal and giving it back on every way out.
//!
//! The dashboard puts the terminal in raw mode on the alternate screen with the cursor
//! hidden. Three ways out must all undo that, or the user's shell is left unusable:
//! a normal quit (the [`TerminalGuard`] is dropped), an error that returns early (the
//! guard is dropped while the error propagates), and a panic anywhere, including a
//! worker thread (a panic hook restores the terminal *before* the panic message is
//! printed, so the message lands on the normal screen where it can be read). Ctrl-C
//! arrives as a key in raw mode and quits normally; a SIGINT or SIGTERM sent from
//! outside sets a flag the main loop checks. Restoring is idempotent: whichever path
//! comes first does it, the others find nothing left to do.

use std::io::{self, Stdout, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::cursor::{Hide, Show};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// True while the terminal is taken over (raw mode, alternate screen).
static TAKEN: AtomicBool = AtomicBool::new(false);
/// True once the panic hook is installed (once per process).
static HOOKED: Mutex<bool> = Mutex::new(false);

/// Writes what gives a terminal back: leave the alternate screen, show the cursor.
pub fn write_restore(out: &mut impl Write) -> io::Result<()> {
    execute!(out, LeaveAlternateScreen, Show)
}

/// Gives the terminal back if it is taken: raw mode off, alternate screen left, cursor
/// shown. Safe to call any number of times, from any thread.
pub fn restore() {
    if TAKEN.swap(false, Ordering::SeqCst) {
        let _ = disable_raw_mode();
        let _ = write_restore(&mut io::stdout());
    }
}

/// Installs (once) a panic hook that restores the terminal before the previous hook
/// prints the panic.
fn install_panic_hook() {
    let mut hooked = HOOKED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if *hooked {
        return;
    }
    *hooked = true;
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// The terminal while the dashboard owns it; dropping it gives the terminal back.
pub struct TerminalGuard {
    /// The ratatui terminal drawing on standard output.
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl TerminalGuard {
    /// Takes over the terminal: raw mode, alternate screen, cursor hidden, and the
    /// panic hook that gives it back.
    pub fn enter() -> io::Result<TerminalGuard> {
        install_panic_hook();
        enable_raw_mode()?;
        TAKEN.store(true, Ordering::SeqCst);
        // From here on, an error still gives the terminal back (`restore`).
        let setup = (|| {
            let mut stdout = io::stdout();
            execute!(stdout, EnterAlternateScreen, Hide)?;
            Terminal::new(CrosstermBackend::new(stdout))
        })();
        match setup {
            Ok(terminal) => Ok(TerminalGuard { terminal }),
            Err(error) => {
                restore();
                Err(error)
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restoring_leaves_the_alternate_screen_and_shows_the_cursor() {
        let mut out = Vec::new();
        write_restore(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("\u{1b}[?1049l"),
            "leaves alternate screen: {text:?}"
        );
        assert!(text.contains("\u{1b}[?25h"), "shows the cursor: {text:?}");
    }

    #[test]
    fn restore_is_idempotent_and_runs_from_the_panic_hook() {
        // Not a terminal here: pretend it was taken, and panic with the hook in place.
        install_panic_hook();
        TAKEN.store(true, Ordering::SeqCst);
        let result = std::panic::catch_unwind(|| panic!("a bug while drawing"));
        assert!(result.is_err());
        assert!(
            !TAKEN.load(Ordering::SeqCst),
            "the panic hook gave the terminal back"
        );
        // A second restore (the guard's drop after the hook) finds nothing to do.
        restore();
        assert!(!TAKEN.load(Ordering::SeqCst));
    }
}
