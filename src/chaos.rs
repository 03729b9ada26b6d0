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
//! The run's end (heal, converge, check every committed command everywhere) is in
//! `chaos/converge.rs`, its report and script in `chaos/report.rs`.
//!
//! `tests/chaos.rs` runs hundreds of seeds; `raft-playground chaos` runs any range
//! and prints one seed's schedule as that script.
//!
//! [`run_with`] takes [`ChaosOptions`]: rules to break from the start (`break RULE`
//! lines head the schedule), a fixed cluster size, and the *hard cases*
//! (`chaos/hard.rs`): steps aimed at the situations where Raft's subtler rules
//! matter, which plain random faults reach only rarely (crashes right after a node
//! votes, acknowledges or learns a term; replies held back on one link across
//! elections; old messages duplicated long after; small AppendEntries batches).
//! [`run`] is the classic schedule, without them: its digests are pinned by the
//! behaviour fingerprint, so the hard cases draw from the seed's generator only when
//! asked for.

mod beyond;
mod converge;
mod hard;
mod report;

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};

pub use self::report::{ChaosReport, Step};
use self::report::{Journal, failure_report};
use crate::cluster::{Action, Cluster, ClusterError, Config, Invariant, Outcome, Setting};
use crate::raft::{BrokenRules, Features, NodeId, RaftConfig, Role};
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

/// How to run a chaos schedule, besides its seed. The default is the classic
/// schedule: every rule intact, the seed's cluster size, no hard cases.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChaosOptions {
    /// Rules every node breaks from the start (the schedule begins with a `break`
    /// line for each).
    pub broken: BrokenRules,
    /// The number of nodes; `None` lets the seed choose (3 or 5, sometimes 1 or 7).
    pub nodes: Option<usize>,
    /// Also take the steps aimed at Raft's hard cases (`chaos/hard.rs`).
    pub hard_cases: bool,
    /// Run on past violations of other invariants, and stop only at one of this
    /// invariant (a search for a particular kind of damage); `None` stops at the
    /// first violation of any.
    pub stop_at: Option<Invariant>,
    /// A test hook: at this tick, make this node's thread panic (it is reported as a
    /// `node-panic` violation). The schedule's script does not replay it.
    pub plant_panic: Option<(u64, NodeId)>,
    /// Switches beyond Lab 3 on from the first tick (each a `set NAME on` line of the
    /// script; `chaos/beyond.rs`).
    pub features: Features,
    /// Draw `add-node`, `remove-node` and `transfer` steps.
    pub membership: bool,
    /// Draw steps that switch pre-vote, check-quorum or the no-op on or off while the
    /// cluster runs.
    pub toggle: bool,
}

