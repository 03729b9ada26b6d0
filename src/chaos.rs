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
//! Every step is an [`Action`] applied through [`Cluster::apply`], and the schedule
//! is the list of those actions (choices that depend on the cluster, like whom to
//! send a command, are made first and recorded as the concrete action taken). So
//! [`ChaosReport::script`] is a script that `raft-playground run` replays to the
//! same end state and the same history digest, and which it checks with `expect
//! digest`.
//!
//! `tests/chaos.rs` runs hundreds of seeds; `raft-playground chaos` runs any range
//! and prints one seed's schedule as that script.

mod beyond;
mod report;

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};

pub use self::beyond::ChaosOptions;
pub use self::report::{ChaosReport, Step};
use self::report::{Journal, failure_report};
use crate::cluster::{Action, Cluster, ClusterError, Config, Outcome, Setting};
use crate::raft::{NodeId, RaftConfig, Role};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// The longest wait, in ticks, for the healed cluster to commit and catch up.
const CONVERGE_TICKS: u64 = 600;

/// A command a leader accepted, not yet known to be committed or lost.
#[derive(Clone, Debug)]
struct Submitted {
    /// The log index the leader gave it.
    index: u64,
    /// The command's text (unique within a run).
    command: String,
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
    /// What the schedule may draw beyond Lab 3 (nothing by default).
    options: ChaosOptions,
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

/// The core's settings for a seed: the default timing, and often small AppendEntries
/// batches, so that followers catch up over several requests and replies (§5.3's
/// rules about entries *after* the ones a request carries matter then).
fn settings_for(rng: &mut Xoshiro256PlusPlus) -> Vec<Setting> {
    let mut settings = Vec::new();
    if rng.random_bool(0.5) {
        settings.push(Setting::BatchEntries(rng.random_range(1..=4)));
    }
    if rng.random_bool(0.2) {
        settings.push(Setting::BatchBytes(rng.random_range(10..=60)));
    }
    settings
}

impl Chaos<'_> {
    /// How many members the cluster has (up or down; removed nodes are not members).
    fn nodes(&self) -> usize {
        self.members().len()
    }

    /// The members, in id order: `1..=size` until a membership change removes one.
    fn members(&self) -> Vec<NodeId> {
        self.cluster.nodes()
    }

    /// The members that must apply every committed command: those in the
    /// configuration the leader uses (voters and learners), or every member while no
    /// node leads. A node started by `add-node` whose configuration entry was lost
    /// (the leader crashed before persisting it, or a later leader overwrote it) is
    /// in no configuration: no leader ever sends it anything, exactly as a real
    /// server that was never added. With Lab 3 alone this is every member.
    fn required(&self) -> Vec<NodeId> {
        let members = self.members();
        let Some(leader) = self.cluster.leader() else {
            return members;
        };
        let configuration = self.cluster.status(leader).configuration;
        members
            .into_iter()
            .filter(|&id| configuration.is_voter(id) || configuration.is_learner(id))
            .collect()
    }

    /// How many of the [`Chaos::required`] nodes applied `index`, and the command
    /// there.
    fn applied_count(&self, index: u64) -> (usize, Option<String>) {
        self.cluster
            .checker()
            .applied_count_among(index, &self.required())
    }

    fn now(&self) -> u64 {
        self.cluster.now()
    }

    /// Applies an action and records it in the schedule.
    fn act(&mut self, action: Action) -> Result<Outcome, ClusterError> {
        let tick = self.now();
        let result = self.cluster.apply(&action);
        self.journal.record(tick, &action, &result);
        result
    }

    /// Applies an action that cannot be refused (a fault setting, a link, a crash).
    fn act_surely(&mut self, action: Action) -> Outcome {
        match self.act(action.clone()) {
            Ok(outcome) => outcome,
            Err(error) => panic!("chaos chose `{action}`, which the cluster refused: {error}"),
        }
    }

    fn problem(&mut self, text: String) {
        let now = self.now();
        self.journal.problem(now, text);
    }

    /// Moves time on, stopping at the tick of the first violation so that the
    /// report's last events lead up to it.
    fn advance(&mut self, ticks: u64) {
        for _ in 0..ticks {
            if !self.cluster.checker().violations().is_empty() {
                return;
            }
            self.act_surely(Action::Tick(1));
        }
    }

    fn random_node(&mut self) -> NodeId {
        let members = self.members();
        if members.len() == self.cluster.size() {
            // No node was ever removed: the members are 1..=size, drawn as the Lab 3
            // schedule always has (so its seeds keep their runs).
            self.rng.random_range(1..=members.len())
        } else {
            members[self.rng.random_range(0..members.len())]
        }
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
        self.members()
            .into_iter()
            .filter(|&id| !self.cluster.is_up(id))
            .collect()
    }

