#!/usr/bin/env bash
# Builds the libFuzzer targets (Swift's -sanitize=fuzzer with AddressSanitizer, this package only) and runs each
# for a fixed number of executions from a fixed seed, starting from the committed corpus.
#
#   Fuzz/run.sh [-n RUNS] [-s SEED] [-t MAX_SECONDS] [TARGET...]      TARGET: pickle zip onnx age (default: all)
#
# New inputs go to a scratch corpus (Fuzz/.work/TARGET), never into Fuzz/Corpus; a crash, leak, timeout (10 s per
# input) or RSS past 2 GiB stops the run with its input saved as Fuzz/.work/TARGET-crash-* and a non-zero exit.
# To keep a found input as a regression seed, copy it into Fuzz/Corpus/TARGET (the main test suites replay it).
set -euo pipefail
cd "$(dirname "$0")"
runs=1000000 seed=1 seconds=0
while getopts "n:s:t:" option; do
    case $option in
    n) runs=$OPTARG ;;
    s) seed=$OPTARG ;;
    t) seconds=$OPTARG ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(pickle zip onnx age)
flags=(-c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -g)
for target in "${targets[@]}"; do swift build "${flags[@]}" --product "fuzz-$target"; done
bin=$(swift build "${flags[@]}" --show-bin-path)
status=0
for target in "${targets[@]}"; do
    mkdir -p ".work/$target"
    echo "== fuzz-$target: $runs runs, seed $seed"
    start=$(date +%s)
    if ! "$bin/fuzz-$target" -runs="$runs" -seed="$seed" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix=".work/$target-" \
        ".work/$target" "Corpus/$target" 2>".work/$target.log"; then
        status=1
        echo "   FAILED: see Fuzz/.work/$target.log"
    fi
    grep -E "^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|cov:" ".work/$target.log" | tail -4 || true
    echo "   $(($(date +%s) - start)) s"
done
exit $status
