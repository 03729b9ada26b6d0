//! The [`Recorder`]: builds a [`Timeline`] by observing a cluster after every tick and
//! every action. It takes the new trace events (messages sent, delivered and dropped
//! become the timeline's messages), and the state and log of every node whose state
//! changed. Observed from tick 0, the timeline covers the run exactly, tick by tick;
//! started late, it holds what the trace still has and says it is not complete.
//!
//! Nothing observes a live session: `export` replays the session's record of actions
//! ([`replay_record`]) with a recorder watching, so a session pays nothing for its
//! exports until it asks for one, and ticks as fast as it can in between.

use std::collections::BTreeMap;

use serde_json::Value;

use super::timeline::{
    EventRecord, FORMAT, Fate, Frame, LinkFrame, LogChange, MessageRecord, Timeline,
    ViolationRecord,
};
use crate::cli::render::{entry_payload, event_text, info_summary, role_word};
use crate::cluster::router::DropReason;
use crate::cluster::trace::{TraceEvent, TraceKind};
use crate::cluster::{Action, Cluster, Config, Record};
use crate::raft::{Event, Index, Log, MessageInfo, NodeId, Term};

/// The most messages a timeline keeps (the oldest go first, and the timeline then
/// says it is not complete).
pub const MAX_MESSAGES: usize = 100_000;
/// The most trace events a timeline keeps.
pub const MAX_EVENTS: usize = 100_000;

/// What the recorder last saw of a node.
#[derive(Clone, Debug, Default)]
struct Seen {
    /// The last frame's fields (without its log change).
    frame: Option<Frame>,
    /// The log as of the last frame, `(term, command)` by index - 1 - snapshot index.
    log: Vec<(Term, String)>,
    /// That log's snapshot index.
    snapshot_index: Index,
    /// The status the log was read at (a log is read again only when it changes).
    log_key: (Index, Term, Index),
}

/// Builds a [`Timeline`] by observing a cluster. See the module documentation.
#[derive(Debug, Default)]
pub struct Recorder {
    /// The timeline so far (`end`, `complete` and the in-flight fates are settled
    /// when it is taken).
    timeline: Option<Timeline>,
    /// Trace events taken so far (by count).
    events_seen: u64,
    /// Messages in flight at the last observation, by id: their index in
    /// `timeline.messages`.
    in_flight: BTreeMap<u64, usize>,
    /// The trace events taken, in order (made into the timeline's words only when
    /// it is taken: recording stays cheap).
    events: Vec<TraceEvent>,
    /// Each message's content, by its position in `timeline.messages` (summarized
    /// when the timeline is taken, for the same reason).
    payloads: Vec<Option<MessageInfo>>,
    /// What was last seen of each node.
    seen: Vec<Seen>,
    /// The last tick observed.
    last_tick: u64,
    /// What changes whenever anything worth recording happens between commands:
    /// the trace's length and the network's counters. A tick that leaves it alone
    /// changed nothing the timeline shows.
    activity: (u64, u64, u64, u64),
}

/// A message's fields for the page (the enum's name is the message type, said
/// elsewhere, so only its fields are kept).
fn fields(message: &MessageInfo) -> Value {
    match serde_json::to_value(message) {
        Ok(Value::Object(mut outer)) if outer.len() == 1 => {
            outer.remove(message.kind()).unwrap_or(Value::Object(outer))
        }
        Ok(other) => other,
        Err(_) => Value::Null,
    }
}

/// True for a heartbeat (an AppendEntries without entries) or its reply.
fn is_heartbeat(message: &MessageInfo) -> bool {
    match message {
        MessageInfo::AppendEntries { entries, .. } => entries.is_none(),
        MessageInfo::AppendEntriesReply { .. } => true,
        MessageInfo::RequestVote { .. }
        | MessageInfo::RequestVoteReply { .. }
        | MessageInfo::InstallSnapshot { .. }
        | MessageInfo::InstallSnapshotReply { .. }
        | MessageInfo::TransferVote { .. }
        | MessageInfo::PreVote { .. }
        | MessageInfo::PreVoteReply { .. }
        | MessageInfo::TimeoutNow => false,
    }
}

