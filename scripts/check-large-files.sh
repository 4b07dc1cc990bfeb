#!/usr/bin/env bash
# Fails when a file tracked by git is over the limit (default 1 MB =
# 1000000 bytes; MAX_BYTES overrides), naming each offending path. Binaries,
# profiles, screenshots and test artifacts belong in .gitignore, not in git.
# Run from anywhere inside the checkout; .ci/run calls it before `make test`.
set -euo pipefail
max=${MAX_BYTES:-1000000}
cd "$(git rev-parse --show-toplevel)"

bad=0
while IFS= read -r -d '' path; do
  [ -f "$path" ] || continue   # deleted in the work tree, or a submodule
  size=$(stat -c %s -- "$path" 2>/dev/null || wc -c <"$path")
  if [ "$size" -gt "$max" ]; then
    echo "check-large-files: $path is $size bytes (limit $max)" >&2
    bad=1
  fi
done < <(git ls-files -z)

if [ "$bad" -ne 0 ]; then
  echo "check-large-files: remove these files from git (git rm --cached) and ignore them" >&2
  exit 1
fi
