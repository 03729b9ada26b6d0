//! What each [`Action`] does: [`Cluster::apply`] and [`Cluster::check`], and the
//! steps they are made of (running rounds, requests to node threads, starting and
//! stopping nodes). The lab's named controls over them are in `controls.rs`.

use super::engine::ToCluster;
use super::node::{self, Spawn};
use super::protocol::{self, Answer, Request};
use super::router::{DropReason, Faults, InFlight};
use super::trace::TraceKind;
use super::{Action, Cluster, ClusterError, Outcome, action, derive_seed};

use crate::raft::snapshot::SnapshotError;
use crate::raft::{Command, ConfChange, NodeId, NotLeader, Proposal, ProposeError, Role, Rule};

impl Cluster {
    // ----- actions -----

    /// Applies one action (see [`Action`] for each). Checks it completely first, so an
    /// error means nothing changed; `Ok` says what happened. A cluster that keeps a
    /// record appends every action that passed the check (`record.rs`).
    pub fn apply(&mut self, action: &Action) -> Result<Outcome, ClusterError> {
        self.check(action)?;
        self.record_action(action);
        let outcome = self.carry_out(action)?;
        self.checkpoint_if_due();
        Ok(outcome)
    }

    /// Does what a checked action says.
    fn carry_out(&mut self, action: &Action) -> Result<Outcome, ClusterError> {
        let outcome = match action {
            Action::Tick(ticks) => {
                let from = self.now();
                self.run_rounds(*ticks);
                Outcome::Ticked {
                    from,
                    to: self.now(),
                }
            }
            Action::Submit { node, command } => {
                let Proposal { index, term } =
                    self.propose(*node, vec![Command::from(command.as_str())])?;
                Outcome::Submitted {
                    node: *node,
                    index,
                    term,
                }
            }
            Action::Crash(node) => {
                if self.slot(*node).up {
                    self.stop(*node);
                    Outcome::Crashed(*node)
                } else {
                    Outcome::AlreadyDown(*node)
                }
            }
            Action::Restart(node) => {
                if self.slot(*node).up {
                    self.stop(*node);
                }
                self.start(*node);
                Outcome::Restarted(self.status(*node))
            }
            Action::Disconnect(node) => {
                let engine = self.engine_mut();
                engine.router.disconnect(*node);
                engine.record(*node, TraceKind::Disconnected);
                Outcome::Done
            }
            Action::Connect(node) => {
                let engine = self.engine_mut();
                engine.router.connect(*node);
                engine.record(*node, TraceKind::Connected);
                Outcome::Done
            }
            Action::Partition(groups) => {
                let nodes = self.nodes();
                let engine = self.engine_mut();
                engine.router.partition(groups);
                // Each node learns the group it is in now (alone if named in none).
                for node in nodes {
                    let group = groups
                        .iter()
                        .find(|group| group.contains(&node))
                        .map_or_else(
                            || vec![node],
                            |group| {
                                let mut group = group.clone();
                                group.sort_unstable();
                                group
                            },
                        );
                    engine.record(node, TraceKind::Partitioned { group });
                }
                Outcome::Done
            }
            Action::Heal => {
                let nodes = self.nodes();
                let engine = self.engine_mut();
                engine.router.heal();
                for node in nodes {
                    engine.record(node, TraceKind::Healed);
                }
                Outcome::Done
            }
            Action::DropRate(rate) => {
                self.faults_mut().drop_rate = *rate;
                Outcome::Done
            }
            Action::Latency { min, max } => {
                let faults = self.faults_mut();
                faults.latency_min = *min;
                faults.latency_max = *max;
                Outcome::Done
            }
            Action::DuplicateRate(rate) => {
                self.faults_mut().duplicate_rate = *rate;
                Outcome::Done
            }
            Action::Unreliable(on) => {
                self.faults_mut().unreliable = *on;
                Outcome::Done
            }
            Action::LongReordering(on) => {
                self.faults_mut().long_reordering = *on;
                Outcome::Done
            }
            Action::Snapshot(node) => {
                let node = *node;
                let now = self.now();
                match self.request(node, Request::Snapshot { now })? {
                    Answer::Snapshotted(Ok(index)) => Outcome::Snapshotted { node, index },
                    // Only if the state machine lags the core's last applied index,
                    // which the checker reports as a violation of its own.
                    Answer::Snapshotted(Err(reason)) => {
                        return Err(ClusterError::Snapshot { node, reason });
                    }
                    other => unreachable!("a snapshot is answered with Snapshotted, not {other:?}"),
                }
            }
            Action::AutoSnapshot(every) => {
                self.auto_snapshot = *every;
                for node in 1..=self.size() {
                    if self.slot(node).is_active() {
                        // Setting a number only reports; nothing there can panic.
                        let _ = self.request(node, Request::SetAutoSnapshot(*every));
                    }
                }
                Outcome::Done
            }
            Action::Timeout(node) => {
                let now = self.now();
                match self.request(*node, Request::TimeoutNow { now })? {
                    Answer::TimedOut(true) => Outcome::TimedOut(self.status(*node)),
                    Answer::TimedOut(false) => {
                        unreachable!("n{node} refused a timeout the cluster checked")
                    }
                    other => unreachable!("a timeout is answered with TimedOut, not {other:?}"),
                }
            }
            Action::SnapshotAt { node, index } => {
                let (node, index) = (*node, *index);
                let now = self.now();
                match self.request(node, Request::SnapshotAt { now, index })? {
                    Answer::Snapshotted(Ok(index)) => Outcome::Snapshotted { node, index },
                    Answer::Snapshotted(Err(reason)) => {
                        unreachable!("n{node} refused a snapshot the cluster checked: {reason}")
                    }
                    other => unreachable!("a snapshot is answered with Snapshotted, not {other:?}"),
                }
            }
            Action::Heartbeat(node) => {
                let now = self.now();
                self.sending(*node, Request::HeartbeatNow { now })
            }
            Action::Flush(node) => {
                let now = self.now();
                self.sending(*node, Request::Flush { now })
            }
            Action::AddNode { leader } => {
                let leader = *leader;
                let node = self.add_slot(leader);
                self.start(node);
                self.engine_mut().record(node, TraceKind::Added);
                let index = self.propose_change(leader, ConfChange::AddLearner(node))?;
                Outcome::NodeAdded {
                    node,
                    leader,
                    index,
                }
            }
            Action::RemoveNode { leader, node } => {
                let (leader, node) = (*leader, *node);
                if self.slot(leader).status.configuration.contains(node) {
                    let index = self.propose_change(leader, ConfChange::Remove(node))?;
                    Outcome::NodeRemoving {
                        node,
                        leader,
                        index,
                    }
                } else {
                    // Added, but never a member of a committed configuration, nor of
                    // the leader's: nothing to change, it is simply shut down.
                    let index = self.engine().committed_members.0;
                    self.engine_mut().retire(node, index);
                    Outcome::NodeRemoving {
                        node,
                        leader,
                        index,
                    }
                }
            }
            Action::Transfer { leader, target } => {
                let (leader, target) = (*leader, *target);
                let now = self.now();
                match self.request(leader, Request::Transfer { now, target })? {
                    Answer::Transferring(Ok(())) => Outcome::Transferring { leader, target },
                    // The checks above decided from the leader's last report, which
                    // holds its role and configuration: a refused action never
                    // reaches a node.
                    Answer::Transferring(Err(error)) => unreachable!(
                        "n{leader} refused a transfer the cluster checked from its report: {error}"
                    ),
                    other => {
                        unreachable!("a transfer is answered with Transferring, not {other:?}")
                    }
                }
            }
            Action::Deliver(id) => self.deliver(*id),
            Action::DropMessage(id) => {
                let message = self.take_in_flight(*id);
                let engine = self.engine_mut();
                engine.router.count_dropped();
                engine.record_drop(message.id, &message.envelope, DropReason::Manual);
                Outcome::MessageDropped(message)
            }
            Action::Set(setting) => {
                setting.apply_to(&mut self.config.raft);
                self.send_config();
                Outcome::Done
            }
            Action::LinkDelay { from, to, delay } => {
                self.faults_mut().set_link_delay(*from, *to, *delay);
                Outcome::Done
            }
            Action::LateDuplicates(late) => {
                self.faults_mut().late_duplicates = *late;
                Outcome::Done
            }
            Action::Break(rule) => {
                self.set_rule(*rule, true);
                Outcome::Done
            }
            Action::Mend(rule) => {
                self.set_rule(*rule, false);
                Outcome::Done
            }
            Action::MendAll => {
                for rule in self.config.raft.broken.iter() {
                    self.set_rule(rule, false);
                }
                Outcome::Done
            }
        };
        self.reap_removed();
        Ok(outcome)
    }

