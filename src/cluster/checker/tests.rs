//! The checker fed hand-built histories: each invariant seen firing, with its exact
//! violation, and seen quiet on a good history.
use super::*;
use crate::raft::{Entry, Log};

/// A log (no snapshot) of `(term, command)` entries from index 1.
fn log(entries: &[(u64, &str)]) -> Log {
    let mut log = Log::new();
    for (position, &(term, command)) in entries.iter().enumerate() {
        log.push(Entry {
            index: position as u64 + 1,
            term,
            command: command.into(),
            kind: Default::default(),
        });
    }
    log
}

/// The persisted state of a node holding `log`.
fn state(log: &Log) -> PersistentState {
    PersistentState {
        log: log.clone(),
        ..PersistentState::default()
    }
}

/// A Ready that wrote `log` from `first` on.
fn wrote(first: u64, log: &Log) -> Ready {
    Ready {
        log: Some(LogSuffix {
            first,
            log: log.clone(),
        }),
        ..Ready::default()
    }
}

/// A Ready that applied `from..=to` of `log`.
fn applied(log: &Log, from: u64, to: u64) -> Ready {
    Ready {
        committed: log.entries(from, to),
        ..Ready::default()
    }
}

fn texts(checker: &Checker) -> Vec<String> {
    checker
        .violations()
        .iter()
        .map(|violation| {
            format!(
                "n{}: {}: {}",
                violation.node, violation.invariant, violation.text
            )
        })
        .collect()
}

#[test]
fn log_matching_fires_on_a_different_command_or_prefix() {
    let mut checker = Checker::new(3);
    let one = log(&[(1, "a"), (1, "b"), (2, "c")]);
    let two = log(&[(1, "a"), (1, "x"), (2, "c")]);
    let three = log(&[(2, "a"), (2, "b"), (2, "c")]);
    let logs = [state(&one), state(&two), state(&three)];
    let logs: Vec<&PersistentState> = logs.iter().collect();
    checker.on_ready(1, 1, &wrote(1, &one), &logs, None);
    assert_eq!(
        texts(&checker),
        [
            "n1: log-matching: n1 and n2 both hold index 2 term 1 but differ in its command",
            "n1: log-matching: n1 and n3 both hold index 3 term 2 but differ before it",
        ]
    );
    // One entry in common is enough to compare.
    let mut checker = Checker::new(2);
    let (a, x) = (log(&[(1, "a")]), log(&[(1, "x")]));
    let logs = [state(&a), state(&x)];
    let logs: Vec<&PersistentState> = logs.iter().collect();
    checker.on_ready(1, 1, &wrote(1, &a), &logs, None);
    assert_eq!(
        texts(&checker),
        ["n1: log-matching: n1 and n2 both hold index 1 term 1 but differ in its command"]
    );
    // Agreeing logs, or entries only one side holds, raise nothing.
    let mut checker = Checker::new(2);
    let longer = log(&[(1, "a"), (1, "b"), (2, "c"), (2, "d")]);
    let logs = [state(&longer), state(&one)];
    let logs: Vec<&PersistentState> = logs.iter().collect();
    checker.on_ready(1, 1, &wrote(1, &longer), &logs, None);
    assert!(checker.violations().is_empty(), "{:?}", texts(&checker));
}

