"""Build the homebrew test ROMs from the assembly sources in ``src/``.

The ROMs are assembled at test time from our own sources, so no ROM image is
kept in git. Tools: ``ca65``/``ld65`` (Debian package ``cc65``) for the NES,
SNES and PC Engine ROMs, ``dasm`` (Debian package ``dasm``) for the Atari 2600 ROM,
``sdasgb``/``sdldgb``/``makebin`` (Debian package ``sdcc``) for the Game Boy
and Game Boy Color ROMs, ``sdasz80``/``sdldz80``/``makebin`` (``sdcc``) for
the Master System and Game Gear ROMs, ``arm-none-eabi-as``/``ld``/``objcopy``
(Debian package ``binutils-arm-none-eabi``) for the Game Boy Advance ROM,
``sh-elf-as``/``ld``/``objcopy`` (``binutils-sh-elf``) and
``m68k-linux-gnu-as``/``ld``/``objcopy`` (``binutils-m68k-linux-gnu``) for
the 32X ROM.

Library use::

    from tests.roms.build import build_rom
    rom = build_rom("nes", tmp_path)        # -> tmp_path / "nes.nes"

Command line (builds every ROM)::

    python3 tests/roms/build.py OUTDIR
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

SRC_DIR = pathlib.Path(__file__).resolve().parent / "src"


@dataclass(frozen=True)
class _Target:
    extension: str
    tools: tuple[str, ...]
    package: str


TARGETS: dict[str, _Target] = {
    "nes": _Target(".nes", ("ca65", "ld65"), "cc65"),
    "snes": _Target(".sfc", ("ca65", "ld65"), "cc65"),
    "atari2600": _Target(".a26", ("dasm",), "dasm"),
    "atari2600pal": _Target(".a26", ("dasm",), "dasm"),
    "gb": _Target(".gb", ("sdasgb", "sdldgb", "makebin"), "sdcc"),
    "gbc": _Target(".gbc", ("sdasgb", "sdldgb", "makebin"), "sdcc"),
    "sms": _Target(".sms", ("sdasz80", "sdldz80", "makebin"), "sdcc"),
    "gg": _Target(".gg", ("sdasz80", "sdldz80", "makebin"), "sdcc"),
    "pce": _Target(".pce", ("ca65", "ld65"), "cc65"),
    "gba": _Target(".gba", ("arm-none-eabi-as", "arm-none-eabi-ld", "arm-none-eabi-objcopy"),
                   "binutils-arm-none-eabi"),
    "32x": _Target(".32x", ("sh-elf-as", "sh-elf-ld", "sh-elf-objcopy", "m68k-linux-gnu-as",
                            "m68k-linux-gnu-ld", "m68k-linux-gnu-objcopy"),
                   "binutils-sh-elf binutils-m68k-linux-gnu"),
    "32x_idle": _Target(".32x", ("sh-elf-as", "sh-elf-ld", "sh-elf-objcopy", "m68k-linux-gnu-as",
                                 "m68k-linux-gnu-ld", "m68k-linux-gnu-objcopy"),
                        "binutils-sh-elf binutils-m68k-linux-gnu"),
}

# SNES LoROM internal header (file offsets; the image has no copier header).
_SNES_HEADER = 0x7FC0
_SNES_COMPLEMENT = 0x7FDC
_SNES_CHECKSUM = 0x7FDE


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise FileNotFoundError(
            f"{name!r} was not found on PATH; it is needed to build the test ROMs. "
            f"Install it with `apt-get install {package}`."
        )
    return path


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"command failed with exit status {result.returncode}: {' '.join(command)}\n"
            f"{result.stdout}{result.stderr}"
        )


def _link_cc65(cpu: str, source_dir: pathlib.Path, config: str, rom: pathlib.Path) -> None:
    ca65 = _tool("ca65", "cc65")
    ld65 = _tool("ld65", "cc65")
    with tempfile.TemporaryDirectory(prefix="retro-rom-") as scratch:
        obj = pathlib.Path(scratch) / "test.o"
        _run([ca65, "--cpu", cpu, "-o", str(obj), str(source_dir / "test.s")])
        _run([ld65, "-C", str(source_dir / config), "-o", str(rom), str(obj)])


def snes_checksum(image: bytes | bytearray) -> int:
    """The 16-bit sum of all bytes, as the header's checksum field expects it.

    Computed with the checksum field at $0000 and its complement at $FFFF; any
    checksum/complement pair adds the same $1FE to the sum, so writing the
    result back leaves it unchanged. Only power-of-two sizes are supported.
    """
    size = len(image)
    if size < 0x8000 or size & (size - 1):
        raise ValueError(f"SNES image size must be a power of two >= 32 KB, not {size}")
    data = bytearray(image)
    data[_SNES_COMPLEMENT:_SNES_CHECKSUM + 2] = b"\xff\xff\x00\x00"
    return sum(data) & 0xFFFF


def _fix_snes_header(rom: pathlib.Path) -> None:
    data = bytearray(rom.read_bytes())
    checksum = snes_checksum(data)
    data[_SNES_COMPLEMENT:_SNES_COMPLEMENT + 2] = (checksum ^ 0xFFFF).to_bytes(2, "little")
    data[_SNES_CHECKSUM:_SNES_CHECKSUM + 2] = checksum.to_bytes(2, "little")
    if data[_SNES_HEADER + 0x15] != 0x20:
        raise RuntimeError("SNES header map mode is not $20 (LoROM); check snes.cfg")
    rom.write_bytes(bytes(data))


# Game Boy cartridge header (file offsets = CPU addresses in bank 0).
_GB_CGB_FLAG = 0x143
_GB_HEADER_CHECKSUM = 0x14D
_GB_GLOBAL_CHECKSUM = 0x14E
_GB_ROM_SIZE = 0x8000


def _link_sdas(assembler: str, linker: str, source: pathlib.Path, rom: pathlib.Path, size: int) -> None:
    """Assemble one sdas source, link it and write a ``size``-byte binary.

    ``.include`` looks in the source's directory.
    """
    package = "sdcc"
    sdas = _tool(assembler, package)
    sdld = _tool(linker, package)
    makebin = _tool("makebin", package)
    with tempfile.TemporaryDirectory(prefix="retro-rom-") as scratch:
        obj = pathlib.Path(scratch) / "test.rel"
        ihx = pathlib.Path(scratch) / "test.ihx"
        _run([sdas, f"-I{source.parent}", "-o", str(obj), str(source)])
        _run([sdld, "-n", "-i", str(ihx), str(obj)])
        _run([makebin, "-s", str(size), str(ihx), str(rom)])
    if rom.stat().st_size != size:
        raise RuntimeError(f"{rom} is {rom.stat().st_size} bytes, expected {size}")


def gb_header_checksum(image: bytes | bytearray) -> int:
    """The header checksum at $014D: x = x - byte - 1 over $0134-$014C."""
    x = 0
    for byte in image[0x134:_GB_HEADER_CHECKSUM]:
        x = (x - byte - 1) & 0xFF
    return x


def gb_global_checksum(image: bytes | bytearray) -> int:
    """The global checksum at $014E-$014F: 16-bit sum of all other bytes."""
    return (sum(image) - sum(image[_GB_GLOBAL_CHECKSUM:_GB_GLOBAL_CHECKSUM + 2])) & 0xFFFF


def _fix_gb_header(rom: pathlib.Path, cgb: bool) -> None:
    data = bytearray(rom.read_bytes())
    data[_GB_CGB_FLAG] = 0x80 if cgb else 0x00  # $80: CGB features, runs on a DMG too
    data[_GB_HEADER_CHECKSUM] = gb_header_checksum(data)
    data[_GB_GLOBAL_CHECKSUM:_GB_GLOBAL_CHECKSUM + 2] = gb_global_checksum(data).to_bytes(2, "big")
    rom.write_bytes(bytes(data))


# Sega "TMR SEGA" header of a 32 KB Master System / Game Gear ROM.
_SEGA_HEADER = 0x7FF0
_SEGA_CHECKSUM = 0x7FFA
_SEGA_REGION_SIZE = 0x7FFF
_SEGA_SIZE_32K = 0xC              # size code: the checksum covers $0000-$7FEF
_SEGA_REGIONS = {"sms": 0x4, "gg": 0x6}  # SMS export, Game Gear export


def sega_checksum(image: bytes | bytearray) -> int:
    """The header checksum of a 32 KB image: 16-bit sum of bytes $0000-$7FEF."""
    return sum(image[:_SEGA_HEADER]) & 0xFFFF


def _fix_sega_header(rom: pathlib.Path, name: str) -> None:
    data = bytearray(rom.read_bytes())
    if data[_SEGA_HEADER:_SEGA_HEADER + 8] != b"TMR SEGA":
        raise RuntimeError(f"{rom} has no TMR SEGA header at $7FF0; check src/sms/test.s")
    data[_SEGA_CHECKSUM:_SEGA_CHECKSUM + 2] = sega_checksum(data).to_bytes(2, "little")
    data[_SEGA_REGION_SIZE] = _SEGA_REGIONS[name] << 4 | _SEGA_SIZE_32K
    rom.write_bytes(bytes(data))


# Game Boy Advance cartridge header.
_GBA_COMPLEMENT = 0xBD
_GBA_ROM_SIZE = 0x1000


def gba_complement(image: bytes | bytearray) -> int:
    """The header's complement check at $BD: -(sum of bytes $A0-$BC + $19), 8 bits."""
    return -(sum(image[0xA0:_GBA_COMPLEMENT]) + 0x19) & 0xFF


