//! Every view is also JSON for tools, from the same data the colored text shows.

use raft_playground::Config;
use raft_playground::cli::Session;
use raft_playground::cli::parse;
use serde_json::Value;

fn run(session: &mut Session, line: &str) -> String {
    let command = parse(line).unwrap().unwrap();
    session.execute(command).unwrap().text
}

/// A scripted session of `nodes` nodes with `seed`, after running `lines`.
fn session_after(nodes: usize, seed: u64, lines: &[&str]) -> Session {
    let mut session = Session::scripted(Config::new(nodes).seed(seed));
    for line in lines {
        run(&mut session, line);
    }
    session
}

fn json(session: &mut Session, line: &str) -> Value {
    let text = run(session, line);
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("`{line}`: {error}: {text}"))
}

#[test]
fn every_view_has_a_json_form() {
    let mut session = session_after(
        3,
        1,
        &[
            "wait leader",
            "submit set color blue",
            "tick 1",
            "disconnect 3",
            "tick 2",
        ],
    );
    let status = json(&mut session, "status --json");
    let nodes = status["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    assert_eq!(
        nodes.iter().filter(|node| node["role"] == "leader").count(),
        1
    );
    assert_eq!(nodes[2]["connected"], false);
    assert_eq!(nodes[2]["links"].as_array().unwrap().len(), 0);
    let now = status["tick"].as_u64().unwrap();
    assert!(
        nodes
            .iter()
            .all(|node| node["timer_due"].as_u64().unwrap() > now)
    );

    let log = json(&mut session, "log leader --json");
    assert_eq!(log[0]["log"]["entries"][0]["command"], "set color blue");

    let kv = json(&mut session, "kv --json");
    assert_eq!(kv["map"]["color"], "blue");
    assert_eq!(kv["applied_index"], 1);

    let events = json(&mut session, "events 5 --json");
    assert_eq!(events.as_array().unwrap().len(), 5);
    assert!(events[0]["tick"].is_u64() && events[0]["kind"].is_string());

    let stats = json(&mut session, "stats --json");
    assert!(stats["messages_sent"].as_u64().unwrap() > 0);
    assert!(stats["bytes_sent"].as_u64().unwrap() > 0);

    let messages = json(&mut session, "messages --json");
    let in_flight = messages.as_array().unwrap();
    assert!(!in_flight.is_empty());
    assert!(in_flight[0]["envelope"]["message"].is_object());
}

#[test]
fn views_in_text_show_the_same_facts() {
    let mut session = Session::scripted(Config::new(3).seed(1));
    for line in ["wait leader", "submit set color blue", "tick 3", "crash 2"] {
        run(&mut session, line);
    }
    let status = run(&mut session, "status");
    assert!(
        status.contains("leader") && status.contains("down"),
        "{status}"
    );
    let log = run(&mut session, "log");
    assert!(log.contains("n2 down"), "{log}");
    assert!(
        !log.contains("set color blue"),
        "the grid alone shows terms: {log}"
    );
    let one = run(&mut session, "log 1");
    assert!(
        one.contains("t1  set color blue"),
        "one node's log lists its commands: {one}"
    );
    let events = run(&mut session, "events 50");
    assert!(
        !events.contains("sends #") && events.contains("becomes leader"),
        "routine traffic is left out by default: {events}"
    );
    let traffic = run(&mut session, "events 50 traffic");
    assert!(
        traffic.contains("sends #") && traffic.contains("receives #"),
        "{traffic}"
    );
    let kv = run(&mut session, "kv 1");
    assert!(kv.contains("color") && kv.contains("blue"), "{kv}");
    let help = run(&mut session, "help");
    for command in ["partition", "deliver", "autosnapshot", "expect"] {
        assert!(help.contains(command), "help lists {command}");
    }
    let detail = run(&mut session, "help wait");
    assert!(
        detail.contains("example: wait commit 3 on all within 100"),
        "{detail}"
    );
}

fn fails(session: &mut Session, line: &str) -> String {
    let command = parse(line).unwrap().unwrap();
    match session.execute(command) {
        Err(error) => error.to_string(),
        Ok(output) => panic!("`{line}` succeeded: {}", output.text),
    }
}

