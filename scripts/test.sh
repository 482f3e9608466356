#!/usr/bin/env bash
# Set up, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PYTHON=${PYTHON:-python3}
echo "test: type checks (mypy retro) and lint (ruff check .)"
"$PYTHON" -m mypy retro
"$PYTHON" -m ruff check --quiet .
exec "$PYTHON" -m pytest -q "$@"
