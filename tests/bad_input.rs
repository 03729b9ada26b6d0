//! Bad input of every kind gets a one-line error that says what was expected, never
//! panics, and leaves the cluster exactly as it was.

use raft_playground::Config;
use raft_playground::cli::parse;
use raft_playground::cli::{ExecError, Session};
use raft_playground::cluster::lock;

/// Everything observable about the session's cluster.
fn fingerprint(session: &Session) -> String {
    let cluster = lock(session.cluster());
    let statuses: Vec<_> = (1..=cluster.size()).map(|id| cluster.status(id)).collect();
    let links: Vec<bool> = (1..=cluster.size())
        .flat_map(|a| (1..=cluster.size()).map(move |b| (a, b)))
        .map(|(a, b)| cluster.linked(a, b))
        .collect();
    format!(
        "{} {} {} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
        cluster.size(),
        cluster.now(),
        cluster.history_digest(),
        statuses,
        links,
        cluster.stats(),
        cluster.in_flight(),
        cluster.faults(),
        cluster.auto_snapshot(),
        cluster.raft_config(),
    )
}

/// Runs one line; returns the error text (parse or execution).
fn error_of(session: &mut Session, line: &str) -> Result<String, String> {
    match parse(line) {
        Err(error) => Ok(error.0),
        Ok(None) => Err("parsed as a blank line or comment".into()),
        Ok(Some(command)) => match session.execute(command) {
            Err(ExecError::Invalid(text)) => Ok(text),
            Err(other) => Err(format!("wrong kind of error: {other:?}")),
            Ok(output) => Err(format!("accepted: {}", output.text)),
        },
    }
}

