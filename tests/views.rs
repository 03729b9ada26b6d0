//! Every view is also JSON for tools, from the same data the colored text shows.

use raft_playground::Config;
use raft_playground::cli::Session;
use raft_playground::cli::parse;
use serde_json::Value;

fn run(session: &mut Session, line: &str) -> String {
    let command = parse(line).unwrap().unwrap();
    session.execute(command).unwrap().text
}

fn json(session: &mut Session, line: &str) -> Value {
    let text = run(session, line);
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("`{line}`: {error}: {text}"))
}

#[test]
fn every_view_has_a_json_form() {
    let mut session = Session::scripted(Config::new(3).seed(1));
    for line in [
        "wait leader",
        "submit set color blue",
        "tick 1",
        "disconnect 3",
        "tick 2",
    ] {
        run(&mut session, line);
    }
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