def _build_gba(source: pathlib.Path, rom: pathlib.Path) -> None:
    package = "binutils-arm-none-eabi"
    assembler = _tool("arm-none-eabi-as", package)
    linker = _tool("arm-none-eabi-ld", package)
    objcopy = _tool("arm-none-eabi-objcopy", package)
    with tempfile.TemporaryDirectory(prefix="retro-rom-") as scratch:
        obj = pathlib.Path(scratch) / "test.o"
        elf = pathlib.Path(scratch) / "test.elf"
        _run([assembler, "-o", str(obj), str(source)])
        _run([linker, "-Ttext=0x08000000", "-o", str(elf), str(obj)])
        _run([objcopy, "-O", "binary", str(elf), str(rom)])
    data = bytearray(rom.read_bytes())
    if len(data) != _GBA_ROM_SIZE or data[0xB2] != 0x96:
        raise RuntimeError(f"{rom} is not a {_GBA_ROM_SIZE}-byte GBA image with $96 at $B2")
    data[_GBA_COMPLEMENT] = gba_complement(data)
    rom.write_bytes(bytes(data))


_32X_ROM_SIZE = 0x2000


def _build_32x(source_dir: pathlib.Path, rom: pathlib.Path, low_idle: bool = False) -> None:
    """The SH-2 program first (``sh2.s``, linked at SDRAM $06000000), then the
    68000 side (``test.s``), which includes the SH-2 binary and points the 32X
    header at it. ``low_idle``: the 68000 idles polling the VDP status below
    $10000 (``LOW_IDLE``, the ``32x_idle`` ROM)."""
    sh, m68k = "binutils-sh-elf", "binutils-m68k-linux-gnu"
    with tempfile.TemporaryDirectory(prefix="retro-rom-") as scratch:
        tmp = pathlib.Path(scratch)
        _run([_tool("sh-elf-as", sh), "--isa=sh2", "--big", "-o", str(tmp / "sh2.o"),
              str(source_dir / "sh2.s")])
        _run([_tool("sh-elf-ld", sh), "-EB", "-e", "0x06000000", "-Ttext=0x06000000",
              "-o", str(tmp / "sh2.elf"), str(tmp / "sh2.o")])
        _run([_tool("sh-elf-objcopy", sh), "-O", "binary", "-j", ".text",
              str(tmp / "sh2.elf"), str(tmp / "sh2.bin")])
        _run([_tool("m68k-linux-gnu-as", m68k), "-m68000", f"-I{tmp}", f"--defsym=LOW_IDLE={int(low_idle)}",
              "-o", str(tmp / "test.o"), str(source_dir / "test.s")])
        _run([_tool("m68k-linux-gnu-ld", m68k), "-Ttext=0", "-e", "0", "-o", str(tmp / "test.elf"),
              str(tmp / "test.o")])
        _run([_tool("m68k-linux-gnu-objcopy", m68k), "-O", "binary", "-j", ".text",
              str(tmp / "test.elf"), str(rom)])
    data = rom.read_bytes()
    if len(data) != _32X_ROM_SIZE or data[0x3C0:0x3D0] != b"MARS CHECK MODE ":
        raise RuntimeError(f"{rom} is not a {_32X_ROM_SIZE}-byte image with the 32X header at $3C0")


