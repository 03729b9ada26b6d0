//! Search and shrink: find a run in which the checker reports a broken invariant,
//! then cut it down to a short script that still shows it.
//!
//! [`search`] runs seeded chaos schedules (with the hard cases of `chaos/hard.rs`,
//! and the rules of [`SearchConfig::broken`] broken from the start) until one ends
//! in a violation, then shrinks that schedule: it replays candidate schedules on
//! a fresh cluster built as the script's `cluster N seed S` line builds it, and
//! keeps a candidate whenever the same invariant still breaks. A run is a pure
//! function of the seed and the actions, so every replay is exact.
//!
//! Shrinking, in rounds until nothing more goes or the time is up:
//!
//! 1. cut everything after the action during which the violation appears, and
//!    shorten a final `tick N` to the tick it appeared at;
//! 2. delta debugging over the steps: remove chunks, halving the chunk size when
//!    none can go (an action that no longer applies, like a command to a node that
//!    is no longer the leader, is refused by the cluster, changes nothing, and goes);
//! 3. remove single steps, then every two and three neighbouring steps (a fault and
//!    the ticks it acts in often go only together);
//! 4. shorten each `tick N` (a binary search for the fewest ticks that still fail);
//! 5. merge neighbouring ticks (`tick 3` then `tick 4` is `tick 7`: the same run).
//!
//! How long a shrunk schedule ends up depends on the seed: most shrink to a handful
//! of steps, a few get stuck at a long one (removing any step changes every random
//! choice after it, and the violation with them). So a counterexample longer than
//! [`SHORT_ENOUGH`] steps sends the search on to the next seeds that fail, shrinking
//! at most [`MOST_SHRINKS`] in all and keeping the shortest.
//!
//! The result is a [`Counterexample`], whose [`Counterexample::script`] is an
//! ordinary script: header comments, the `cluster` line, the `break` lines, the
//! steps, and `expect violation NAME`. `raft-playground run` on it passes; without
//! the last line it fails, naming the invariant and the tick. Nothing here prints:
//! progress goes to a callback, and the text side renders it.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::chaos::{self, ChaosOptions};
use crate::cluster::{Action, Cluster, Config, Invariant, Violation};
use crate::raft::{BrokenRules, Features};

/// A counterexample of at most this many steps (its `break` lines included) is a
/// short enough lesson; a longer one sends the search on to the next failing seed.
pub const SHORT_ENOUGH: usize = 30;

/// At most this many failing seeds are shrunk in one search (the shortest result is
/// kept).
pub const MOST_SHRINKS: usize = 3;

/// What to search for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchConfig {
    /// The rules every node breaks from the start.
    pub broken: BrokenRules,
    /// The number of nodes; `None` lets each seed choose.
    pub nodes: Option<usize>,
    /// The first chaos seed to try.
    pub first_seed: u64,
    /// How many seeds to try at most.
    pub seeds: u64,
    /// How long the whole search (shrinking included) may take; shrinking stops
    /// early with what it has when the time is up, searching gives up.
    pub budget: Option<Duration>,
    /// The invariant to look for; `None` takes the first violation of any.
    pub invariant: Option<Invariant>,
    /// Switches beyond Lab 3 on from the start (each a `set NAME on` step of the
    /// schedule, so the counterexample says so).
    pub features: Features,
    /// Also draw membership changes and transfers (`chaos --membership`).
    pub membership: bool,
}

impl SearchConfig {
    /// A search for any violation with `broken` rules, over seeds `0..seeds`, with
    /// each seed's own cluster size and no time limit.
    pub fn new(broken: BrokenRules, seeds: u64) -> SearchConfig {
        SearchConfig {
            broken,
            nodes: None,
            first_seed: 0,
            seeds,
            budget: None,
            invariant: None,
            features: Features::default(),
            membership: false,
        }
    }
}

