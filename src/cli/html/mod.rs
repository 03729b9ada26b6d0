//! `export html FILE`: a session as one self-contained web page, to attach to a bug
//! report or put on a projector; `export json FILE` writes the same data for tools.
//!
//! The page is an SVG space-time diagram: one lane per node, time to the right, each
//! lane colored by role and tinted by term; every message an arrow from its send
//! tick to its arrival (stopping short with ✗ where it was dropped); crashes,
//! restarts, cut links and violations marked. Hovering a message shows its fields,
//! clicking keeps them aside. A slider picks a tick and shows every node's state and
//! log at that moment.
//!
//! Everything is inside the one file: the [`timeline`] as JSON (built by the
//! [`record::Recorder`] watching a replay of the session's record), and the page's CSS
//! and JavaScript (in `assets/`, compiled in). It fetches nothing, so it opens the
//! same anywhere, offline. The script checks its own drawing when it loads and
//! writes a verdict into the page (`#verdict`), which the browser test reads.

pub mod record;
pub mod timeline;

use std::path::Path;

use self::timeline::Timeline;

const PAGE: &str = include_str!("assets/page.html");
const STYLE: &str = include_str!("assets/timeline.css");
const SCRIPT: &str = include_str!("assets/timeline.js");

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Text safe inside an HTML element (for the title).
fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The timeline as JSON that may sit inside a `<script>` element: `<` is written
/// `\u003c`, so no `</script>` (or `<!--`) in a command can end the element early.
fn embeddable_json(timeline: &Timeline) -> String {
    serde_json::to_string(timeline)
        .expect("a timeline always serializes")
        .replace('<', "\\u003c")
}

/// The page for a timeline.
pub fn page(timeline: &Timeline) -> String {
    let title = escape_html(&format!(
        "raft-playground timeline: {} nodes, seed {}, ticks {}..{}",
        timeline.nodes, timeline.seed, timeline.start, timeline.end
    ));
    // Placeholders are replaced in an order where no inserted text is searched again.
    PAGE.replacen("{{STYLE}}", STYLE, 1)
        .replace("{{TITLE}}", &title)
        .replacen("{{SCRIPT}}", SCRIPT, 1)
        .replacen("{{DATA}}", &embeddable_json(timeline), 1)
}

/// The timeline as pretty JSON (`export json`).
pub fn json(timeline: &Timeline) -> String {
    serde_json::to_string_pretty(timeline).expect("a timeline always serializes")
}

/// Writes `text` to `path`.
pub fn write(path: &str, text: &str) -> Result<(), ExportError> {
    std::fs::write(Path::new(path), text).map_err(|source| ExportError::Write {
        path: path.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::html::record::Recorder;
    use crate::cluster::{Cluster, Config};

    fn exported(cluster: &mut Cluster, recorder: &mut Recorder) -> String {
        recorder.observe(cluster);
        page(&recorder.timeline().expect("observed"))
    }

    #[test]
    fn the_page_knows_and_styles_every_role_a_frame_may_name() {
        let start = SCRIPT
            .find("const ROLES = [")
            .expect("the page's list of roles");
        let list = &SCRIPT[start..];
        let list = &list[list.find('[').unwrap() + 1..list.find(']').unwrap()];
        let page_roles: Vec<&str> = list
            .split(',')
            .map(|word| word.trim().trim_matches('"'))
            .collect();
        assert_eq!(page_roles, timeline::ROLE_WORDS);
        for role in timeline::ROLE_WORDS {
            assert!(
                STYLE.contains(&format!(".seg.{role} "))
                    || STYLE.contains(&format!(".seg.{role},")),
                "timeline.css draws no lane for {role}"
            );
        }
    }

    #[test]
    fn the_page_is_self_contained() {
        let mut cluster = Cluster::new(Config::new(3).seed(2));
        let mut recorder = Recorder::new();
        recorder.observe(&mut cluster);
        cluster.tick(30);
        let html = exported(&mut cluster, &mut recorder);
        assert!(html.starts_with("<!DOCTYPE html>"));
        // No placeholders left, and nothing that would make a browser fetch.
        assert!(!html.contains("{{"), "a placeholder is left");
        for fetch in [
            "<script src",
            "<link",
            "@import",
            "url(http",
            "fetch(",
            "XMLHttpRequest",
            "<img",
            "<iframe",
        ] {
            assert!(!html.contains(fetch), "the page must not load `{fetch}`");
        }
        assert_eq!(
            html.matches("<script").count(),
            2,
            "the data and the script"
        );
    }

    #[test]
    fn a_command_cannot_break_out_of_the_data() {
        let mut cluster = Cluster::new(Config::new(1).seed(2));
        let mut recorder = Recorder::new();
        recorder.observe(&mut cluster);
        cluster.tick(30);
        let leader = cluster.leader().expect("a single node elects itself");
        cluster
            .submit(leader, "set x </script><script>alert(1)</script>")
            .unwrap();
        cluster.tick(2);
        let html = exported(&mut cluster, &mut recorder);
        assert_eq!(html.matches("</script>").count(), 2, "only the page's own");
        assert!(
            html.contains("\\u003c/script>"),
            "the command is kept, escaped"
        );
    }
}