/// Why a message was dropped, in words.
fn drop_words(reason: DropReason) -> &'static str {
    match reason {
        DropReason::Lost => "lost",
        DropReason::Cut => "link cut",
        DropReason::Down => "node down",
        DropReason::Manual => "dropped by hand",
        DropReason::Removed => "recipient removed",
    }
}

/// True for the trace's message traffic (sent, delivered, dropped), which the
/// timeline keeps as `messages` rather than as events.
fn is_message_event(kind: &TraceKind) -> bool {
    matches!(
        kind,
        TraceKind::Sent { .. } | TraceKind::Delivered { .. } | TraceKind::Dropped { .. }
    )
}

/// True if `event` says `node`'s log changed (so the recorder reads it again even
/// if its last index and term look the same, as after a broken Log Matching).
fn touches_log(event: &TraceEvent, node: NodeId) -> bool {
    event.node == node
        && matches!(
            &event.kind,
            TraceKind::Raft {
                event: Event::Appended { .. }
                    | Event::Truncated { .. }
                    | Event::SnapshotTaken { .. }
                    | Event::SnapshotInstalled { .. }
            }
        )
}

impl Recorder {
    /// A recorder that has seen nothing yet.
    pub fn new() -> Recorder {
        Recorder::default()
    }

    /// Looks at the cluster after a tick: like [`Recorder::observe`], but cheap when
    /// the tick changed nothing (no trace event, no message sent, delivered or
    /// dropped), as most ticks of a quiet cluster do. After a command, which can
    /// change the cluster without either (a partition, a proposal), call `observe`.
    pub fn observe_tick(&mut self, cluster: &mut Cluster) {
        if let Some(timeline) = &mut self.timeline
            && cluster.now() >= self.last_tick
            && activity(cluster) == self.activity
            && timeline.seed == cluster.seed()
        {
            self.last_tick = cluster.now();
            timeline.end = cluster.now();
            return;
        }
        self.look(cluster, false);
    }

    /// Looks at the cluster now: takes new trace events, settles messages that left
    /// the router, records new ones, and adds a frame for every node that changed.
    /// Call it after every tick and every command. If time went back (the cluster
    /// was replaced or rewound), what lies after the new present is dropped.
    pub fn observe(&mut self, cluster: &mut Cluster) {
        self.look(cluster, true);
    }