    /// Hands the cluster's core configuration to every up node (a restarted node
    /// starts with it).
    fn send_config(&mut self) {
        for node in 1..=self.size() {
            if self.slot(node).is_active() {
                let config = self.config.raft.clone();
                // A configuration the cluster checked only reports.
                let _ = self.request(node, Request::SetConfig(config));
            }
        }
    }

    /// Breaks or restores one rule on every node from its next step on, and records
    /// the change in the trace (nothing, if the rule was so already).
    fn set_rule(&mut self, rule: Rule, broken: bool) {
        if self.config.raft.broken.set(rule, broken) {
            self.send_config();
            let rule = rule.name();
            self.engine_mut()
                .record(1, TraceKind::Rule { rule, broken });
        }
    }

    /// Checks that `action` can be applied now, without applying it: every node and
    /// message it names exists, every number is in range, and the node it asks is in
    /// a state to do it. Refusals are decided here from each node's last report, so
    /// a refused action never reaches a node (handling any request makes a leader
    /// send the entries it was holding for the next round).
    pub fn check(&self, action: &Action) -> Result<(), ClusterError> {
        match action {
            Action::Tick(ticks) => {
                if !(1..=action::MAX_TICKS).contains(ticks) {
                    return Err(ClusterError::OutOfRange(format!(
                        "a tick takes 1 to {} ticks, not {ticks}",
                        action::MAX_TICKS
                    )));
                }
            }
            Action::Submit { node, command } => {
                self.check_up(*node)?;
                action::check_command_text(command)?;
                let status = &self.slot(*node).status;
                if status.role != Role::Leader {
                    return Err(ClusterError::NotLeader {
                        node: *node,
                        leader: status.leader,
                    });
                }
                if let Some(target) = status.transferring_to {
                    return Err(ClusterError::Transferring {
                        node: *node,
                        target,
                    });
                }
            }
            Action::Crash(node)
            | Action::Restart(node)
            | Action::Disconnect(node)
            | Action::Connect(node) => self.check_member(*node)?,
            Action::Partition(groups) => {
                if groups.is_empty() || groups.iter().any(Vec::is_empty) {
                    return Err(ClusterError::EmptyPartitionGroup);
                }
                let mut seen = Vec::new();
                for &node in groups.iter().flatten() {
                    self.check_node(node)?;
                    if seen.contains(&node) {
                        return Err(ClusterError::NodeInTwoGroups(node));
                    }
                    seen.push(node);
                }
            }
            Action::Heal | Action::Unreliable(_) | Action::LongReordering(_) => {}
            Action::DropRate(rate) => action::check_rate("drop", *rate)?,
            Action::DuplicateRate(rate) => action::check_rate("duplicate", *rate)?,
            Action::Latency { min, max } => action::check_latency(*min, *max)?,
            Action::Snapshot(node) => {
                self.check_up(*node)?;
                // The state machine has applied through `last_applied`; a snapshot
                // there is new only past the current one (§7).
                let status = &self.slot(*node).status;
                if status.last_applied <= status.snapshot_index {
                    return Err(ClusterError::NothingToSnapshot {
                        node: *node,
                        snapshot_index: status.snapshot_index,
                    });
                }
            }
            Action::AutoSnapshot(every) => {
                if *every == Some(0) {
                    return Err(ClusterError::OutOfRange(
                        "the auto-snapshot interval must be at least 1 (or off)".into(),
                    ));
                }
            }
            Action::Timeout(node) => {
                self.check_up(*node)?;
                let status = &self.slot(*node).status;
                if status.role == Role::Leader {
                    return Err(ClusterError::IsLeader(*node));
                }
                // A learner, or a node outside every configuration that may still be
                // the committed one, never campaigns (the core's rule).
                if !status.may_campaign {
                    return Err(ClusterError::NotAVoter(*node));
                }
            }
            Action::AddNode { leader } => {
                self.check_leader(*leader)?;
                if self.size() >= action::MAX_NODES {
                    return Err(ClusterError::TooManyNodes);
                }
            }
            Action::RemoveNode { leader, node } => {
                self.check_leader(*leader)?;
                self.check_member(*node)?;
                let configuration = &self.slot(*leader).status.configuration;
                let never_joined = !configuration.contains(*node)
                    && !self.engine().committed_members.1.contains(node);
                if !never_joined && let Err(reason) = configuration.apply(ConfChange::Remove(*node))
                {
                    return Err(ClusterError::ChangeRefused {
                        node: *leader,
                        reason,
                    });
                }
            }
            Action::Transfer { leader, target } => {
                self.check_up(*leader)?;
                self.check_member(*target)?;
                let status = &self.slot(*leader).status;
                if status.role != Role::Leader {
                    return Err(ClusterError::NotLeader {
                        node: *leader,
                        leader: status.leader,
                    });
                }
                if leader == target {
                    return Err(ClusterError::TransferToSelf(*target));
                }
                // Only a voter can be elected (a learner is still catching up, §4.2.1).
                if !status.configuration.is_voter(*target) {
                    return Err(ClusterError::NotAVoter(*target));
                }
            }
            Action::SnapshotAt { node, index } => {
                self.check_up(*node)?;
                let status = &self.slot(*node).status;
                let reason = if *index > status.last_applied {
                    Some(SnapshotError::NotApplied {
                        index: *index,
                        last_applied: status.last_applied,
                    })
                } else if *index <= status.snapshot_index {
                    Some(SnapshotError::AlreadyCompacted {
                        snapshot_index: status.snapshot_index,
                    })
                } else {
                    None
                };
                if let Some(reason) = reason {
                    return Err(ClusterError::Snapshot {
                        node: *node,
                        reason,
                    });
                }
            }
            Action::Heartbeat(node) => {
                self.check_up(*node)?;
                if self.slot(*node).status.role != Role::Leader {
                    return Err(ClusterError::NoHeartbeat(*node));
                }
            }
            Action::Flush(node) => self.check_up(*node)?,
            Action::Deliver(id) | Action::DropMessage(id) => {
                if !self
                    .engine()
                    .router
                    .in_flight()
                    .any(|message| message.id == *id)
                {
                    return Err(ClusterError::NoSuchMessage(*id));
                }
            }
            Action::Set(setting) => setting.check()?,
            Action::LinkDelay { from, to, delay } => {
                self.check_node(*from)?;
                self.check_node(*to)?;
                if from == to {
                    return Err(ClusterError::OutOfRange(format!(
                        "a link joins two different nodes, not n{from} and itself"
                    )));
                }
                if let Some((min, max)) = delay {
                    action::check_latency(*min, *max)?;
                }
            }
            Action::LateDuplicates(late) => {
                if let Some((min, max)) = late {
                    action::check_latency(*min, *max)?;
                }
            }
            Action::Break(_) | Action::Mend(_) | Action::MendAll => {}
        }
        Ok(())
    }