#[test]
fn state_machine_safety_fires_on_a_different_command_at_an_applied_index() {
    let mut checker = Checker::new(2);
    let one = log(&[(1, "a"), (1, "b")]);
    let two = log(&[(1, "a"), (1, "x")]);
    let logs = [state(&one), state(&two)];
    let logs: Vec<&PersistentState> = logs.iter().collect();
    checker.on_ready(1, 1, &applied(&one, 1, 2), &logs, None);
    checker.on_ready(2, 2, &applied(&two, 1, 2), &logs, None);
    assert_eq!(
        texts(&checker),
        [
            "n2: state-machine-safety: n2 applied \"x\" (term 1) at index 2, where \"b\" (term 1) was applied before"
        ]
    );
    assert_eq!(checker.applied_count(2), (2, Some("b".to_string())));
    assert_eq!(
        checker.applied(2, 2).as_deref(),
        Some("b"),
        "the first one applied"
    );
    // A node that applies only what others applied before adds no source to the
    // history: what was applied first stays the reference.
    let mut checker = Checker::new(3);
    let logs = [state(&one), state(&two), state(&one)];
    let logs: Vec<&PersistentState> = logs.iter().collect();
    checker.on_ready(1, 1, &applied(&one, 1, 2), &logs, None);
    checker.on_ready(2, 2, &applied(&two, 1, 2), &logs, None);
    checker.on_ready(3, 3, &applied(&one, 1, 2), &logs, None);
    assert_eq!(checker.violations().len(), 1, "{:?}", texts(&checker));
    assert_eq!(checker.history.source_count(), 1);
    // A restart starts a new life: the node's log after it does not answer for what
    // it applied before (a broken rule may have changed it).
    let mut checker = Checker::new(1);
    let before = log(&[(1, "a"), (1, "b")]);
    let after = log(&[(1, "a"), (1, "x"), (1, "c")]);
    checker.on_ready(1, 1, &applied(&before, 1, 2), &[&state(&before)], None);
    checker.on_restart(1);
    checker.on_ready(2, 1, &applied(&after, 1, 3), &[&state(&after)], None);
    assert_eq!(
        checker.applied(1, 2).as_deref(),
        Some("b"),
        "the first applied"
    );
    assert_eq!(checker.history.source_count(), 2);
}

#[test]
fn applies_out_of_order_or_ahead_of_everyone_fire() {
    let mut checker = Checker::new(2);
    let one = log(&[(1, "a"), (1, "b"), (1, "c")]);
    let logs = [state(&one), state(&one)];
    let logs: Vec<&PersistentState> = logs.iter().collect();
    checker.on_ready(1, 1, &applied(&one, 2, 3), &logs, None);
    assert_eq!(
        texts(&checker),
        [
            "n1: apply-order: applied index 2 out of order (expected 1)",
            "n1: apply-order: applied index 2 before anyone applied 1",
            "n1: apply-order: applied index 3 out of order (expected 1)",
            "n1: apply-order: applied index 3 before anyone applied 1",
        ]
    );
    assert_eq!(checker.max_applied(), 0, "nothing was recorded");
}

#[test]
fn leader_completeness_fires_when_a_new_leader_lacks_an_applied_entry() {
    // n3 holds nothing at index 2, or an entry of another term there.
    let cases = [
        (
            log(&[(1, "a")]),
            "n3: leader-completeness: n3 leads term 3 but holds nothing at committed index 2 (term 1)",
        ),
        (
            log(&[(1, "a"), (2, "x")]),
            "n3: leader-completeness: n3 leads term 3 but holds term 2 at committed index 2 (term 1)",
        ),
    ];
    for (three, expected) in cases {
        let mut checker = Checker::new(3);
        let one = log(&[(1, "a"), (1, "b")]);
        let logs = [state(&one), state(&one), state(&three)];
        let logs: Vec<&PersistentState> = logs.iter().collect();
        // n1 leads term 1 and commits index 2 (n1 and n2 hold it); everyone applies it.
        n1_leads_commits_2_and_applies(&mut checker, 1, &one, &logs);
        assert!(checker.violations().is_empty(), "{:?}", texts(&checker));
        // n3 wins term 3 without it.
        checker.on_ready(
            4,
            3,
            &happened(vec![Event::BecameLeader { term: 3 }]),
            &logs,
            None,
        );
        assert_eq!(texts(&checker), [expected]);
    }
}

#[test]
fn a_late_winner_of_an_older_term_need_not_hold_what_a_newer_term_committed() {
    // Leader Completeness is about terms, not time (§5.4): n3's vote replies for
    // term 1 were held back while n1 led term 2 and committed index 2. Winning term 1
    // late without it breaks nothing (n3 steps down when it hears of term 2).
    let mut checker = Checker::new(3);
    let one = log(&[(1, "a"), (2, "b")]);
    let two = log(&[(1, "a")]);
    let logs = [state(&one), state(&one), state(&two)];
    let logs: Vec<&PersistentState> = logs.iter().collect();
    n1_leads_commits_2_and_applies(&mut checker, 2, &one, &logs);
    checker.on_ready(
        4,
        3,
        &happened(vec![Event::BecameLeader { term: 1 }]),
        &logs,
        None,
    );
    assert!(checker.violations().is_empty(), "{:?}", texts(&checker));
    // A winner of term 3 must hold it.
    checker.on_ready(
        5,
        3,
        &happened(vec![Event::SteppedDown {
            term: 3,
            was: "leader",
        }]),
        &logs,
        None,
    );
    checker.on_ready(
        6,
        3,
        &happened(vec![Event::BecameLeader { term: 3 }]),
        &logs,
        None,
    );
    assert_eq!(
        texts(&checker),
        [
            "n3: leader-completeness: n3 leads term 3 but holds nothing at committed index 2 (term 2)"
        ]
    );
}

