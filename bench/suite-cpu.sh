#!/usr/bin/env bash
# CPU seconds (user + sys) of each named jest suite, each in its own jest process with one worker:
#   bench/suite-cpu.sh [-c jest-config] test/a.test.ts test/b.test.ts ...
# prints "suite user sys wall result" per line, then the load average (timings on a shared machine are noisy; user+sys
# moves less with load than wall time does).
set -u
config=()
if [ "${1:-}" = "-c" ]; then config=(-c "$2"); shift 2; fi
for f in "$@"; do
  out=$( { /usr/bin/time -f 'TIME %U %S %e' npx jest "${config[@]}" --runInBand "$f" >/dev/null 2>/tmp/suite-cpu.$$; } 2>&1; cat /tmp/suite-cpu.$$)
  t=$(grep '^TIME' <<<"$out" | tail -1 | cut -d' ' -f2-)
  r=$(grep -E '^Tests:' <<<"$out" | tail -1 | sed 's/Tests: *//')
  printf '%s %s %s\n' "$(basename "$f" .test.ts)" "$t" "${r:-FAILED TO RUN}"
done
rm -f /tmp/suite-cpu.$$
uptime
