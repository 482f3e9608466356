#!/usr/bin/env bash
# The main job: set up, then play a bundled game and report how fast it ran.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec "${PYTHON:-python3}" -m retro.scripts.demo "$@"
