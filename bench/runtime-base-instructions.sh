#!/usr/bin/env bash
# Instructions per request of the runtime against the Powertools-only handler, by stage (h12-hot), under callgrind:
# counts, not times, so the figures do not depend on what the machine's other sessions run.
#   bash bench/runtime-base-instructions.sh [invocations] [sides] [configs] [bundle.js]
#     defaults: 2000, "P bare noop stamp emf D", "unsampled example"; ~1 min per side and config on 2 loaded vCPUs
# Bundles bench/runtime-base-instructions.ts with esbuild (unless a bundle is given) and counts the whole process's
# instructions (Ir) after N and after 3N measured invocations (the same 2,000 warm-up invocations first). Start-up,
# warm-up and most JIT compilation cancel in the difference:  per invocation = (Ir(3N) - Ir(N)) / 2N.
# The request ids are the same on every run and every code version; the config cache's TTL is an hour (a run under
# valgrind is ~50x slower: the 5-s TTL would refresh by the load).
set -euo pipefail
N=${1:-2000}
SIDES=${2:-P bare noop stamp emf D}
CONFIGS_=${3:-unsampled example}
OUT=$(mktemp -d)
BUNDLE=${4:-}
if [ -z "$BUNDLE" ]; then
  BUNDLE=$OUT/driver.js
  npx esbuild bench/runtime-base-instructions.ts --bundle --platform=node --outfile="$BUNDLE" --log-level=error
fi
CONFIGS=${SAMPLE_CONFIG_FILE:-$OUT/configs.json}
[ -f "$CONFIGS" ] || npx tsx bench/runtime-base-instructions.ts configs > "$CONFIGS"
N3=$((3 * N))
for config in $CONFIGS_; do
  for side in $SIDES; do
    declare -A IR
    for n in "$N" "$N3"; do
      SAMPLE_CONFIG_FILE=$CONFIGS BASE_TTL_SECONDS=3600 valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.$side.$config.$n" \
        node "$BUNDLE" "$side" "$config" "$n" > /dev/null 2> "$OUT/log.$side.$config.$n"
      IR[$n]=$(grep -h 'Collected' "$OUT/log.$side.$config.$n" | awk '{print $NF}')
    done
    echo "config $config side $side: Ir($N) ${IR[$N]}, Ir($N3) ${IR[$N3]}, per invocation $(((IR[$N3] - IR[$N]) / (2 * N)))" >&2
  done
done
echo "callgrind files: $OUT" >&2
