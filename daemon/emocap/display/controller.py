"""The OLED controller: luma's object driving it, opened from [display], and pushing frames to it.

Luma calls that object a "device" (``[display] device`` names its class: ssd1306, sh1106...),
so the word stays in luma's calls and the config key; this module is named for the hardware
it drives. The microphone is ``[audio] device``, a PyAudio input.

Every way luma or the OS can fail (no /dev/i2c-N, permission denied, no answer on the bus,
a size the controller does not support, a missing bus package) becomes a DisplayError or
ConfigError with one line naming the device, bus, port or address and what to fix.
"""
from __future__ import annotations

import errno
import importlib.util
from contextlib import contextmanager
from typing import Iterator

import luma.core.error
import luma.oled.device
from luma.core.device import device as LumaDevice, dummy
from luma.core.interface.serial import i2c, noop, spi
from PIL import Image

from emocap.config import DisplayConfig
from emocap.errors import ConfigError, DisplayError

# Greyscale controllers default to RGB; asking for mode "1" lets them take our 1-bit frames.
_GREYSCALE = ("ssd1322", "ssd1325", "ssd1327")
# Modules each bus needs -> the pip package that provides it (RPi.GPIO: rpi-lgpio on a Pi 5).
_BUS_MODULES = {"i2c": ("smbus2",), "spi": ("spidev", "RPi.GPIO")}
_PIP_NAME = {"smbus2": "smbus2", "spidev": "spidev", "RPi": "RPi.GPIO", "RPi.GPIO": "RPi.GPIO"}


def screen_size(cfg: DisplayConfig) -> tuple[int, int]:
    """The drawing size, pixels: the panel's width x height, swapped for quarter turns."""
    return (cfg.height, cfg.width) if cfg.rotate % 2 else (cfg.width, cfg.height)


def describe(cfg: DisplayConfig) -> str:
    """e.g. 'ssd1306 on i2c port 1 address 0x3C' (what every error message starts with)."""
    if cfg.device in ("dummy", "terminal"):
        return f"display {cfg.device}"
    if cfg.interface == "i2c":
        return f"display {cfg.device} on i2c port {cfg.port} address 0x{cfg.address:02X}"
    return f"display {cfg.device} on spi port {cfg.port} device {cfg.spi_device}"


def check_setup(cfg: DisplayConfig) -> None:
    """Fail fast on what retrying cannot fix: a size the controller lacks, a missing bus package."""
    if cfg.device in ("dummy", "terminal"):
        return
    try:
        _controller(cfg, noop())  # luma checks the size while sending its init sequence to nowhere
    except luma.core.error.DeviceDisplayModeError as e:
        raise ConfigError(f"[display] width/height: {cfg.device} does not support "
                          f"{cfg.width}x{cfg.height} (luma: {e})") from None
    for module in _BUS_MODULES[cfg.interface]:
        if not _importable(module):
            raise _missing(cfg, module)


def open_device(cfg: DisplayConfig) -> LumaDevice:
    """Open the bus and initialise the controller (luma's in-memory dummy for 'dummy', and for
    'terminal', whose service opens no OLED at all)."""
    if cfg.device in ("dummy", "terminal"):
        return dummy(width=cfg.width, height=cfg.height, rotate=cfg.rotate, mode="1")
    with _bus_errors(cfg):
        serial = _serial(cfg)
    with _device_errors(cfg, "initialising"):
        device = _controller(cfg, serial)
        device.contrast(cfg.contrast)
    return device


def push(device: LumaDevice, image: Image.Image, cfg: DisplayConfig) -> None:
    """Send one frame (converted to the device's mode when a controller wants RGB)."""
    if image.mode != device.mode:
        image = image.convert(device.mode)
    with _device_errors(cfg, "drawing"):
        device.display(image)


def release(device: LumaDevice, cfg: DisplayConfig, clear: bool) -> None:
    """Blank and switch off the panel (when `clear`) and close the bus."""
    device.persist = not clear  # luma's cleanup skips hide/clear for a persistent device
    with _device_errors(cfg, "closing"):
        device.cleanup()


def _serial(cfg: DisplayConfig):
    if cfg.interface == "i2c":
        return i2c(port=cfg.port, address=cfg.address)
    return spi(port=cfg.port, device=cfg.spi_device, gpio_DC=cfg.gpio_dc, gpio_RST=cfg.gpio_rst)


def _controller(cfg: DisplayConfig, serial) -> LumaDevice:
    cls = getattr(luma.oled.device, cfg.device)
    extra = {"mode": "1"} if cfg.device in _GREYSCALE else {}
    return cls(serial, width=cfg.width, height=cfg.height, rotate=cfg.rotate, **extra)


def _bus_node(cfg: DisplayConfig) -> str:
    if cfg.interface == "i2c":
        return f"/dev/i2c-{cfg.port}"
    return f"/dev/spidev{cfg.port}.{cfg.spi_device}"


@contextmanager
def _bus_errors(cfg: DisplayConfig) -> Iterator[None]:
    """Opening the bus: the device node is missing or not ours."""
    node, iface = _bus_node(cfg), cfg.interface.upper()
    try:
        yield
    except luma.core.error.DeviceNotFoundError:
        raise DisplayError(f"{describe(cfg)}: {node} not found; enable {iface} (raspi-config > "
                           f"Interface Options > {iface}) or set [display] port") from None
    except luma.core.error.DevicePermissionError:
        raise DisplayError(f"{describe(cfg)}: permission denied on {node}; add the service user "
                           f"to the {cfg.interface} group (sudo adduser $USER {cfg.interface})") from None
    except luma.core.error.UnsupportedPlatform as e:
        raise DisplayError(f"{describe(cfg)}: {e}; SPI needs the GPIO pins of a Raspberry Pi") from None
    except ImportError as e:
        raise _missing(cfg, e.name or "?") from None
    except OSError as e:
        raise DisplayError(f"{describe(cfg)}: cannot open {node}: {_oserror(e)}") from None


@contextmanager
def _device_errors(cfg: DisplayConfig, action: str) -> Iterator[None]:
    """Talking to the controller: nothing answers, or the bus fails mid-transfer."""
    try:
        yield
    except luma.core.error.DeviceNotFoundError:
        # luma raises this when the I2C write gets EIO/EREMOTEIO: no device acknowledged.
        raise DisplayError(f"{describe(cfg)}: no answer while {action}; check the wiring and "
                           f"[display] address (i2cdetect -y {cfg.port} lists what answers)") from None
    except luma.core.error.Error as e:
        raise DisplayError(f"{describe(cfg)}: {action} failed: {e}") from None
    except OSError as e:
        raise DisplayError(f"{describe(cfg)}: I/O error while {action}: {_oserror(e)}; "
                           "check the wiring and power of the display") from None


def _importable(module: str) -> bool:
    try:  # find_spec, not import: RPi.GPIO raises at import time on anything but a Pi
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def _missing(cfg: DisplayConfig, module: str) -> DisplayError:
    package = _PIP_NAME.get(module, module)
    return DisplayError(f"{describe(cfg)}: python package {package} is missing; install it into "
                        f"the venv (pip install {package}) or use another [display] interface")


def _oserror(e: OSError) -> str:
    name = errno.errorcode.get(e.errno or 0, "")
    return f"{e.strerror or e} ({name})" if name else str(e)