/// How a search is getting on, for a progress display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// About to run this seed, the `tried`-th of `of`.
    Seed {
        /// The seed.
        seed: u64,
        /// Seeds tried before it.
        tried: u64,
        /// Seeds to try at most.
        of: u64,
        /// Time since the search began.
        elapsed: Duration,
    },
    /// The seed's schedule broke `invariant` after `steps` steps: shrinking starts.
    Found {
        /// The seed.
        seed: u64,
        /// The invariant.
        invariant: Invariant,
        /// The schedule's length.
        steps: usize,
        /// The length of the shortest counterexample shrunk so far, when an earlier
        /// seed's was longer than [`SHORT_ENOUGH`] and the search went on for this one.
        shortest: Option<usize>,
    },
    /// Shrinking: the schedule is down to `steps` steps after `replays` replays.
    Shrinking {
        /// Steps left.
        steps: usize,
        /// Replays so far.
        replays: usize,
        /// Time since the search began.
        elapsed: Duration,
    },
}

/// A short schedule that makes the checker report a violation. See the module
/// documentation.
#[derive(Clone, Debug, PartialEq)]
pub struct Counterexample {
    /// The cluster's size.
    pub nodes: usize,
    /// The cluster's seed (the chaos seed that found it).
    pub seed: u64,
    /// The rules broken (the script's `break` lines).
    pub broken: BrokenRules,
    /// The invariant that breaks.
    pub invariant: Invariant,
    /// The violation as the shrunk schedule's replay reports it.
    pub violation: Violation,
    /// The steps, shrunk, after the `cluster` line: the `break` lines first.
    pub steps: Vec<Action>,
    /// The tick at which each step is applied.
    pub ticks: Vec<u64>,
    /// The length of the schedule that was found, before shrinking.
    pub found_steps: usize,
    /// Seeds run (the one kept included, and any tried after it for a shorter one).
    pub seeds_tried: u64,
    /// Failing seeds shrunk: more than one when the first shrank to more than
    /// [`SHORT_ENOUGH`] steps. This counterexample is the shortest of them.
    pub seeds_shrunk: usize,
    /// Time spent running seeds.
    pub search_time: Duration,
    /// Time spent shrinking.
    pub shrink_time: Duration,
    /// Replays made while shrinking.
    pub replays: usize,
}

/// Why a search found nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "no violation{} in {tried} seed{}{} ({:.1} s)",
    match .invariant { Some(invariant) => format!(" of {invariant}"), None => String::new() },
    if *.tried == 1 { "" } else { "s" },
    if *.out_of_time { ", out of time" } else { "" },
    .elapsed.as_secs_f64()
)]
pub struct NotFound {
    /// The invariant looked for, if one was named.
    pub invariant: Option<Invariant>,
    /// Seeds run.
    pub tried: u64,
    /// True if the budget ran out before every seed was tried.
    pub out_of_time: bool,
    /// Time spent.
    pub elapsed: Duration,
}

/// Runs chaos seeds until one breaks an invariant (the one named, or any), then
/// shrinks its schedule. See the module documentation.
pub fn search(
    config: &SearchConfig,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Counterexample, NotFound> {
    let start = Instant::now();
    let deadline = config.budget.map(|budget| start + budget);
    let options = ChaosOptions {
        broken: config.broken,
        nodes: config.nodes,
        hard_cases: true,
        stop_at: config.invariant,
        features: config.features,
        membership: config.membership,
        ..ChaosOptions::default()
    };
    let mut tried = 0;
    let mut shortest: Option<Counterexample> = None;
    let mut shrinks = 0;
    let mut shrink_time = Duration::ZERO;
    let mut replays = 0;
    let mut out_of_time = false;
    for seed in config.first_seed..config.first_seed.saturating_add(config.seeds) {
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            out_of_time = true;
            break;
        }
        progress(&Progress::Seed {
            seed,
            tried,
            of: config.seeds,
            elapsed: start.elapsed(),
        });
        tried += 1;
        let report = chaos::run_with(seed, &options);
        let found = report.violations.iter().find(|violation| {
            config
                .invariant
                .is_none_or(|invariant| violation.invariant == invariant)
        });
        let Some(found) = found else {
            continue;
        };
        let invariant = found.invariant;
        let actions: Vec<Action> = report.actions().cloned().collect();
        progress(&Progress::Found {
            seed,
            invariant,
            steps: actions.len(),
            shortest: shortest.as_ref().map(|shortest| shortest.steps.len()),
        });
        let shrink_start = Instant::now();
        let shrunk = Shrinker {
            nodes: report.nodes,
            seed,
            invariant,
            replays: 0,
            deadline,
            start,
            progress,
        }
        .shrink(actions);
        shrinks += 1;
        shrink_time += shrink_start.elapsed();
        replays += shrunk.replays;
        if shortest
            .as_ref()
            .is_none_or(|shortest| shrunk.steps.len() < shortest.steps.len())
        {
            shortest = Some(Counterexample {
                nodes: report.nodes,
                seed,
                broken: config.broken,
                invariant,
                violation: shrunk.violation,
                steps: shrunk.steps,
                ticks: shrunk.ticks,
                found_steps: report.actions().count(),
                seeds_tried: 0,
                seeds_shrunk: 0,
                search_time: Duration::ZERO,
                shrink_time: Duration::ZERO,
                replays: 0,
            });
        }
        if shortest
            .as_ref()
            .is_some_and(|shortest| shortest.steps.len() <= SHORT_ENOUGH)
            || shrinks == MOST_SHRINKS
        {
            break;
        }
    }
    match shortest {
        Some(shortest) => Ok(Counterexample {
            seeds_tried: tried,
            seeds_shrunk: shrinks,
            search_time: start.elapsed() - shrink_time,
            shrink_time,
            replays,
            ..shortest
        }),
        None => Err(NotFound {
            invariant: config.invariant,
            tried,
            out_of_time,
            elapsed: start.elapsed(),
        }),
    }
}

