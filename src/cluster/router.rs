//! The router: owns every message in flight and decides its fate.
//!
//! A message sent at tick `t` is due at `t + latency` (at least one tick). Before it
//! is queued the router may drop it (drop rate, the unreliable preset, a cut link),
//! delay it (latency range, the presets) or queue a second copy (duplication). At
//! delivery it is dropped after all if the link was cut or the recipient crashed in
//! the meantime. Messages due at the same tick are delivered in the order they were
//! sent, and all randomness comes from the router's own seeded generator, so a run's
//! network behaviour is a pure function of the seed and the messages sent.
//!
//! Links follow the lab's semantics. A *disconnected* node is cut from everyone;
//! connecting it restores its links to every connected node. Partitions are groups:
//! two nodes talk only if both are connected and in the same group. `heal` puts
//! everyone back in one group and connects every node.

use std::collections::BTreeMap;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde::Serialize;

use crate::raft::{Envelope, NodeId};

/// The network's fault settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Faults {
    /// Probability that a message is dropped when sent (0.0–1.0).
    pub drop_rate: f64,
    /// Smallest message latency in ticks (at least 1).
    pub latency_min: u64,
    /// Largest message latency in ticks (inclusive).
    pub latency_max: u64,
    /// Probability that a message is delivered twice (0.0–1.0).
    pub duplicate_rate: f64,
    /// The lab's unreliable network: 10% of messages dropped, 0–1 extra ticks of delay.
    pub unreliable: bool,
    /// The lab's long reordering: about 2/3 of replies are delayed by 4–44 ticks.
    pub long_reordering: bool,
    /// Links with their own latency range, instead of `latency_min..=latency_max`.
    pub link_delays: Vec<LinkDelay>,
    /// If set, a duplicated message's second copy arrives this many more ticks
    /// (uniform, inclusive) after the first would.
    pub late_duplicates: Option<(u64, u64)>,
}

/// One direction of one link with its own latency range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct LinkDelay {
    /// The sender.
    pub from: NodeId,
    /// The recipient.
    pub to: NodeId,
    /// The fewest ticks a message takes.
    pub min: u64,
    /// The most ticks a message takes.
    pub max: u64,
}

impl Faults {
    /// Sets (or with `None`, removes) the latency range of the link `from -> to`.
    pub fn set_link_delay(&mut self, from: NodeId, to: NodeId, delay: Option<(u64, u64)>) {
        self.link_delays
            .retain(|link| (link.from, link.to) != (from, to));
        if let Some((min, max)) = delay {
            self.link_delays.push(LinkDelay { from, to, min, max });
            self.link_delays.sort_by_key(|link| (link.from, link.to));
        }
    }
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            drop_rate: 0.0,
            latency_min: 1,
            latency_max: 1,
            duplicate_rate: 0.0,
            unreliable: false,
            long_reordering: false,
            link_delays: Vec::new(),
            late_duplicates: None,
        }
    }
}

/// A message on its way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InFlight {
    /// A number that names this message (for `deliver ID` and `drop-msg ID`).
    pub id: u64,
    /// The tick it was sent at.
    pub sent_at: u64,
    /// The tick it is due to arrive at.
    pub due: u64,
    /// The message.
    pub envelope: Envelope,
}

/// Why a message was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The drop rate or the unreliable preset chose it.
    Lost,
    /// The link between sender and recipient is cut (disconnect or partition).
    Cut,
    /// The recipient is down, or the sender crashed with the message in flight.
    Down,
    /// Dropped by hand (`drop-msg`).
    Manual,
    /// The recipient was removed from the cluster (a committed configuration left it
    /// out).
    Removed,
}

/// What the router did with a message handed to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Routed {
    /// The message's id.
    pub id: u64,
    /// The id of a second copy queued by duplication, if any.
    pub copy: Option<u64>,
    /// Why it was dropped at once, if it was (then nothing was queued).
    pub dropped: Option<DropReason>,
}