    // ----- what actions do -----

    /// Runs rounds until `ticks` more ticks have passed.
    fn run_rounds(&mut self, ticks: u64) {
        let mut engine = self
            .engine
            .take()
            .expect("the engine is home between ticks");
        engine.target = engine.now.saturating_add(ticks);
        // The rounds run on the node threads; the engine comes back when they are done.
        self.shared.run(engine);
        match self.wait_for_nodes() {
            ToCluster::Done(engine) => self.engine = Some(engine),
            other => unreachable!("only the round engine talks during rounds, not {other:?}"),
        }
        self.join_panicked();
    }

    /// The next message from the node threads. A panic outside any request (a bug in
    /// the engine) is re-raised, and so is a silence of [`protocol::STUCK_AFTER`]: a node
    /// thread in an endless loop would otherwise hang the caller for good.
    fn wait_for_nodes(&mut self) -> ToCluster {
        match protocol::receive_within(&self.from_nodes, protocol::STUCK_AFTER) {
            Ok(ToCluster::Panicked(id, message)) => {
                panic!("{message} (node n{id}): a bug in raft-playground")
            }
            Ok(other) => other,
            Err(disconnected) => {
                assert!(!disconnected, "the cluster holds a sender");
                self.stuck = true;
                panic!(
                    "no node thread answered within {} s: one is stuck (an endless loop?), a bug in raft-playground",
                    protocol::STUCK_AFTER.as_secs()
                )
            }
        }
    }

