//! The grammar's tests: every command and form parses to its value, and bad lines
//! get one-line errors that say what was expected.

use super::*;
use crate::cli::command::{Expectation, FORMS, Field, Op, Quorum, RoleOrDown, WaitFor};

fn ok(line: &str) -> Command {
    parse(line)
        .unwrap_or_else(|error| panic!("{line}: {error}"))
        .unwrap()
}

fn err(line: &str) -> String {
    parse(line).expect_err(line).0
}

#[test]
fn parses_every_example() {
    let examples = COMMANDS
        .iter()
        .map(|spec| spec.example)
        .chain(FORMS.iter().map(|spec| spec.example));
    for example in examples {
        assert!(
            matches!(parse(example), Ok(Some(_))),
            "{example}: {:?}",
            parse(example)
        );
    }
}

#[test]
fn a_bad_check_shows_the_usage_of_its_form_alone() {
    let error = err("expect log 1 = x");
    assert!(
        error.starts_with("expect log: expected a term")
            && error.ends_with("(usage: expect log NODES = T T ... (the terms of its entries) | log NODES = empty, e.g. `expect log 1,2 = 1 1 2`)"),
        "{error}"
    );
    let error = err("wait term 1 ~ 2");
    assert!(
        error.contains("(usage: wait term [NODES] OP N [within N]"),
        "{error}"
    );
    // An unknown form lists the forms, with the short usage of `expect`.
    let error = err("expect frobs");
    assert!(
        error.contains("expected one of leader, no-leader"),
        "{error}"
    );
    assert!(error.len() < 400, "{error}");
}

#[test]
fn targets_and_lists() {
    assert_eq!(ok("crash 3"), Command::Crash(vec![Target::Node(3)]));
    assert_eq!(
        ok("crash n3,leader"),
        Command::Crash(vec![Target::Node(3), Target::Leader])
    );
    assert_eq!(
        ok("partition leader | followers"),
        Command::Partition(vec![vec![Target::Leader], vec![Target::Followers]])
    );
    assert_eq!(
        ok("partition 1, 2 | 3,4,5"),
        Command::Partition(vec![
            vec![Target::Node(1), Target::Node(2)],
            vec![Target::Node(3), Target::Node(4), Target::Node(5)]
        ])
    );
    assert!(err("crash x").contains("expected a node"));
    assert!(err("partition 1 2").contains("`|`"));
}

#[test]
fn submit_keeps_the_text() {
    assert_eq!(
        ok("submit set x  hello world"),
        Command::Submit {
            node: None,
            text: "set x  hello world".into()
        }
    );
    assert_eq!(
        ok("submit @n2 del x"),
        Command::Submit {
            node: Some(vec![Target::Node(2)]),
            text: "del x".into()
        }
    );
    assert!(err("submit").contains("missing"));
    assert!(err("submit @2").contains("missing"));
}

#[test]
fn rates_ranges_and_numbers() {
    assert_eq!(ok("drop 10%"), Command::Act(Action::DropRate(0.1)));
    assert_eq!(ok("drop .5"), Command::Act(Action::DropRate(0.5)));
    assert_eq!(ok("duplicate 1"), Command::Act(Action::DuplicateRate(1.0)));
    assert!(err("drop 7").contains("between 0 and 1"));
    assert!(err("drop -1").contains("between 0 and 1"));
    assert!(err("drop NaN").contains("between 0 and 1"));
    assert_eq!(
        ok("delay 3"),
        Command::Act(Action::Latency { min: 3, max: 3 })
    );
    assert_eq!(
        ok("delay 1..4"),
        Command::Act(Action::Latency { min: 1, max: 4 })
    );
    assert!(err("delay 4..1").contains("MIN ≤ MAX"));
    assert!(err("delay 0").contains("1 ≤ MIN"));
    assert!(err("tick 99999999999999999999999").contains("too large"));
    assert!(err("tick 0").contains("1 to"));
}