/// What a replay of a schedule showed.
#[derive(Clone, Debug, PartialEq)]
pub struct Replay {
    /// The first violation of the invariant looked for, and the position of the
    /// action during which it appeared; `None` if the whole schedule ran without.
    pub violation: Option<(usize, Violation)>,
    /// The tick at which each action replayed was applied.
    pub ticks: Vec<u64>,
    /// For each action replayed, true if the cluster refused it (it changed nothing).
    pub refused: Vec<bool>,
}

/// Replays `actions` on a fresh cluster of `nodes` nodes with `seed` (as a script's
/// `cluster N seed S` line builds it), stopping at the first violation of
/// `invariant`.
pub fn replay(nodes: usize, seed: u64, actions: &[Action], invariant: Invariant) -> Replay {
    let mut cluster = Cluster::new(Config::new(nodes).seed(seed));
    let mut ticks = Vec::new();
    let mut refused = Vec::new();
    for (position, action) in actions.iter().enumerate() {
        ticks.push(cluster.now());
        refused.push(cluster.apply(action).is_err());
        let violation = cluster
            .checker()
            .violations()
            .iter()
            .find(|violation| violation.invariant == invariant);
        if let Some(violation) = violation {
            return Replay {
                violation: Some((position, violation.clone())),
                ticks,
                refused,
            };
        }
    }
    Replay {
        violation: None,
        ticks,
        refused,
    }
}

/// A schedule shrunk, with what its replay showed.
struct Shrunk {
    steps: Vec<Action>,
    ticks: Vec<u64>,
    violation: Violation,
    replays: usize,
}

/// The state of one shrinking.
struct Shrinker<'a> {
    nodes: usize,
    seed: u64,
    invariant: Invariant,
    replays: usize,
    deadline: Option<Instant>,
    start: Instant,
    progress: &'a mut dyn FnMut(&Progress),
}

/// True for the lines that set the stage (`break`), which shrinking keeps.
fn is_premise(action: &Action) -> bool {
    matches!(action, Action::Break(_))
}

