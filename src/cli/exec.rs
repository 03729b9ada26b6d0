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
use super::stepping;
use super::views;
use crate::cluster::Cluster;

/// What views need to know about where they are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ViewContext {
    /// The free-running clock's state, if there is a clock.
    pub running: Option<bool>,
    /// The columns to fit: the terminal's width at the prompt, 80 elsewhere (so a
    /// script's transcript is the same on every machine).
    pub width: usize,
}

impl Default for ViewContext {
    fn default() -> ViewContext {
        ViewContext {
            running: None,
            width: 80,
        }
    }
}

/// Everything but time and the session's own settings: runs on a locked cluster.
pub fn execute_on(
    cluster: &mut Cluster,
    command: Command,
    context: &ViewContext,
) -> Result<Output, ExecError> {
    if let Some(resolved) = actions_of(&command, &ClusterTargets(cluster)) {
        let actions = resolved.map_err(ExecError::Invalid)?;
        if let Command::Deliver(filter) | Command::DropMessages(filter) = &command
            && actions.is_empty()
        {
            // Nothing picked is an answer, not an error: a script may step on.
            let text = if filter.is_all() {
                "no messages in flight".to_string()
            } else {
                format!("no message in flight matches `{filter}`")
            };
            return Ok(Output::text(text.dimmed().to_string()));
        }
        return actions::run(cluster, &actions).map(Output::text);
    }
    let text = match command {
        Command::Status { json } => views::status(cluster, json, context.running, context.width),
        Command::Log { nodes, range, json } => {
            views::log(cluster, nodes.as_deref(), range, json, context.width)?
        }
        Command::Kv { node, json } => views::kv(cluster, node.as_deref(), json)?,
        Command::Events {
            count,
            traffic,
            json,
        } => views::events(cluster, count, traffic, json),
        Command::Stats { json } => views::stats(cluster, json),
        Command::Messages { json } => views::messages(cluster, json),
        Command::Digest { json } => views::digest(cluster, json),
        Command::Timeline { ticks, nodes, json } => {
            views::timeline(cluster, ticks, nodes.as_deref(), json)?
        }
        Command::Rules { json } => views::rules(cluster, json),
        Command::Members { nodes, json } => views::members(cluster, nodes.as_deref(), json)?,
        Command::Expect(expectation) => expect(cluster, &expectation)?,
        Command::Stabilize(nodes) => stepping::stabilize(cluster, nodes.as_deref())?,
        Command::Progress { leader, json } => views::progress(cluster, leader.as_deref(), json)?,
        Command::Act(_)
        | Command::Submit { .. }
        | Command::Crash(_)
        | Command::Restart(_)
        | Command::Disconnect(_)
        | Command::Connect(_)
        | Command::Partition(_)
        | Command::Snapshot { .. }
        | Command::Timeout(_)
        | Command::Heartbeat(_)
        | Command::Flush(_)
        | Command::Transfer { .. }
        | Command::AddNode { .. }
        | Command::RemoveNode { .. }
        | Command::Deliver(_)
        | Command::DropMessages(_) => {
            unreachable!("commands that change the cluster are actions")
        }
        Command::Help(_)
        | Command::Quit
        | Command::Source(_)
        | Command::Cluster { .. }
        | Command::Pause
        | Command::Resume
        | Command::Speed(_)
        | Command::Export { .. }
        | Command::Search(_)
        | Command::Wait { .. }
        | Command::Undo(_)
        | Command::Rewind(_)
        | Command::Goto(_)
        | Command::Save(_) => unreachable!("the session handles these itself"),
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
            execute_on(cluster, Command::Digest { json }, &ViewContext::default())
                .unwrap()
                .text
        };
        let text = render::with_colors(|| shown(&mut cluster, false));
        assert!(text.contains(&format!("{digest:016x}")), "{text}");
        let json: serde_json::Value = serde_json::from_str(&shown(&mut cluster, true)).unwrap();
        assert_eq!(json["digest"], format!("{digest:016x}"));
        assert_eq!(json["tick"], 30);
        let expect = |cluster: &mut Cluster, wanted| {
            execute_on(
                cluster,
                Command::Expect(Expectation::Digest(wanted)),
                &ViewContext::default(),
            )
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
