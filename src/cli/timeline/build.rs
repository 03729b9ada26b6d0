//! From trace events to [`Row`]s: a [`Builder`] walks the trace in order, keeping
//! each node's lane (role and term) up to date, and adds a row for each message sent
//! and each change worth a mark or a note.

use std::collections::BTreeMap;

use super::{Arrow, Fate, Lane, LaneRole, Row, dropped, is_heartbeat, label};
use crate::cluster::{Cluster, TraceEvent, TraceKind};
use crate::raft::{Event, NodeId, Role, Term};

/// Builds rows from events, tracking each node's lane as it goes.
pub(super) struct Builder<'a> {
    /// The nodes shown, in lane order.
    shown: &'a [NodeId],
    /// Every node's lane now, by id - 1.
    lanes: Vec<Lane>,
    /// What became of each message, by id.
    fates: BTreeMap<u64, Fate>,
    /// A vote to say beside the voter's next arrow (its reply), by node.
    pending_notes: BTreeMap<NodeId, (u64, String)>,
    /// The rows so far.
    pub(super) rows: Vec<Row>,
    /// All the events, to look ahead for partitions.
    events: &'a [TraceEvent],
}

impl<'a> Builder<'a> {
    pub(super) fn new(
        cluster: &Cluster,
        shown: &'a [NodeId],
        events: &'a [TraceEvent],
    ) -> Builder<'a> {
        let mut fates = BTreeMap::new();
        for event in events {
            match &event.kind {
                TraceKind::Delivered { id, .. } => {
                    fates.insert(*id, Fate::Delivered { tick: event.tick });
                }
                TraceKind::Dropped { id, reason, .. } => {
                    fates.insert(*id, Fate::Dropped { reason: *reason });
                }
                _ => {}
            }
        }
        Builder {
            shown,
            lanes: initial_lanes(cluster, events),
            fates,
            pending_notes: BTreeMap::new(),
            rows: Vec::new(),
            events,
        }
    }

    pub(super) fn shown_lanes(&self) -> Vec<Lane> {
        self.shown
            .iter()
            .map(|&node| self.lanes[node - 1])
            .collect()
    }

    fn is_shown(&self, node: NodeId) -> bool {
        self.shown.contains(&node)
    }

    /// Applies an event to the lanes without drawing it; returns the lane's tag if
    /// the event changed its role, or a follower's term.
    pub(super) fn track(&mut self, event: &TraceEvent) -> Option<String> {
        let lane = &mut self.lanes[event.node - 1];
        let before = *lane;
        match &event.kind {
            TraceKind::Raft { event } => match *event {
                Event::ElectionTimeout { term } => {
                    lane.role = LaneRole::Candidate;
                    lane.term = Some(term);
                }
                Event::BecameLeader { term } => {
                    lane.role = LaneRole::Leader;
                    lane.term = Some(term);
                }
                Event::SteppedDown { term, .. } => {
                    lane.role = LaneRole::Follower;
                    lane.term = Some(term);
                }
                Event::VoteGranted { term, .. } => raise_term(lane, term),
                _ => {}
            },
            TraceKind::Sent { term, .. } => raise_term(lane, *term),
            TraceKind::Crashed => lane.role = LaneRole::Down,
            TraceKind::Restarted => lane.role = LaneRole::Follower,
            _ => {}
        }
        let after = *lane;
        // Learning a term not known before is no change worth a mark.
        let term_changed = before.term.is_some() && before.term != after.term;
        match (before.role, after.role) {
            (_, LaneRole::Down) if before.role != LaneRole::Down => Some("╳".to_string()),
            (LaneRole::Down, LaneRole::Follower) => Some("↻".to_string()),
            _ if before.role == after.role && !term_changed => None,
            (_, role) => {
                let letter = match role {
                    LaneRole::Leader => "L",
                    LaneRole::Candidate => "C",
                    LaneRole::Follower | LaneRole::Down => "F",
                };
                Some(format!("{letter}{}", after.term.unwrap_or(0)))
            }
        }
    }

    /// Adds the row (if any) for the event at `position`.
    pub(super) fn row_for(&mut self, position: usize, event: &TraceEvent) {
        let node = event.node;
        let tag = self.track(event);
        if !self.is_shown(node) {
            return;
        }
        let tags: Vec<(NodeId, String)> = tag.into_iter().map(|tag| (node, tag)).collect();
        let note = match &event.kind {
            TraceKind::Sent { to, .. } => {
                if self.is_shown(*to) {
                    self.arrow_row(event, tags);
                }
                return;
            }
            TraceKind::Raft { event: raft } => match raft {
                Event::ElectionTimeout { .. } => Some("times out".to_string()),
                Event::BecameLeader { term } => Some(format!("leads term {term}")),
                Event::SteppedDown { term, was } => Some(format!("steps down ({was}), t{term}")),
                Event::VoteGranted { candidate, .. } => {
                    let note = format!("votes for n{candidate}");
                    self.hold_note(position, note, tags);
                    return;
                }
                Event::VoteDenied {
                    candidate, reason, ..
                } => {
                    let note = format!("denies n{candidate}: {reason}");
                    self.hold_note(position, note, tags);
                    return;
                }
                Event::Committed { index } if self.lanes[node - 1].role == LaneRole::Leader => {
                    Some(format!("commits {index}"))
                }
                Event::Truncated { from } => Some(format!("discards entries from {from}")),
                Event::SnapshotInstalled { index } => Some(format!("installs snapshot {index}")),
                _ => None,
            },
            TraceKind::Crashed => Some("crashes".to_string()),
            TraceKind::Added => Some("starts, to join".to_string()),
            TraceKind::Removed { index } => Some(format!("removed by entry {index}")),
            TraceKind::Restarted => Some("restarts".to_string()),
            TraceKind::Disconnected => Some("disconnected".to_string()),
            TraceKind::Connected => Some("connected".to_string()),
            TraceKind::Rule { rule, broken } => Some(if *broken {
                format!("breaks {rule}, every node")
            } else {
                format!("mends {rule}, every node")
            }),
            TraceKind::Partitioned { .. } | TraceKind::Healed => {
                // The whole network's news, not one node's.
                let note = match event.kind {
                    TraceKind::Healed => self.heal_note(position),
                    _ => self.partition_note(position),
                };
                if let Some(note) = note {
                    let mut row = self.row(event.tick, tags);
                    row.note = Some(note);
                    self.rows.push(row);
                }
                return;
            }
            TraceKind::Violation { invariant, text } => {
                let mut row = self.row(event.tick, tags);
                row.note = Some(format!("VIOLATION {invariant}: {text}"));
                row.violation = true;
                self.rows.push(row);
                return;
            }
            TraceKind::Applied { .. }
            | TraceKind::SnapshotLoaded { .. }
            | TraceKind::Delivered { .. }
            | TraceKind::Dropped { .. } => None,
        };
        if note.is_some() || !tags.is_empty() {
            let mut row = self.row(event.tick, tags);
            row.note = note.map(|text| format!("n{node} {text}"));
            self.rows.push(row);
        }
    }

    /// A row at `tick` with the lanes as they are now.
    fn row(&self, tick: u64, tags: Vec<(NodeId, String)>) -> Row {
        Row {
            tick,
            last_tick: tick,
            lanes: self.shown_lanes(),
            tags,
            arrow: None,
            note: None,
            violation: false,
            heartbeats: 0,
        }
    }

    /// The row of a message sent (`event` is its `Sent`).
    fn arrow_row(&mut self, event: &TraceEvent, tags: Vec<(NodeId, String)>) {
        let TraceKind::Sent {
            id,
            to,
            term,
            ref message,
            copy,
        } = event.kind
        else {
            unreachable!("an arrow is drawn for a message sent, not {:?}", event.kind);
        };
        let fate = self.fates.get(&id).cloned().unwrap_or(Fate::InFlight);
        let mut notes = Vec::new();
        if let Some((tick, note)) = self.pending_notes.remove(&event.node)
            && tick == event.tick
        {
            notes.push(note);
        }
        // Routine: a heartbeat or its acknowledgement, with nothing else to say.
        let routine = is_heartbeat(message) && notes.is_empty() && tags.is_empty() && !copy;
        match &fate {
            Fate::Dropped { reason } => notes.push(format!("#{id} {}", dropped(*reason))),
            Fate::InFlight => notes.push(format!("#{id} in flight")),
            Fate::Delivered { .. } => {}
        }
        if copy {
            notes.push(format!("#{id} a duplicate"));
        }
        let mut row = self.row(event.tick, tags);
        row.heartbeats = usize::from(routine);
        row.arrow = Some(Arrow {
            id,
            from: event.node,
            to,
            term,
            label: label(message, term),
            fate,
        });
        row.note = (!notes.is_empty()).then(|| notes.join("; "));
        self.rows.push(row);
    }

    /// Keeps a vote's note for the voter's reply, just after it in the trace; a tag
    /// (a follower's newer term) gets a row of its own at once.
    fn hold_note(&mut self, position: usize, note: String, tags: Vec<(NodeId, String)>) {
        let events = self.events;
        let event = &events[position];
        let replies_next = events[position + 1..]
            .iter()
            .take_while(|other| other.tick == event.tick)
            .any(|other| other.node == event.node && matches!(other.kind, TraceKind::Sent { .. }));
        // Beside the reply the voter's name goes without saying: the arrow leaves it.
        if replies_next && tags.is_empty() {
            self.pending_notes.insert(event.node, (event.tick, note));
        } else {
            let mut row = self.row(event.tick, tags);
            row.note = Some(format!("n{} {note}", event.node));
            self.rows.push(row);
        }
    }

    /// One note for the run of `Partitioned` events a partition records (one per
    /// node), on its first event.
    fn partition_note(&self, position: usize) -> Option<String> {
        let tick = self.events[position].tick;
        let first = position == 0
            || !matches!(
                &self.events[position - 1],
                TraceEvent { tick: before, kind: TraceKind::Partitioned { .. }, .. } if *before == tick
            );
        if !first {
            return None;
        }
        let mut groups: Vec<&Vec<NodeId>> = Vec::new();
        for event in &self.events[position..] {
            match &event.kind {
                TraceKind::Partitioned { group } if event.tick == tick => {
                    if !groups.contains(&group) {
                        groups.push(group);
                    }
                }
                _ => break,
            }
        }
        let shown: Vec<String> = groups
            .iter()
            .map(|group| {
                let names: Vec<String> = group.iter().map(NodeId::to_string).collect();
                format!("{{{}}}", names.join(","))
            })
            .collect();
        Some(format!("partition {}", shown.join(" ")))
    }

    /// One note for the run of `Healed` events a heal records.
    fn heal_note(&self, position: usize) -> Option<String> {
        let first = position == 0 || !matches!(self.events[position - 1].kind, TraceKind::Healed);
        first.then(|| "heal".to_string())
    }
}