/// Counters of the network's traffic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Messages sent: requests and replies, dropped ones too.
    pub messages_sent: u64,
    /// Their total encoded size ([`Envelope::encoded_len`]).
    pub bytes_sent: u64,
    /// Messages dropped, whatever the reason.
    pub messages_dropped: u64,
    /// Messages handed to their recipient (duplicates count twice).
    pub messages_delivered: u64,
    /// Extra copies queued by duplication.
    pub messages_duplicated: u64,
}

/// See the module documentation.
#[derive(Clone, Debug)]
pub struct Router {
    /// The source of every random network decision.
    rng: Xoshiro256PlusPlus,
    /// Current fault settings.
    faults: Faults,
    /// `connected[id - 1]`: false while the node is disconnected.
    connected: Vec<bool>,
    /// `group[id - 1]`: the partition group of the node.
    group: Vec<usize>,
    /// Messages in flight by (due tick, id): the delivery order.
    queue: BTreeMap<(u64, u64), InFlight>,
    /// The id of the next message.
    next_id: u64,
    /// Traffic counters.
    stats: Stats,
}

impl Router {
    /// A router for nodes `1..=nodes`, all connected, with no faults.
    pub fn new(nodes: usize, seed: u64) -> Router {
        Router {
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            faults: Faults::default(),
            connected: vec![true; nodes],
            group: vec![0; nodes],
            queue: BTreeMap::new(),
            next_id: 1,
            stats: Stats::default(),
        }
    }

    /// The current fault settings.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Changes the fault settings (the caller validates them).
    pub fn faults_mut(&mut self) -> &mut Faults {
        &mut self.faults
    }

    /// Traffic counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// True if `a` and `b` can exchange messages.
    pub fn linked(&self, a: NodeId, b: NodeId) -> bool {
        self.connected[a - 1] && self.connected[b - 1] && self.group[a - 1] == self.group[b - 1]
    }

    /// True unless the node was disconnected.
    pub fn is_connected(&self, node: NodeId) -> bool {
        self.connected[node - 1]
    }

    /// Cuts `node` from everyone (the lab's `disconnect`).
    pub fn disconnect(&mut self, node: NodeId) {
        self.connected[node - 1] = false;
    }

    /// Restores `node`'s links to every connected node in its group (the lab's `connect`).
    pub fn connect(&mut self, node: NodeId) {
        self.connected[node - 1] = true;
    }

    /// Splits the nodes into `groups`; a node named in no group is alone in its own.
    pub fn partition(&mut self, groups: &[Vec<NodeId>]) {
        let nodes = self.group.len();
        for (position, group) in self.group.iter_mut().enumerate() {
            // Unnamed nodes get a group number no named group uses.
            *group = groups.len() + position;
        }
        for (number, members) in groups.iter().enumerate() {
            for &node in members {
                assert!((1..=nodes).contains(&node), "no node {node}");
                self.group[node - 1] = number;
            }
        }
    }

    /// One group again, every node connected.
    pub fn heal(&mut self) {
        self.group.fill(0);
        self.connected.fill(true);
    }

    /// Takes a message sent at `now`: names it, counts it, then drops it or queues it
    /// (maybe twice). Every message gets an id, dropped ones too, so a trace can follow
    /// each one from its send to its delivery or loss.
    pub fn send(&mut self, now: u64, envelope: Envelope) -> Routed {
        let id = self.new_id();
        self.stats.messages_sent += 1;
        self.stats.bytes_sent += envelope.encoded_len();
        let dropped = |reason| Routed {
            id,
            copy: None,
            dropped: Some(reason),
        };
        if !self.linked(envelope.from, envelope.to) {
            self.stats.messages_dropped += 1;
            return dropped(DropReason::Cut);
        }
        let mut drop_rate = self.faults.drop_rate;
        if self.faults.unreliable {
            // Two independent 10% losses in the lab (request or reply); one here per message.
            drop_rate = 1.0 - (1.0 - drop_rate) * 0.9;
        }
        if drop_rate > 0.0 && self.rng.random_bool(drop_rate.min(1.0)) {
            self.stats.messages_dropped += 1;
            return dropped(DropReason::Lost);
        }
        let mut copy = None;
        if self.faults.duplicate_rate > 0.0
            && self.rng.random_bool(self.faults.duplicate_rate.min(1.0))
        {
            self.stats.messages_duplicated += 1;
            let copy_id = self.new_id();
            let late = match self.faults.late_duplicates {
                Some((min, max)) => self.rng.random_range(min..=max),
                None => 0,
            };
            self.enqueue(now, late, copy_id, envelope.clone());
            copy = Some(copy_id);
        }
        self.enqueue(now, 0, id, envelope);
        Routed {
            id,
            copy,
            dropped: None,
        }
    }

