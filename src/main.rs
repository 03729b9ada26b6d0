//! The `raft-playground` binary: see the crate documentation and `--help`.

fn main() -> std::process::ExitCode {
    raft_playground::cli::main()
}
