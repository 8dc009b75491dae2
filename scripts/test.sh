#!/usr/bin/env bash
# The whole test suite: unit and golden tests under Deno (with the doc examples), the same test files
# under Bun, and minimega's own CLI tests (../shared/conformance) when they are beside the project. Under
# both runtimes the real-system tests (tests/*_real.test.ts) run last, LABWIRE_REAL_JOBS (4) files at once.
# Ends with one line "N passed, N failed" over every test run; exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
status=0
real_jobs=${LABWIRE_REAL_JOBS:-4}
strip() { sed 's/\x1b\[[0-9;]*m//g'; }

echo "== deno test (unit, golden, doc examples; then the real-system tests, $real_jobs files at a time)"
# tests/*_real.test.ts start private Open vSwitch sandboxes, each in a network namespace of its own
# (tests/_fixtures/real.ts): they run side by side, each file in a deno process of its own (names made from
# the PID stay apart), at most LABWIRE_REAL_JOBS (default 4) at once; their output follows in file order
# the slowest first, so that the pool does not end waiting for one of them
real=(tests/scenarios_real.test.ts tests/backend_contract_real.test.ts tests/cli_ovs_real.test.ts)
for f in tests/*_real.test.ts; do [[ " ${real[*]} " == *" $f "* ]] || real+=("$f"); done
# test files that change this process's environment (a fake PATH, LABWIRE_ACCEL) run on their own, after the
# others: `deno test --parallel` runs files side by side in one process, and a fake tcpdump first on the PATH
# of one file's test would answer another file's real tcpdump
serial=() unit=()
for f in tests/*.test.ts; do
  [[ $f == *_real.test.ts ]] && continue
  if grep -qE 'withPath\(|process\.env(\.[A-Z_]+|\[[^]]+\]) = |delete process\.env' "$f"; then serial+=("$f"); else unit+=("$f"); fi
done
# Runs the real test files with the test runner given (its words, then a file), in a pool of $real_jobs
# processes; prints each file's output once all are done, in file order, and how long the phase took; fails
# if one failed.
run_real() {
  local i n failed=0 start=$SECONDS tag=$1
  shift
  for ((i = 0; i < ${#real[@]}; i++)); do
    while (($(jobs -rp | wc -l) >= real_jobs)); do wait -n || true; done
    { "$@" "./${real[i]}" >"$log/$tag-$i" 2>&1; echo $? >"$log/$tag-$i.rc"; } &
  done
  wait
  for ((n = 0; n < i; n++)); do
    cat "$log/$tag-$n"
    [[ $(cat "$log/$tag-$n.rc" 2>/dev/null) == 0 ]] || failed=1
  done
  echo "== real-system tests ($1): ${#real[@]} files in $((SECONDS - start)) s ($real_jobs at a time)"
  return $failed
}
{ deno test -A --doc --parallel mod.ts lib/ sim/ "${unit[@]}" && deno test -A "${serial[@]}" && run_real deno deno test -A; } \
  2>&1 | tee "$log/deno" || status=1
deno_lines=$(strip <"$log/deno" | grep -E '^(ok|FAILED) \|')
# Deno counts a describe() block as a test and its test()s as steps: "10 passed (42 steps)" is 52 results.
count() { sed -n "s/.*| \([0-9]*\) $1\( (\([0-9]*\) steps\?)\)\?.*/\1 \3/p" <<<"$deno_lines" | awk '{ n += $1 + $2 } END { print n }'; }
deno_pass=$(count passed)
deno_fail=$(count failed)

