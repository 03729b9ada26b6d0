//! What a chaos run leaves behind: its schedule of [`Step`]s (each an action applied
//! through [`Cluster::apply`](crate::cluster::Cluster::apply), or refused), the
//! [`ChaosReport`] with the schedule as a replayable script, and the failure report
//! of a seed that broke something.

use std::fmt::Write as _;

use crate::cluster::action::MAX_TICKS;
use crate::cluster::{Action, Cluster, ClusterError, NodeStatus, Outcome, Violation};

/// How many trace events a failure report shows.
const EVENTS_SHOWN: usize = 40;

/// One step of a schedule: an action and what the cluster made of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The tick at which it was applied.
    pub tick: u64,
    /// The action.
    pub action: Action,
    /// `Some(why)` if the cluster refused it; it changed nothing then, and a script
    /// shows it as a comment.
    pub refused: Option<String>,
}

/// What one seed's run did, kept outside the run so a panic can still be reported.
#[derive(Debug, Default)]
pub(super) struct Journal {
    /// The steps, in order.
    pub(super) steps: Vec<Step>,
    /// The index of the first step of the final convergence, once it began.
    pub(super) converge_from: Option<usize>,
    /// Things that went wrong besides checker violations.
    pub(super) problems: Vec<String>,
}

impl Journal {
    /// Records an action and its result. Consecutive ticks become one `tick N`: the
    /// same run, in fewer lines.
    pub(super) fn record(
        &mut self,
        tick: u64,
        action: &Action,
        result: &Result<Outcome, ClusterError>,
    ) {
        let refused = result.as_ref().err().map(ToString::to_string);
        let converging_starts_here = self.converge_from == Some(self.steps.len());
        if let (Action::Tick(more), None, false) = (action, &refused, converging_starts_here)
            && let Some(Step {
                tick: start,
                action: Action::Tick(ticks),
                refused: None,
            }) = self.steps.last_mut()
            && *start + *ticks == tick
            && *ticks + more <= MAX_TICKS
        {
            *ticks += more;
            return;
        }
        self.steps.push(Step {
            tick,
            action: action.clone(),
            refused,
        });
    }

    pub(super) fn problem(&mut self, now: u64, text: String) {
        self.problems.push(format!("tick {now}: {text}"));
    }
}

/// What one seed's run did.
#[derive(Clone, Debug, Default)]
pub struct ChaosReport {
    /// The seed (the cluster's seed too).
    pub seed: u64,
    /// The number of nodes.
    pub nodes: usize,
    /// The cluster's size and configuration, in words.
    pub setup: String,
    /// The options as `raft-playground chaos` flags (` --break forget-vote
    /// --pre-vote --membership`; empty for the classic schedule), for the replay
    /// command.
    pub flags: String,
    /// Every action taken, in order, with its tick (the `set` lines first).
    pub steps: Vec<Step>,
    /// The index in `steps` where the final convergence began, if it did.
    pub converge_from: Option<usize>,
    /// Ticks simulated, convergence included.
    pub ticks: u64,
    /// Commands accepted by a leader.
    pub submitted: u64,
    /// Commands seen committed with the text submitted.
    pub committed: u64,
    /// The cluster's history digest at the end: equal digests mean equal runs.
    pub digest: u64,
    /// Every node's status at the end (empty if the run panicked).
    pub statuses: Vec<NodeStatus>,
    /// True if the run panicked (a bug); the steps end where it did.
    pub panicked: bool,
    /// What the checker found (a node thread's panic among it, as `node-panic`).
    pub violations: Vec<Violation>,
    /// `None` if the seed passed; otherwise a report of what failed (problems,
    /// violations, the schedule, the last events) and how to replay it.
    pub failure: Option<String>,
}

impl ChaosReport {
    /// The actions the cluster applied, in order (refused ones left out: they changed
    /// nothing).
    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.steps
            .iter()
            .filter(|step| step.refused.is_none())
            .map(|step| &step.action)
    }

    /// The schedule as a script that `raft-playground run` replays: the `cluster`
    /// line, then one action per line, the tick of each as a `#` comment, refused
    /// actions as comments, and an `expect digest` that checks the replay ended with
    /// the same history (left out if the run panicked).
    pub fn script(&self) -> String {
        let mut script = String::new();
        let _ = writeln!(script, "# chaos seed {}: {}", self.seed, self.setup);
        let _ = writeln!(script, "cluster {} seed {}", self.nodes, self.seed);
        let mut shown_tick = 0;
        for (position, step) in self.steps.iter().enumerate() {
            if self.converge_from == Some(position) {
                let _ = writeln!(
                    script,
                    "# converge: heal, clear every fault, restart crashed nodes, commit one more command"
                );
            }
            let is_tick = matches!(step.action, Action::Tick(_));
            if !is_tick && step.tick != shown_tick {
                let _ = writeln!(script, "# tick {}", step.tick);
                shown_tick = step.tick;
            }
            match &step.refused {
                None => {
                    let _ = writeln!(script, "{}", step.action);
                }
                Some(reason) => {
                    let _ = writeln!(
                        script,
                        "# refused, changed nothing: {} ({reason})",
                        step.action
                    );
                }
            }
        }
        let _ = writeln!(
            script,
            "# end: tick {}, history digest {:016x}",
            self.ticks, self.digest
        );
        if !self.panicked {
            let _ = writeln!(script, "expect digest {:016x}", self.digest);
        }
        script
    }
}