#[test]
fn waits_and_expectations() {
    assert_eq!(
        ok("wait leader within 50"),
        Command::Wait {
            until: WaitFor::Leader,
            within: Some(50)
        }
    );
    assert_eq!(
        ok("wait commit 3 on all"),
        Command::Wait {
            until: WaitFor::Commit {
                index: 3,
                on: Quorum::All
            },
            within: None
        }
    );
    assert_eq!(
        ok("expect committed 2 on 1,2"),
        Command::Expect(Expectation::Committed(
            2,
            Quorum::Nodes(vec![Target::Node(1), Target::Node(2)])
        ))
    );
    assert_eq!(
        ok("expect term all >= 2"),
        Command::Expect(Expectation::Field(
            Field::Term,
            vec![Target::All],
            Op::Ge,
            2
        ))
    );
    assert_eq!(
        ok("expect kv 1 greeting hello  world"),
        Command::Expect(Expectation::Kv(
            vec![Target::Node(1)],
            "greeting".into(),
            Some("hello  world".into())
        ))
    );
    assert_eq!(
        ok("expect kv 1 gone"),
        Command::Expect(Expectation::Kv(vec![Target::Node(1)], "gone".into(), None))
    );
    assert_eq!(
        ok("wait commit 3 on 3"),
        Command::Wait {
            until: WaitFor::Commit {
                index: 3,
                on: Quorum::Nodes(vec![Target::Node(3)])
            },
            within: None
        }
    );
    assert_eq!(
        ok("expect committed 3 on 4 nodes"),
        Command::Expect(Expectation::Committed(3, Quorum::AtLeast(4)))
    );
    assert_eq!(
        ok("log 2 3..9"),
        Command::Log {
            nodes: Some(vec![Target::Node(2)]),
            range: Some((3, 9)),
            json: false
        }
    );
    assert!(err("expect role 1 king").contains("leader, candidate"));
    assert!(
        err("wait forever")
            .contains("leader, commit, role, term, applied, snapshot, last-index, members, ticks")
    );
    let wait_field = |field, targets: Option<Vec<Target>>, op, value| Command::Wait {
        until: WaitFor::Field(field, targets, op, value),
        within: None,
    };
    assert_eq!(
        ok("wait term >= 2"),
        wait_field(Field::Term, None, Op::Ge, 2)
    );
    assert_eq!(
        ok("wait term 1,2 == 3"),
        wait_field(
            Field::Term,
            Some(vec![Target::Node(1), Target::Node(2)]),
            Op::Eq,
            3
        )
    );
    // `wait applied [NODES] INDEX` is at least through INDEX, as `expect applied`.
    assert_eq!(
        ok("wait applied 4"),
        wait_field(Field::Applied, None, Op::Ge, 4)
    );
    assert_eq!(
        ok("wait applied all 4"),
        wait_field(Field::Applied, Some(vec![Target::All]), Op::Ge, 4)
    );
    assert_eq!(
        ok("wait applied > 4"),
        wait_field(Field::Applied, None, Op::Gt, 4)
    );
    assert_eq!(
        ok("wait applied 2 == 4"),
        wait_field(Field::Applied, Some(vec![Target::Node(2)]), Op::Eq, 4)
    );
    assert_eq!(
        ok("wait snapshot 3 >= 10"),
        wait_field(Field::Snapshot, Some(vec![Target::Node(3)]), Op::Ge, 10)
    );
    assert_eq!(
        ok("wait last-index != 0"),
        wait_field(Field::LastIndex, None, Op::Ne, 0)
    );
    // Only `applied` reads a bare number as an index.
    assert!(err("wait term 2").contains("missing the comparison"));
    assert!(err("wait snapshot 1 5").contains("expected one of == != < <= > >="));
    assert!(err("wait applied").contains("missing the comparison"));
    assert!(err("wait applied x 4").contains("wait applied"));
    assert!(err("wait applied 1 >= 2 3").contains("unexpected `3`"));
    assert!(err("wait applied 1 >=").contains("a log index"));
    assert!(err("expect").contains("missing"));
    assert_eq!(
        ok("expect members 1,2 = 3,1,2 learners 6"),
        Command::Expect(Expectation::Members(
            vec![Target::Node(1), Target::Node(2)],
            MembersWanted {
                voters: vec![1, 2, 3],
                learners: Some(vec![6])
            }
        ))
    );
    assert_eq!(
        ok("wait members = 2,3,4 within 50"),
        Command::Wait {
            until: WaitFor::Members(MembersWanted {
                voters: vec![2, 3, 4],
                learners: None
            }),
            within: Some(50)
        }
    );
    assert_eq!(
        ok("expect role 6 learner"),
        Command::Expect(Expectation::Role(
            vec![Target::Node(6)],
            RoleOrDown::Learner
        ))
    );
    assert!(err("expect members 1 = leader").contains("by number"));
    assert!(err("expect members 1 1,2").contains("expected `= VOTERS`"));
    assert!(err("wait members =").contains("missing the voters"));
    assert!(err("expect members 1 = 1 learners").contains("missing the learners"));
    assert!(err("expect members 1 = 1 voters 2").contains("unexpected `voters`"));
}

