#!/usr/bin/env python3
"""Finds async functions whose code touches their async context past the size they allocate for it.

Swift 6.3.1's optimiser sized some coroutine frames too small when they held a 32-byte SIMD vector across an
`await` (see ARCHITECTURE.md, "Tests and CI"); the result was heap corruption in the release test build. This reads
LLVM IR (emit it with the module's release compile command plus `-emit-ir -o FILE.ll`, taken from
`.build/release.yaml`) and compares each async function's context size (the second field of its
`swift.async_func_pointer`, symbol suffix `Tu`) with the largest constant offset its entry and resume functions
(`TY<n>_`, `TQ<n>_`) use on that context. Prints one line per overrun; exits 1 if there is any.

Usage: check-async-frames.py MODULE.ll
"""
import re
import sys

ir = open(sys.argv[1]).read()
sizes = {m.group(1): int(m.group(2))
         for m in re.finditer(r'@"?([\w$.]+?)Tu"? = [^\n]*?i32 (\d+) \}>', ir)}
overruns = set()
for function in re.split(r'\n(?=define )', ir):
    header = re.match(r'define [^@]*@"?([^"(]+)"?\(', function)
    if not header:
        continue
    name = header.group(1)
    base = re.sub(r'(TY\d+_|TQ\d+_)$', '', name)
    if base not in sizes:
        continue
    # The own context is the first argument, except in a TQ (resumed after a call) function, whose first
    # argument is the callee's context; the caller's is loaded from its first word.
    if re.search(r'TQ\d+_$', name):
        own = set(re.findall(r'%(\d+) = load ptr, ptr %0, align 8', function)[:1])
    else:
        own = {'0'}
    offsets = [int(offset) for pointer, offset in
               re.findall(r'getelementptr inbounds(?: nuw)? i8, ptr %(\w+), i64 (\d+)', function) if pointer in own]
    if offsets and max(offsets) >= sizes[base]:
        overruns.add((base, sizes[base], max(offsets)))
for base, size, offset in sorted(overruns):
    print(f"{base}: context {size} bytes, offset {offset} used")
sys.exit(1 if overruns else 0)