    /// Waits for the threads of nodes that panicked (they end right after reporting).
    fn join_panicked(&mut self) {
        let panicked = std::mem::take(&mut self.engine_mut().panicked);
        for node in panicked {
            self.shared.set_sender(node, None);
            if let Some(thread) = self.threads[node - 1].take() {
                let _ = thread.join();
            }
        }
    }

    /// Sends one request to an up node and handles its report. If handling it
    /// panicked, the node is down now and the checker reported it: the error says so.
    pub(super) fn request(
        &mut self,
        node: NodeId,
        request: Request,
    ) -> Result<Answer, ClusterError> {
        self.shared.send(node, request);
        match self.absorb_report() {
            Answer::Panicked(_) => Err(ClusterError::Panicked(node)),
            answer => Ok(answer),
        }
    }

    /// Waits for a node's report outside rounds and takes it in.
    fn absorb_report(&mut self) -> Answer {
        let answer = match self.wait_for_nodes() {
            ToCluster::Report(report) => self.engine_mut().absorb(*report),
            other => unreachable!("between ticks nodes only report, not {other:?}"),
        };
        self.join_panicked();
        answer
    }

    /// Proposes commands to a checked leader, in one request.
    pub(super) fn propose(
        &mut self,
        node: NodeId,
        commands: Vec<Command>,
    ) -> Result<Proposal, ClusterError> {
        let now = self.now();
        match self.request(node, Request::Propose { now, commands })? {
            Answer::Proposed(result) => result.map_err(|refusal| match refusal {
                ProposeError::NotLeader(NotLeader { leader }) => {
                    ClusterError::NotLeader { node, leader }
                }
                ProposeError::Transferring { target } => {
                    ClusterError::Transferring { node, target }
                }
            }),
            other => unreachable!("a proposal is answered with Proposed, not {other:?}"),
        }
    }

