"""The device from [display], its errors, open_display, and the recorded frames.

No hardware here: luma's real i2c and ssd1306 classes run on a fake smbus2 bus (the one
piece that is missing), so the bytes an SSD1306 would receive can be decoded back into
the picture and compared with the render.
"""
import errno
from pathlib import Path

import pytest
import smbus2
from PIL import Image

from emocap.captions import Caption, Partial
from emocap.config import DisplayConfig
from emocap.display import controller
from emocap.display import open_display
from emocap.display.frames import GIF_SCALE
from emocap.display.oled import OledSink
from emocap.display.render import make_style, render
from emocap.errors import ConfigError, DisplayError
from conftest import wait_for

NANUM = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"


@pytest.fixture(autouse=True)
def need_font():
    if not Path(NANUM).is_file():
        pytest.skip("fonts-nanum is not installed")


def cfg(**kw) -> DisplayConfig:
    return DisplayConfig(font=NANUM, **kw)


def caption(text="오늘 기분이 좋아보이네요", emotion="happiness") -> Caption:
    return Caption(text=text, emotion=emotion, confidence=0.9, model="small",
                   t_start=0.0, t_end=1.0, latency_ms=5.0)


class FakeBus:
    """Stands in for smbus2.SMBus(port): records what luma writes, or fails like the kernel."""

    opened: list["FakeBus"] = []
    fail_open: int | None = None
    fail_write: int | None = None

    def __init__(self, port):
        if FakeBus.fail_open:
            raise OSError(FakeBus.fail_open, "fake", f"/dev/i2c-{port}")
        self.port, self.commands, self.data = port, [], []
        FakeBus.opened.append(self)

    def write_i2c_block_data(self, addr, mode, values):
        if FakeBus.fail_write:
            raise OSError(FakeBus.fail_write, "fake")
        self.commands.extend(values)

    def i2c_rdwr(self, msg):
        if FakeBus.fail_write:
            raise OSError(FakeBus.fail_write, "fake")
        payload = list(msg)
        assert payload[0] == 0x40  # luma's data mode byte
        self.data.extend(payload[1:])

    def close(self):
        pass


@pytest.fixture
def bus(monkeypatch):
    FakeBus.opened, FakeBus.fail_open, FakeBus.fail_write = [], None, None
    monkeypatch.setattr(smbus2, "SMBus", FakeBus)
    return FakeBus


