"""Nestopia: it reads the joypads only once told that joypads are plugged in."""

from __future__ import annotations

from retro.profiles.base import CoreHost, CoreProfile

#: libretro's RETRO_DEVICE_JOYPAD.
JOYPAD = 1


class Nestopia(CoreProfile):
    name = "nestopia"
    library_names = ("Nestopia",)

    def after_load(self, host: CoreHost) -> None:
        for port in range(min(host.num_ports, 2)):
            host.set_controller_port_device(port, JOYPAD)


PROFILE = Nestopia()
