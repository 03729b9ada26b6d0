//! The views (`status`, `log`, `kv`, `events`, `stats`, `messages`, `digest`): each
//! gathers its data from the cluster once and renders it as colored text or as JSON.

use std::collections::BTreeMap;

use colored::Colorize;
use serde::Serialize;

use super::command::Target;
use super::error::ExecError;
use super::grid;
use super::render;
use super::target::{names, no_leader, resolve, resolve_one};
use crate::cluster::router::Stats;
use crate::cluster::{Cluster, NodeStatus, TraceEvent};
use crate::raft::{Configuration, Feature, Index, Membership, NodeId, Rule};

/// `timeline [TICKS] [NODES]`: a space-time diagram of the recent past (see
/// [`super::timeline`]); as JSON, its rows.
pub fn timeline(
    cluster: &Cluster,
    ticks: Option<u64>,
    nodes: Option<&[Target]>,
    json: bool,
) -> Result<String, ExecError> {
    let nodes = match nodes {
        Some(targets) => resolve(cluster, targets)?,
        None => (1..=cluster.size()).collect(),
    };
    let ticks = ticks.unwrap_or(super::timeline::DEFAULT_TICKS);
    let timeline = super::timeline::timeline(cluster, ticks, &nodes);
    Ok(if json {
        render::json(&timeline)
    } else {
        super::timeline::draw(&timeline)
    })
}

/// `status`: every node's role, term, vote, leader, indexes, up/down and links.
/// `running` is the free-running clock's state, if there is a clock.
pub fn status(cluster: &Cluster, json: bool, running: Option<bool>, width: usize) -> String {
    let members = cluster.nodes();
    let rows: Vec<render::StatusRow> = members
        .iter()
        .map(|&id| render::StatusRow {
            status: cluster.status(id),
            links: members
                .iter()
                .copied()
                .filter(|&other| other != id && cluster.linked(id, other))
                .collect(),
        })
        .collect();
    let broken: Vec<&str> = cluster.broken_rules().iter().map(Rule::name).collect();
    let switches = cluster.raft_config().features.on();
    if json {
        #[derive(Serialize)]
        struct StatusView<'a> {
            tick: u64,
            // Only while some rule is broken on purpose: a Raft cluster's status is
            // the same document it always was.
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            broken_rules: &'a [&'a str],
            /// The mechanisms beyond Lab 3 that are switched on.
            switches: &'a [Feature],
            nodes: &'a [render::StatusRow],
        }
        render::json(&StatusView {
            tick: cluster.now(),
            broken_rules: &broken,
            switches: &switches,
            nodes: &rows,
        })
    } else {
        let table =
            render::status_table(&rows, cluster.now(), running.map(|running| !running), width);
        let table = match render::switches_line(&switches) {
            Some(line) => format!("{line}\n{table}"),
            None => table,
        };
        // A node no configuration names would otherwise wait forever, unexplained.
        let lost: Vec<NodeId> = rows
            .iter()
            .filter(|row| row.status.in_no_configuration)
            .map(|row| row.status.id)
            .collect();
        let table = match lost.as_slice() {
            [] => table,
            [one] => format!(
                "{table}\nn{one} is outside: the entry adding it was lost (`remove-node {one}` shuts it down)"
            ),
            _ => format!(
                "{table}\n{} are outside: the entries adding them were lost (see `remove-node`)",
                names(&lost)
            ),
        };
        if broken.is_empty() {
            table
        } else {
            // Prominent: a cluster with a rule broken on purpose is not Raft.
            let banner = format!(
                "RULES BROKEN ON PURPOSE: {} (`mend all` restores them)",
                broken.join(", ")
            );
            format!("{}\n{table}", banner.red().bold())
        }
    }
}