def decode_ssd1306(data: list[int], width=128, height=64) -> Image.Image:
    """SSD1306 page layout: byte x + width * page holds column x, rows 8*page .. 8*page+7."""
    img = Image.new("1", (width, height), 0)
    for y in range(height):
        for x in range(width):
            if data[x + width * (y // 8)] >> (y % 8) & 1:
                img.putpixel((x, y), 1)
    return img


def test_ssd1306_receives_the_rendered_caption_and_the_contrast(bus):
    display = cfg(device="ssd1306", port=1, address=0x3D, contrast=77)
    sink = open_display(display)
    sink.caption(caption())
    frame = render(caption(), 0.0, make_style(display))
    frame_bytes = 128 * 64 // 8
    # luma clears the panel on init (one frame of zeros); ours follows
    wait_for(lambda: len(bus.opened[-1].data) >= 2 * frame_bytes, "a frame on the bus")
    sink.close()
    sent = bus.opened[-1]
    assert sent.port == 1
    assert decode_ssd1306(sent.data[frame_bytes:2 * frame_bytes]).tobytes() == frame.tobytes()
    assert [0x81, 77] == sent.commands[sent.commands.index(0x81, 30):][:2]  # SETCONTRAST 77
    assert decode_ssd1306(sent.data[-frame_bytes:]).getbbox() is None  # close() cleared it


def test_missing_i2c_bus_names_the_node_and_the_fix():
    with pytest.raises(DisplayError, match=r"ssd1306 on i2c port 15 address 0x3C: /dev/i2c-15 not "
                                           r"found; enable I2C .* or set \[display\] port"):
        controller.open_device(cfg(device="ssd1306", port=15))


def test_permission_denied_names_the_group(bus):
    bus.fail_open = errno.EACCES
    with pytest.raises(DisplayError, match=r"permission denied on /dev/i2c-1; add the service user to the i2c group"):
        controller.open_device(cfg(device="sh1106"))


def test_no_answer_on_the_address_names_the_address(bus):
    bus.fail_write = errno.EREMOTEIO
    with pytest.raises(DisplayError, match=r"ssd1309 on i2c port 1 address 0x3C: no answer while "
                                           r"initialising; check the wiring and \[display\] address"):
        controller.open_device(cfg(device="ssd1309"))


def test_io_error_mid_run_becomes_a_display_error(bus):
    panel = controller.open_device(cfg(device="ssd1306"))
    bus.fail_write = errno.ETIMEDOUT
    with pytest.raises(DisplayError, match=r"I/O error while drawing: .*ETIMEDOUT"):
        controller.push(panel, Image.new("1", (128, 64)), cfg(device="ssd1306"))


def test_unsupported_size_is_a_config_error():
    with pytest.raises(ConfigError, match=r"\[display\] width/height: ssd1306 does not support 128x48"):
        controller.check_setup(cfg(device="ssd1306", height=48))
    controller.check_setup(cfg(device="ssd1322", width=256, height=64, interface="i2c"))


def test_missing_spi_package_is_named(monkeypatch):
    real = controller.importlib.util.find_spec
    monkeypatch.setattr(controller.importlib.util, "find_spec",
                        lambda name: None if name == "spidev" else real(name))
    with pytest.raises(DisplayError, match=r"ssd1322 on spi port 0 device 0: python package spidev is missing"):
        controller.check_setup(cfg(device="ssd1322", interface="spi", port=0, width=256, height=64))


def test_terminal_has_no_oled_sink_and_frames_alone_draw_on_a_dummy(tmp_path):
    from emocap.commands._common import open_sinks, with_display
    from emocap.config import Config

    terminal = Config(display=cfg(device="terminal"))
    assert [type(s).__name__ for s in open_sinks(terminal, False, None)] == ["TerminalSink"]
    framed = with_display(terminal, None, tmp_path)
    sinks = open_sinks(framed, True, tmp_path)
    assert framed.display.device == "dummy" and [type(s).__name__ for s in sinks] == ["JsonSink", "OledSink"]
    for sink in sinks:
        sink.close()


def test_missing_font_fails_before_anything_starts(tmp_path):
    with pytest.raises(ConfigError, match=r"\[display\] font"):
        open_display(DisplayConfig(device="dummy", font=str(tmp_path / "gone.ttf")))


def test_unwritable_frames_folder_is_named(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DisplayError, match=r"--frames .*file/frames: cannot create the folder"):
        open_display(cfg(device="dummy"), blocker / "frames")


def test_frames_are_saved_as_png_and_gif(tmp_path):
    display = cfg(device="terminal", hold_s=0.0)  # frames draw on a dummy even for terminal
    sink = open_display(display, tmp_path)
    style = make_style(display)
    sink.partial(Partial("오늘 기분이"))
    wait_for(lambda: (tmp_path / "frame_000001.png").is_file(), "the first frame")
    sink.caption(caption())
    wait_for(lambda: (tmp_path / "frame_000002.png").is_file(), "the second frame")
    sink.close()
    pngs = sorted(tmp_path.glob("frame_*.png"))
    assert len(pngs) == 2
    first, second = (Image.open(p) for p in pngs)
    assert first.tobytes() == render(Partial("오늘 기분이"), 0.0, style).tobytes()
    assert second.tobytes() == render(caption(), 0.0, style).tobytes()
    gif = Image.open(tmp_path / "frames.gif")
    assert gif.n_frames == 2 and gif.size == (128 * GIF_SCALE, 64 * GIF_SCALE)
    gif.seek(1)
    big = second.convert("L").resize(gif.size, Image.NEAREST)
    assert gif.convert("L").tobytes() == big.tobytes()


def test_rotated_panel_draws_a_tall_frame(tmp_path):
    display = cfg(device="dummy", rotate=1)
    assert controller.screen_size(display) == (64, 128)
    opened = []
    sink = OledSink(display, make_style(display),
                    lambda: opened.append(controller.open_device(display)) or opened[-1])
    tall = render(caption(), 0.0, make_style(display))
    assert tall.size == (64, 128)
    sink.caption(caption())
    # the dummy keeps what the panel shows: the tall frame turned a quarter, 128 x 64
    shown = lambda: opened[0].image  # noqa: E731
    wait_for(lambda: opened and shown() is not None
             and shown().tobytes() == opened[0].preprocess(tall).tobytes(), "the turned frame")
    assert shown().size == (128, 64)
    sink.close()