def build_rom(name: str, outdir: pathlib.Path) -> pathlib.Path:
    """Assemble test ROM ``name`` (a key of ``TARGETS``) into ``outdir``.

    Returns the ROM path (``outdir / "<name><ext>"``, the extension that picks
    the system: ``.nes``, ``.sfc``, ``.a26``, ``.gb``, ``.gbc``, ...). Raises ``FileNotFoundError`` if the assembler is missing and
    ``RuntimeError`` if assembling or linking fails.
    """
    try:
        target = TARGETS[name]
    except KeyError:
        raise ValueError(f"unknown test ROM {name!r}; expected one of {sorted(TARGETS)}") from None
    for tool in target.tools:
        _tool(tool, target.package)
    outdir = pathlib.Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    rom = outdir / f"{name}{target.extension}"
    source_dir = SRC_DIR / name

    if name == "nes":
        _link_cc65("6502", source_dir, "nes.cfg", rom)
    elif name == "snes":
        _link_cc65("65816", source_dir, "snes.cfg", rom)
        _fix_snes_header(rom)
    elif name == "pce":
        _link_cc65("huc6280", source_dir, "pce.cfg", rom)
    elif name in ("gb", "gbc"):
        _link_sdas("sdasgb", "sdldgb", SRC_DIR / "gb" / "test.s", rom, _GB_ROM_SIZE)
        _fix_gb_header(rom, cgb=name == "gbc")
    elif name == "gba":
        _build_gba(source_dir / "test.s", rom)
    elif name in ("32x", "32x_idle"):
        _build_32x(SRC_DIR / "32x", rom, low_idle=name == "32x_idle")
    elif name in ("sms", "gg"):
        _link_sdas("sdasz80", "sdldz80", SRC_DIR / "sms" / f"{name}.s", rom, 0x8000)
        _fix_sega_header(rom, name)
    else:
        dasm = _tool("dasm", "dasm")
        pal = ["-DPAL=1"] if name == "atari2600pal" else []
        _run([dasm, str(SRC_DIR / "atari2600" / "test.s"), *pal, "-f3", f"-o{rom}"])
        if rom.stat().st_size != 4096:
            raise RuntimeError(f"{rom} is {rom.stat().st_size} bytes, expected 4096")
    return rom


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} OUTDIR", file=sys.stderr)
        return 2
    outdir = pathlib.Path(argv[1])
    for name in TARGETS:
        print(build_rom(name, outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