#[test]
fn a_snapshot_unlike_the_commands_it_replaces_fires() {
    use crate::digest::fold_command;
    use crate::raft::Snapshot;
    let mut checker = Checker::new(3);
    let one = log(&[(1, "a"), (1, "b"), (1, "c")]);
    let logs = [state(&one), state(&one), state(&one)];
    let logs: Vec<&PersistentState> = logs.iter().collect();
    checker.on_ready(1, 1, &applied(&one, 1, 3), &logs, None);
    let load = |digest| {
        let ready = Ready {
            apply_snapshot: Some(Snapshot {
                last_included_index: 2,
                last_included_term: 1,
                configuration: Default::default(),
                data: std::sync::Arc::from(&b""[..]),
            }),
            ..Ready::default()
        };
        let loaded = LoadedSnapshot {
            index: 2,
            state_index: Some(2),
            digest,
        };
        (ready, Some(loaded))
    };
    let right = fold_command(fold_command(0, 1, "a"), 2, "b");
    let (ready, loaded) = load(right);
    checker.on_ready(2, 2, &ready, &logs, loaded);
    assert!(checker.violations().is_empty(), "{:?}", texts(&checker));
    let (ready, loaded) = load(right ^ 1);
    checker.on_ready(3, 3, &ready, &logs, loaded);
    assert_eq!(
        texts(&checker),
        ["n3: state-machine-safety: snapshot through 2 differs from the applied commands"]
    );
}

#[test]
fn election_safety_fires_when_two_nodes_win_one_term() {
    let mut checker = Checker::new(2);
    let empty = Log::new();
    let logs = [state(&empty), state(&empty)];
    let logs: Vec<&PersistentState> = logs.iter().collect();
    let elected = |term| Ready {
        events: vec![Event::BecameLeader { term }],
        ..Ready::default()
    };
    checker.on_ready(1, 1, &elected(3), &logs, None);
    checker.on_ready(2, 2, &elected(4), &logs, None);
    assert!(checker.violations().is_empty(), "{:?}", texts(&checker));
    checker.on_ready(3, 2, &elected(3), &logs, None);
    assert_eq!(
        texts(&checker),
        ["n2: election-safety: n2 and n1 both won term 3"]
    );
}

/// The persisted state of a node in `term`, having voted for `voted_for`, holding `log`.
fn persisted(term: u64, voted_for: Option<NodeId>, log: &Log) -> PersistentState {
    PersistentState {
        hard_state: crate::raft::HardState {
            current_term: term,
            voted_for,
        },
        log: log.clone(),
        snapshot: None,
    }
}

/// A Ready that sent `message` from `from` to `to` in `term`.
fn sent(from: NodeId, to: NodeId, term: u64, message: crate::raft::Message) -> Ready {
    Ready {
        messages: vec![crate::raft::Envelope {
            from,
            to,
            term,
            message,
        }],
        ..Ready::default()
    }
}

/// n1 wins `term`, commits index 2 and applies `log` through it (ticks 1 to 3).
fn n1_leads_commits_2_and_applies(
    checker: &mut Checker,
    term: u64,
    log: &Log,
    logs: &[&PersistentState],
) {
    checker.on_ready(
        1,
        1,
        &happened(vec![Event::BecameLeader { term }]),
        logs,
        None,
    );
    checker.on_ready(
        2,
        1,
        &happened(vec![Event::Committed { index: 2 }]),
        logs,
        None,
    );
    checker.on_ready(3, 1, &applied(log, 1, 2), logs, None);
}