impl Shrinker<'_> {
    /// True once the budget is spent.
    fn out_of_time(&self) -> bool {
        self.deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
    }

    /// Replays `premise` then `steps`; the position in `steps` of the action during
    /// which the invariant broke, if it did.
    fn fails(&mut self, premise: &[Action], steps: &[Action]) -> Option<(usize, Replay)> {
        self.replays += 1;
        let actions: Vec<Action> = premise.iter().chain(steps).cloned().collect();
        let replay = replay(self.nodes, self.seed, &actions, self.invariant);
        let position = replay.violation.as_ref()?.0.checked_sub(premise.len())?;
        Some((position, replay))
    }

    /// Keeps `candidate` if it still fails, cut after the failing step; returns
    /// whether it did.
    fn try_candidate(
        &mut self,
        premise: &[Action],
        steps: &mut Vec<Action>,
        candidate: Vec<Action>,
    ) -> bool {
        match self.fails(premise, &candidate) {
            Some((position, _)) => {
                *steps = candidate;
                steps.truncate(position + 1);
                (self.progress)(&Progress::Shrinking {
                    steps: steps.len(),
                    replays: self.replays,
                    elapsed: self.start.elapsed(),
                });
                true
            }
            None => false,
        }
    }

    /// Shrinks a failing schedule (see the module documentation).
    fn shrink(mut self, actions: Vec<Action>) -> Shrunk {
        let (premise, mut steps): (Vec<Action>, Vec<Action>) =
            actions.into_iter().partition(is_premise);
        // Merged ticks are the same run, in fewer steps.
        steps = merge_ticks(steps);
        let whole = steps.clone();
        assert!(
            self.try_candidate(&premise, &mut steps, whole),
            "a chaos schedule replays to the same run (determinism): seed {} did not",
            self.seed
        );
        loop {
            let before = steps.clone();
            self.cut_last_tick(&premise, &mut steps);
            self.delta_debug(&premise, &mut steps);
            self.remove_each(&premise, &mut steps);
            self.remove_windows(&premise, &mut steps);
            self.shorten_ticks(&premise, &mut steps);
            let merged = merge_ticks(steps.clone());
            if merged.len() < steps.len() {
                self.try_candidate(&premise, &mut steps, merged);
            }
            if steps == before || self.out_of_time() {
                break;
            }
        }
        self.finish(premise, steps)
    }

    /// Replays the result once more for its ticks and violation.
    fn finish(mut self, premise: Vec<Action>, steps: Vec<Action>) -> Shrunk {
        let Some((_, replay)) = self.fails(&premise, &steps) else {
            unreachable!("shrinking keeps only schedules that fail");
        };
        let (_, violation) = replay.violation.expect("a failing replay has a violation");
        Shrunk {
            steps: premise.into_iter().chain(steps).collect(),
            ticks: replay.ticks,
            violation,
            replays: self.replays,
        }
    }

    /// A final `tick N` runs only to the tick of the violation.
    fn cut_last_tick(&mut self, premise: &[Action], steps: &mut Vec<Action>) {
        let Some((position, replay)) = self.fails(premise, steps) else {
            return;
        };
        let Some(Action::Tick(ticks)) = steps.get(position) else {
            return;
        };
        let (_, violation) = replay.violation.expect("a failing replay has a violation");
        let started = replay.ticks[premise.len() + position];
        let needed = violation.tick.saturating_sub(started).max(1);
        if needed < *ticks {
            let mut candidate = steps.clone();
            candidate[position] = Action::Tick(needed);
            self.try_candidate(premise, steps, candidate);
        }
    }

    /// Removes chunks of steps, from halves down to single steps (delta debugging,
    /// complements only).
    fn delta_debug(&mut self, premise: &[Action], steps: &mut Vec<Action>) {
        let mut chunks = 2;
        while steps.len() >= 2 && !self.out_of_time() {
            let size = steps.len().div_ceil(chunks);
            let mut removed = false;
            let mut start = 0;
            while start < steps.len() {
                let mut candidate = steps.clone();
                candidate.drain(start..(start + size).min(steps.len()));
                if !candidate.is_empty() && self.try_candidate(premise, steps, candidate) {
                    removed = true;
                    break;
                }
                start += size;
            }
            if removed {
                chunks = (chunks - 1).max(2);
            } else if size == 1 {
                break;
            } else {
                chunks = (chunks * 2).min(steps.len());
            }
        }
    }

    /// Tries removing each step alone, from the end.
    fn remove_each(&mut self, premise: &[Action], steps: &mut Vec<Action>) {
        let mut position = steps.len();
        while position > 0 && !self.out_of_time() {
            position -= 1;
            if position >= steps.len() || steps.len() == 1 {
                continue;
            }
            let mut candidate = steps.clone();
            candidate.remove(position);
            self.try_candidate(premise, steps, candidate);
        }
    }

    /// Tries removing every two and three neighbouring steps, at every position
    /// (delta debugging removes only aligned chunks; a step that matters only with
    /// its neighbour, such as a fault switched on and the ticks it acts in, goes
    /// here).
    fn remove_windows(&mut self, premise: &[Action], steps: &mut Vec<Action>) {
        for size in [2, 3] {
            let mut start = steps.len().saturating_sub(size);
            loop {
                if self.out_of_time() || steps.len() <= size {
                    return;
                }
                if start + size <= steps.len() {
                    let mut candidate = steps.clone();
                    candidate.drain(start..start + size);
                    self.try_candidate(premise, steps, candidate);
                }
                if start == 0 {
                    break;
                }
                start -= 1;
            }
        }
    }

    /// Shortens each `tick N` to the fewest ticks found to still fail (a binary
    /// search: failing need not be monotonic in N, so this finds a short one, not
    /// always the shortest).
    fn shorten_ticks(&mut self, premise: &[Action], steps: &mut Vec<Action>) {
        let mut position = 0;
        while position < steps.len() && !self.out_of_time() {
            if let Action::Tick(ticks) = steps[position] {
                let (mut low, mut high) = (1, ticks);
                while low < high && !self.out_of_time() {
                    let middle = low + (high - low) / 2;
                    let mut candidate = steps.clone();
                    candidate[position] = Action::Tick(middle);
                    if self.try_candidate(premise, steps, candidate) {
                        high = middle;
                    } else {
                        low = middle + 1;
                    }
                    if position >= steps.len() {
                        break;
                    }
                }
            }
            position += 1;
        }
    }
}