#[test]
fn deliver_says_what_really_happened_as_events_and_stats_do() {
    use raft_playground::cluster::lock;
    let mut session = Session::scripted(Config::new(3).seed(2));
    // n3 is down before n1 asks for votes, and n2 is cut off: neither request arrives.
    run(&mut session, "crash 3");
    run(&mut session, "timeout 1");
    run(&mut session, "disconnect 2");
    let ids: Vec<(u64, usize)> = lock(session.cluster())
        .in_flight()
        .iter()
        .map(|message| (message.id, message.envelope.to))
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    for (id, to) in ids {
        let text = run(&mut session, &format!("deliver {id}"));
        let reason = if to == 2 {
            "its link is cut"
        } else {
            "its recipient is down"
        };
        assert!(text.starts_with("dropped"), "{text}");
        assert!(text.contains(reason), "{text}");
        assert!(!text.contains("delivered"), "{text}");
    }
    let stats = json(&mut session, "stats --json");
    assert_eq!(stats["messages_delivered"], 0);
    assert_eq!(stats["messages_dropped"], 2);
    let events = run(&mut session, "events 3");
    assert!(
        events.contains("RequestVote to n2 dropped (link cut)"),
        "{events}"
    );
    assert!(
        events.contains("RequestVote to n3 dropped (node down)"),
        "{events}"
    );
}

#[test]
fn a_wait_shows_the_events_that_led_to_it_then_its_summary() {
    let mut session = Session::scripted(Config::new(3).seed(1));
    let text = run(&mut session, "wait leader");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 2, "{text}");
    assert!(
        lines[..lines.len() - 1]
            .iter()
            .any(|line| line.contains("becomes leader")),
        "{text}"
    );
    assert!(lines.last().unwrap().contains("leads term 1"), "{text}");
}

#[test]
fn a_failed_wait_still_shows_what_happened() {
    let mut session = Session::scripted(Config::new(3).seed(1));
    let ran = session.run(parse("wait commit 5 within 40").unwrap().unwrap());
    assert!(
        ran.news.iter().any(|line| line.contains("becomes leader")),
        "{:?}",
        ran.news
    );
    let error = ran.result.unwrap_err().to_string();
    assert!(error.contains("not reached within 40 ticks"), "{error}");
    let error = fails(&mut session, "wait commit 5 within 1");
    assert!(
        error.contains("within 1 tick "),
        "one tick, not `1 ticks`: {error}"
    );
}

#[test]
fn a_count_of_nodes_says_nodes_and_a_number_names_a_node() {
    let mut session = Session::scripted(Config::new(5).seed(3));
    run(&mut session, "wait leader");
    run(&mut session, "submit set x 1");
    run(&mut session, "wait commit 1 on all");
    run(&mut session, "crash 3");
    // `on 3` is n3, which is down: the wait cannot succeed on it.
    let error = fails(&mut session, "wait commit 1 on 3 within 20");
    assert!(
        error.contains("wait commit 1 on n3: not reached"),
        "{error}"
    );
    let text = run(&mut session, "wait commit 1 on 3 nodes within 20");
    assert!(text.contains("committed on 3 nodes"), "{text}");
    // More nodes than the cluster has: refused at once, no time passes.
    let before = run(&mut session, "digest");
    let error = fails(&mut session, "wait commit 1 on 9 nodes");
    assert!(error.contains("this cluster has 5 nodes"), "{error}");
    assert_eq!(run(&mut session, "digest"), before);
}

#[test]
fn small_things_say_what_they_mean() {
    let mut session = Session::scripted(Config::new(3).seed(4));
    let text = run(&mut session, "snapshot 1");
    assert!(text.contains("n1 has applied nothing yet"), "{text}");
    // A `cluster` line without a seed takes one derived from the session's seed.
    let seeds = |base| {
        let mut session = Session::scripted(Config::new(3).seed(base));
        [
            run(&mut session, "cluster 3"),
            run(&mut session, "cluster 3"),
        ]
    };
    let first = seeds(7);
    assert_eq!(first, seeds(7), "the same session seed, the same clusters");
    assert_ne!(first[0], first[1], "each cluster line its own seed");
    assert_ne!(first, seeds(8));
}