/// A Ready with these events.
fn happened(events: Vec<Event>) -> Ready {
    Ready {
        events,
        ..Ready::default()
    }
}

/// An AppendEntries answer accepting through `match_index`.
fn accepted(match_index: u64) -> crate::raft::Message {
    crate::raft::Message::AppendEntriesReply {
        prev_log_index: 0,
        outcome: crate::raft::AppendOutcome::Accepted { match_index },
    }
}

fn status(term: u64, commit_index: u64, last_applied: u64) -> Status {
    Status {
        id: 1,
        role: crate::raft::Role::Follower,
        term,
        voted_for: None,
        leader: None,
        commit_index,
        last_applied,
        last_log_index: 0,
        last_log_term: 0,
        snapshot_index: 0,
        pre_candidate: false,
        transferring_to: None,
        configuration: Default::default(),
        configuration_index: 0,
        change_refusal: None,
        may_campaign: true,
    }
}

#[test]
fn monotonic_fires_when_term_commit_or_applied_go_back() {
    let mut checker = Checker::new(1);
    checker.on_status(1, &status(3, 5, 5));
    checker.on_status(2, &status(3, 6, 6));
    assert!(checker.violations().is_empty());
    checker.on_status(3, &status(2, 4, 6));
    checker.on_status(4, &status(2, 4, 3));
    assert_eq!(
        texts(&checker),
        [
            "n1: monotonic: term went back from 3 to 2",
            "n1: monotonic: commit index went back from 6 to 4",
            "n1: monotonic: last applied went back from 6 to 3",
        ]
    );
    // A restart starts the node's record over: a lower commit index is no violation.
    let mut checker = Checker::new(1);
    checker.on_status(1, &status(3, 5, 5));
    checker.on_restart(1);
    checker.on_status(2, &status(3, 0, 0));
    assert!(checker.violations().is_empty());
}

#[test]
fn apply_order_fires_when_a_snapshot_moves_the_state_machine_back() {
    use crate::raft::Snapshot;
    let mut checker = Checker::new(1);
    let one = log(&[(1, "a"), (1, "b"), (1, "c")]);
    let logs = [state(&one)];
    let logs: Vec<&PersistentState> = logs.iter().collect();
    checker.on_ready(1, 1, &applied(&one, 1, 3), &logs, None);
    let load = Ready {
        apply_snapshot: Some(Snapshot {
            last_included_index: 2,
            last_included_term: 1,
            configuration: Default::default(),
            data: std::sync::Arc::from(&b""[..]),
        }),
        ..Ready::default()
    };
    let loaded = LoadedSnapshot {
        index: 2,
        state_index: Some(2),
        digest: 0,
    };
    checker.on_ready(2, 1, &load, &logs, Some(loaded));
    assert_eq!(
        texts(&checker),
        ["n1: apply-order: snapshot through 2 would move the state machine back from 3"]
    );
}

#[test]
fn snapshot_state_fires_on_a_snapshot_of_another_index_or_junk() {
    use crate::raft::Snapshot;
    let mut checker = Checker::new(1);
    let empty = Log::new();
    let logs = [state(&empty)];
    let logs: Vec<&PersistentState> = logs.iter().collect();
    let load = |index| Ready {
        apply_snapshot: Some(Snapshot {
            last_included_index: index,
            last_included_term: 1,
            configuration: Default::default(),
            data: std::sync::Arc::from(&b""[..]),
        }),
        ..Ready::default()
    };
    let loaded = |index, state_index| LoadedSnapshot {
        index,
        state_index,
        digest: 0,
    };
    checker.on_ready(1, 1, &load(4), &logs, Some(loaded(4, Some(3))));
    checker.on_ready(2, 1, &load(6), &logs, Some(loaded(6, None)));
    assert_eq!(
        texts(&checker),
        [
            "n1: snapshot-state: snapshot through 4 holds the state at 3",
            "n1: snapshot-state: snapshot through 6 does not decode",
        ]
    );
}