    /// The next message id.
    fn new_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Queues one copy of a message sent at `now`, named `id`, with its own latency
    /// plus `late` ticks (a late duplicate's).
    fn enqueue(&mut self, now: u64, late: u64, id: u64, envelope: Envelope) {
        let due = now + late + self.latency(&envelope);
        self.queue.insert(
            (due, id),
            InFlight {
                id,
                sent_at: now,
                due,
                envelope,
            },
        );
    }

    /// The latency of one message, from the fault settings.
    fn latency(&mut self, envelope: &Envelope) -> u64 {
        let faults = &self.faults;
        let (min, max) = faults
            .link_delays
            .iter()
            .find(|link| (link.from, link.to) == (envelope.from, envelope.to))
            .map_or((faults.latency_min, faults.latency_max), |link| {
                (link.min, link.max)
            });
        let mut latency = if max > min {
            self.rng.random_range(min..=max)
        } else {
            min
        };
        if faults.unreliable {
            // The lab delays every request by 0–26 ms: up to about one tick here.
            latency += self.rng.random_range(0..=1);
        }
        if faults.long_reordering && !envelope.message.is_request() && self.rng.random_ratio(2, 3) {
            // The lab's 200 + Intn(1 + Intn(2000)) ms, at 50 ms per tick.
            let spread = self.rng.random_range(0..=40);
            latency += 4 + self.rng.random_range(0..=spread);
        }
        latency.max(1)
    }

    /// The earliest tick at which a message is due, if any is in flight.
    pub fn next_due(&self) -> Option<u64> {
        self.queue.keys().next().map(|&(due, _)| due)
    }

    /// Removes and returns every message due at or before `now`, in delivery order.
    pub fn take_due(&mut self, now: u64) -> Vec<InFlight> {
        let later = self.queue.split_off(&(now + 1, 0));
        let due = std::mem::replace(&mut self.queue, later);
        due.into_values().collect()
    }

    /// Counts a message as delivered.
    pub fn count_delivered(&mut self) {
        self.stats.messages_delivered += 1;
    }

    /// Counts a message as dropped at delivery time.
    pub fn count_dropped(&mut self) {
        self.stats.messages_dropped += 1;
    }

    /// Drops every message to or from `node` (it crashed) and returns them, in
    /// delivery order.
    pub fn forget_node(&mut self, node: NodeId) -> Vec<InFlight> {
        let (gone, kept): (BTreeMap<_, _>, BTreeMap<_, _>) = std::mem::take(&mut self.queue)
            .into_iter()
            .partition(|(_, message)| message.envelope.from == node || message.envelope.to == node);
        self.queue = kept;
        self.stats.messages_dropped += gone.len() as u64;
        gone.into_values().collect()
    }

    /// Drops every message to `node` (it was removed from the cluster) and returns
    /// them, in delivery order.
    pub fn forget_messages_to(&mut self, node: NodeId) -> Vec<InFlight> {
        let (gone, kept): (BTreeMap<_, _>, BTreeMap<_, _>) = std::mem::take(&mut self.queue)
            .into_iter()
            .partition(|(_, message)| message.envelope.to == node);
        self.queue = kept;
        self.stats.messages_dropped += gone.len() as u64;
        gone.into_values().collect()
    }

    /// Adds node `node` (the next id), connected, in the partition group of `beside`
    /// (the leader that will catch it up).
    pub fn add_node(&mut self, node: NodeId, beside: NodeId) {
        assert_eq!(
            node,
            self.connected.len() + 1,
            "node ids are given in order"
        );
        self.connected.push(true);
        let group = self.group[beside - 1];
        self.group.push(group);
    }