    /// Starts a life of `node` from its storage.
    pub(super) fn start(&mut self, node: NodeId) {
        self.lives[node - 1] += 1;
        let lives = self.lives[node - 1];
        let spawn = Spawn {
            id: node,
            members: (1..=self.config.nodes).collect(),
            config: self.config.raft.clone(),
            seed: derive_seed(self.config.seed, &[node as u64, lives]),
            storage: self.slot(node).storage.clone(),
            auto_snapshot: self.auto_snapshot,
            now: self.now(),
        };
        self.threads[node - 1] = Some(node::spawn(spawn, self.shared.clone()));
        let engine = self.engine_mut();
        let slot = &mut engine.slots[node - 1];
        slot.up = true;
        slot.pending = false;
        engine.checker.on_restart(node);
        if lives > 1 {
            engine.record(node, TraceKind::Restarted);
        }
        self.absorb_report();
    }

    /// Stops an up node's thread: what it did not persist is lost, and so are the
    /// messages in flight to or from it.
    fn stop(&mut self, node: NodeId) {
        // A crash request only reports; it has nothing that could panic.
        let _ = self.request(node, Request::Crash);
        self.shared.set_sender(node, None);
        if let Some(thread) = self.threads[node - 1].take() {
            thread.join().expect("a crashed node's thread ends cleanly");
        }
        let engine = self.engine_mut();
        engine.slots[node - 1].up = false;
        engine.record(node, TraceKind::Crashed);
        for message in engine.router.forget_node(node) {
            engine.record_drop(message.id, &message.envelope, DropReason::Down);
        }
    }

    /// The network's fault settings, to change (the caller checked the values).
    fn faults_mut(&mut self) -> &mut Faults {
        self.engine_mut().router.faults_mut()
    }

    /// Takes a checked in-flight message out of the router.
    pub(super) fn take_in_flight(&mut self, id: u64) -> InFlight {
        self.engine_mut()
            .router
            .take(id)
            .expect("the cluster checked that the message is in flight")
    }
}