#[test]
fn persist_before_send_fires_on_every_unbacked_claim() {
    use crate::raft::Message;
    let one = log(&[(1, "a"), (2, "b")]);
    let cases: [(PersistentState, Ready, &str); 6] = [
        (
            persisted(3, None, &one),
            sent(
                1,
                2,
                4,
                Message::RequestVoteReply {
                    vote_granted: false,
                },
            ),
            "n1: persist-before-send: n1 sent RequestVoteReply to n2 in term 4, but its persisted term is 3",
        ),
        (
            persisted(4, None, &one),
            sent(
                1,
                2,
                4,
                Message::RequestVote {
                    last_log_index: 2,
                    last_log_term: 2,
                    leadership_transfer: false,
                },
            ),
            "n1: persist-before-send: n1 asked for votes in term 4, but its persisted vote is for nobody",
        ),
        (
            persisted(4, Some(3), &one),
            sent(1, 2, 4, Message::RequestVoteReply { vote_granted: true }),
            "n1: persist-before-send: n1 granted its vote to n2 in term 4, but its persisted vote is for n3",
        ),
        (
            persisted(4, None, &one),
            sent(1, 2, 4, accepted(3)),
            "n1: persist-before-send: n1 acknowledged entries through 3 to n2 in term 4, but its persisted log ends at 2",
        ),
        (
            persisted(4, None, &one),
            sent(
                1,
                2,
                4,
                Message::InstallSnapshotReply {
                    installed_index: Some(5),
                },
            ),
            "n1: persist-before-send: n1 told n2 it holds a snapshot through 5, but its persisted log ends at 2",
        ),
        (
            persisted(4, Some(1), &one),
            sent(
                1,
                2,
                4,
                Message::AppendEntries {
                    prev_log_index: 2,
                    prev_log_term: 2,
                    entries: vec![Entry {
                        index: 3,
                        term: 4,
                        command: "c".into(),
                        kind: Default::default(),
                    }],
                    leader_commit: 0,
                },
            ),
            "n1: persist-before-send: n1 sent n2 entries through index 3 (term 4) that its persisted log does not hold",
        ),
    ];
    for (state, ready, expected) in cases {
        let mut checker = Checker::new(2);
        let other = persisted(4, None, &Log::new());
        let logs = [&state, &other];
        checker.on_ready(1, 1, &ready, &logs, None);
        assert_eq!(texts(&checker), [expected]);
    }
    // Backed claims, and claims of a term the node has left, raise nothing.
    let backed = [
        (
            persisted(4, Some(2), &one),
            sent(1, 2, 4, Message::RequestVoteReply { vote_granted: true }),
        ),
        (persisted(4, None, &one), sent(1, 2, 4, accepted(2))),
        (
            persisted(5, None, &Log::new()),
            sent(1, 2, 4, Message::RequestVoteReply { vote_granted: true }),
        ),
    ];
    for (state, ready) in backed {
        let mut checker = Checker::new(2);
        let other = persisted(4, None, &Log::new());
        checker.on_ready(1, 1, &ready, &[&state, &other], None);
        assert!(checker.violations().is_empty(), "{:?}", texts(&checker));
    }
}

#[test]
fn persist_before_send_compares_an_ack_with_the_leaders_entry() {
    let leader = log(&[(1, "a"), (2, "b")]);
    let follower = log(&[(1, "a"), (1, "x")]);
    let logs = [
        persisted(2, Some(1), &leader),
        persisted(2, Some(1), &follower),
    ];
    let logs: Vec<&PersistentState> = logs.iter().collect();
    // n1 wins term 2.
    let elected = || {
        let mut checker = Checker::new(2);
        checker.on_ready(
            1,
            1,
            &happened(vec![Event::BecameLeader { term: 2 }]),
            &logs,
            None,
        );
        checker
    };
    let mut checker = elected();
    checker.on_ready(2, 2, &sent(2, 1, 2, accepted(2)), &logs, None);
    assert_eq!(
        texts(&checker),
        [
            "n2: persist-before-send: n2 acknowledged index 2 to n1 in term 2, but its persisted entry there has term 1, the leader's term 2"
        ]
    );
    // Once the leader has moved on to a newer term, its log is no longer the term's
    // (a newer leader may have replaced that entry): nothing to compare.
    let mut checker = elected();
    let moved_on = [
        persisted(3, None, &leader),
        persisted(2, Some(1), &follower),
    ];
    let moved_on: Vec<&PersistentState> = moved_on.iter().collect();
    checker.on_ready(2, 2, &sent(2, 1, 2, accepted(2)), &moved_on, None);
    assert!(checker.violations().is_empty(), "{:?}", texts(&checker));
}