    /// See [`Recorder::observe`]; `settle` also reads the due ticks of messages in
    /// flight.
    fn look(&mut self, cluster: &mut Cluster, settle: bool) {
        let now = cluster.now();
        let replaced = self.timeline.as_ref().is_some_and(|timeline| {
            timeline.seed != cluster.seed()
                || timeline.nodes != cluster.size()
                || now < self.last_tick
                || cluster.event_count() < self.events_seen
        });
        if replaced {
            *self = Recorder::default();
        }
        let timeline = self.timeline.get_or_insert_with(|| Timeline {
            format: FORMAT,
            seed: cluster.seed(),
            nodes: cluster.size(),
            start: now,
            end: now,
            // Observed from tick 0: nothing came before but what tick 0 itself
            // recorded (a cluster started with `log K` loads its snapshots then),
            // and those events are read below (if the trace lost some, that says so).
            complete: now == 0,
            events: Vec::new(),
            messages: Vec::new(),
            frames: vec![Vec::new(); cluster.size()],
            links: Vec::new(),
            violations: Vec::new(),
        });
        if self.seen.len() != cluster.size() {
            self.seen = vec![Seen::default(); cluster.size()];
        }
        self.last_tick = now;
        self.activity = activity(cluster);
        timeline.end = now;

        // New trace events (the trace keeps the recent ones; observing every tick
        // sees them all).
        let total = cluster.event_count();
        let fresh = (total - self.events_seen) as usize;
        self.events_seen = total;
        let events = cluster.events(fresh);
        if events.len() < fresh {
            timeline.complete = false;
        }
        // Messages come from the trace: each is sent, then delivered or dropped.
        for event in &events {
            match &event.kind {
                TraceKind::Sent {
                    id,
                    to,
                    term,
                    message,
                    copy: _,
                } => {
                    self.in_flight.insert(*id, timeline.messages.len());
                    timeline.messages.push(MessageRecord {
                        id: Some(*id),
                        from: event.node,
                        to: *to,
                        kind: message.kind().to_string(),
                        term: Some(*term),
                        sent: event.tick,
                        arrived: event.tick,
                        fate: Fate::InFlight,
                        reason: None,
                        summary: String::new(),
                        heartbeat: is_heartbeat(message),
                        fields: Value::Null,
                    });
                    self.payloads.push(Some(*message));
                }
                TraceKind::Delivered { id, .. } => {
                    if let Some(at) = self.in_flight.remove(id) {
                        let record = &mut timeline.messages[at];
                        record.fate = Fate::Delivered;
                        record.arrived = event.tick;
                    }
                }
                TraceKind::Dropped { id, reason, .. } => {
                    if let Some(at) = self.in_flight.remove(id) {
                        let record = &mut timeline.messages[at];
                        record.fate = Fate::Dropped;
                        record.arrived = event.tick;
                        record.reason = Some(drop_words(*reason).to_string());
                    }
                }
                TraceKind::Violation { text, .. } => timeline.violations.push(ViolationRecord {
                    tick: event.tick,
                    node: event.node,
                    text: text.clone(),
                }),
                TraceKind::Raft { .. }
                | TraceKind::Rule { .. }
                | TraceKind::Applied { .. }
                | TraceKind::SnapshotLoaded { .. }
                | TraceKind::Crashed
                | TraceKind::Restarted
                | TraceKind::Disconnected
                | TraceKind::Connected
                | TraceKind::Partitioned { .. }
                | TraceKind::Healed
                | TraceKind::Added
                | TraceKind::Removed { .. } => {}
            }
        }
        // The traffic is in `messages`; the other events are kept as they are.
        self.events.extend(
            events
                .iter()
                .filter(|event| !is_message_event(&event.kind))
                .cloned(),
        );
        // A message still on its way arrives when it is due (settled after commands
        // only: reading the router on every tick would cost more than the rest).
        if settle {
            for message in cluster.in_flight() {
                if let Some(&at) = self.in_flight.get(&message.id) {
                    timeline.messages[at].arrived = message.due;
                }
            }
        }

        // Frames for the nodes that changed.
        for id in 1..=cluster.size() {
            let status = cluster.status(id);
            let seen = &mut self.seen[id - 1];
            let frame = Frame {
                tick: now,
                role: role_word(&status),
                term: status.term,
                voted_for: status.voted_for,
                leader: status.leader,
                last_index: status.last_log_index,
                commit: status.commit_index,
                applied: status.last_applied,
                connected: status.connected,
                log: None,
            };
            let log_key = (
                status.last_log_index,
                status.last_log_term,
                status.snapshot_index,
            );
            let touched = events.iter().any(|event| touches_log(event, id));
            let log_change = if touched || log_key != seen.log_key || seen.frame.is_none() {
                seen.log_key = log_key;
                let log = if status.up {
                    cluster.inspect(id).map(|view| view.log).ok()
                } else {
                    None
                }
                .unwrap_or_else(|| cluster.persisted_log(id).unwrap_or_default());
                change(seen, &log)
            } else {
                None
            };
            let same = seen.frame.as_ref().is_some_and(|last| {
                Frame {
                    tick: last.tick,
                    log: None,
                    ..frame.clone()
                } == *last
            });
            if !same || log_change.is_some() {
                seen.frame = Some(frame.clone());
                timeline.frames[id - 1].push(Frame {
                    log: log_change,
                    ..frame
                });
            }
        }

        // Links.
        let cut: Vec<(NodeId, NodeId)> = (1..=cluster.size())
            .flat_map(|a| ((a + 1)..=cluster.size()).map(move |b| (a, b)))
            .filter(|&(a, b)| !cluster.linked(a, b))
            .collect();
        if timeline.links.last().map(|frame| &frame.cut) != Some(&cut) {
            timeline.links.push(LinkFrame { tick: now, cut });
        }

        // Caps: keep the newest, dropping a quarter at once so the cost of dropping
        // is spread thin.
        if timeline.messages.len() > MAX_MESSAGES || self.events.len() > MAX_EVENTS {
            timeline.complete = false;
            let keep = |len: usize, max: usize| if len > max { max * 3 / 4 } else { len };
            let drop_messages =
                timeline.messages.len() - keep(timeline.messages.len(), MAX_MESSAGES);
            timeline.messages.drain(..drop_messages);
            self.payloads.drain(..drop_messages);
            // Messages still in flight were sent recently: none was dropped here.
            self.in_flight.retain(|_, at| *at >= drop_messages);
            for at in self.in_flight.values_mut() {
                *at -= drop_messages;
            }
            let drop_events = self.events.len() - keep(self.events.len(), MAX_EVENTS);
            self.events.drain(..drop_events);
            if let Some(first) = timeline.messages.first() {
                timeline.start = timeline.start.max(first.sent);
            }
        }
    }