echo "== bun test (then the real-system tests, $real_jobs files at a time)"
bun_unit=()
for f in tests/*.test.ts; do [[ $f == *_real.test.ts ]] || bun_unit+=("./$f"); done
{
  bun test --timeout 120000 "${bun_unit[@]}" || failed_bun=1
  run_real bun bun test --timeout 120000 || failed_bun=1
  ((!${failed_bun:-0}))
} 2>&1 | tee "$log/bun" || status=1
# one summary per bun run: the totals are their sums
bun_pass=$(strip <"$log/bun" | sed -n 's/^ *\([0-9]*\) pass$/\1/p' | awk '{ n += $1 } END { print n }')
bun_fail=$(strip <"$log/bun" | sed -n 's/^ *\([0-9]*\) fail$/\1/p' | awk '{ n += $1 } END { print n }')

conf_pass=0 conf_fail=0
if [[ -f ../shared/conformance/run ]]; then
  # minimega's tests that labwire must pass are listed in tests/conformance.txt; the rest wait for the
  # features they need and are run for information only
  echo "== minimega conformance (../shared/conformance/run), required: $(grep -v '^#' tests/conformance.txt | xargs)"
  required=$(mktemp -d -p "$log")
  while read -r name; do
    [[ -z $name || $name == \#* ]] && continue
    cp "../shared/conformance/minimega/$name" "../shared/conformance/minimega/$name.want" "$required/"
  done <tests/conformance.txt
  LABWIRE_CLI="deno run -A cli.ts" bash ../shared/conformance/run "$required" 2>&1 | tee "$log/conf" || status=1
  conf_line=$(tail -n 1 "$log/conf")
  conf_pass=$(sed -n 's/^\([0-9]*\) passed.*/\1/p' <<<"$conf_line")
  conf_fail=$(sed -n 's/.*, \([0-9]*\) failed$/\1/p' <<<"$conf_line")
  echo "== minimega conformance, all files (information only):" \
    "$(LABWIRE_CLI="deno run -A cli.ts" bash ../shared/conformance/run 2>&1 | grep -E '^(PASS|FAIL) ' | tr '\n' ' ')"
  # the same files on real Open vSwitch, in a private sandbox (required in CI, like the *_real tests)
  if [[ $(id -u) == 0 ]] && command -v ovs-vswitchd >/dev/null 2>&1; then
    echo "== minimega conformance on --backend ovs (a private Open vSwitch)"
    sandbox=$(mktemp -d)
    # in a network namespace of its own (the exports carry it to the CLI): an OVS on the host is no matter
    if exports=$(bash scripts/ovs-sandbox.sh start "$sandbox/ovs" --netns "lwt-conf-$$"); then
      (eval "$exports" && LABWIRE_CLI="deno run -A cli.ts" bash ../shared/conformance/run --backend ovs "$required") \
        2>&1 | tee "$log/conf-ovs" || status=1
      bash scripts/ovs-sandbox.sh stop "$sandbox/ovs" || status=1
      conf_line=$(tail -n 1 "$log/conf-ovs")
      conf_pass=$((conf_pass + $(sed -n 's/^\([0-9]*\) passed.*/\1/p' <<<"$conf_line")))
      conf_fail=$((conf_fail + $(sed -n 's/.*, \([0-9]*\) failed$/\1/p' <<<"$conf_line")))
    else
      echo "could not start an Open vSwitch sandbox"
      status=1
    fi
    rm -rf "$sandbox"
  elif [[ -n ${CI:-} || ${LABWIRE_REQUIRE_REAL:-} == 1 ]]; then
    echo "== minimega conformance on --backend ovs: required, but this is not root with Open vSwitch"
    status=1
  else
    echo "== minimega conformance on --backend ovs: skipped (needs root and Open vSwitch)"
  fi
else
  echo "== minimega conformance: skipped (../shared/conformance/run is not beside the project)"
fi

if [[ -z $deno_pass || -z $bun_pass ]]; then
  echo "could not read a test summary"
  status=1
fi
passed=$((${deno_pass:-0} + ${bun_pass:-0} + ${conf_pass:-0}))
failed=$((${deno_fail:-0} + ${bun_fail:-0} + ${conf_fail:-0}))
((failed == 0)) || status=1
echo "deno: ${deno_pass:-?} passed, ${deno_fail:-?} failed; bun: ${bun_pass:-?} passed, ${bun_fail:-?} failed;" \
  "conformance: ${conf_pass:-?} passed, ${conf_fail:-?} failed"
echo "$passed passed, $failed failed"
exit $status
