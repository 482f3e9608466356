#!/usr/bin/env bash
# Set up retro on this machine, idempotently, sized to the command that runs it:
#
#   bash scripts/setup.sh          what the main job (scripts/demo.sh) needs: a C/C++ compiler (Debian, as root
#                                  or through sudo), retro itself (pip install -e .), and from the pinned
#                                  stable-retro wheel its libretro cores, its game library and the Airstriker ROM
#   bash scripts/setup.sh --test   all of that and the test stack (scripts/test.sh): the assemblers that build the
#                                  test ROMs, Debian's alternate cores, Chromium, retro with every extra
#                                  (pip install -e .[test]), the Atari ROMs and the ALE core built from ale-py
set -euo pipefail
cd "$(dirname "$0")/.."

mode=demo
case "${1:-}" in
    "") ;;
    --test) mode=test ;;
    *) echo "setup: unknown argument ${1}; usage: bash scripts/setup.sh [--test]" >&2; exit 2 ;;
esac

# C and C++ compilers build retro's extension (and, for the tests, the test cores, the benchmark harness and,
# with zlib, the ALE core that provisioning compiles from the pinned ale-py sdist).
APT_PACKAGES=(gcc g++ libc6-dev)
if [ "$mode" = test ]; then
    # cc65, dasm, sdcc (its sdas assemblers and makebin), binutils-arm-none-eabi, binutils-m68k-linux-gnu and
    # binutils-sh-elf assemble the test ROMs; nestopia and bsnes-mercury are the alternate NES and SNES cores the
    # tests compare against; chromium is the browser that Retro Studio's end-to-end tests drive through Playwright.
    APT_PACKAGES+=(zlib1g-dev cc65 dasm sdcc binutils-arm-none-eabi binutils-m68k-linux-gnu binutils-sh-elf
                   libretro-nestopia libretro-bsnes-mercury-accuracy libretro-bsnes-mercury-performance chromium)
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        sudo=()
    elif command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "setup: need root to install Debian packages: ${missing[*]}" >&2
        exit 1
    fi
    echo "setup: installing Debian packages: ${missing[*]}"
    "${sudo[@]}" apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
pip=("$PYTHON" -m pip install --quiet --disable-pip-version-check)
if [ "$mode" = test ]; then
    echo "setup: installing retro with its test tools and every extra (pip install -e .[test])"
    "${pip[@]}" -e ".[test]"
    echo "setup: provisioning the pinned libretro cores, ROMs and game library, and importing the ROMs"
    "$PYTHON" -m retro provision --quiet
else
    echo "setup: installing retro (pip install -e .)"
    "${pip[@]}" -e .
    echo "setup: provisioning stable-retro's cores, game library and Airstriker ROM, and importing the ROM"
    "$PYTHON" -m retro provision --quiet --source stable-retro
fi
