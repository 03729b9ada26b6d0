//! News: what happened since the user last looked (notable events and every
//! violation), printed after each command and, while the clock runs, above the prompt.

use colored::Colorize;

use super::render;
use crate::cluster::Cluster;
use crate::cluster::trace::TraceEvent;

/// How far the user has been told about events and violations, shared with the
/// free-running clock's printer so nothing is printed twice.
#[derive(Debug, Default)]
pub struct Reported {
    /// Trace events seen so far (by count).
    pub events: u64,
    /// Violations printed so far.
    pub violations: usize,
}

impl Reported {
    /// The notable events and violations since the last call, as lines. With
    /// `narrated` (the command's own output told every event already, as `deliver`
    /// and `stabilize` do) the events are only marked as seen: just the violations.
    pub fn news(&mut self, cluster: &Cluster, limit: usize, narrated: bool) -> Vec<String> {
        let total = cluster.event_count();
        let fresh = (total - self.events.min(total)) as usize;
        self.events = total;
        let events = if narrated {
            Vec::new()
        } else {
            cluster.events(fresh)
        };
        let violations = cluster.violations();
        let new_violations = &violations[self.violations.min(violations.len())..];
        self.violations = violations.len();
        news_lines(&events, new_violations, limit)
    }
}

/// Lines for new events (the notable ones, at most `limit`) and every new violation,
/// in red: a violation is never lost to the limit.
pub fn news_lines(events: &[TraceEvent], violations: &[String], limit: usize) -> Vec<String> {
    let notable: Vec<&TraceEvent> = events
        .iter()
        .filter(|event| render::is_notable(&event.kind))
        .collect();
    let mut lines: Vec<String> = notable
        .iter()
        .take(limit)
        .map(|event| render::event_line(event))
        .collect();
    if notable.len() > limit {
        let more = notable.len() - limit;
        lines.push(
            format!("… and {more} more (see `events`)")
                .dimmed()
                .to_string(),
        );
    }
    for violation in violations {
        lines.push(format!("VIOLATION {violation}").red().bold().to_string());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::trace::TraceKind;
    use crate::raft::Event;

    fn event(tick: u64, kind: TraceKind) -> TraceEvent {
        TraceEvent {
            tick,
            node: 1,
            kind,
        }
    }

    #[test]
    fn news_keeps_notable_events_and_every_violation() {
        let elected = TraceKind::Raft {
            event: Event::BecameLeader { term: 2 },
        };
        let applied = TraceKind::Applied { from: 1, to: 3 };
        let events: Vec<TraceEvent> = (0..5)
            .map(|tick| event(tick, elected.clone()))
            .chain([event(6, applied)])
            .collect();
        let violations = vec![
            "tick 7: n1: election-safety: n1 and n2 both won term 2".to_string(),
            "tick 7: n2: log-matching: ...".to_string(),
        ];
        let lines = render::with_colors(|| news_lines(&events, &violations, 3));
        // Three elections, a note about the other two, the routine apply left out,
        // then both violations in red, though the limit was reached.
        assert_eq!(lines.len(), 6, "{lines:?}");
        assert!(lines[0].contains("becomes leader of term 2"));
        assert!(lines[3].contains("and 2 more"));
        assert!(lines[4].contains("VIOLATION tick 7: n1: election-safety"));
        assert!(
            lines[4].contains("\u{1b}[1;31m") || lines[4].contains("\u{1b}[31"),
            "red: {:?}",
            lines[4]
        );
        assert!(lines[5].contains("log-matching"));
    }
}