#[test]
fn commit_justified_fires_on_an_old_term_or_a_minority() {
    let committed = |index| happened(vec![Event::Committed { index }]);
    let elected = happened(vec![Event::BecameLeader { term: 3 }]);
    // Figure 8: the leader of term 3 commits index 2, an entry of term 2, by counting.
    let mut checker = Checker::new(3);
    let old = log(&[(1, "a"), (2, "b")]);
    let logs = [state(&old), state(&old), state(&old)];
    let logs: Vec<&PersistentState> = logs.iter().collect();
    checker.on_ready(1, 1, &elected, &logs, None);
    checker.on_ready(2, 1, &committed(2), &logs, None);
    assert_eq!(
        texts(&checker),
        [
            "n1: commit-justified: n1 leads term 3 and committed index 2, where it holds an entry of term 2: counting replicas commits only an entry of the current term (§5.4.2)"
        ]
    );
    // Its own term's entry, but held by only two of five persisted logs.
    let mut checker = Checker::new(5);
    let new = log(&[(1, "a"), (3, "c")]);
    let logs = [
        state(&new),
        state(&new),
        state(&old),
        state(&old),
        state(&Log::new()),
    ];
    let logs: Vec<&PersistentState> = logs.iter().collect();
    checker.on_ready(1, 1, &elected, &logs, None);
    checker.on_ready(2, 1, &committed(2), &logs, None);
    assert_eq!(
        texts(&checker),
        [
            "n1: commit-justified: n1 committed index 2 (term 3), but only 2 of 5 voters' persisted logs hold it, fewer than a majority (3)"
        ]
    );
    // A third copy makes a majority; and a follower's commit is not a leader's.
    let mut checker = Checker::new(5);
    let logs = [
        state(&new),
        state(&new),
        state(&new),
        state(&old),
        state(&Log::new()),
    ];
    let logs: Vec<&PersistentState> = logs.iter().collect();
    checker.on_ready(1, 1, &elected, &logs, None);
    checker.on_ready(2, 1, &committed(2), &logs, None);
    checker.on_ready(2, 4, &committed(2), &logs, None);
    let stepped_down = happened(vec![
        Event::SteppedDown {
            term: 4,
            was: "leader",
        },
        Event::Committed { index: 2 },
    ]);
    let logs = [
        state(&old),
        state(&new),
        state(&new),
        state(&old),
        state(&Log::new()),
    ];
    let logs: Vec<&PersistentState> = logs.iter().collect();
    checker.on_ready(3, 1, &stepped_down, &logs, None);
    assert!(checker.violations().is_empty(), "{:?}", texts(&checker));
}

