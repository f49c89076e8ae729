#!/usr/bin/env bash
# Follow docs/writing-plugins.md word for word in a fresh virtual environment: every ```bash block that follows a
# "<!-- tutorial -->" line runs, in order, from a copy of the example plugin's folder (plugins/example_plugin),
# with `set -e`, so a command that fails fails the check.
#
# auditkit itself comes from this checkout: its wheel is built into a local folder that pip searches first
# (PIP_FIND_LINKS), so the tutorial's `pip install leaderboard-auditkit` installs this version. Everything else
# comes from the package index or pip's cache (nothing else is fetched). Takes 2-4 minutes on a shared 2-core
# machine with pip's cache warm (CI installs the same wheels first), mostly installing numpy/pandas/pyarrow twice
# (the tutorial's environment and the fresh one its last step tries the wheel in).
#
# Usage: scripts/check_tutorial.sh [--keep]     (--keep leaves the work folder for a look)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/auditkit-tutorial.XXXXXX")
if [ "${1:-}" = "--keep" ]; then echo "work folder: $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi
unset AUDITKIT_DISABLE_PLUGINS AUDITKIT_LOAD_PLUGINS AUDITKIT_PLUGINS_DIR AUDITKIT_QUIET_PLUGINS PYTHONPATH VIRTUAL_ENV
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

# the tracked and new (not ignored) files of this checkout, as a fresh clone would have them
mkdir "$WORK/src" "$WORK/wheels" "$WORK/auditkit-example"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 tar -cf -) | tar -xf - -C "$WORK/src"
else  # an exported tree: everything but environments and build output
    (cd "$ROOT" && tar --exclude=./.venv --exclude=./.git --exclude=build --exclude='*.egg-info' --exclude=dist \
        --exclude=__pycache__ -cf - .) | tar -xf - -C "$WORK/src"
fi
(cd "$WORK/src/plugins/example_plugin" && tar -cf - .) | tar -xf - -C "$WORK/auditkit-example"

"${PYTHON:-python3}" -m venv "$WORK/venv"
# shellcheck disable=SC1091
. "$WORK/venv/bin/activate"
python -m pip wheel -q --no-deps -w "$WORK/wheels" "$WORK/src"
export PIP_FIND_LINKS="$WORK/wheels"

# the tutorial's command blocks, in order
python - "$ROOT/docs/writing-plugins.md" > "$WORK/tutorial.sh" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
blocks = re.findall(r"^<!-- tutorial -->\n```bash\n(.*?)^```", text, re.S | re.M)
if len(blocks) < 8:
    sys.exit(f"docs/writing-plugins.md: only {len(blocks)} '<!-- tutorial -->' command blocks; expected at least 8")
for i, block in enumerate(blocks, 1):
    print(f'echo "--- tutorial block {i} of {len(blocks)} (at ${{SECONDS}}s)"')
    print(block)
PY
cd "$WORK/auditkit-example"
SECONDS=0
bash -euo pipefail -x "$WORK/tutorial.sh"
echo "tutorial check passed: $(grep -c '^echo "--- tutorial block' "$WORK/tutorial.sh") command blocks of docs/writing-plugins.md in a fresh venv (${SECONDS}s)"
