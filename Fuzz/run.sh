#!/usr/bin/env bash
# Builds the libFuzzer targets (Swift's -sanitize=fuzzer with AddressSanitizer, this package only) and runs each
# for at least a number of seconds AND at least a number of executions, from a fixed seed, starting from the
# committed corpus.
#
#   Fuzz/run.sh [-n RUNS] [-t SECONDS] [-s SEED] [-B] [-m] [TARGET...]
#
#   -n RUNS     at least this many executions (default 1,000,000)
#   -t SECONDS  at least this long (default 600); -t 0 stops at RUNS
#   -s SEED     libFuzzer's -seed (default 1)
#   -B          do not build (use the binaries already built)
#   -m          minimise instead of fuzzing: merge Fuzz/Corpus/TARGET and Fuzz/.work/TARGET (libFuzzer -merge=1:
#               a smallest set with the same coverage), then commit to Fuzz/Corpus/TARGET its current files plus
#               the smallest inputs of that set, up to KB kilobytes in all
#   -k KB       the size cap for -m (default 24)
#   TARGET      pickle zip onnx age age-armor safetensors model-config csv oip ckks signed-note model-signing
#               hdf5 (default: all)
#
# New inputs go to a scratch corpus (Fuzz/.work/TARGET), never into Fuzz/Corpus; a crash, leak, timeout (10 s per
# input) or RSS past 2 GiB stops the run with its input saved as Fuzz/.work/TARGET-crash-* and a non-zero exit.
# To keep a found input as a regression seed, copy it into Fuzz/Corpus/TARGET (the main test suites replay it).
# A target that has not reached RUNS executions when SECONDS are up runs on (same scratch corpus) until it has.
# Each target's log is Fuzz/.work/TARGET.log; the summary line gives executions, seconds, exec/s and libFuzzer's
# final `cov:` (edges) and `ft:` (features).
set -euo pipefail
cd "$(dirname "$0")"
runs=1000000 seed=1 seconds=600 build=1 merge=0 kilobytes=24
while getopts "n:s:t:Bmk:" option; do
    case $option in
    n) runs=$OPTARG ;;
    s) seed=$OPTARG ;;
    t) seconds=$OPTARG ;;
    B) build=0 ;;
    m) merge=1 ;;
    k) kilobytes=$OPTARG ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(pickle zip onnx age age-armor safetensors model-config csv oip ckks signed-note
    model-signing hdf5)
flags=(-c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -g)
if [ $build = 1 ]; then for target in "${targets[@]}"; do swift build "${flags[@]}" --product "fuzz-$target"; done; fi
# (-B: the path without asking SwiftPM, which would wait for another build's lock.)
if [ $build = 1 ]; then bin=$(swift build "${flags[@]}" --show-bin-path); else bin=.build/release; fi
options=(-timeout=10 -rss_limit_mb=2048 -max_len=65536)
status=0
for target in "${targets[@]}"; do
    mkdir -p ".work/$target"
    if [ $merge = 1 ]; then
        # The committed corpus stays small: its seeds, then the smallest inputs of the -merge=1 minimised set
        # (seeds and scratch inputs) up to KB kilobytes in all.
        rm -rf ".work/$target.merged" ".work/$target.new" && mkdir ".work/$target.merged"
        "$bin/fuzz-$target" -merge=1 "${options[@]}" ".work/$target.merged" "Corpus/$target" ".work/$target" \
            2>".work/$target.merge.log"
        cp -r "Corpus/$target" ".work/$target.new"
        total=$(cat ".work/$target.new"/* | wc -c)
        for file in $(ls -Sr ".work/$target.merged"); do
            size=$(wc -c <".work/$target.merged/$file")
            [ $((total + size)) -le $((kilobytes * 1024)) ] || break
            # (libFuzzer names an input by its SHA-1: a seed kept under its own name is not added twice.)
            if ! sha1sum ".work/$target.new"/* | grep -q "^$file "; then
                cp ".work/$target.merged/$file" ".work/$target.new/" && total=$((total + size))
            fi
        done
        echo "== fuzz-$target: minimised $(ls ".work/$target.merged" | wc -l) inputs;" \
            "committed $(ls ".work/$target.new" | wc -l) files, $total bytes"
        rm -rf "Corpus/$target" && mv ".work/$target.new" "Corpus/$target"
        continue
    fi
    echo "== fuzz-$target: at least $runs runs and $seconds s, seed $seed"
    start=$(date +%s) done=0 pass=0
    : >".work/$target.log"
    while :; do
        pass=$((pass + 1))
        if [ $pass = 1 ] && [ "$seconds" -gt 0 ]; then limit=(-runs=-1 -max_total_time="$seconds"); else
            limit=(-runs=$((runs - done)))
        fi
        if ! "$bin/fuzz-$target" "${limit[@]}" -seed="$seed" "${options[@]}" -print_final_stats=1 \
            -artifact_prefix=".work/$target-" ".work/$target" "Corpus/$target" 2>>".work/$target.log"; then
            status=1
            echo "   FAILED: see Fuzz/.work/$target.log"
            break
        fi
        done=$((done + $(grep -E "^stat::number_of_executed_units" ".work/$target.log" | tail -1 | awk '{print $2}')))
        [ $done -lt "$runs" ] || break
    done
    elapsed=$(($(date +%s) - start))
    coverage=$(grep -oE "cov: [0-9]+ ft: [0-9]+" ".work/$target.log" | tail -1)
    rss=$(grep -E "^stat::peak_rss_mb" ".work/$target.log" | awk '{print $2}' | sort -n | tail -1)
    echo "   $done executions in $elapsed s ($((done / (elapsed > 0 ? elapsed : 1))) exec/s), $coverage," \
        "peak RSS ${rss:-?} MB"
done
exit $status
