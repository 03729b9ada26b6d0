//! The core alone, without threads or channels: one leader's propose → persist →
//! send cycle, with the followers' acknowledgements, commit and apply, for commands
//! of 16 B, 1 KiB and 64 KiB, and on a long log that is never compacted. A regression here is in `src/raft/`; one that shows
//! only in `benches/workloads.rs` is in the runtime.
//!
//! Run with `cargo bench --bench core`.

use std::sync::Arc;

use divan::Bencher;
use divan::counter::BytesCount;
use raft_playground::raft::{
    AppendOutcome, Command, Envelope, Message, Node, PersistentState, RaftConfig, Ready,
};

fn main() {
    divan::main();
}

/// A leader of term 1 in a three-node cluster, both followers replicating.
fn leader() -> (Node, PersistentState) {
    let mut node = Node::new(1, vec![1, 2, 3], RaftConfig::default(), 1);
    let mut storage = PersistentState::default();
    assert!(node.timeout_now());
    storage.persist(&node.ready());
    node.step(Envelope {
        from: 2,
        to: 1,
        term: 1,
        message: Message::RequestVoteReply { vote_granted: true },
    });
    storage.persist(&node.ready());
    for follower in [2, 3] {
        node.step(ack(follower, 0));
    }
    storage.persist(&node.ready());
    (node, storage)
}

/// A follower's acknowledgement of everything through `match_index`.
fn ack(from: usize, match_index: u64) -> Envelope {
    Envelope {
        from,
        to: 1,
        term: 1,
        message: Message::AppendEntriesReply {
            prev_log_index: match_index,
            outcome: AppendOutcome::Accepted { match_index },
        },
    }
}

/// One command through the leader: propose, persist and send, acknowledge, commit
/// and apply. Returns the index and the last output.
fn cycle(node: &mut Node, storage: &mut PersistentState, command: &str) -> (u64, Ready) {
    let index = node.propose(Command::from(command)).expect("leader").index;
    let ready = node.ready();
    storage.persist(&ready);
    assert_eq!(ready.messages.len(), 2, "one AppendEntries per follower");
    for follower in [2, 3] {
        node.step(ack(follower, index));
    }
    let ready = node.ready();
    storage.persist(&ready);
    assert_eq!(ready.committed.len(), 1);
    (index, ready)
}

/// One command through the leader (see [`cycle`]); a snapshot every 1000 entries
/// keeps the log short.
#[divan::bench(args = [16, 1024, 65536])]
fn propose_persist_send(bencher: Bencher, size: usize) {
    let (mut node, mut storage) = leader();
    let payload = "x".repeat(size);
    let snapshot: Arc<[u8]> = Arc::from(&b"{}"[..]);
    bencher.counter(BytesCount::new(size)).bench_local(|| {
        let (index, ready) = cycle(&mut node, &mut storage, &payload);
        if index % 1000 == 0 {
            node.snapshot(index, snapshot.clone()).expect("applied");
            storage.persist(&node.ready());
        }
        ready
    });
}

/// The same cycle with 16-byte commands on a log of 200,000 entries or more that is
/// never compacted: persisting keeps a clone of the core's log, which shares its
/// storage, so the cost must not grow with the log.
#[divan::bench]
fn propose_persist_send_long_log(bencher: Bencher) {
    let (mut node, mut storage) = leader();
    let payload = "x".repeat(16);
    for _ in 0..200_000 {
        cycle(&mut node, &mut storage, &payload);
    }
    bencher
        .counter(BytesCount::new(16usize))
        .bench_local(|| cycle(&mut node, &mut storage, &payload).1);
}