    /// Up nodes that claim to lead (a stale leader in a minority claims it too).
    fn claimed_leaders(&self) -> Vec<NodeId> {
        self.members()
            .into_iter()
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

    /// One random step: draws from the seed's generator, looks at the cluster where
    /// the step depends on it, and applies the resulting actions.
    fn random_step(&mut self) {
        // Drawn only when the options ask for it, so that a Lab 3 schedule draws
        // exactly what it always did.
        if self.options.draws_changes() && self.rng.random_bool(beyond::CHANGE_RATE) {
            self.random_change();
            return;
        }
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
                // Refused (changing nothing) if the node is down or leads.
                let node = self.random_node();
                let _ = self.act(Action::Timeout(node));
            }
            63..66 => {
                let rate = [0.0, 0.0, 0.05, 0.1, 0.2, 0.3, 0.5][self.rng.random_range(0..7)];
                self.act_surely(Action::DropRate(rate));
            }
            66..69 => {
                let min = self.rng.random_range(1..=3);
                let max = min + [0, 0, 1, 3, 6, 12][self.rng.random_range(0..6)];
                self.act_surely(Action::Latency { min, max });
            }
            69..71 => {
                let rate = [0.0, 0.05, 0.1, 0.3][self.rng.random_range(0..4)];
                self.act_surely(Action::DuplicateRate(rate));
            }
            71..73 => {
                let on = self.rng.random_bool(0.5);
                self.act_surely(Action::Unreliable(on));
            }
            73..75 => {
                let on = self.rng.random_bool(0.5);
                self.act_surely(Action::LongReordering(on));
            }
            75..79 => self.partition(),
            79..81 => {
                self.act_surely(Action::Heal);
            }
            81..83 => {
                let node = self.leader_or_random_node();
                self.act_surely(Action::Disconnect(node));
            }
            83..85 => {
                let node = self.random_node();
                self.act_surely(Action::Connect(node));
            }
            85..88 => self.crash(),
            88..92 => self.restart(),
            92..96 => {
                // Refused if the node is down or has nothing new to snapshot.
                let node = self.random_node();
                let _ = self.act(Action::Snapshot(node));
            }
            _ => {
                let every = if self.rng.random_bool(0.5) {
                    Some(self.rng.random_range(3..=20))
                } else {
                    None
                };
                self.act_surely(Action::AutoSnapshot(every));
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
        let action = Action::Submit {
            node: leader,
            command: command.clone(),
        };
        match self.act(action) {
            Ok(Outcome::Submitted { index, term, .. }) => {
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
            // A leader handing over its leadership takes no commands (§3.10).
            Err(ClusterError::Transferring { node, .. }) if node == leader => {}
            other => self.problem(format!(
                "n{leader} claims to lead but did not take a command: {other:?}"
            )),
        }
    }

    /// Submits a command to a node that does not claim to lead: it must be refused.
    fn submit_to_follower(&mut self) {
        let candidates: Vec<NodeId> = self
            .members()
            .into_iter()
            .filter(|&id| !self.cluster.is_up(id) || self.cluster.status(id).role != Role::Leader)
            .collect();
        if candidates.is_empty() {
            return;
        }
        let node = candidates[self.rng.random_range(0..candidates.len())];
        let up = self.cluster.is_up(node);
        let result = self.act(Action::Submit {
            node,
            command: "set follower must-refuse".to_string(),
        });
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
        for node in self.members() {
            if Some(node) != alone {
                groups[self.rng.random_range(0..count)].push(node);
            }
        }
        // A group nobody was drawn into separates nobody: leaving it out links
        // exactly the same pairs of nodes.
        groups.retain(|group| !group.is_empty());
        if groups.is_empty() {
            // One node, drawn to be alone: it is alone in any partition.
            groups = vec![vec![alone.expect("only the lone node is in no group")]];
        }
        self.act_surely(Action::Partition(groups));
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
            self.act_surely(Action::Crash(leader));
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
        self.act_surely(Action::Crash(node));
    }

    /// Restarts a crashed node if any (else a running one, which crashes it first).
    fn restart(&mut self) {
        let down = self.down_nodes();
        let node = if !down.is_empty() && self.rng.random_bool(0.8) {
            down[self.rng.random_range(0..down.len())]
        } else {
            self.random_node()
        };
        self.act_surely(Action::Restart(node));
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
        self.journal.converge_from = Some(self.journal.steps.len());
        for action in [
            Action::Heal,
            Action::DropRate(0.0),
            Action::Latency { min: 1, max: 1 },
            Action::DuplicateRate(0.0),
            Action::Unreliable(false),
            Action::LongReordering(false),
        ] {
            self.act_surely(action);
        }
        for node in self.down_nodes() {
            self.act_surely(Action::Restart(node));
        }
        // The last command, resubmitted to whoever leads if its leader loses its term.
        let mut last: Option<(NodeId, u64, Submitted)> = None;
        for _ in 0..=CONVERGE_TICKS {
            self.settle();
            if let Some((leader, term, entry)) = &last {
                let status = self.cluster.status(*leader);
                let (count, command) = self.applied_count(entry.index);
                let ours = command.as_deref() == Some(entry.command.as_str());
                let required = self.required();
                let caught_up = required.iter().all(|&id| {
                    let other = self.cluster.status(id);
                    other.last_applied == status.commit_index
                        && other.commit_index == status.commit_index
                });
                // Counted afresh: a membership change may still commit meanwhile.
                if ours && count == required.len() && caught_up {
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
                let action = Action::Submit {
                    node: leader,
                    command: command.clone(),
                };
                if let Ok(Outcome::Submitted { index, term, .. }) = self.act(action) {
                    self.submitted += 1;
                    let entry = Submitted { index, command };
                    self.pending.push(entry.clone());
                    last = Some((leader, term, entry));
                }
            }
            self.act_surely(Action::Tick(1));
        }
        let states: Vec<String> = self
            .members()
            .into_iter()
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
        let nodes = self.required().len();
        let missing: Vec<String> = self
            .committed
            .iter()
            .filter_map(|(&index, command)| {
                let seen = self.applied_count(index);
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

/// Runs one seed's Lab 3 schedule and checks it (see the module documentation).
pub fn run(seed: u64) -> ChaosReport {
    run_with(seed, &ChaosOptions::default())
}

/// Runs one seed's schedule with the mechanisms beyond Lab 3 that `options` asks for
/// (switched on from the start, toggled, membership changes and transfers drawn),
/// and checks it. With the default options it is [`run`].
pub fn run_with(seed: u64, options: &ChaosOptions) -> ChaosReport {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let nodes = cluster_size(&mut rng);
    let ticks = rng.random_range(300..=500);
    let settings = settings_for(&mut rng);
    let mut raft = RaftConfig::default();
    for setting in &settings {
        setting.apply_to(&mut raft);
    }
    let setup = format!(
        "{nodes} nodes, {ticks} ticks, at most {} entries and {} bytes per AppendEntries{}",
        raft.max_entries_per_append,
        raft.max_bytes_per_append,
        options.describe()
    );
    let mut journal = Journal::default();
    // The cluster starts as a script's `cluster N seed S` line builds it; the settings
    // are its first actions.
    let mut cluster = Cluster::new(Config::new(nodes).seed(seed));
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        let mut chaos = Chaos {
            seed,
            rng,
            cluster: &mut cluster,
            journal: &mut journal,
            pending: Vec::new(),
            committed: BTreeMap::new(),
            submitted: 0,
            options: *options,
        };
        for setting in settings.into_iter().chain(options.initial_settings()) {
            chaos.act_surely(Action::Set(setting));
        }
        chaos.run(ticks);
        // After a violation the report is what matters: the rest would only add noise.
        if chaos.cluster.violations().is_empty() {
            chaos.converge();
            chaos.settle();
            chaos.check_committed();
        }
        (chaos.now(), chaos.submitted, chaos.committed.len() as u64)
    }));
    let mut report = ChaosReport {
        seed,
        nodes,
        setup,
        flags: options.flags(),
        ..ChaosReport::default()
    };
    let (failure, counts) = match outcome {
        Ok(counts) if journal.problems.is_empty() && cluster.violations().is_empty() => {
            (None, counts)
        }
        Ok(counts) => (
            Some(failure_report(&report, &journal, &cluster, None)),
            counts,
        ),
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|text| text.to_string()))
                .unwrap_or_else(|| "a panic".to_string());
            report.panicked = true;
            let failure = failure_report(&report, &journal, &cluster, Some(&message));
            (Some(failure), (cluster.now(), 0, 0))
        }
    };
    (report.ticks, report.submitted, report.committed) = counts;
    report.digest = cluster.history_digest();
    if !report.panicked {
        report.statuses = cluster
            .nodes()
            .into_iter()
            .map(|id| cluster.status(id))
            .collect();
    }
    report.failure = failure;
    report.steps = journal.steps;
    report.converge_from = journal.converge_from;
    report
}