/// Everything needed to understand a failed seed and run it again.
pub(super) fn failure_report(
    report: &ChaosReport,
    journal: &Journal,
    cluster: &Cluster,
    panic: Option<&str>,
    flags: &str,
) -> String {
    let seed = report.seed;
    let mut text = String::new();
    // A cluster that lost its engine to a panic can tell nothing more.
    let usable = cluster.is_usable();
    let tick = if usable {
        cluster.now()
    } else {
        journal.steps.last().map_or(0, |step| step.tick)
    };
    let _ = writeln!(
        text,
        "\n=== chaos seed {seed} FAILED at tick {tick} ===\nsetup: {}",
        report.setup
    );
    if let Some(message) = panic {
        let _ = writeln!(text, "panicked: {message}");
    }
    for problem in &journal.problems {
        let _ = writeln!(text, "problem: {problem}");
    }
    let violations = &report.violations;
    let _ = writeln!(text, "violations ({}):", violations.len());
    for violation in violations {
        let _ = writeln!(text, "  {violation}");
    }
    let _ = writeln!(text, "schedule ({} steps):", journal.steps.len());
    let mut line = String::from(" ");
    for step in &journal.steps {
        let shown = match &step.refused {
            None => format!(" @{} {};", step.tick, step.action),
            Some(_) => format!(" @{} ({}: refused);", step.tick, step.action),
        };
        if line.len() + shown.len() > 110 {
            let _ = writeln!(text, "{line}");
            line = String::from(" ");
        }
        line.push_str(&shown);
    }
    let _ = writeln!(text, "{line}");
    let events = if usable {
        cluster.events(EVENTS_SHOWN)
    } else {
        Vec::new()
    };
    let _ = writeln!(text, "last {EVENTS_SHOWN} events:");
    for event in events {
        let _ = writeln!(
            text,
            "  tick {} n{}: {:?}",
            event.tick, event.node, event.kind
        );
    }
    let _ = writeln!(
        text,
        "replay: cargo run --release -- chaos --seed {seed}{flags} > seed.txt; cargo run --release -- run seed.txt{}",
        if flags.is_empty() {
            format!(
                "   (or CHAOS_SEED={seed} cargo test --release --test chaos -- --nocapture replay)"
            )
        } else {
            String::new()
        }
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_merges_ticks_and_the_script_comments_refusals() {
        let mut journal = Journal::default();
        let ticked = |from, to| Ok(Outcome::Ticked { from, to });
        journal.record(0, &Action::Tick(1), &ticked(0, 1));
        journal.record(1, &Action::Tick(1), &ticked(1, 2));
        journal.record(2, &Action::Crash(2), &Ok(Outcome::Crashed(2)));
        journal.record(2, &Action::Timeout(2), &Err(ClusterError::Down(2)));
        journal.record(2, &Action::Tick(3), &ticked(2, 5));
        journal.converge_from = Some(journal.steps.len());
        journal.record(5, &Action::Tick(1), &ticked(5, 6));
        let actions: Vec<String> = journal
            .steps
            .iter()
            .map(|step| step.action.to_string())
            .collect();
        assert_eq!(
            actions,
            ["tick 2", "crash 2", "timeout 2", "tick 3", "tick 1"],
            "ticks merge, but not across an action or into the convergence"
        );
        let report = ChaosReport {
            seed: 9,
            nodes: 3,
            setup: "3 nodes".into(),
            steps: journal.steps,
            converge_from: journal.converge_from,
            ticks: 6,
            digest: 0xab,
            ..ChaosReport::default()
        };
        assert_eq!(report.actions().count(), 4);
        let script = report.script();
        let expected = "\
# chaos seed 9: 3 nodes
cluster 3 seed 9
tick 2
# tick 2
crash 2
# refused, changed nothing: timeout 2 (n2 is down)
tick 3
# converge: heal, clear every fault, restart crashed nodes, commit one more command
tick 1
# end: tick 6, history digest 00000000000000ab
expect digest 00000000000000ab
";
        assert_eq!(script, expected);
    }
}