#[test]
fn membership_commands() {
    assert_eq!(ok("add-node"), Command::AddNode { leader: None });
    assert_eq!(
        ok("add-node @n2"),
        Command::AddNode {
            leader: Some(vec![Target::Node(2)])
        }
    );
    assert_eq!(
        ok("remove-node @leader 3"),
        Command::RemoveNode {
            leader: Some(vec![Target::Leader]),
            node: vec![Target::Node(3)]
        }
    );
    assert_eq!(
        ok("members 1,2 --json"),
        Command::Members {
            nodes: Some(vec![Target::Node(1), Target::Node(2)]),
            json: true
        }
    );
    assert_eq!(
        parse_action("remove-node @2 5"),
        Ok(Action::RemoveNode { leader: 2, node: 5 })
    );
    assert!(err("add-node 2").contains("expected `@LEADER`"));
    assert!(err("remove-node").contains("missing the node"));
    assert!(err("remove-node @1").contains("missing the node"));
    assert!(err("remove-node @1 2 3").contains("unexpected `3`"));
    assert!(
        parse_action("add-node").is_err(),
        "an action names its leader"
    );
}

#[test]
fn partitions_sets_and_digests() {
    assert_eq!(
        ok("partition 1,2"),
        Command::Partition(vec![vec![Target::Node(1), Target::Node(2)]])
    );
    assert!(err("partition 1,2 3").contains("`|`"));
    assert!(err("partition").contains("`|`"));
    assert_eq!(
        ok("set batch-entries 4"),
        Command::Act(Action::Set(Setting::BatchEntries(4)))
    );
    assert!(err("set batch-bytes 0").contains("at least 1"));
    assert!(err("set x 1").contains("submit set KEY VALUE"));
    assert!(err("set batch-entries").contains("missing"));
    assert_eq!(ok("digest --json"), Command::Digest { json: true });
    assert_eq!(
        ok("expect digest 00ff"),
        Command::Expect(Expectation::Digest(255))
    );
    assert!(err("expect digest 12345678901234567").contains("hex digits"));
    assert!(err("expect digest xyz").contains("hex digits"));
    // A command's text keeps even `--json`.
    assert_eq!(
        ok("submit @1 echo --json"),
        Command::Submit {
            node: Some(vec![Target::Node(1)]),
            text: "echo --json".into()
        }
    );
}

#[test]
fn parse_action_takes_only_concrete_single_actions() {
    assert_eq!(parse_action("crash n3"), Ok(Action::Crash(3)));
    assert_eq!(parse_action("crash 3,3"), Ok(Action::Crash(3)));
    assert_eq!(parse_action("tick"), Ok(Action::Tick(1)));
    assert_eq!(
        parse_action("submit @2 set x 1"),
        Ok(Action::Submit {
            node: 2,
            command: "set x 1".into()
        })
    );
    assert_eq!(
        parse_action("partition 1, 2 | 3"),
        Ok(Action::Partition(vec![vec![1, 2], vec![3]]))
    );
    for (line, phrase) in [
        ("crash leader", "by number"),
        ("crash 1,2", "2 actions"),
        ("submit set x 1", "@NODE"),
        ("deliver all", "deliver ID"),
        ("status", "changes nothing"),
        ("# a comment", "no action"),
        ("crash x", "expected a node"),
        ("partition 1,2 | 2,3", "n2 is in two groups"),
    ] {
        let error = parse_action(line).expect_err(line).0;
        assert!(error.contains(phrase), "{line}: {error}");
    }
}

