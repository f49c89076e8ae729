#!/usr/bin/env bash
# Benchmark the last N commits of main with asv and publish the offline dashboard (no network needed).
#
#   scripts/asv_history.sh [N] [extra `auditkit bench history` options, e.g. --quick, -b REGEX, --skip-existing]
#
# Same as `auditkit bench history --commits N ...` (see docs/performance.md). Uses the project's venv when there is
# one (.venv/bin/python), else the python on PATH; the dashboard ends up in .asv/html/index.html.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-10}"
shift || true
PY="${PYTHON:-}"
if [[ -z "$PY" ]]; then
  if [[ -x .venv/bin/python ]]; then PY=.venv/bin/python; else PY=python; fi
fi
if [[ "$PY" == */* ]]; then
  PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")"   # absolute, symlinks kept (a venv's python is one)
else
  PY="$(command -v "$PY")"
fi
exec "$PY" -c 'import sys; from auditkit.cli import main; sys.argv[0] = "auditkit"; main()' \
  bench history --commits "$N" --python "$PY" "$@"