#[test]
fn acked_entries_kept_fires_when_a_persisted_log_loses_an_acknowledged_entry() {
    let lost_3 = "n2: acked-entries-kept: n2 acknowledged index 3 (term 2) in term 2, but its persisted log now ends at 2";
    let full = log(&[(1, "a"), (2, "b"), (2, "c")]);
    let cut = log(&[(1, "a"), (2, "b")]);
    let leader = persisted(2, Some(1), &full);
    // n2 acknowledges index 3 to n1 in term 2, its persisted log holding it.
    let acked_3 = || {
        let mut checker = Checker::new(2);
        let logs = [&leader, &persisted(2, Some(1), &full)];
        checker.on_ready(1, 2, &sent(2, 1, 2, accepted(3)), &logs, None);
        checker
    };
    let mut checker = acked_3();
    assert!(checker.violations().is_empty(), "{:?}", texts(&checker));
    // Still term 2, the entry gone (a stale request truncated it).
    let logs = [&leader, &persisted(2, Some(1), &cut)];
    checker.on_ready(2, 2, &wrote(3, &cut), &logs, None);
    assert_eq!(texts(&checker), [lost_3]);
    // A restart keeps the promise: the persisted log must still hold the entry.
    let mut checker = acked_3();
    checker.on_restart(2);
    let logs = [&leader, &persisted(2, Some(1), &cut)];
    checker.on_ready(2, 2, &Ready::default(), &logs, None);
    assert_eq!(texts(&checker), [lost_3]);
    // In a newer term, a new leader may replace what was acknowledged before.
    let mut checker = acked_3();
    let logs = [&leader, &persisted(3, None, &cut)];
    checker.on_ready(2, 2, &wrote(3, &cut), &logs, None);
    assert!(checker.violations().is_empty(), "{:?}", texts(&checker));
    // The promise is the highest index acknowledged in the term: after index 2, then
    // 3, losing 3 breaks it.
    let mut checker = Checker::new(2);
    let logs = [&leader, &persisted(2, Some(1), &full)];
    checker.on_ready(1, 2, &sent(2, 1, 2, accepted(2)), &logs, None);
    checker.on_ready(2, 2, &sent(2, 1, 2, accepted(3)), &logs, None);
    let logs = [&leader, &persisted(2, Some(1), &cut)];
    checker.on_ready(3, 2, &wrote(3, &cut), &logs, None);
    assert_eq!(texts(&checker), [lost_3]);
    // A reply to an older, reordered request of the same term acknowledges less: the
    // promise is still index 3.
    let mut checker = acked_3();
    let logs = [&leader, &persisted(2, Some(1), &full)];
    checker.on_ready(2, 2, &sent(2, 1, 2, accepted(2)), &logs, None);
    let logs = [&leader, &persisted(2, Some(1), &cut)];
    checker.on_ready(3, 2, &wrote(3, &cut), &logs, None);
    assert_eq!(texts(&checker), [lost_3]);
    // In a newer term the promise starts over, even at a lower index: after index 3
    // in term 2, index 2 in term 3 is what must be kept.
    let mut checker = acked_3();
    let logs = [&leader, &persisted(3, None, &full)];
    checker.on_ready(2, 2, &sent(2, 1, 3, accepted(2)), &logs, None);
    let first = log(&[(1, "a")]);
    let logs = [&leader, &persisted(3, None, &first)];
    checker.on_ready(3, 2, &wrote(2, &first), &logs, None);
    assert_eq!(
        texts(&checker),
        [
            "n2: acked-entries-kept: n2 acknowledged index 2 (term 2) in term 3, but its persisted log now ends at 1"
        ]
    );
    // A snapshot through the acknowledged index keeps the promise only if it ends
    // with the same entry: one whose last term differs replaced it.
    let mut checker = acked_3();
    let mut replaced = full.clone();
    replaced.compact(3, 1);
    let logs = [&leader, &persisted(2, Some(1), &replaced)];
    checker.on_ready(2, 2, &Ready::default(), &logs, None);
    assert_eq!(
        texts(&checker),
        [
            "n2: acked-entries-kept: n2 acknowledged index 3 (term 2) in term 2, but its persisted log now has an entry of term 1 there"
        ]
    );
    // A persisted term behind the acknowledgement's (a broken rule lost the term) is
    // for persist-before-send to report when it sends; this check judges the promises
    // of the persisted term only.
    let mut checker = acked_3();
    let logs = [&leader, &persisted(1, None, &cut)];
    checker.on_ready(2, 2, &wrote(3, &cut), &logs, None);
    assert!(checker.violations().is_empty(), "{:?}", texts(&checker));
}

/// Log Matching compares only what both logs hold, index by index: a suffix that
/// starts below the writer's own snapshot is compared from just after it.
#[test]
fn log_matching_aligns_a_suffix_that_starts_below_the_snapshot() {
    let mut checker = Checker::new(2);
    let full = log(&[(1, "a"), (1, "b"), (1, "c"), (1, "d")]);
    let mut compacted = full.clone();
    compacted.compact(2, 1);
    let logs = [state(&compacted), state(&full)];
    let logs: Vec<&PersistentState> = logs.iter().collect();
    checker.on_ready(1, 1, &wrote(1, &compacted), &logs, None);
    assert!(checker.violations().is_empty(), "{:?}", texts(&checker));
}

#[test]
fn node_panic_is_reported_with_its_message() {
    let mut checker = Checker::new(3);
    checker.on_panic(7, 2, "index out of bounds");
    assert_eq!(
        texts(&checker),
        ["n2: node-panic: n2 panicked: index out of bounds"]
    );
    assert_eq!(
        checker.violations()[0].to_string(),
        "tick 7: n2: node-panic: n2 panicked: index out of bounds"
    );
}