/// `rules`: every rule that can be broken, what breaking it does, and which are
/// broken now.
pub fn rules(cluster: &Cluster, json: bool) -> String {
    let broken = cluster.broken_rules();
    if json {
        #[derive(Serialize)]
        struct RuleView {
            name: &'static str,
            description: &'static str,
            broken: bool,
        }
        let rules: Vec<RuleView> = Rule::ALL
            .iter()
            .map(|&rule| RuleView {
                name: rule.name(),
                description: rule.description(),
                broken: broken.contains(rule),
            })
            .collect();
        return render::json(&rules);
    }
    let rows: Vec<Vec<String>> = Rule::ALL
        .iter()
        .map(|&rule| {
            let state = if broken.contains(rule) {
                "BROKEN".red().bold().to_string()
            } else {
                "holds".green().to_string()
            };
            vec![
                rule.name().bold().to_string(),
                state,
                rule.description().to_string(),
            ]
        })
        .collect();
    let hint = "`break RULE` breaks one on every node, `mend RULE` or `mend all` restores; `search` finds what goes wrong"
        .dimmed();
    format!(
        "{}\n{hint}",
        render::table(&["rule", "now", "breaking it means"], &rows)
    )
}

/// `members [NODES]`: the configuration each node uses (voters and learners) and the
/// index of the entry that set it (all members by default). A down node shows what
/// it persisted.
pub fn members(
    cluster: &Cluster,
    nodes: Option<&[Target]>,
    json: bool,
) -> Result<String, ExecError> {
    let nodes = match nodes {
        Some(targets) => resolve(cluster, targets)?,
        None => cluster.nodes(),
    };
    let rows: Vec<NodeStatus> = nodes.iter().map(|&id| cluster.status(id)).collect();
    Ok(if json {
        #[derive(Serialize)]
        struct MembersRow<'a> {
            node: NodeId,
            membership: Membership,
            #[serde(flatten)]
            configuration: &'a Configuration,
            index: Index,
        }
        let rows: Vec<MembersRow> = rows
            .iter()
            .map(|status| MembersRow {
                node: status.id,
                membership: status.membership,
                configuration: &status.configuration,
                index: status.configuration_index,
            })
            .collect();
        render::json(&rows)
    } else {
        render::members_table(&rows)
    })
}

/// `log [NODES]`: the logs side by side (all nodes by default). A down node shows
/// what it persisted.
pub fn log(
    cluster: &mut Cluster,
    nodes: Option<&[Target]>,
    range: Option<(u64, u64)>,
    json: bool,
    width: usize,
) -> Result<String, ExecError> {
    let nodes = match nodes {
        Some(targets) => resolve(cluster, targets)?,
        None => cluster.nodes(),
    };
    let mut rows = Vec::new();
    for id in nodes {
        let status = cluster.status(id);
        let log = if status.up {
            cluster.inspect(id)?.log
        } else {
            cluster.persisted_log(id)?
        };
        rows.push(grid::LogRow { status, log });
    }
    Ok(if json {
        render::json(&rows)
    } else {
        grid::log_grid(&rows, range, width)
    })
}

/// `kv [NODE]`: one node's state machine (the leader's, else the first up node's).
pub fn kv(cluster: &mut Cluster, node: Option<&[Target]>, json: bool) -> Result<String, ExecError> {
    let id = match node {
        Some(targets) => resolve_one(cluster, targets)?,
        None => cluster
            .leader()
            .or_else(|| cluster.nodes().into_iter().find(|&id| cluster.is_up(id)))
            .ok_or_else(|| ExecError::Invalid("every node is down".into()))?,
    };
    let view = cluster.inspect(id)?;
    let map = view.kv.entries();
    Ok(if json {
        #[derive(Serialize)]
        struct KvView {
            node: NodeId,
            applied_index: u64,
            map: BTreeMap<String, String>,
        }
        render::json(&KvView {
            node: id,
            applied_index: view.kv.applied_index(),
            map,
        })
    } else {
        render::kv_view(id, view.kv.applied_index(), &map)
    })
}

