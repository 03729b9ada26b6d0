//! The one executor: runs a parsed [`Command`] on a (locked) cluster and says what
//! happened, for the prompt and for scripts alike. Time and the session's own
//! settings are the session's ([`super::session`]).
//!
//! A command that changes the cluster becomes [`crate::cluster::Action`]s
//! ([`super::actions`]), each applied through the cluster's one `apply`. Every
//! command resolves and validates all of its arguments before it changes anything,
//! so a bad line leaves the cluster exactly as it was.

use colored::Colorize;

use super::actions::{self, ClusterTargets, actions_of};
use super::command::Command;
use super::error::ExecError;
use super::expect::expect;
use super::session::Output;
use super::views;
use crate::cluster::Cluster;

/// Everything but time and the session's own settings: runs on a locked cluster.
/// `running` is the free-running clock's state, if there is a clock.
pub fn execute_on(
    cluster: &mut Cluster,
    command: Command,
    running: Option<bool>,
) -> Result<Output, ExecError> {
    if let Some(resolved) = actions_of(&command, &ClusterTargets(cluster)) {
        let actions = resolved.map_err(ExecError::Invalid)?;
        if command == Command::DeliverAll && actions.is_empty() {
            return Ok(Output::text("no messages in flight".dimmed().to_string()));
        }
        return actions::run(cluster, &actions).map(Output::text);
    }
    let text = match command {
        Command::Status { json } => views::status(cluster, json, running),
        Command::Log { nodes, json } => views::log(cluster, nodes.as_deref(), json)?,
        Command::Kv { node, json } => views::kv(cluster, node.as_deref(), json)?,
        Command::Events {
            count,
            traffic,
            json,
        } => views::events(cluster, count, traffic, json),
        Command::Stats { json } => views::stats(cluster, json),
        Command::Messages { json } => views::messages(cluster, json),
        Command::Digest { json } => views::digest(cluster, json),
        Command::Expect(expectation) => expect(cluster, &expectation)?,
        Command::Act(_)
        | Command::Submit { .. }
        | Command::Crash(_)
        | Command::Restart(_)
        | Command::Disconnect(_)
        | Command::Connect(_)
        | Command::Partition(_)
        | Command::Snapshot(_)
        | Command::Timeout(_)
        | Command::DeliverAll => unreachable!("commands that change the cluster are actions"),
        Command::Help(_)
        | Command::Quit
        | Command::Cluster { .. }
        | Command::Pause
        | Command::Resume
        | Command::Speed(_)
        | Command::Export { .. }
        | Command::Wait { .. } => unreachable!("the session handles these itself"),
    };
    Ok(Output::text(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::render;
    use crate::cluster::Config;

    #[test]
    fn the_digest_view_and_expect_digest() {
        use super::super::command::Expectation;
        let mut cluster = Cluster::new(Config::new(3).seed(1));
        cluster.tick(30);
        let digest = cluster.history_digest();
        let shown = |cluster: &mut Cluster, json| {
            execute_on(cluster, Command::Digest { json }, None)
                .unwrap()
                .text
        };
        let text = render::with_colors(|| shown(&mut cluster, false));
        assert!(text.contains(&format!("{digest:016x}")), "{text}");
        let json: serde_json::Value = serde_json::from_str(&shown(&mut cluster, true)).unwrap();
        assert_eq!(json["digest"], format!("{digest:016x}"));
        assert_eq!(json["tick"], 30);
        let expect = |cluster: &mut Cluster, wanted| {
            execute_on(cluster, Command::Expect(Expectation::Digest(wanted)), None)
        };
        assert!(expect(&mut cluster, digest).is_ok());
        match expect(&mut cluster, digest ^ 1) {
            Err(ExecError::Failed(text)) => {
                assert!(text.contains("the history differs"), "{text}");
            }
            other => panic!("a wrong digest was accepted: {other:?}"),
        }
    }
}
