//! Seeded chaos: random schedules of faults, crashes, partitions, snapshots and
//! client commands, each a pure function of its seed, checked end to end.
//!
//! A seed picks a cluster size (3 or 5, sometimes 1 or 7), batching limits, and a
//! few hundred ticks of random steps: drop rates, latency ranges, duplication, the
//! lab's unreliable and long-reordering presets, partitions, disconnections, crashes
//! (often of the leader, sometimes right after it took a command), restarts,
//! snapshots, forced election timeouts, and commands to leaders and non-leaders.
//! Then the network is healed, every fault cleared and every crashed node restarted,
//! and the cluster must commit one more command and bring every node up to date.
//! A seed passes if the checker saw no broken invariant and every command a client
//! saw committed is applied, with the same text, on every node.
//!
//! `tests/chaos.rs` runs hundreds of seeds; `raft-playground chaos` runs any range
//! and replays one seed with its schedule.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{self, AssertUnwindSafe};

use crate::cluster::{Cluster, ClusterError, Config};
use crate::raft::{NodeId, Role};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// The longest wait, in ticks, for the healed cluster to commit and catch up.
const CONVERGE_TICKS: u64 = 600;
/// How many trace events a failure report shows.
const EVENTS_SHOWN: usize = 40;

/// A command a leader accepted, not yet known to be committed or lost.
#[derive(Clone, Debug)]
struct Submitted {
    /// The log index the leader gave it.
    index: u64,
    /// The command's text (unique within a run).
    command: String,
}

/// What one seed's run did, kept outside the run so a panic can still be reported.
#[derive(Debug, Default)]
struct Journal {
    /// The cluster's size and configuration, in words.
    setup: String,
    /// The steps taken, compact, each prefixed with the tick it happened at.
    steps: Vec<String>,
    /// Things that went wrong besides checker violations.
    problems: Vec<String>,
}

impl Journal {
    fn step(&mut self, now: u64, text: String) {
        self.steps.push(format!("@{now} {text}"));
    }

    fn problem(&mut self, now: u64, text: String) {
        self.problems.push(format!("tick {now}: {text}"));
    }
}

/// What one seed's run did.
#[derive(Clone, Debug, Default)]
pub struct ChaosReport {
    /// The seed.
    pub seed: u64,
    /// The cluster's size and configuration, in words.
    pub setup: String,
    /// The steps taken, each prefixed with its tick (`@12 crash n3`).
    pub steps: Vec<String>,
    /// Ticks simulated, convergence included.
    pub ticks: u64,
    /// Commands accepted by a leader.
    pub submitted: u64,
    /// Commands seen committed with the text submitted.
    pub committed: u64,
    /// The cluster's history digest at the end: equal digests mean equal runs.
    pub digest: u64,
    /// `None` if the seed passed; otherwise a report of what failed (problems,
    /// violations, the schedule, the last events) and how to replay it.
    pub failure: Option<String>,
}

/// One seed's run: the random schedule and what it has observed.
struct Chaos<'a> {
    seed: u64,
    rng: Xoshiro256PlusPlus,
    cluster: &'a mut Cluster,
    journal: &'a mut Journal,
    /// Accepted commands whose fate is not known yet.
    pending: Vec<Submitted>,
    /// Commands seen applied with their text: index to command.
    committed: BTreeMap<u64, String>,
    /// Commands accepted so far (also numbers the next command).
    submitted: u64,
}

/// The cluster size for a seed: mostly 3 and 5, sometimes 1 and 7.
fn cluster_size(rng: &mut Xoshiro256PlusPlus) -> usize {
    match rng.random_range(0..20) {
        0 => 1,
        1 => 7,
        2..11 => 3,
        _ => 5,
    }
}

/// The cluster's configuration: the default timing, and often small AppendEntries
/// batches, so that followers catch up over several requests and replies
/// (§5.3's rules about entries *after* the ones a request carries matter then).
fn config_for(rng: &mut Xoshiro256PlusPlus, nodes: usize, seed: u64) -> Config {
    let mut config = Config::new(nodes).seed(seed);
    if rng.random_bool(0.5) {
        config.raft.max_entries_per_append = rng.random_range(1..=4);
    }
    if rng.random_bool(0.2) {
        config.raft.max_bytes_per_append = rng.random_range(10..=60);
    }
    config
}

