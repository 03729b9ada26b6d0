//! A leader's view of one follower: Figure 2's `nextIndex[i]` and `matchIndex[i]`,
//! plus how the leader currently talks to that follower.
//!
//! Figure 2 keeps two numbers per follower. A leader that streams entries needs one
//! more fact: does it know where the follower's log matches its own? That is a small
//! state machine (the idea of etcd raft's `tracker/progress.go`):
//!
//! ```text
//!   state \ event   accepted    rejected     snapshot sent   probe sent
//!   Probe           Replicate   Probe        Snapshot        Probe (in flight)
//!   Replicate       Replicate   Probe        Snapshot        -
//!   Snapshot        Replicate   Probe        Snapshot        Probe (in flight)
//! ```
//!
//! (A stale rejection changes nothing; a heartbeat changes no state, it only makes
//! the follower due for a message.)
//!
//! - [`ProgressState::Probe`]: the leader does not know where the logs match. It
//!   sends one AppendEntries at a time (with entries from `next_index`, so a follower
//!   that only lagged catches up in one round trip) and waits for the answer or the
//!   next heartbeat; each rejection moves `next_index` back by the follower's conflict
//!   hint (§5.3, fast backup).
//! - [`ProgressState::Replicate`]: a request matched. The leader streams every new
//!   entry as soon as it has it and advances `next_index` as it sends, assuming the
//!   requests arrive; a rejection sends it back to Probe.
//! - [`ProgressState::Snapshot`]: the entry before `next_index` was compacted away, so
//!   the leader sent its snapshot (Figure 13) and waits for the answer, resending only
//!   on heartbeats.
//!
//! Independently of the state, the heartbeat timer marks every follower *due*: the
//! next round sends it a message even if there is nothing new, which keeps its
//! election timer from firing (§5.2) and retries a lost probe or snapshot.
//!
//! Every change of `next_index`, `match_index` or the state is one of the transitions
//! below, so the leader's code says *what happened* (a reply was accepted, a snapshot
//! was sent) and this file says what that means for the numbers.

use serde::Serialize;

use super::Index;

/// How the leader currently replicates to one follower. See the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ProgressState {
    /// The leader does not know where the follower's log matches its own: it sends one
    /// AppendEntries at a time and backs up on each conflict.
    Probe {
        /// True when a probe is in flight, so no other is sent until its answer or the
        /// next heartbeat.
        in_flight: bool,
    },
    /// The follower's log matched: the leader streams new entries without waiting.
    Replicate,
    /// The leader sent its snapshot because the entries the follower needs are gone
    /// (Figure 13); it resends only on heartbeats until the follower answers.
    Snapshot {
        /// The `last_included_index` of the snapshot sent.
        index: Index,
    },
}

impl ProgressState {
    /// The state's name, as views show it and scripts expect it: `probe`,
    /// `replicate` or `snapshot`.
    pub fn name(&self) -> &'static str {
        match self {
            ProgressState::Probe { .. } => "probe",
            ProgressState::Replicate => "replicate",
            ProgressState::Snapshot { .. } => "snapshot",
        }
    }

    /// True while the leader does not know where the follower's log matches (Probe,
    /// and Snapshot, which is how a probe ends when the needed entries are gone).
    fn is_probing(&self) -> bool {
        match self {
            ProgressState::Probe { .. } | ProgressState::Snapshot { .. } => true,
            ProgressState::Replicate => false,
        }
    }
}

impl std::fmt::Display for ProgressState {
    /// The name with its detail: `probe`, `probe (in flight)`, `replicate`,
    /// `snapshot 8`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProgressState::Probe { in_flight: false } => f.write_str("probe"),
            ProgressState::Probe { in_flight: true } => f.write_str("probe (in flight)"),
            ProgressState::Replicate => f.write_str("replicate"),
            ProgressState::Snapshot { index } => write!(f, "snapshot {index}"),
        }
    }
}

/// The leader's view of one follower (Figure 2 "volatile state on leaders", plus the
/// replication state). Only a leader has these; see the module documentation.
///
/// Invariant: `match_index < next_index` (the leader never sends an entry it knows the
/// follower holds as the first of a request).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Index of the next log entry to send to that follower (Figure 2 `nextIndex`).
    next_index: Index,
    /// Index of the highest log entry known to be replicated on that follower
    /// (Figure 2 `matchIndex`).
    match_index: Index,
    /// How the leader talks to the follower now.
    state: ProgressState,
    /// True when the heartbeat timer asks for a message to this follower.
    heartbeat_due: bool,
}