/// A follower learns of a newer term.
fn raise_term(lane: &mut Lane, term: Term) {
    if lane.term.is_none_or(|known| known < term) {
        lane.term = Some(term);
    }
}

/// Every node's lane before the first event kept. If the trace still holds every
/// event since the cluster began, that is the beginning: followers in term 0. Else
/// what each node's first role event says it was (or what it is now), in a term not
/// known yet.
fn initial_lanes(cluster: &Cluster, events: &[TraceEvent]) -> Vec<Lane> {
    if cluster.event_count() == events.len() as u64 {
        return (1..=cluster.size())
            .map(|node| Lane {
                node,
                role: LaneRole::Follower,
                term: Some(0),
            })
            .collect();
    }
    (1..=cluster.size())
        .map(|node| {
            let first = events.iter().find_map(|event| {
                if event.node != node {
                    return None;
                }
                match &event.kind {
                    TraceKind::Raft { event } => match *event {
                        Event::ElectionTimeout { .. } => Some(LaneRole::Follower),
                        Event::BecameLeader { .. } => Some(LaneRole::Candidate),
                        Event::SteppedDown { was: "leader", .. } => Some(LaneRole::Leader),
                        Event::SteppedDown { .. } => Some(LaneRole::Candidate),
                        _ => None,
                    },
                    TraceKind::Crashed => Some(LaneRole::Follower),
                    TraceKind::Restarted => Some(LaneRole::Down),
                    _ => None,
                }
            });
            let role = first.unwrap_or_else(|| {
                let status = cluster.status(node);
                match (status.up, status.role) {
                    (false, _) => LaneRole::Down,
                    (true, Role::Leader) => LaneRole::Leader,
                    (true, Role::Candidate) => LaneRole::Candidate,
                    (true, Role::Follower) => LaneRole::Follower,
                }
            });
            Lane {
                node,
                role,
                term: None,
            }
        })
        .collect()
}