impl Chaos<'_> {
    fn nodes(&self) -> usize {
        self.cluster.size()
    }

    fn now(&self) -> u64 {
        self.cluster.now()
    }

    fn log(&mut self, text: String) {
        let now = self.now();
        self.journal.step(now, text);
    }

    fn problem(&mut self, text: String) {
        let now = self.now();
        self.journal.problem(now, text);
    }

    /// Moves time on, stopping at the tick of the first violation so that the
    /// report's last events lead up to it.
    fn advance(&mut self, ticks: u64) {
        self.cluster
            .tick_until(ticks, |cluster| !cluster.checker().violations().is_empty());
    }

    fn random_node(&mut self) -> NodeId {
        self.rng.random_range(1..=self.nodes())
    }

    /// Half the time a node that claims to lead (if any), else any node: losing
    /// leaders mid-replication is where Raft's subtle rules matter (§5.4.2).
    fn leader_or_random_node(&mut self) -> NodeId {
        let leaders = self.claimed_leaders();
        if !leaders.is_empty() && self.rng.random_bool(0.5) {
            leaders[self.rng.random_range(0..leaders.len())]
        } else {
            self.random_node()
        }
    }

    fn down_nodes(&self) -> Vec<NodeId> {
        (1..=self.nodes())
            .filter(|&id| !self.cluster.is_up(id))
            .collect()
    }

    /// Up nodes that claim to lead (a stale leader in a minority claims it too).
    fn claimed_leaders(&self) -> Vec<NodeId> {
        (1..=self.nodes())
            .filter(|&id| self.cluster.is_up(id) && self.cluster.status(id).role == Role::Leader)
            .collect()
    }

    /// Runs random steps until `ticks` ticks have passed or a violation shows up.
    fn run(&mut self, ticks: u64) {
        while self.now() < ticks && self.cluster.violations().is_empty() {
            self.random_step();
            self.settle();
        }
    }

    fn random_step(&mut self) {
        match self.rng.random_range(0..100) {
            0..37 => {
                let ticks = if self.rng.random_bool(0.1) {
                    self.rng.random_range(10..=40)
                } else {
                    self.rng.random_range(1..=8)
                };
                self.advance(ticks);
            }
            37..40 => self.cut_leader_short(),
            40..58 => self.submit_to_leaders(),
            58..61 => self.submit_to_follower(),
            61..63 => {
                let node = self.random_node();
                let fired = self.cluster.timeout(node).is_ok();
                self.log(format!(
                    "timeout n{node}{}",
                    if fired { "" } else { " refused" }
                ));
            }
            63..66 => {
                let rate = [0.0, 0.0, 0.05, 0.1, 0.2, 0.3, 0.5][self.rng.random_range(0..7)];
                self.log(format!("drop {rate}"));
                self.cluster.set_drop_rate(rate).expect("a valid drop rate");
            }
            66..69 => {
                let min = self.rng.random_range(1..=3);
                let max = min + [0, 0, 1, 3, 6, 12][self.rng.random_range(0..6)];
                self.log(format!("lat {min}..{max}"));
                self.cluster.set_latency(min, max).expect("a valid latency");
            }
            69..71 => {
                let rate = [0.0, 0.05, 0.1, 0.3][self.rng.random_range(0..4)];
                self.log(format!("dup {rate}"));
                self.cluster
                    .set_duplicate_rate(rate)
                    .expect("a valid duplicate rate");
            }
            71..73 => {
                let on = self.rng.random_bool(0.5);
                self.log(format!("unreliable {}", on_off(on)));
                self.cluster.set_unreliable(on);
            }
            73..75 => {
                let on = self.rng.random_bool(0.5);
                self.log(format!("reorder {}", on_off(on)));
                self.cluster.set_long_reordering(on);
            }
            75..79 => self.partition(),
            79..81 => {
                self.log("heal".to_string());
                self.cluster.heal();
            }
            81..83 => {
                let node = self.leader_or_random_node();
                self.log(format!("disconnect n{node}"));
                self.cluster.disconnect(node);
            }
            83..85 => {
                let node = self.random_node();
                self.log(format!("connect n{node}"));
                self.cluster.connect(node);
            }
            85..88 => self.crash(),
            88..92 => self.restart(),
            92..96 => {
                let node = self.random_node();
                let result = self.cluster.take_snapshot(node);
                self.log(match result {
                    Ok(index) => format!("snapshot n{node}={index}"),
                    Err(_) => format!("snapshot n{node} refused"),
                });
            }
            _ => {
                let every = if self.rng.random_bool(0.5) {
                    Some(self.rng.random_range(3..=20))
                } else {
                    None
                };
                self.log(match every {
                    Some(every) => format!("auto-snapshot {every}"),
                    None => "auto-snapshot off".to_string(),
                });
                self.cluster.set_auto_snapshot(every);
            }
        }
    }

    /// Submits one to three commands to every node that claims to lead.
    fn submit_to_leaders(&mut self) {
        for leader in self.claimed_leaders() {
            for _ in 0..self.rng.random_range(1..=3) {
                self.submit_to(leader);
            }
        }
    }

    /// Submits a fresh command to a node that claims to lead: it must accept it as its
    /// new last entry.
    fn submit_to(&mut self, leader: NodeId) {
        let command = format!(
            "set k{} {}.{}",
            self.submitted % 7,
            self.seed,
            self.submitted
        );
        match self.cluster.submit(leader, &command) {
            Ok((index, term)) => {
                self.log(format!("submit n{leader}={index}"));
                self.submitted += 1;
                let status = self.cluster.status(leader);
                if (index, term) != (status.last_log_index, status.term) {
                    self.problem(format!(
                        "n{leader} accepted {command:?} as index {index} term {term}, but its last entry is {} term {}",
                        status.last_log_index, status.term
                    ));
                }
                self.pending.push(Submitted { index, command });
            }
            Err(error) => {
                self.log(format!("submit n{leader} refused"));
                self.problem(format!(
                    "n{leader} claims to lead but refused a command: {error}"
                ));
            }
        }
    }

    /// Submits a command to a node that does not claim to lead: it must be refused.
    fn submit_to_follower(&mut self) {
        let candidates: Vec<NodeId> = (1..=self.nodes())
            .filter(|&id| !self.cluster.is_up(id) || self.cluster.status(id).role != Role::Leader)
            .collect();
        if candidates.is_empty() {
            return;
        }
        let node = candidates[self.rng.random_range(0..candidates.len())];
        let up = self.cluster.is_up(node);
        let result = self.cluster.submit(node, "set follower must-refuse");
        self.log(format!("submit n{node} (not leader)"));
        match result {
            Err(ClusterError::NotLeader { node: named, .. }) if up && named == node => {}
            Err(ClusterError::Down(named)) if !up && named == node => {}
            other => self.problem(format!(
                "a command to n{node} (up: {up}, not leader) gave {other:?}, expected a refusal"
            )),
        }
    }

    /// Splits the nodes into two or three random groups, sometimes leaving one alone.
    fn partition(&mut self) {
        let count = self.rng.random_range(2..=3);
        let mut groups = vec![Vec::new(); count];
        let alone = if self.rng.random_bool(0.2) {
            Some(self.random_node())
        } else {
            None
        };
        for node in 1..=self.nodes() {
            if Some(node) != alone {
                groups[self.rng.random_range(0..count)].push(node);
            }
        }
        let text = groups
            .iter()
            .map(|group| {
                group
                    .iter()
                    .map(|id| id.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect::<Vec<_>>()
            .join("|");
        self.log(format!("partition {text}"));
        self.cluster.partition(&groups).expect("valid node ids");
    }

    /// Submits to a leader, lets its AppendEntries reach some followers, and crashes
    /// it before it hears back: entries of old terms left on a minority are what
    /// the commit rule of §5.4.2 (Figure 8) is about.
    fn cut_leader_short(&mut self) {
        let Some(leader) = self.cluster.leader() else {
            return;
        };
        self.submit_to(leader);
        let ticks = self.rng.random_range(1..=3);
        self.advance(ticks);
        if self.cluster.is_up(leader) {
            self.log(format!("crash n{leader} (cut short)"));
            self.cluster.crash(leader);
        }
    }

    /// Crashes a random node; rarely more than a minority is down at once.
    fn crash(&mut self) {
        let node = self.leader_or_random_node();
        if !self.cluster.is_up(node) {
            return;
        }
        // Up after the crash: every node but the down ones and this one.
        let up_after = self.nodes() - self.down_nodes().len() - 1;
        if up_after * 2 <= self.nodes() && !self.rng.random_bool(0.2) {
            return;
        }
        self.log(format!("crash n{node}"));
        self.cluster.crash(node);
    }

    /// Restarts a crashed node if any (else a running one, which crashes it first).
    fn restart(&mut self) {
        let down = self.down_nodes();
        let node = if !down.is_empty() && self.rng.random_bool(0.8) {
            down[self.rng.random_range(0..down.len())]
        } else {
            self.random_node()
        };
        self.log(format!("restart n{node}"));
        self.cluster.restart(node);
    }

    /// Moves accepted commands whose index was applied to `committed` (if applied with
    /// their text) or forgets them (if another command took the index).
    fn settle(&mut self) {
        let cluster = &*self.cluster;
        let committed = &mut self.committed;
        self.pending
            .retain(|entry| match cluster.applied_count(entry.index).1 {
                Some(applied) if applied == entry.command => {
                    committed.insert(entry.index, entry.command.clone());
                    false
                }
                Some(_) => false,
                None => true,
            });
    }

    /// Heals everything, restarts every crashed node, and waits until a leader
    /// commits one more command and every node has applied everything.
    fn converge(&mut self) {
        self.log("converge".to_string());
        self.cluster.heal();
        self.cluster.set_drop_rate(0.0).expect("a valid drop rate");
        self.cluster.set_latency(1, 1).expect("a valid latency");
        self.cluster
            .set_duplicate_rate(0.0)
            .expect("a valid duplicate rate");
        self.cluster.set_unreliable(false);
        self.cluster.set_long_reordering(false);
        for node in self.down_nodes() {
            self.cluster.restart(node);
        }
        let nodes = self.nodes();
        // The last command, resubmitted to whoever leads if its leader loses its term.
        let mut last: Option<(NodeId, u64, Submitted)> = None;
        for _ in 0..=CONVERGE_TICKS {
            self.settle();
            if let Some((leader, term, entry)) = &last {
                let status = self.cluster.status(*leader);
                let (count, command) = self.cluster.applied_count(entry.index);
                let ours = command.as_deref() == Some(entry.command.as_str());
                let caught_up = (1..=nodes).all(|id| {
                    let other = self.cluster.status(id);
                    other.last_applied == status.commit_index
                        && other.commit_index == status.commit_index
                });
                if ours && count == nodes && caught_up {
                    self.log(format!("converged n{leader}={}", entry.index));
                    return;
                }
                // A new leader commits entries of older terms only together with one
                // of its own (§5.4.2), so a change of leader calls for a new command.
                let deposed = status.role != Role::Leader || status.term != *term;
                if deposed || (command.is_some() && !ours) {
                    last = None;
                }
            }
            if last.is_none()
                && let Some(leader) = self.cluster.leader()
            {
                let command = format!("set final {}.{}", self.seed, self.submitted);
                if let Ok((index, term)) = self.cluster.submit(leader, &command) {
                    self.log(format!("submit n{leader}={index} (final)"));
                    self.submitted += 1;
                    let entry = Submitted { index, command };
                    self.pending.push(entry.clone());
                    last = Some((leader, term, entry));
                }
            }
            self.cluster.tick(1);
        }
        let states: Vec<String> = (1..=nodes)
            .map(|id| {
                let status = self.cluster.status(id);
                format!(
                    "n{id} {:?} term {} commit {} applied {} last {}",
                    status.role,
                    status.term,
                    status.commit_index,
                    status.last_applied,
                    status.last_log_index
                )
            })
            .collect();
        self.problem(format!(
            "no convergence within {CONVERGE_TICKS} ticks of healing: {}",
            states.join("; ")
        ));
    }

    /// Every command seen committed must now be applied on every node, with its text.
    fn check_committed(&mut self) {
        let nodes = self.nodes();
        let missing: Vec<String> = self
            .committed
            .iter()
            .filter_map(|(&index, command)| {
                let seen = self.cluster.applied_count(index);
                (seen != (nodes, Some(command.clone())))
                    .then(|| format!("index {index} {command:?}: {seen:?}"))
            })
            .collect();
        for text in missing {
            self.problem(format!(
                "a committed command is not applied on all {nodes} nodes: {text}"
            ));
        }
    }
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

/// Runs one seed's schedule and checks it (see the module documentation).
pub fn run(seed: u64) -> ChaosReport {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let nodes = cluster_size(&mut rng);
    let ticks = rng.random_range(300..=500);
    let config = config_for(&mut rng, nodes, seed);
    let mut journal = Journal {
        setup: format!(
            "{nodes} nodes, {ticks} ticks, at most {} entries and {} bytes per AppendEntries",
            config.raft.max_entries_per_append, config.raft.max_bytes_per_append
        ),
        ..Journal::default()
    };
    let mut cluster = Cluster::new(config);
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        let mut chaos = Chaos {
            seed,
            rng,
            cluster: &mut cluster,
            journal: &mut journal,
            pending: Vec::new(),
            committed: BTreeMap::new(),
            submitted: 0,
        };
        chaos.run(ticks);
        // After a violation the report is what matters: the rest would only add noise.
        if chaos.cluster.violations().is_empty() {
            chaos.converge();
            chaos.settle();
            chaos.check_committed();
        }
        (chaos.now(), chaos.submitted, chaos.committed.len() as u64)
    }));
    let (failure, counts) = match outcome {
        Ok(counts) if journal.problems.is_empty() && cluster.violations().is_empty() => {
            (None, counts)
        }
        Ok(counts) => (Some(failure_report(seed, &journal, &cluster, None)), counts),
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|text| text.to_string()))
                .unwrap_or_else(|| "a panic".to_string());
            let report = failure_report(seed, &journal, &cluster, Some(&message));
            (Some(report), (cluster.now(), 0, 0))
        }
    };
    let (ticks, submitted, committed) = counts;
    let digest = cluster.history_digest();
    ChaosReport {
        digest,
        seed,
        setup: journal.setup,
        steps: journal.steps,
        ticks,
        submitted,
        committed,
        failure,
    }
}