    /// The timeline as of the last observation, with messages still in flight
    /// marked so. `None` if nothing was observed yet.
    pub fn timeline(&self) -> Option<Timeline> {
        let mut timeline = self.timeline.clone()?;
        timeline.events = self
            .events
            .iter()
            .map(|event| EventRecord {
                event: serde_json::to_value(event).unwrap_or(Value::Null),
                text: event_text(&event.kind),
            })
            .collect();
        for (record, payload) in timeline.messages.iter_mut().zip(&self.payloads) {
            if let Some(message) = payload {
                record.summary = info_summary(message);
                record.fields = fields(message);
            }
        }
        Some(timeline)
    }
}

/// The timeline of a session replayed from its start: a fresh cluster built from
/// `config`, then every action in order (a refused one changes nothing, as when it
/// was first refused), observed after every tick and every action. This is the
/// whole session exactly, whatever the live trace kept and whatever an undo cut
/// short: a session's record of actions (with its ticks) is all it needs.
pub fn replay(config: &Config, actions: &[Action]) -> Timeline {
    // The replay needs no record of its own (nor its checkpoints).
    let mut cluster = Cluster::new(Config {
        record: false,
        ..config.clone()
    });
    let mut recorder = Recorder::new();
    recorder.observe(&mut cluster);
    for action in actions {
        match action {
            Action::Tick(ticks) => {
                for _ in 0..*ticks {
                    cluster.tick(1);
                    recorder.observe_tick(&mut cluster);
                }
            }
            other => {
                let _ = cluster.apply(other);
                recorder.observe(&mut cluster);
            }
        }
    }
    recorder
        .timeline()
        .expect("the recorder observed the cluster")
}

/// The timeline of the session that `record` keeps: [`replay`] of its configuration
/// and its actions (the clock's ticks among them), from tick 0 to the record's end.
pub fn replay_record(record: &Record) -> Timeline {
    let actions: Vec<Action> = record
        .entries()
        .iter()
        .map(|entry| entry.action.clone())
        .collect();
    replay(record.config(), &actions)
}

/// The trace's length and the network's counters (see `Recorder::activity`).
fn activity(cluster: &Cluster) -> (u64, u64, u64, u64) {
    let stats = cluster.stats();
    (
        cluster.event_count(),
        stats.messages_sent,
        stats.messages_delivered,
        stats.messages_dropped,
    )
}

