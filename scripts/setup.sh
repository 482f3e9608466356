#!/usr/bin/env bash
# Set up retro on this machine, idempotently: Debian packages (as root, or
# through sudo), the retro package with its test tools (pip, editable), and
# the pinned libretro cores and ROMs from package registries.
set -euo pipefail
cd "$(dirname "$0")/.."

# cc65, dasm, sdcc (its sdas assemblers and makebin), binutils-arm-none-eabi, binutils-m68k-linux-gnu and binutils-sh-elf
# assemble the test ROMs; nestopia and bsnes-mercury are the alternate NES and SNES cores the tests compare against;
# C and C++ compilers build the extension, the test cores, the benchmark harness and (with zlib) the ALE core that
# provisioning compiles from the pinned ale-py sdist; chromium is the browser Retro Studio's end-to-end tests drive
# through Playwright.
APT_PACKAGES=(gcc g++ libc6-dev zlib1g-dev cc65 dasm sdcc binutils-arm-none-eabi binutils-m68k-linux-gnu binutils-sh-elf libretro-nestopia libretro-bsnes-mercury-accuracy libretro-bsnes-mercury-performance chromium)

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
echo "setup: installing retro with its test tools and the libraries it plugs into (pip install -e .[test], which includes .[atari,rl,ray])"
"$PYTHON" -m pip install --quiet --disable-pip-version-check -e ".[test]"

echo "setup: provisioning libretro cores and ROMs"
"$PYTHON" -m retro.provision --quiet

echo "setup: importing the ROMs those packages carry"
"$PYTHON" -m retro.import --from-packages --quiet >/dev/null