/// `events [N] [traffic]`: the last N trace events, one line each.
/// Without `traffic`, messages sent and delivered are left out (drops stay: they
/// change what happens next).
pub fn events(cluster: &Cluster, count: usize, traffic: bool, json: bool) -> String {
    let mut events: Vec<TraceEvent> = cluster
        .events(usize::MAX)
        .into_iter()
        .rev()
        .filter(|event| traffic || !render::is_traffic(&event.kind))
        .take(count)
        .collect();
    events.reverse();
    if json {
        render::json(&events)
    } else if events.is_empty() {
        "nothing has happened yet".dimmed().to_string()
    } else {
        events
            .iter()
            .map(render::event_line)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// `stats`: the network's counters.
pub fn stats(cluster: &Cluster, json: bool) -> String {
    let stats = cluster.stats();
    let in_flight = cluster.in_flight().len();
    if json {
        #[derive(Serialize)]
        struct StatsView {
            #[serde(flatten)]
            stats: Stats,
            messages_in_flight: usize,
        }
        render::json(&StatsView {
            stats,
            messages_in_flight: in_flight,
        })
    } else {
        render::stats_view(&stats, in_flight)
    }
}

/// `messages`: what is in flight, with ids for `deliver` and `drop-msg`.
pub fn messages(cluster: &Cluster, json: bool) -> String {
    let messages = cluster.in_flight();
    if json {
        render::json(&messages)
    } else {
        render::messages_view(&messages, cluster.now())
    }
}

/// `digest`: the history digest, which two runs share exactly when every event of
/// their histories is the same (`expect digest` checks it).
pub fn digest(cluster: &Cluster, json: bool) -> String {
    let digest = format!("{:016x}", cluster.history_digest());
    if json {
        #[derive(Serialize)]
        struct DigestView {
            digest: String,
            events: u64,
            tick: u64,
        }
        render::json(&DigestView {
            digest,
            events: cluster.event_count(),
            tick: cluster.now(),
        })
    } else {
        format!(
            "history digest {} ({} events through tick {})",
            digest.bold(),
            cluster.event_count(),
            cluster.now()
        )
    }
}

/// `progress [LEADER]`: a leader's view of each follower (Figure 2 `nextIndex` and
/// `matchIndex`, and how it replicates to it: probe, replicate or snapshot).
pub fn progress(
    cluster: &mut Cluster,
    leader: Option<&[Target]>,
    json: bool,
) -> Result<String, ExecError> {
    let leader = match leader {
        Some(targets) => resolve_one(cluster, targets)?,
        None => cluster.leader().ok_or_else(no_leader)?,
    };
    let term = cluster.status(leader).term;
    let Some(progress) = cluster.progress(leader)? else {
        return Err(ExecError::Invalid(format!(
            "n{leader} does not lead: only a leader tracks its followers"
        )));
    };
    if json {
        #[derive(Serialize)]
        struct FollowerView {
            node: NodeId,
            #[serde(flatten)]
            view: crate::raft::ProgressView,
        }
        #[derive(Serialize)]
        struct ProgressJson {
            leader: NodeId,
            term: u64,
            followers: Vec<FollowerView>,
        }
        return Ok(render::json(&ProgressJson {
            leader,
            term,
            followers: progress
                .into_iter()
                .map(|(node, view)| FollowerView { node, view })
                .collect(),
        }));
    }
    let rows: Vec<Vec<String>> = progress
        .iter()
        .map(|(&node, view)| {
            vec![
                format!("n{node}"),
                view.state.to_string(),
                view.match_index.to_string(),
                view.next_index.to_string(),
            ]
        })
        .collect();
    let title = format!("n{leader} leads term {term}; its view of each follower:");
    Ok(format!(
        "{}\n{}",
        title.dimmed(),
        render::table(&["follower", "state", "match", "next"], &rows)
    ))
}
