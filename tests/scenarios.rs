//! The scenario scripts of the mechanisms beyond Lab 3 (`tests/scenarios/*.txt`),
//! written in the spirit of etcd raft's interaction tests (`prevote.txt`,
//! `checkquorum.txt`, `prevote_checkquorum.txt`, `confchange_v1_*.txt`): each sets
//! its switches, drives the cluster to the situation, and asserts etcd's essential
//! outcome with `expect` lines. Each runs through the real binary and must pass.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The scenario files, in name order.
fn scenarios() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/scenarios/ exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
        .collect();
    files.sort();
    files
}

/// Runs one script through the binary: (passed, everything it printed).
fn run(file: &Path) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_raft-playground"))
        .env("NO_COLOR", "1")
        .arg("run")
        .arg(file)
        .output()
        .expect("the binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn every_scenario_passes_through_the_binary() {
    let files = scenarios();
    let names: Vec<String> = files
        .iter()
        .filter_map(|file| file.file_stem()?.to_str().map(str::to_string))
        .collect();
    for wanted in [
        "prevote",
        "checkquorum",
        "prevote_checkquorum",
        "confchange_add_single",
        "confchange_remove_leader",
        "transfer",
        "no_op",
    ] {
        assert!(
            names.iter().any(|name| name == wanted),
            "missing scenario {wanted}.txt among {names:?}"
        );
    }
    for file in files {
        let (passed, text) = run(&file);
        assert!(passed, "{} failed:\n{text}", file.display());
        assert!(
            text.contains("✓"),
            "{} asserts nothing:\n{text}",
            file.display()
        );
        assert!(!text.contains("VIOLATION"), "{}:\n{text}", file.display());
    }
}

/// The scenarios are not vacuous: the outcome each asserts is exactly what the
/// same script gets wrong with its switch off (a planted wrong expectation would
/// be caught the same way).
#[test]
fn without_their_switches_the_scenarios_fail() {
    for name in ["prevote", "checkquorum", "prevote_checkquorum", "no_op"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/scenarios")
            .join(format!("{name}.txt"));
        let text = std::fs::read_to_string(&path).expect("the scenario is readable");
        let switched_off: String = text
            .lines()
            .map(|line| {
                if ["set pre-vote on", "set check-quorum on", "set no-op on"]
                    .iter()
                    .any(|switch| line.starts_with(switch))
                {
                    line.replace(" on", " off")
                } else {
                    line.to_string()
                }
            })
            .map(|line| line + "\n")
            .collect();
        let dir = std::env::temp_dir().join(format!("raft-scenarios-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let off = dir.join(format!("{name}-off.txt"));
        std::fs::write(&off, switched_off).expect("the script is written");
        let (passed, text) = run(&off);
        assert!(!passed, "{name} passes with its switches off:\n{text}");
    }
}