    /// Removes the message with this id, for delivery or dropping by hand.
    pub fn take(&mut self, id: u64) -> Option<InFlight> {
        let key = self
            .queue
            .iter()
            .find(|(_, message)| message.id == id)
            .map(|(&key, _)| key)?;
        self.queue.remove(&key)
    }

    /// The messages in flight, in delivery order.
    pub fn in_flight(&self) -> impl Iterator<Item = &InFlight> {
        self.queue.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::Message;

    fn vote(from: NodeId, to: NodeId) -> Envelope {
        Envelope {
            from,
            to,
            term: 1,
            message: Message::RequestVote {
                last_log_index: 0,
                last_log_term: 0,
                leadership_transfer: false,
            },
        }
    }

    #[test]
    fn delivers_in_send_order_after_the_latency() {
        let mut router = Router::new(3, 1);
        assert_eq!(router.send(5, vote(1, 2)).dropped, None);
        assert_eq!(router.send(5, vote(1, 3)).dropped, None);
        assert_eq!(router.next_due(), Some(6));
        assert!(router.take_due(5).is_empty());
        let due = router.take_due(6);
        assert_eq!(
            due.iter().map(|m| m.envelope.to).collect::<Vec<_>>(),
            vec![2, 3]
        );
        assert_eq!(router.stats().messages_sent, 2);
    }

    #[test]
    fn links_follow_the_labs_semantics() {
        let mut router = Router::new(5, 1);
        router.disconnect(2);
        assert!(!router.linked(1, 2) && !router.linked(2, 3));
        router.disconnect(3);
        assert!(
            !router.linked(2, 3),
            "disconnected nodes are cut from each other too"
        );
        router.connect(2);
        assert!(router.linked(1, 2) && !router.linked(2, 3));
        router.partition(&[vec![1, 2], vec![4, 5]]);
        assert!(router.linked(1, 2) && router.linked(4, 5) && !router.linked(2, 4));
        router.connect(3);
        assert!(!router.linked(3, 1), "n3 is alone in its own group");
        router.heal();
        assert!((1..=5).all(|a| (1..=5).all(|b| router.linked(a, b))));
        assert_eq!(router.send(0, vote(1, 2)).dropped, None);
        router.disconnect(1);
        assert_eq!(router.send(0, vote(1, 2)).dropped, Some(DropReason::Cut));
    }

    #[test]
    fn faults_are_reproducible_from_the_seed() {
        let run = |seed| {
            let mut router = Router::new(3, seed);
            router.faults_mut().drop_rate = 0.3;
            router.faults_mut().latency_max = 5;
            router.faults_mut().duplicate_rate = 0.2;
            let fates: Vec<_> = (0..200)
                .map(|_| router.send(0, vote(1, 2)).dropped)
                .collect();
            let dues: Vec<u64> = router.in_flight().map(|m| m.due).collect();
            (fates, dues)
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let (fates, dues) = run(7);
        let dropped = fates.iter().filter(|fate| fate.is_some()).count();
        assert!(
            (30..=90).contains(&dropped),
            "{dropped} of 200 dropped at 30%"
        );
        assert!(dues.iter().all(|&due| (1..=5).contains(&due)));
        assert!(dues.len() > 200 - dropped, "some messages were duplicated");
    }

    #[test]
    fn long_reordering_delays_only_replies() {
        let mut router = Router::new(2, 3);
        router.faults_mut().long_reordering = true;
        for _ in 0..100 {
            router.send(0, vote(1, 2));
        }
        assert!(router.in_flight().all(|m| m.due == 1));
        let reply = Envelope {
            message: Message::RequestVoteReply { vote_granted: true },
            ..vote(2, 1)
        };
        let mut router = Router::new(2, 3);
        router.faults_mut().long_reordering = true;
        for _ in 0..300 {
            router.send(0, reply.clone());
        }
        let delayed = router.in_flight().filter(|m| m.due >= 5).count();
        assert!(
            (150..=250).contains(&delayed),
            "{delayed} of 300 replies delayed"
        );
        assert!(router.in_flight().all(|m| m.due <= 45));
    }
}