/// Everything needed to understand a failed seed and run it again.
fn failure_report(seed: u64, journal: &Journal, cluster: &Cluster, panic: Option<&str>) -> String {
    let mut report = String::new();
    let _ = writeln!(
        report,
        "\n=== chaos seed {seed} FAILED at tick {} ===\nsetup: {}",
        cluster.now(),
        journal.setup
    );
    if let Some(message) = panic {
        let _ = writeln!(report, "panicked: {message}");
    }
    for problem in &journal.problems {
        let _ = writeln!(report, "problem: {problem}");
    }
    let violations = cluster.violations();
    let _ = writeln!(report, "violations ({}):", violations.len());
    for violation in &violations {
        let _ = writeln!(report, "  {violation}");
    }
    let _ = writeln!(report, "schedule ({} steps):", journal.steps.len());
    let mut line = String::from(" ");
    for step in &journal.steps {
        if line.len() + step.len() > 110 {
            let _ = writeln!(report, "{line}");
            line = String::from(" ");
        }
        let _ = write!(line, " {step};");
    }
    let _ = writeln!(report, "{line}");
    let _ = writeln!(report, "last {EVENTS_SHOWN} events:");
    for event in cluster.events(EVENTS_SHOWN) {
        let _ = writeln!(
            report,
            "  tick {} n{}: {:?}",
            event.tick, event.node, event.kind
        );
    }
    let _ = writeln!(
        report,
        "replay: cargo run --release -- chaos --seed {seed}   (or CHAOS_SEED={seed} cargo test --release --test chaos -- --nocapture replay)"
    );
    report
}
