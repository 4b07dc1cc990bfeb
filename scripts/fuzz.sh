#!/usr/bin/env bash
# fuzz.sh FUZZTIME PKG:TARGET... runs each fuzz target for FUZZTIME.
#
# A crasher (a "Failing input written" line) fails the run at once. Go's
# fuzzer can also fail with a bare "context deadline exceeded" when
# -fuzztime ends while a worker is busy, with no failing input: that is the
# engine's, not the code's, so the target is run once more, and only a
# second such failure counts.
set -uo pipefail
fuzztime=$1
shift
for t in "$@"; do
	pkg=${t%%:*} target=${t#*:}
	for attempt in 1 2; do
		echo "fuzz $target in ./$pkg for $fuzztime (attempt $attempt)"
		out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "./$pkg/" 2>&1)
		status=$?
		echo "$out" | tail -n 20
		[ $status -eq 0 ] && break
		if [ $attempt -eq 1 ] && ! grep -q "Failing input written" <<<"$out" && grep -q "context deadline exceeded" <<<"$out"; then
			echo "fuzz $target: the fuzzing engine stopped mid-input at the time limit (no failing input); once more"
			continue
		fi
		exit 1
	done
done
