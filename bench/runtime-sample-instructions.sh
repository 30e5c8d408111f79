#!/usr/bin/env bash
# Instructions a sampled request adds, under callgrind (h9-hotpath): counts, not times, so the figure does not depend
# on what the machine's other sessions run.
#   bash bench/runtime-sample-instructions.sh [invocations] [bundle.js]      (default 2000; ~10 min on 2 loaded vCPUs)
# Bundles bench/runtime-sample-instructions.ts with esbuild (unless a bundle is given) and counts the whole process's
# instructions (Ir) at sampling rate 0 and 0.1, each after N and after 3N measured invocations (the same 2,000
# warm-up invocations first). Start-up, warm-up and most JIT compilation cancel in the differences:
#   per unsampled invocation = (Ir(0, 3N) - Ir(0, N)) / 2N
#   per sampled request      = [(Ir(0.1, 3N) - Ir(0.1, N)) - (Ir(0, 3N) - Ir(0, N))] / (sampled(3N) - sampled(N))
# The request ids are the same on every run and every code version (which of them a rate samples changed in h10-hot17).
# SAMPLE_BASELINE=checks: the rate-0 run keeps the evaluation section with sampling off, so the runtime checks' lines
# (on every answer by default) are not counted as the samples' cost.
set -euo pipefail
N=${1:-2000}
OUT=$(mktemp -d)
BUNDLE=${2:-}
if [ -z "$BUNDLE" ]; then
  BUNDLE=$OUT/driver.js
  npx esbuild bench/runtime-sample-instructions.ts --bundle --platform=node --outfile="$BUNDLE" --log-level=error
fi
CONFIGS=${SAMPLE_CONFIG_FILE:-$OUT/configs.json}
[ -f "$CONFIGS" ] || npx tsx bench/runtime-sample-instructions.ts configs > "$CONFIGS"
declare -A IR SAMPLED
for rate in 0 0.1; do
  for n in "$N" $((3 * N)); do
    SAMPLE_CONFIG_FILE=$CONFIGS valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.$rate.$n" node "$BUNDLE" "$n" "$rate" > /dev/null 2> "$OUT/log.$rate.$n"
    IR[$rate.$n]=$(grep -h 'Collected' "$OUT/log.$rate.$n" | awk '{print $NF}')
    SAMPLED[$rate.$n]=$(grep -h "^rate" "$OUT/log.$rate.$n" | sed -E 's/.*, ([0-9]+) sampled/\1/')
    echo "rate $rate, $n invocations: Ir ${IR[$rate.$n]}, sampled ${SAMPLED[$rate.$n]}" >&2
  done
done
N3=$((3 * N))
d0=$((IR[0.$N3] - IR[0.$N]))
d1=$((IR[0.1.$N3] - IR[0.1.$N]))
ds=$((SAMPLED[0.1.$N3] - SAMPLED[0.1.$N]))
echo "per unsampled invocation: $((d0 / (2 * N))) instructions; per sampled request, added: $(((d1 - d0) / ds)) instructions ($ds sampled of $((2 * N)))" >&2
echo "callgrind files: $OUT" >&2
