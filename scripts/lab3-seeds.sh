#!/usr/bin/env bash
# Runs the lab's scenarios (tests/lab3.rs) under many seed offsets and reports which
# failed. Every lab test takes its seed from a fixed base shifted by LAB3_SEED_OFFSET,
# so one offset is one more schedule of the whole suite (or of one test with --test).
# This is how rare liveness flakes are measured; CI's `cargo test` runs offset 0 only.
#
#   scripts/lab3-seeds.sh [--test NAME] [--from K] [--to K] [--jobs N] [--out DIR]
#
#   --test NAME  only the lab test NAME (exact name, e.g. figure8_unreliable);
#                default: all 28
#   --from K     first offset (default 0)
#   --to K       one past the last offset (default 1000)
#   --jobs N     offsets run at once (default 1; each run starts a cluster of threads)
#   --out DIR    where the output of failed offsets is kept (default target/lab3-seeds)
#
# It prints one line per failed offset and a summary; it exits 1 if any failed. A
# failure replays exactly with
#   LAB3_SEED_OFFSET=K cargo test --release --test lab3 -- NAME --exact
set -euo pipefail

test_name=""
from=0
to=1000
jobs=1
out="target/lab3-seeds"
while [ $# -gt 0 ]; do
    case "$1" in
        --test) test_name="$2"; shift 2 ;;
        --from) from="$2"; shift 2 ;;
        --to) to="$2"; shift 2 ;;
        --jobs) jobs="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        *) echo "unknown argument: $1 (see the comment at the top of $0)" >&2; exit 2 ;;
    esac
done

cd "$(dirname "$0")/.."
# Build once, then run the test binary directly: cargo's own start-up would cost
# more than a run of one test.
binary=$(cargo test --release --test lab3 --no-run --message-format=json 2>/dev/null |
    jq -r 'select(.reason == "compiler-artifact" and .target.name == "lab3") | .executable // empty' |
    tail -n 1)
if [ -z "$binary" ] || [ ! -x "$binary" ]; then
    echo "could not build the lab3 test binary" >&2
    exit 2
fi
mkdir -p "$out"

filter=()
if [ -n "$test_name" ]; then
    filter=("$test_name" --exact)
fi

run_one() {
    local offset="$1"
    local log="$out/offset-$offset.txt"
    if LAB3_SEED_OFFSET="$offset" "$binary" "${filter[@]}" >"$log" 2>&1; then
        rm -f "$log"
    else
        echo "FAIL offset $offset ($log)"
    fi
}
export -f run_one
export binary out
export filter_text="${filter[*]}"

failed=$(seq "$from" $((to - 1)) |
    xargs -P "$jobs" -I{} bash -c 'filter=($filter_text); run_one {}' | tee /dev/stderr | wc -l)
total=$((to - from))
echo "lab3 ${test_name:-all tests}: offsets $from..$((to - 1)): $failed of $total failed"
[ "$failed" -eq 0 ]
