#!/usr/bin/env bash
# Set up with the test stack, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
PYTHON=${PYTHON:-python3}
echo "test: type checks (mypy retro stable_retro) and lint (ruff check .)"
"$PYTHON" -m mypy retro stable_retro
"$PYTHON" -m ruff check --quiet .
exec "$PYTHON" -m pytest -q "$@"