/// One seed's run: the random schedule and what it has observed.
struct Chaos<'a> {
    seed: u64,
    rng: Xoshiro256PlusPlus,
    cluster: &'a mut Cluster,
    journal: &'a mut Journal,
    /// How to run.
    options: &'a ChaosOptions,
    /// Links given their own latency by a hard-case step, to clear when converging.
    delayed_links: Vec<(NodeId, NodeId)>,
    /// True once a hard-case step made duplicates late.
    late_duplicates: bool,
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
            if self.stopped() {
                return;
            }
            self.plant_panic_if_due();
            self.act_surely(Action::Tick(1));
        }
    }

    /// True once the run has found what stops it: a violation (of the invariant in
    /// [`ChaosOptions::stop_at`], if one is named).
    fn stopped(&self) -> bool {
        let violations = self.cluster.checker().violations();
        match self.options.stop_at {
            None => !violations.is_empty(),
            Some(invariant) => violations.iter().any(|found| found.invariant == invariant),
        }
    }

    /// The test hook of [`ChaosOptions::plant_panic`].
    fn plant_panic_if_due(&mut self) {
        if let Some((tick, node)) = self.options.plant_panic
            && self.now() == tick
            && self.cluster.is_up(node)
        {
            let _ = self.cluster.plant_panic(node, "a panic planted by a test");
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
        while self.now() < ticks && !self.stopped() {
            self.random_step();
            self.settle();
        }
    }

    /// One random step: draws from the seed's generator, looks at the cluster where
    /// the step depends on it, and applies the resulting actions.
    fn random_step(&mut self) {
        // The classic schedule draws nothing here, so its runs stay as they were.
        if self.options.hard_cases && self.rng.random_ratio(1, 3) {
            self.hard_step();
            return;
        }
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
}

/// Runs one seed's classic schedule and checks it (see the module documentation).
pub fn run(seed: u64) -> ChaosReport {
    run_with(seed, &ChaosOptions::default())
}

/// The `raft-playground chaos` flags that run a seed with `options` again (a planted
/// panic is a test hook and has none).
fn replay_flags(options: &ChaosOptions) -> String {
    let mut flags = String::new();
    for rule in options.broken.iter() {
        flags.push_str(&format!(" --break {rule}"));
    }
    if options.hard_cases {
        flags.push_str(" --hard-cases");
    }
    if let Some(nodes) = options.nodes {
        flags.push_str(&format!(" --nodes {nodes}"));
    }
    flags.push_str(&options.flags());
    flags
}

/// Runs one seed's schedule with `options` and checks it.
pub fn run_with(seed: u64, options: &ChaosOptions) -> ChaosReport {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    // Drawn even when the size is given, so the seed's other choices stay the same.
    let drawn = cluster_size(&mut rng);
    let nodes = options.nodes.unwrap_or(drawn);
    let ticks = rng.random_range(300..=500);
    let settings = settings_for(&mut rng);
    let mut raft = RaftConfig::default();
    for setting in &settings {
        setting.apply_to(&mut raft);
    }
    let mut setup = format!(
        "{nodes} nodes, {ticks} ticks, at most {} entries and {} bytes per AppendEntries{}",
        raft.max_entries_per_append,
        raft.max_bytes_per_append,
        options.describe()
    );
    if !options.broken.is_empty() {
        setup.push_str(&format!(", rules broken: {}", options.broken));
    }
    if options.hard_cases {
        setup.push_str(", hard cases");
    }
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
            options,
            delayed_links: Vec::new(),
            late_duplicates: false,
            pending: Vec::new(),
            committed: BTreeMap::new(),
            submitted: 0,
        };
        for rule in options.broken.iter() {
            chaos.act_surely(Action::Break(rule));
        }
        for setting in settings.into_iter().chain(options.initial_settings()) {
            chaos.act_surely(Action::Set(setting));
        }
        chaos.run(ticks);
        // After a violation the report is what matters: the rest would only add noise.
        if !chaos.stopped() {
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
        flags: replay_flags(options),
        ..ChaosReport::default()
    };
    // A panic outside a node's request (in the chaos driver, or in the runtime) may
    // leave the cluster unusable: the report then says what the journal knows.
    let usable = cluster.is_usable();
    if usable {
        report.violations = cluster.checker().violations().to_vec();
    }
    let (failure, counts) = match outcome {
        Ok(counts) if journal.problems.is_empty() && report.violations.is_empty() => (None, counts),
        Ok(counts) => (
            Some(failure_report(
                &report,
                &journal,
                &cluster,
                None,
                &replay_flags(options),
            )),
            counts,
        ),
        Err(payload) => {
            let message = crate::cluster::panic_message(&*payload);
            report.panicked = true;
            let failure = failure_report(
                &report,
                &journal,
                &cluster,
                Some(&message),
                &replay_flags(options),
            );
            let now = journal.steps.last().map_or(0, |step| step.tick);
            (
                Some(failure),
                (if usable { cluster.now() } else { now }, 0, 0),
            )
        }
    };
    (report.ticks, report.submitted, report.committed) = counts;
    if usable {
        report.digest = cluster.history_digest();
    }
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