/// A read-only copy of a leader's `Progress` for one follower, for views and
/// checks (not part of the protocol).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ProgressView {
    /// Figure 2 `nextIndex` for the follower.
    pub next_index: Index,
    /// Figure 2 `matchIndex` for the follower.
    pub match_index: Index,
    /// How the leader replicates to it.
    #[serde(flatten)]
    pub state: ProgressState,
}

impl Progress {
    /// A new leader's view of a follower (Figure 2, "reinitialized after election"):
    /// `next_index` just after the leader's last entry, `match_index` 0, probing, with
    /// the initial heartbeat due ("upon election: send initial empty AppendEntries").
    pub fn new(next_index: Index) -> Progress {
        Progress {
            next_index,
            match_index: 0,
            state: ProgressState::Probe { in_flight: false },
            heartbeat_due: true,
        }
    }

    /// Figure 2 `nextIndex`.
    pub fn next_index(&self) -> Index {
        self.next_index
    }

    /// Figure 2 `matchIndex`.
    pub fn match_index(&self) -> Index {
        self.match_index
    }

    /// A copy for views.
    pub fn view(&self) -> ProgressView {
        ProgressView {
            next_index: self.next_index,
            match_index: self.match_index,
            state: self.state,
        }
    }

    /// True if the leader, whose log ends at `last_index`, has something to send this
    /// follower now: a heartbeat that is due, a probe that is not in flight yet, or (when
    /// replicating) entries the follower was not sent.
    pub fn wants_send(&self, last_index: Index) -> bool {
        match self.state {
            ProgressState::Probe { in_flight } => !in_flight || self.heartbeat_due,
            ProgressState::Replicate => self.next_index <= last_index || self.heartbeat_due,
            ProgressState::Snapshot { .. } => self.heartbeat_due,
        }
    }

    /// True if the leader should stream entries (Replicate) rather than send one probe
    /// (Probe, or a snapshot that turned out unnecessary).
    pub fn is_replicating(&self) -> bool {
        !self.state.is_probing()
    }

    // ----- transitions -----

    /// The heartbeat timer fired (§5.2): the next round sends this follower something,
    /// empty or not.
    pub fn heartbeat(&mut self) {
        self.heartbeat_due = true;
    }

    /// The leader sent one probing AppendEntries (from Probe, or from Snapshot once
    /// the entries are available again): wait for its answer or the next heartbeat.
    pub fn probe_sent(&mut self) {
        debug_assert!(
            self.state.is_probing(),
            "a probe is sent only while probing"
        );
        self.heartbeat_due = false;
        self.state = ProgressState::Probe { in_flight: true };
    }

    /// While replicating, the leader sent entries through `last_sent` (an empty
    /// heartbeat sends through `next_index - 1`): it assumes they arrive, so the next
    /// request starts after them.
    pub fn sent_entries_through(&mut self, last_sent: Index) {
        debug_assert_eq!(
            self.state,
            ProgressState::Replicate,
            "only replicating streams"
        );
        debug_assert!(
            last_sent + 1 >= self.next_index,
            "next_index never moves back when sending"
        );
        self.heartbeat_due = false;
        self.next_index = last_sent + 1;
    }

    /// The leader sent its snapshot through `index` because the entry before
    /// `next_index` is compacted (Figure 13).
    pub fn snapshot_sent(&mut self, index: Index) {
        self.heartbeat_due = false;
        self.state = ProgressState::Snapshot { index };
    }

    /// The follower's log now matches the leader's through `match_index` (an accepted
    /// AppendEntries, or an installed snapshot): Figure 2, "if successful: update
    /// nextIndex and matchIndex for follower" — and the leader may stream to it. A
    /// late or reordered answer never moves either index back.
    pub fn accepted(&mut self, match_index: Index) {
        self.match_index = self.match_index.max(match_index);
        self.next_index = self.next_index.max(match_index + 1);
        self.state = ProgressState::Replicate;
    }