/// How `log` differs from what `seen` last had: the first index that differs and
/// everything from there on. `None` if nothing changed. Updates `seen`.
fn change(seen: &mut Seen, log: &Log) -> Option<LogChange> {
    let entries: Vec<(Term, String)> = log
        .iter()
        .map(|entry| (entry.term, entry_payload(&entry)))
        .collect();
    let snapshot_index = log.snapshot_index();
    let old_at = |index: Index| -> Option<&(Term, String)> {
        let position = index.checked_sub(seen.snapshot_index + 1)?;
        seen.log.get(position as usize)
    };
    let new_at = |index: Index| -> Option<&(Term, String)> {
        let position = index.checked_sub(snapshot_index + 1)?;
        entries.get(position as usize)
    };
    let old_last = seen.snapshot_index + seen.log.len() as u64;
    let new_last = log.last_index();
    // The first index where the two differ, looking only above both snapshots.
    let mut from = snapshot_index.max(seen.snapshot_index) + 1;
    while from <= old_last.max(new_last) && old_at(from) == new_at(from) && new_at(from).is_some() {
        from += 1;
    }
    let changed = from <= old_last.max(new_last) || snapshot_index != seen.snapshot_index;
    let result = changed.then(|| LogChange {
        from,
        entries: (from..=new_last)
            .filter_map(|index| new_at(index).cloned())
            .collect(),
        snapshot_index,
    });
    seen.log = entries;
    seen.snapshot_index = snapshot_index;
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::html::timeline::{Fate, Frame, MessageRecord, Timeline};
    use crate::cluster::{Action, Config};

    /// A node's log rebuilt from its frames up to `tick`, as the page does it.
    fn rebuild(frames: &[Frame], tick: u64) -> (Index, Vec<(Term, String)>) {
        let (mut snapshot, mut entries): (Index, Vec<Option<(Term, String)>>) = (0, Vec::new());
        for frame in frames.iter().take_while(|frame| frame.tick <= tick) {
            let Some(change) = &frame.log else { continue };
            if change.snapshot_index >= snapshot {
                let shift = (change.snapshot_index - snapshot) as usize;
                entries.drain(..shift.min(entries.len()));
            } else {
                let gap = (snapshot - change.snapshot_index) as usize;
                entries.splice(0..0, std::iter::repeat_n(None, gap));
            }
            entries.truncate((change.from - 1 - change.snapshot_index) as usize);
            entries.extend(change.entries.iter().cloned().map(Some));
            snapshot = change.snapshot_index;
        }
        (snapshot, entries.into_iter().flatten().collect())
    }

    fn log_of(cluster: &mut Cluster, id: NodeId) -> (Index, Vec<(Term, String)>) {
        let log = if cluster.is_up(id) {
            cluster.inspect(id).unwrap().log
        } else {
            cluster.persisted_log(id).unwrap()
        };
        let entries = log
            .iter()
            .map(|entry| (entry.term, entry_payload(&entry)))
            .collect();
        (log.snapshot_index(), entries)
    }

    /// Some ticks, then a change to the cluster.
    type Step<'a> = (u64, &'a mut dyn FnMut(&mut Cluster));

    /// Runs `steps`, observing every tick.
    fn record(seed: u64, steps: &mut [Step<'_>]) -> (Cluster, Timeline) {
        let mut cluster = Cluster::new(Config::new(5).seed(seed));
        let mut recorder = Recorder::new();
        recorder.observe(&mut cluster);
        for (ticks, change) in steps.iter_mut() {
            for _ in 0..*ticks {
                cluster.tick(1);
                recorder.observe_tick(&mut cluster);
            }
            change(&mut cluster);
            recorder.observe(&mut cluster);
        }
        let timeline = recorder.timeline().unwrap();
        (cluster, timeline)
    }

    fn submit(cluster: &mut Cluster, text: &str) {
        if let Some(leader) = cluster.leader() {
            let _ = cluster.submit(leader, text);
        }
    }

    /// Every event of `cluster`'s trace (which kept all of them) is in `timeline`: each
    /// event that is not message traffic as an event, each send as one message.
    fn assert_holds_the_whole_trace(cluster: &Cluster, timeline: &Timeline) {
        let trace = cluster.events(usize::MAX);
        assert_eq!(
            trace.len() as u64,
            cluster.event_count(),
            "the trace kept all"
        );
        let not_traffic = trace.iter().filter(|event| !is_message_event(&event.kind));
        assert_eq!(timeline.events.len(), not_traffic.count());
        let traffic = trace
            .iter()
            .filter(|event| matches!(event.kind, TraceKind::Sent { .. }));
        assert_eq!(
            timeline.messages.len(),
            traffic.count(),
            "one message per send"
        );
    }

    #[test]
    fn frames_rebuild_every_log_through_crashes_partitions_and_snapshots() {
        for seed in 0..6 {
            let (mut cluster, timeline) = record(
                seed,
                &mut [
                    (30, &mut |c| submit(c, "set a 1")),
                    (3, &mut |c| submit(c, "set b 2")),
                    (0, &mut |c| {
                        let leader = c.leader().unwrap_or(1);
                        let others: Vec<NodeId> = (1..=5).filter(|&id| id != leader).collect();
                        c.apply(&Action::Partition(vec![vec![leader], others]))
                            .unwrap();
                        let _ = c.submit(leader, "set lost 1");
                    }),
                    (40, &mut |c| submit(c, "set c 3")),
                    (5, &mut |c| {
                        c.apply(&Action::Heal).unwrap();
                    }),
                    (30, &mut |c| {
                        c.crash(2).unwrap();
                        submit(c, "set d 4");
                    }),
                    (10, &mut |c| {
                        c.restart(2).unwrap();
                        let _ = c.snapshot(3);
                    }),
                    (40, &mut |_| {}),
                ],
            );
            assert!(timeline.complete, "seed {seed}");
            assert_eq!(timeline.start, 0);
            assert_eq!(timeline.end, cluster.now());
            for id in 1..=5 {
                let frames = &timeline.frames[id - 1];
                assert_eq!(
                    rebuild(frames, timeline.end),
                    log_of(&mut cluster, id),
                    "seed {seed}: n{id}'s log rebuilt from its frames"
                );
                let last = frames.last().unwrap();
                let status = cluster.status(id);
                assert_eq!(
                    (last.term, last.commit, last.last_index),
                    (status.term, status.commit_index, status.last_log_index),
                    "seed {seed}: n{id}'s last frame is its state"
                );
            }
        }
    }

    #[test]
    fn frames_name_learners_joining_and_removed_nodes() {
        use crate::cli::html::timeline::ROLE_WORDS;
        let mut cluster = Cluster::new(Config::new(3).seed(1));
        let mut recorder = Recorder::new();
        let run = |cluster: &mut Cluster, recorder: &mut Recorder, ticks: u64| {
            for _ in 0..ticks {
                cluster.tick(1);
                recorder.observe_tick(cluster);
            }
        };
        run(&mut cluster, &mut recorder, 40);
        let leader = cluster.leader().expect("a leader within 40 ticks");
        cluster.submit(leader, "set a 1").unwrap();
        run(&mut cluster, &mut recorder, 5);
        let added = cluster.add_node(leader).unwrap();
        recorder.observe(&mut cluster);
        run(&mut cluster, &mut recorder, 60);
        let leader = cluster.leader().unwrap();
        let gone = (1..=3).find(|&id| id != leader).unwrap();
        cluster.remove_node(leader, gone).unwrap();
        recorder.observe(&mut cluster);
        run(&mut cluster, &mut recorder, 20);
        let timeline = recorder.timeline().unwrap();
        let roles = |id: NodeId| -> Vec<&str> {
            let mut roles: Vec<&str> = timeline.frames[id - 1]
                .iter()
                .map(|frame| frame.role)
                .collect();
            roles.dedup();
            roles
        };
        assert_eq!(roles(added), ["joining", "learner", "follower"]);
        assert_eq!(roles(gone).last(), Some(&"removed"), "{:?}", roles(gone));
        for frames in &timeline.frames {
            assert!(frames.iter().all(|frame| ROLE_WORDS.contains(&frame.role)));
        }
    }

    #[test]
    fn entries_without_a_command_show_their_kind() {
        let mut config = Config::new(3).seed(2);
        config.raft.features.leader_no_op = true;
        let mut cluster = Cluster::new(config);
        let mut recorder = Recorder::new();
        recorder.observe(&mut cluster);
        for _ in 0..40 {
            cluster.tick(1);
            recorder.observe_tick(&mut cluster);
        }
        let leader = cluster.leader().expect("a leader within 40 ticks");
        cluster.submit(leader, "set x 1").unwrap();
        for _ in 0..5 {
            cluster.tick(1);
            recorder.observe_tick(&mut cluster);
        }
        let timeline = recorder.timeline().unwrap();
        let (_, entries) = rebuild(&timeline.frames[leader - 1], timeline.end);
        let term = cluster.status(leader).term;
        assert_eq!(
            entries,
            [(term, "(no-op)".to_string()), (term, "set x 1".to_string())]
        );
    }

    #[test]
    fn messages_have_their_send_and_arrival_ticks_and_fates() {
        let (cluster, timeline) = record(
            3,
            &mut [
                (30, &mut |c| c.disconnect(2).unwrap()),
                (10, &mut |c| c.crash(3).unwrap()),
                (10, &mut |_| {}),
            ],
        );
        let delivered: Vec<&MessageRecord> = timeline
            .messages
            .iter()
            .filter(|m| m.fate == Fate::Delivered)
            .collect();
        assert!(!delivered.is_empty());
        // With the default latency every delivered message took exactly one tick.
        assert!(
            delivered.iter().all(|m| m.arrived == m.sent + 1),
            "{delivered:?}"
        );
        let cut = timeline
            .messages
            .iter()
            .filter(|m| m.to == 2 && m.fate == Fate::Dropped)
            .collect::<Vec<_>>();
        assert!(
            !cut.is_empty(),
            "messages to the disconnected n2 are dropped"
        );
        assert!(cut.iter().all(|m| m.reason.as_deref() == Some("link cut")));
        // n3 leads; its heartbeats in flight when it crashed went with it.
        let lost: Vec<&MessageRecord> = timeline
            .messages
            .iter()
            .filter(|m| m.from == 3 && m.to != 2 && m.fate == Fate::Dropped)
            .collect();
        assert!(!lost.is_empty(), "the crashed node's messages are dropped");
        assert!(
            lost.iter()
                .all(|m| m.reason.as_deref() == Some("node down") && m.arrived == 40)
        );
        let in_flight = timeline
            .messages
            .iter()
            .filter(|m| m.fate == Fate::InFlight)
            .count();
        assert_eq!(in_flight, cluster.in_flight().len());
        // The cut links are recorded when they change.
        assert_eq!(timeline.links.len(), 2, "{:?}", timeline.links);
        assert_eq!(timeline.links[1].cut, vec![(1, 2), (2, 3), (2, 4), (2, 5)]);
        // Every trace event is there, in order.
        assert_holds_the_whole_trace(&cluster, &timeline);
    }

    #[test]
    fn replaying_a_record_of_actions_gives_the_live_timeline() {
        // Live: a session observed as it happens.
        let config = Config::new(5).seed(11);
        let mut live = Cluster::new(config.clone());
        let mut recorder = Recorder::new();
        recorder.observe(&mut live);
        let mut record = Vec::new();
        let mut act = |cluster: &mut Cluster, recorder: &mut Recorder, action: Action| {
            if let Action::Tick(ticks) = action {
                for _ in 0..ticks {
                    cluster.tick(1);
                    recorder.observe_tick(cluster);
                }
            } else {
                let _ = cluster.apply(&action);
                recorder.observe(cluster);
            }
            record.push(action);
        };
        act(&mut live, &mut recorder, Action::Tick(40));
        let leader = live.leader().expect("a leader within 40 ticks");
        let submit = |text: &str| Action::Submit {
            node: leader,
            command: text.to_string(),
        };
        act(&mut live, &mut recorder, submit("set a 1"));
        act(&mut live, &mut recorder, Action::Tick(5));
        act(&mut live, &mut recorder, Action::Crash(leader));
        act(&mut live, &mut recorder, submit("refused: it is down"));
        act(&mut live, &mut recorder, Action::Tick(40));
        act(&mut live, &mut recorder, Action::Restart(leader));
        act(&mut live, &mut recorder, Action::Tick(20));
        let replayed = replay(&config, &record);
        assert_eq!(replayed, recorder.timeline().unwrap());
        assert!(replayed.complete && replayed.end == live.now());
    }

    #[test]
    fn a_recording_that_starts_late_says_so_and_a_new_cluster_starts_over() {
        let mut cluster = Cluster::new(Config::new(3).seed(1));
        cluster.tick(50);
        let mut recorder = Recorder::new();
        recorder.observe(&mut cluster);
        let timeline = recorder.timeline().unwrap();
        assert!(!timeline.complete);
        assert_eq!(timeline.start, 50);
        // The trace's recent events are still in it.
        assert_holds_the_whole_trace(&cluster, &timeline);
        let mut fresh = Cluster::new(Config::new(3).seed(2));
        recorder.observe(&mut fresh);
        let timeline = recorder.timeline().unwrap();
        assert_eq!(
            (timeline.seed, timeline.start, timeline.events.len()),
            (2, 0, 0)
        );
        assert!(timeline.complete);
    }

    #[test]
    fn a_cluster_that_starts_with_a_log_is_recorded_complete() {
        // Each node loads its snapshot of the K entries at tick 0, before anyone
        // could observe: that is still the whole history.
        let mut cluster = Cluster::new(Config::new(3).seed(1).initial_log(4));
        assert!(cluster.event_count() > 0);
        let mut recorder = Recorder::new();
        recorder.observe(&mut cluster);
        cluster.tick(30);
        recorder.observe(&mut cluster);
        let timeline = recorder.timeline().unwrap();
        assert!(timeline.complete);
        assert_eq!(timeline.start, 0);
        let loaded = timeline
            .events
            .iter()
            .filter(|event| event.text.contains("loads the snapshot through 4"))
            .count();
        assert_eq!(loaded, 3, "the snapshot loads are in it");
    }
}