#[test]
fn kv_aligns_wide_keys() {
    use raft_playground::cli::visible_width;
    let mut session = Session::scripted(Config::new(3).seed(1));
    run(&mut session, "wait leader");
    run(&mut session, "submit set 键 1");
    run(&mut session, "submit set color 2");
    run(&mut session, "submit set 名前 3");
    run(&mut session, "tick 3");
    let text = run(&mut session, "kv");
    let columns: Vec<usize> = text
        .lines()
        .skip(2)
        .map(|line| visible_width(&line[..line.rfind(' ').unwrap() + 1]))
        .collect();
    assert_eq!(columns.len(), 3, "{text}");
    assert!(columns.windows(2).all(|pair| pair[0] == pair[1]), "{text}");
}
/// The views show what is beyond Lab 3: the switches that are on, learners, no-op and
/// configuration entries (in the log grid, in messages, and as JSON), and `members`.
#[test]
fn views_show_switches_learners_no_ops_and_configurations() {
    colored::control::set_override(false);
    let mut session = session_after(
        3,
        1,
        &[
            "set no-op on",
            "wait leader",
            "wait commit 1 on all",
            "add-node",
        ],
    );
    let status = run(&mut session, "status");
    assert!(status.contains("switches on: no-op"), "{status}");
    assert!(status.contains("n4    joining"), "{status}");
    run(&mut session, "tick 1");
    let messages = run(&mut session, "messages");
    assert!(
        messages.contains("(configuration voters 1,2,3 learners 4)"),
        "{messages}"
    );
    // n4 learns of its addition a few round trips later; before it is promoted, it
    // is a learner everywhere.
    let mut saw_learner = false;
    for _ in 0..20 {
        run(&mut session, "tick 1");
        let members = run(&mut session, "members");
        if members.contains("n4    learner") {
            saw_learner = true;
            assert!(members.contains("1,2,3   4"), "{members}");
            break;
        }
    }
    assert!(saw_learner, "n4 was never shown as a learner");
    run(&mut session, "wait members = 1,2,3,4 within 50");
    let grid = run(&mut session, "log");
    assert!(grid.contains("·1") && grid.contains("m1"), "{grid}");
    let log = json(&mut session, "log 1 --json");
    let entries = log[0]["log"]["entries"].as_array().unwrap();
    assert_eq!(entries[0]["kind"], "no_op", "{log}");
    assert!(entries[1]["kind"]["configuration"].is_object(), "{log}");
    // They carry no command, and the JSON does not pretend they carry an empty one.
    assert!(entries[0].get("command").is_none(), "{log}");
    assert!(entries[1].get("command").is_none(), "{log}");
    let members = json(&mut session, "members --json");
    assert!(
        members.to_string().contains("\"voters\":[1,2,3,4]"),
        "{members}"
    );
}

/// A follower its own configuration leaves out is shown for what it is: joining (just
/// added), leaving (its log removes it, not yet committed), or outside (the entry
/// adding it was lost from every log), and `status` says what to do about the last.
#[test]
fn views_tell_joining_leaving_and_outside_apart() {
    colored::control::set_override(false);
    let mut session = session_after(
        5,
        1,
        &[
            "wait leader",
            "expect leader 5",
            "submit set a 1",
            "wait commit 1 on all",
            "add-node",
        ],
    );
    let status = run(&mut session, "status");
    assert!(status.contains("n6    joining"), "{status}");
    assert!(!status.contains("outside"), "{status}");
    // Only n5 holds the entry adding n6; it crashes before sending it, and the next
    // leader's entry at that index replaces it on n5 too.
    for line in [
        "crash 5",
        "wait leader new",
        "restart 5",
        "submit set x 1",
        "wait applied 1,2,3,4,5 2",
    ] {
        run(&mut session, line);
    }
    let status = run(&mut session, "status");
    assert!(status.contains("n6    outside"), "{status}");
    assert!(
        status.contains(
            "n6 is outside: the entry adding it was lost (`remove-node 6` shuts it down)"
        ),
        "{status}"
    );
    assert!(run(&mut session, "members").contains("n6    outside"));
    let rows = json(&mut session, "status --json");
    let nodes = rows["nodes"].as_array().unwrap();
    assert_eq!(nodes[5]["in_no_configuration"], true, "{rows}");
    assert!(nodes[0].get("in_no_configuration").is_none(), "{rows}");
    run(&mut session, "remove-node 6");
    assert!(!run(&mut session, "status").contains("outside"));

    // A leader removes itself, but with n3 cut off the entry cannot commit; the
    // leader crashes and comes back a follower whose own log leaves it out: leaving.
    let mut session = session_after(
        3,
        1,
        &[
            "wait leader",
            "expect leader 1",
            "submit set a 1",
            "wait commit 1 on all",
            "disconnect 3",
            "remove-node 1",
            "tick 3",
            "crash 1",
            "restart 1",
        ],
    );
    let status = run(&mut session, "status");
    assert!(status.contains("n1    leaving"), "{status}");
    assert!(run(&mut session, "members").contains("n1    leaving   2,3"));
    assert!(!status.contains("outside"), "{status}");

    // The same, with every other node holding the removal too (the leader crashed
    // before their acknowledgements came back): no configuration names n1 now, but it
    // is leaving, not an addition that was lost.
    let mut session = session_after(
        3,
        1,
        &[
            "wait leader",
            "expect leader 1",
            "submit set a 1",
            "wait commit 1 on all",
            "remove-node 1",
            "flush 1",
            "deliver from 1 to 2,3 type AppendEntries",
            "crash 1",
            "restart 1",
            "expect members 2,3 = 2,3",
        ],
    );
    let status = run(&mut session, "status");
    assert!(status.contains("n1    leaving"), "{status}");
    assert!(!status.contains("outside"), "{status}");
}