#[test]
fn unknown_commands_get_suggestions() {
    assert!(err("partiton 1 | 2").contains("did you mean `partition`"));
    assert!(err("xyzzy").contains("unknown command"));
    assert!(err("status --json extra").contains("unexpected"));
    assert!(err("crash 1 --json").contains("--json is for views"));
}

/// Any line built from the grammar's own words (commands, forms, operators, node
/// names, numbers, a few strays) either parses or gets a one-line error: the parser
/// never panics, whatever order the words come in.
mod any_line {
    use super::*;
    use crate::cli::command::{COMMANDS, EXPECT_FORMS, OPERATORS, PROGRESS_STATES, WAIT_FORMS};
    use proptest::prelude::*;
    use proptest::sample::select;

    const STRAYS: &[&str] = &[
        "on",
        "all",
        "majority",
        "nodes",
        "within",
        "from",
        "to",
        "type",
        "at",
        "heartbeat",
        "election",
        "new",
        "learners",
        "=",
        "none",
        "--json",
        "..",
        "1..3",
        "3..1",
        "@1",
        "@",
        "|",
        ",",
        "1,2",
        "n0",
        "n16",
        "leader",
        "followers",
        "x=1",
        "AppendEntries",
        "RequestVote",
        "99999999999999999999999",
        "-1",
        "é",
        "#",
        "",
    ];

    fn word() -> impl Strategy<Value = String> {
        let names: Vec<&'static str> = COMMANDS.iter().map(|spec| spec.name).collect();
        prop_oneof![
            select(names).prop_map(str::to_string),
            select(EXPECT_FORMS).prop_map(str::to_string),
            select(WAIT_FORMS).prop_map(str::to_string),
            select(OPERATORS).prop_map(str::to_string),
            select(PROGRESS_STATES).prop_map(str::to_string),
            select(STRAYS).prop_map(str::to_string),
            (0u64..20).prop_map(|n| n.to_string()),
            "[a-z0-9,.>=@|-]{1,6}",
        ]
    }

    /// How a line starts: a command, or `expect` / `wait` and one of their forms.
    fn start() -> impl Strategy<Value = String> {
        let names: Vec<&'static str> = COMMANDS.iter().map(|spec| spec.name).collect();
        prop_oneof![
            select(names).prop_map(str::to_string),
            select(EXPECT_FORMS).prop_map(|form| format!("expect {form}")),
            select(WAIT_FORMS).prop_map(|form| format!("wait {form}")),
            word(),
        ]
    }

    /// Runs the property over 4,000 lines against `parse`: `Err` with the smallest
    /// failing line if some line panics or gets an error that is empty or spans lines.
    fn check(parse: fn(&str) -> Result<Option<Command>, ParseError>) -> Result<(), String> {
        let config = proptest::test_runner::Config {
            cases: 4000,
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        };
        let lines = (start(), prop::collection::vec(word(), 0..6))
            .prop_map(|(start, words)| format!("{start} {}", words.join(" ")));
        proptest::test_runner::TestRunner::new(config)
            .run(&lines, |line| {
                if let Err(error) = parse(&line) {
                    prop_assert!(
                        !error.0.is_empty() && !error.0.contains('\n'),
                        "{line:?}: {error:?}"
                    );
                }
                Ok(())
            })
            .map_err(|failure| failure.to_string())
    }

    #[test]
    fn parses_or_says_what_was_expected_in_one_line() {
        check(parse).unwrap();
    }

    /// The property finds a parser that panics on one form with extra words, and
    /// one whose error spans two lines.
    #[test]
    fn the_property_catches_a_planted_panic_and_a_two_line_error() {
        fn panics(line: &str) -> Result<Option<Command>, ParseError> {
            if line.starts_with("wait term ") && line.split_whitespace().count() > 5 {
                panic!("planted");
            }
            parse(line)
        }
        fn two_lines(line: &str) -> Result<Option<Command>, ParseError> {
            parse(line).map_err(|error| ParseError(format!("{}\n(planted)", error.0)))
        }
        let failure = check(panics).unwrap_err();
        assert!(failure.contains("wait term"), "{failure}");
        let failure = check(two_lines).unwrap_err();
        assert!(failure.contains("planted"), "{failure}");
    }
}