#[test]
fn invariant_names_round_trip() {
    for invariant in Invariant::ALL {
        assert_eq!(Invariant::from_name(invariant.name()), Ok(invariant));
        // One line that says what must hold.
        let description = invariant.description();
        assert!(
            description.len() > 15 && !description.contains('\n'),
            "{description}"
        );
    }
    assert_eq!(
        Invariant::ElectionSafety.description(),
        "at most one leader per term (§5.2)"
    );
    let error = Invariant::from_name("nope").unwrap_err();
    assert!(
        error.contains("election-safety") && error.contains("node-panic"),
        "{error}"
    );
}

#[test]
fn what_a_node_applied_is_kept_as_one_range_per_stretch() {
    let mut checker = Checker::new(1);
    let entries = log(&[(1, "a"), (1, "b"), (1, "c")]);
    let logs = [state(&entries)];
    let logs: Vec<&PersistentState> = logs.iter().collect();
    checker.on_ready(1, 1, &applied(&entries, 1, 2), &logs, None);
    checker.on_ready(1, 1, &applied(&entries, 3, 3), &logs, None);
    assert!(checker.violations().is_empty(), "{:?}", texts(&checker));
    assert_eq!(checker.nodes[0].applied_ranges, [(1, 3)]);
    assert_eq!(checker.applied(1, 3).as_deref(), Some("c"));
    assert_eq!(checker.applied(1, 4), None);
    // What a node applies after a gap (a snapshot jumped over it) is a stretch of
    // its own: n2 applied 1 to 5, n1 applies 1 to 3 and then 5.
    let mut checker = Checker::new(2);
    let longer = log(&[(1, "a"), (1, "b"), (1, "c"), (1, "d"), (1, "e")]);
    let logs = [state(&longer), state(&longer)];
    let logs: Vec<&PersistentState> = logs.iter().collect();
    checker.on_ready(1, 2, &applied(&longer, 1, 5), &logs, None);
    checker.on_ready(1, 1, &applied(&longer, 1, 3), &logs, None);
    checker.on_ready(2, 1, &applied(&longer, 5, 5), &logs, None);
    assert_eq!(checker.nodes[0].applied_ranges, [(1, 3), (5, 5)]);
    assert_eq!(checker.applied(1, 4), None, "never applied from its log");
    assert_eq!(checker.applied(1, 5).as_deref(), Some("e"));
}

#[test]
fn a_node_added_to_the_cluster_is_checked_like_the_founders() {
    let mut checker = Checker::new(1);
    checker.add_node(2);
    let one = log(&[(1, "a")]);
    let two = log(&[(1, "x")]);
    let logs = [state(&one), state(&two)];
    let logs: Vec<&PersistentState> = logs.iter().collect();
    // Tick 1: the new node n2 applies "x"; tick 2: n1 applies "a" at the same index.
    checker.on_ready(1, 2, &applied(&two, 1, 1), &logs, None);
    checker.on_ready(2, 1, &applied(&one, 1, 1), &logs, None);
    assert_eq!(checker.applied(2, 1).as_deref(), Some("x"));
    assert!(
        texts(&checker)
            .iter()
            .any(|text| text.starts_with("n1: state-machine-safety")),
        "{:?}",
        texts(&checker)
    );
}

#[test]
fn a_cluster_that_starts_with_a_log_counts_it_as_applied() {
    let mut checker = Checker::new(1);
    let founding = log(&[(1, "a"), (1, "b")]);
    checker.start_with(&founding.iter().collect::<Vec<_>>());
    assert_eq!(checker.applied_count(2), (0, Some("b".to_string())));
    // A node that then applies something else at index 1 breaks State Machine Safety.
    let other = log(&[(1, "x")]);
    let logs = [state(&other)];
    let logs: Vec<&PersistentState> = logs.iter().collect();
    checker.on_ready(1, 1, &applied(&other, 1, 1), &logs, None);
    assert!(
        texts(&checker)
            .iter()
            .any(|text| text.starts_with("n1: state-machine-safety")),
        "{:?}",
        texts(&checker)
    );
}