/// Merges neighbouring `tick` steps into one (the same run, in fewer steps).
fn merge_ticks(steps: Vec<Action>) -> Vec<Action> {
    let mut merged: Vec<Action> = Vec::with_capacity(steps.len());
    for action in steps {
        match (merged.last_mut(), &action) {
            (Some(Action::Tick(before)), Action::Tick(more))
                if *before + *more <= crate::cluster::MAX_TICKS =>
            {
                *before += *more;
            }
            _ => merged.push(action),
        }
    }
    merged
}

impl Counterexample {
    /// ", the shortest of N failing seeds shrunk" when more than one was, else "".
    pub fn shortest_of(&self) -> String {
        if self.seeds_shrunk > 1 {
            format!(
                ", the shortest of {} failing seeds shrunk",
                self.seeds_shrunk
            )
        } else {
            String::new()
        }
    }

    /// The counterexample as a script for `raft-playground run`: header comments
    /// (the rule broken, the invariant that failed, the seed, how it was found and
    /// how to replay it), the `cluster` line, the steps with the tick of each as a
    /// comment, and `expect violation NAME`.
    pub fn script(&self) -> String {
        let mut script = String::new();
        let rules = if self.broken.is_empty() {
            "no rule broken".to_string()
        } else {
            format!("rule broken: {}", self.broken)
        };
        let _ = writeln!(
            script,
            "# Counterexample ({rules}): the checker reports {}.",
            self.invariant
        );
        let _ = writeln!(
            script,
            "#   {}",
            self.violation.to_string().replace('\n', " ")
        );
        let _ = writeln!(
            script,
            "# Found at chaos seed {} ({} nodes, hard cases) after {} seed{} in {:.1} s; shrunk from {} to {} steps in {:.1} s ({} replays{}).",
            self.seed,
            self.nodes,
            self.seeds_tried,
            if self.seeds_tried == 1 { "" } else { "s" },
            self.search_time.as_secs_f64(),
            self.found_steps,
            self.steps.len(),
            self.shrink_time.as_secs_f64(),
            self.replays,
            self.shortest_of()
        );
        let _ = writeln!(
            script,
            "# Replay: raft-playground run FILE (passes: the last line expects the violation; without it the run fails, naming it)."
        );
        let _ = writeln!(script, "cluster {} seed {}", self.nodes, self.seed);
        let mut shown_tick = 0;
        for (action, &tick) in self.steps.iter().zip(&self.ticks) {
            if !matches!(action, Action::Tick(_)) && tick != shown_tick {
                let _ = writeln!(script, "# tick {tick}");
                shown_tick = tick;
            }
            let _ = writeln!(script, "{action}");
        }
        let _ = writeln!(script, "expect violation {}", self.invariant);
        script
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbouring_ticks_merge() {
        let steps = vec![
            Action::Tick(2),
            Action::Tick(3),
            Action::Crash(1),
            Action::Tick(1),
        ];
        assert_eq!(
            merge_ticks(steps),
            [Action::Tick(5), Action::Crash(1), Action::Tick(1)]
        );
    }
}