#[test]
fn bad_lines_get_one_line_errors_and_change_nothing() {
    // (line, a phrase the error must contain)
    let cases: &[(&str, &str)] = &[
        ("frobnicate", "unknown command"),
        ("crsh 1", "did you mean `crash`"),
        ("crash", "missing argument"),
        ("crash 1 2", "unexpected `2`"),
        ("crash 9", "no node 9: this cluster has n1 to n5"),
        ("crash n0", "no node 0"),
        (
            "crash x",
            "expected a node (3 or n3), leader, followers or all",
        ),
        ("crash 1,99", "no node 99"),
        ("restart 2,bogus", "expected a node"),
        ("drop 7", "rate between 0 and 1"),
        ("drop -0.5", "rate between 0 and 1"),
        ("drop abc", "rate between 0 and 1"),
        ("duplicate 150%", "rate between 0 and 1"),
        ("delay 5..2", "1 ≤ MIN ≤ MAX"),
        ("delay 0", "1 ≤ MIN ≤ MAX"),
        ("delay 1..", "expected ticks of latency"),
        ("tick 99999999999999999999999", "too large"),
        ("tick 0", "ticks must be 1 to"),
        ("tick -1", "expected a number of ticks"),
        ("partition 1,2 3,4", "groups separated by `|`"),
        ("partition 1,2 | 2,3", "n2 is in two groups"),
        ("partition 1 | | 2", "a group is empty"),
        ("partition 1,9 | 2", "no node 9"),
        ("submit", "missing the command text"),
        ("submit @9 set x 1", "no node 9"),
        ("submit @1,2 set x 1", "exactly one node"),
        ("unreliable maybe", "expected on or off"),
        ("reorder", "missing argument"),
        ("autosnapshot 0", "at least 1"),
        ("autosnapshot -3", "a number of entries or `off`"),
        ("cluster 0", "1 to 15 nodes"),
        ("cluster 16", "1 to 15 nodes"),
        ("cluster 5 seed", "missing the seed"),
        ("cluster five", "a number of nodes"),
        ("speed 0", "1 to 60000"),
        ("deliver 12345", "no message 12345 is in flight"),
        ("drop-msg x", "a message id"),
        ("timeout leader", "has no election timer"),
        ("kv 1,2", "exactly one node"),
        ("log 0", "no node 0"),
        ("snapshot 1 2", "unexpected `2`"),
        (
            "expect role 1 king",
            "leader, candidate, follower, learner, down or removed",
        ),
        ("expect term 1 ~ 3", "one of == != < <= > >="),
        ("expect kv", "wrong arguments for `expect kv`"),
        ("expect frobs", "expected one of leader"),
        (
            "wait forever",
            "expected one of leader, commit, role, term, applied, snapshot, last-index, members, ticks",
        ),
        ("wait commit x", "a log index"),
        ("wait commit 3 on 0 nodes", "a node count is 1 to 15"),
        ("wait commit 3 on 0", "no node 0"),
        ("wait commit 1 on 9 nodes", "this cluster has 5 nodes"),
        ("expect committed 1 on 6 nodes", "this cluster has 5 nodes"),
        ("events 0", "at least 1"),
        ("log 5..2", "1 ≤ FROM ≤ TO"),
        ("log 0..2", "1 ≤ FROM ≤ TO"),
        ("log 1..2 3..4", "unexpected `3..4`"),
        ("log 1..x", "a log index"),
        ("wait leader within", "missing the number of ticks"),
        ("events many", "a count of events"),
        ("status --json extra", "unexpected `extra`"),
        ("crash 1 --json", "--json is for views"),
        ("help nosuch", "no command `nosuch`"),
        ("digest 3", "unexpected `3`"),
        ("expect digest", "wrong arguments for `expect digest`"),
        ("expect digest xyz", "1 to 16 hex digits"),
        ("expect digest 12345678901234567", "1 to 16 hex digits"),
        ("set", "missing the setting's name or value"),
        ("set batch-entries", "missing the setting's name or value"),
        ("set batch-entries 0", "batch-entries must be at least 1"),
        ("set batch-bytes lots", "a number of bytes"),
        ("set no-such-switch on", "unknown setting `no-such-switch`"),
        (
            "set pre-vote maybe",
            "pre-vote is switched `on` or `off`, not `maybe`",
        ),
        (
            "set check-quorum 1",
            "check-quorum is switched `on` or `off`",
        ),
        ("set no-op maybe", "no-op is switched `on` or `off`"),
        ("set x 1", "submit set KEY VALUE"),
        ("set batch-entries 4 --json", "--json is for views"),
        ("partition 1,9", "no node 9"),
        ("partition 1,2 3", "groups separated by `|`"),
        ("timeout 1,leader", "has no election timer"),
        ("deliver", "missing a message id, `all` or a filter"),
        ("deliver x", "expected a message id"),
        ("deliver to", "missing what follows `to`"),
        ("deliver to 1 to 2", "unexpected `to`"),
        ("deliver from 9", "no node 9"),
        ("deliver type Vote", "expected a message type"),
        ("drop-msg to x", "expected a node"),
        ("drop-msg 999", "no message 999 is in flight"),
        ("stabilize 1 2", "unexpected `2`"),
        ("stabilize 9", "no node 9"),
        ("flush", "missing argument"),
        ("flush 9", "no node 9"),
        ("tick 2 nap", "expected heartbeat or election"),
        ("tick 1 heartbeat", "no heartbeat timer"),
        ("tick leader election", "has no election timer"),
        ("tick 2 heartbeat now", "unexpected `now`"),
        ("snapshot 1 at", "missing the index after `at`"),
        ("snapshot 1 at x", "a log index"),
        ("snapshot 1 at 99", "not applied yet"),
        ("snapshot 1 around 3", "unexpected `around`"),
        ("cluster 3 log", "missing the number of entries"),
        ("cluster 3 log x", "a number of entries"),
        ("cluster 3 log 5 log 6", "unexpected `log`"),
        ("cluster 3 log 9999999", "at most 1000000 entries"),
        ("progress 1,2", "exactly one node"),
        ("progress 1", "does not lead"),
        ("progress 1 2", "unexpected `2`"),
        ("source", "missing the script file"),
        ("source /no/such/file.txt", "cannot read /no/such/file.txt"),
        ("expect voted 1", "wrong arguments for `expect voted`"),
        ("expect voted 1 x", "expected one node"),
        ("expect leader-known 1 9", "no node 9"),
        ("expect log 1 2 2", "wrong arguments for `expect log`"),
        ("expect log 1 = x", "a term (or `empty`)"),
        ("expect entry 1 x 1", "a log index"),
        ("expect entry 1", "wrong arguments for `expect entry`"),
        ("expect entry 1 0 1", "entries are numbered from 1"),
        ("expect log 1 = x", "(usage: expect log NODES = T T"),
        ("expect progress 1 2 racing", "a replication state"),
        ("expect progress 1 2 probe match", "unexpected `match`"),
        ("expect progress 1 2 probe next x", "a next index"),
        ("expect message 1-2 AppendEntries", "expected FROM->TO"),
        ("expect message 1->2 Hello", "expected a message type"),
        ("expect message 1->2 AppendEntries color=red", "FIELD=VALUE"),
        ("expect message 1->9 AppendEntries", "no node 9"),
        ("expect no-message to", "missing what follows `to`"),
        ("expect applied 1 ~ 2", "one of == != < <= > >="),
        (
            "wait role 1 king",
            "leader, candidate, follower, learner, down or removed",
        ),
        ("wait role 9 leader", "no node 9"),
        ("wait term 1 >", "expected one of == != < <= > >="),
        ("wait term ~ 2", "one of == != < <= > >="),
        ("wait term 9 == 2", "no node 9"),
        ("wait term 2", "missing the comparison (like `>= 2`)"),
        ("wait applied", "missing the comparison"),
        ("wait applied 9 3", "no node 9"),
        ("wait applied 1 >= 2 3", "unexpected `3`"),
        ("wait snapshot 1 5", "expected one of == != < <= > >="),
        ("wait last-index 1 >= x", "expected a log index"),
        ("wait term >= x", "expected a term"),
        ("wait leader old", "wrong arguments for `wait leader`"),
        ("transfer", "missing the node to hand leadership to"),
        ("transfer @1", "missing the node to hand leadership to"),
        ("transfer 1 2", "expected `@LEADER` before the node"),
        ("transfer 9", "no node 9"),
        ("transfer 1,2", "exactly one node"),
        ("transfer leader", "already leads"),
        ("transfer @followers 2", "exactly one node"),
        ("transfer 2 3 4", "unexpected `4`"),
        ("add-node 2", "expected `@LEADER`"),
        ("add-node @9", "no node 9"),
        ("add-node @1 2", "unexpected `2`"),
        ("remove-node", "missing the node to remove"),
        ("remove-node @1", "missing the node to remove"),
        ("remove-node 9", "no node 9"),
        ("remove-node 1,2", "exactly one node"),
        ("remove-node @1 2 3", "unexpected `3`"),
        ("members 9", "no node 9"),
        ("members 1 2", "unexpected `2`"),
        ("expect members 1 = leader", "by number"),
        ("expect members 1 1,2,3", "expected `= VOTERS`"),
        ("expect members 1 = 1,2,3 learners", "missing the learners"),
        ("wait members", "missing the voters"),
        ("expect role 1 emperor", "learner, down or removed"),
        ("\u{1b}[A\u{7f}", "control characters"),
        ("ñandú 🦀 ∑", "unknown command"),
        ("9999999999999999999999999999", "unknown command"),
        ("export", "missing the format, html or json"),
        ("export pdf out.pdf", "expected html or json, got `pdf`"),
        ("export html", "missing the file to write"),
        (
            "export html /nonexistent-dir/for/sure/t.html",
            "cannot write /nonexistent-dir/for/sure/t.html",
        ),
        ("undo 0", "at least 1 command"),
        ("undo x", "a number of commands"),
        ("undo 1 2", "unexpected `2`"),
        ("undo 99", "is the most that can be taken back"),
        ("rewind", "missing argument"),
        ("rewind 0", "ticks must be 1 to"),
        ("rewind 999999", "ticks to rewind"),
        ("goto", "missing argument"),
        ("goto 999999", "has not happened"),
        ("goto -1", "expected a tick"),
        ("save", "missing the file name"),
        ("save /nonexistent-dir/deeper/session.txt", "cannot write"),
        ("timeline 0", "ticks must be 1 to"),
        ("timeline x y", "expected a number of ticks first"),
        ("timeline 5 9", "no node 9"),
        ("timeline 5 1 2", "unexpected `2`"),
        ("timeline bogus", "expected a node"),
        ("break", "missing argument"),
        (
            "break nope",
            "unknown rule `nope`; the rules are commit-old-terms,",
        ),
        ("break forget-vote extra", "unexpected `extra`"),
        ("break forget-vote --json", "--json is for views"),
        ("mend", "missing argument"),
        ("mend everything", "unknown rule `everything`"),
        ("rules extra", "unexpected `extra`"),
        ("search seeds", "missing the value after `seeds`"),
        ("search seeds 0", "seeds must be at least 1"),
        ("search budget 0", "a budget is at least 1 second"),
        ("search seeds x", "expected a number of seeds"),
        ("search bogus", "expected seeds, budget, for or out"),
        (
            "search for nope",
            "unknown invariant `nope`; the invariants are election-safety,",
        ),
        (
            "delay 1->x 3",
            "expected a link FROM->TO between node numbers",
        ),
        ("delay 1->2", "missing the latency after the link"),
        ("delay 1->9 3", "no node 9"),
        ("delay 2->2 3", "two different nodes"),
        ("delay 1->2 5..2", "1 ≤ MIN ≤ MAX"),
        ("duplicate late", "missing the range after `late`"),
        ("duplicate late 5..2", "1 ≤ MIN ≤ MAX"),
        ("expect violation nope", "unknown invariant `nope`"),
        (
            "expect violation a b",
            "wrong arguments for `expect violation`",
        ),
    ];
    assert!(cases.len() >= 25);
    let mut session = Session::scripted(Config::new(5).seed(3));
    for setup in [
        "wait leader",
        "submit set x 1",
        "tick 5",
        "partition 1,2 | 3,4,5",
        "tick 1",
    ] {
        let command = parse(setup).unwrap().unwrap();
        session.execute(command).unwrap();
    }
    // The target `leader` must resolve for `timeout leader` to reach its check.
    assert!(lock(session.cluster()).leader().is_some());
    for (line, phrase) in cases {
        let before = fingerprint(&session);
        let error = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            error_of(&mut session, line)
        }))
        .unwrap_or_else(|_| panic!("`{line}` panicked"))
        .unwrap_or_else(|problem| panic!("`{line}`: {problem}"));
        assert!(
            !error.contains('\n'),
            "`{line}`: the error is not one line: {error}"
        );
        assert!(
            error.contains(phrase),
            "`{line}`: expected the error to say {phrase:?}, got: {error}"
        );
        assert_eq!(
            fingerprint(&session),
            before,
            "`{line}` changed the cluster"
        );
    }
    // The session is still usable after all of that.
    let command = parse("expect no-violations").unwrap().unwrap();
    assert!(session.execute(command).is_ok());
}