    /// The follower rejected the AppendEntries whose `prev_log_index` is given, and
    /// fast backup ([`super::replication::next_index_after_conflict`]) suggests
    /// `hinted_next_index`: Figure 2, "if AppendEntries fails because of log
    /// inconsistency: decrement nextIndex and retry" (§5.3), by a whole term at a time.
    ///
    /// A rejection of a request the leader has moved past is stale and changes nothing
    /// (returns false): the follower already matched at or beyond it (it holds the
    /// leader's entry at `match_index`, so a request that starts there cannot fail
    /// now: the rejection was sent before), or the leader probes somewhere else now.
    /// Otherwise `next_index` moves to the hint, but never past the rejected request
    /// itself nor back over `match_index`, and the leader probes.
    pub fn rejected(&mut self, prev_log_index: Index, hinted_next_index: Index) -> bool {
        let stale = prev_log_index <= self.match_index
            || (self.state.is_probing() && prev_log_index + 1 != self.next_index);
        if stale {
            return false;
        }
        self.next_index = hinted_next_index
            .min(prev_log_index)
            .max(self.match_index + 1);
        self.state = ProgressState::Probe { in_flight: false };
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event that moves a follower's progress.
    #[derive(Clone, Copy, Debug)]
    enum On {
        Heartbeat,
        ProbeSent,
        SentThrough(Index),
        SnapshotSent(Index),
        Accepted(Index),
        /// `prev_log_index` of the rejected request, then the hinted next index.
        Rejected(Index, Index),
    }

    const PROBE: ProgressState = ProgressState::Probe { in_flight: false };
    const IN_FLIGHT: ProgressState = ProgressState::Probe { in_flight: true };
    const REPLICATE: ProgressState = ProgressState::Replicate;

    fn progress(state: ProgressState, next_index: Index, match_index: Index) -> Progress {
        Progress {
            next_index,
            match_index,
            state,
            heartbeat_due: false,
        }
    }

    /// State × event → state, `next_index`, `match_index` (the leader's log ends at 20).
    #[test]
    fn progress_state_machine_table() {
        struct Case {
            name: &'static str,
            from: (ProgressState, Index, Index),
            on: On,
            to: (ProgressState, Index, Index),
        }
        let snapshot_8 = ProgressState::Snapshot { index: 8 };
        let cases = [
            Case {
                name: "a probe goes out and waits",
                from: (PROBE, 11, 0),
                on: On::ProbeSent,
                to: (IN_FLIGHT, 11, 0),
            },
            Case {
                name: "the needed entry is compacted: the snapshot goes out",
                from: (PROBE, 5, 0),
                on: On::SnapshotSent(8),
                to: (snapshot_8, 5, 0),
            },
            Case {
                name: "the probe matched: replicate from after the match",
                from: (IN_FLIGHT, 11, 0),
                on: On::Accepted(10),
                to: (REPLICATE, 11, 10),
            },
            Case {
                name: "the probe carried entries: next_index jumps past them",
                from: (IN_FLIGHT, 6, 0),
                on: On::Accepted(20),
                to: (REPLICATE, 21, 20),
            },
            Case {
                name: "the probe was rejected: back up to the hint, probe again",
                from: (IN_FLIGHT, 11, 0),
                on: On::Rejected(10, 4),
                to: (PROBE, 4, 0),
            },
            Case {
                name: "the hint never moves next_index past the rejected request",
                from: (IN_FLIGHT, 11, 0),
                on: On::Rejected(10, 15),
                to: (PROBE, 10, 0),
            },
            Case {
                name: "the hint never moves next_index back over match_index",
                from: (REPLICATE, 15, 6),
                on: On::Rejected(9, 2),
                to: (PROBE, 7, 6),
            },
            Case {
                name: "a rejection of an older probe is stale",
                from: (IN_FLIGHT, 7, 0),
                on: On::Rejected(10, 4),
                to: (IN_FLIGHT, 7, 0),
            },
            Case {
                name: "a rejection below match_index is stale",
                from: (REPLICATE, 15, 12),
                on: On::Rejected(10, 4),
                to: (REPLICATE, 15, 12),
            },
            Case {
                name: "a rejection at match_index is stale: the follower holds that entry",
                from: (REPLICATE, 15, 12),
                on: On::Rejected(12, 4),
                to: (REPLICATE, 15, 12),
            },
            Case {
                name: "a replicating follower rejects a request: probe",
                from: (REPLICATE, 18, 12),
                on: On::Rejected(14, 13),
                to: (PROBE, 13, 12),
            },
            Case {
                name: "streaming advances next_index past what was sent",
                from: (REPLICATE, 11, 10),
                on: On::SentThrough(20),
                to: (REPLICATE, 21, 10),
            },
            Case {
                name: "an empty heartbeat while replicating leaves next_index",
                from: (REPLICATE, 21, 20),
                on: On::SentThrough(20),
                to: (REPLICATE, 21, 20),
            },
            Case {
                name: "a late, smaller acceptance moves nothing back",
                from: (REPLICATE, 21, 15),
                on: On::Accepted(12),
                to: (REPLICATE, 21, 15),
            },
            Case {
                name: "the snapshot was installed: replicate after it",
                from: (snapshot_8, 5, 0),
                on: On::Accepted(8),
                to: (REPLICATE, 9, 8),
            },
            Case {
                name: "a rejection of the probe before the snapshot still counts",
                from: (snapshot_8, 5, 0),
                on: On::Rejected(4, 3),
                to: (PROBE, 3, 0),
            },
            Case {
                name: "a rejection of another request while the snapshot is out is stale",
                from: (snapshot_8, 5, 0),
                on: On::Rejected(9, 3),
                to: (snapshot_8, 5, 0),
            },
            Case {
                name: "a heartbeat changes no index or state",
                from: (IN_FLIGHT, 11, 0),
                on: On::Heartbeat,
                to: (IN_FLIGHT, 11, 0),
            },
        ];
        for case in &cases {
            let (state, next_index, match_index) = case.from;
            let mut progress = progress(state, next_index, match_index);
            match case.on {
                On::Heartbeat => progress.heartbeat(),
                On::ProbeSent => progress.probe_sent(),
                On::SentThrough(index) => progress.sent_entries_through(index),
                On::SnapshotSent(index) => progress.snapshot_sent(index),
                On::Accepted(index) => progress.accepted(index),
                On::Rejected(prev_log_index, hint) => {
                    let changed = progress.rejected(prev_log_index, hint);
                    assert_eq!(changed, case.from != case.to, "{}: changed", case.name);
                }
            }
            let (state, next_index, match_index) = case.to;
            assert_eq!(
                progress.view(),
                ProgressView {
                    next_index,
                    match_index,
                    state
                },
                "{} ({:?})",
                case.name,
                case.on
            );
            assert!(
                progress.match_index < progress.next_index,
                "{}: match_index < next_index",
                case.name
            );
        }
    }

    /// When the leader (whose log ends at 20) has something to send, by state.
    #[test]
    fn wants_send_table() {
        let cases = [
            // (state, next_index, heartbeat due, wants to send)
            (PROBE, 11, false, true),
            (IN_FLIGHT, 11, false, false),
            (IN_FLIGHT, 11, true, true),
            (REPLICATE, 21, false, false),
            (REPLICATE, 18, false, true),
            (REPLICATE, 21, true, true),
            (ProgressState::Snapshot { index: 8 }, 5, false, false),
            (ProgressState::Snapshot { index: 8 }, 5, true, true),
        ];
        for (state, next_index, heartbeat_due, wants) in cases {
            let mut progress = progress(state, next_index, 0);
            if heartbeat_due {
                progress.heartbeat();
            }
            assert_eq!(
                progress.wants_send(20),
                wants,
                "{state:?} next {next_index} heartbeat {heartbeat_due}"
            );
        }
    }

    #[test]
    fn every_send_clears_the_heartbeat() {
        /// A transition that sends something to the follower.
        type Send = fn(&mut Progress);
        let sends: [(ProgressState, Send); 3] = [
            (PROBE, Progress::probe_sent),
            (REPLICATE, |progress| progress.sent_entries_through(20)),
            (PROBE, |progress| progress.snapshot_sent(8)),
        ];
        for (state, send) in sends {
            let mut progress = progress(state, 11, 0);
            progress.heartbeat();
            send(&mut progress);
            assert!(!progress.heartbeat_due, "{state:?}");
        }
        // A new leader's first round sends to everyone.
        assert!(Progress::new(5).heartbeat_due);
        assert_eq!(Progress::new(5).view().state, PROBE);
    }

    #[test]
    fn state_names_and_display() {
        assert_eq!(PROBE.name(), "probe");
        assert_eq!(IN_FLIGHT.name(), "probe");
        assert_eq!(REPLICATE.name(), "replicate");
        assert_eq!(ProgressState::Snapshot { index: 8 }.name(), "snapshot");
        assert_eq!(IN_FLIGHT.to_string(), "probe (in flight)");
        assert_eq!(
            ProgressState::Snapshot { index: 8 }.to_string(),
            "snapshot 8"
        );
        assert_eq!(
            serde_json::to_string(&Progress::new(5).view()).unwrap(),
            r#"{"next_index":5,"match_index":0,"state":"probe","in_flight":false}"#
        );
    }
}
