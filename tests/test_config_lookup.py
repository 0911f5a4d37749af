"""Which config file is read: --config, then $EMOCAP_CONFIG, then /etc/emocap/config.toml, then
the packaged default; every command that reads one finds it the same way. Path keys left out
mean the files installed with emocap; the emoji are checked against the models' labels."""
import dataclasses
import importlib

import pytest

from emocap import cli, config, labels, paths
from emocap.emotion.model import EmotionModel
from emocap.errors import ConfigError

# Every registered command reads a config, found the same way; some need arguments to get that far.
ARGS = {"replay": ["absent.flac"]}
COMMANDS = [[name, *ARGS.get(name, [])] for name in (importlib.import_module(f"emocap.commands.{m}").NAME
                                                    for m in cli.COMMANDS)]


@pytest.fixture
def system(tmp_path, monkeypatch):
    """Stand-in for /etc/emocap/config.toml (absent until a test writes it)."""
    file = tmp_path / "etc" / "config.toml"
    file.parent.mkdir()
    monkeypatch.setattr(paths, "SYSTEM_CONFIG", file)
    monkeypatch.delenv(paths.CONFIG_ENV, raising=False)
    return file


def test_lookup_order(system, tmp_path, monkeypatch):
    assert paths.config_file() == (paths.PACKAGED_CONFIG, "the packaged default")
    system.write_text("")
    assert paths.config_file() == (system, "the system config")
    monkeypatch.setenv(paths.CONFIG_ENV, str(tmp_path / "env.toml"))
    assert paths.config_file() == (tmp_path / "env.toml", "$EMOCAP_CONFIG")
    assert paths.config_file(tmp_path / "given.toml") == (tmp_path / "given.toml", "--config")


def test_packaged_default_finds_the_packaged_models_and_demo(system):
    cfg = config.load()
    assert cfg.source == paths.PACKAGED_CONFIG.resolve()
    assert cfg.emotion.small_model == str((paths.SHARE / "models" / "small.onnx").resolve())
    assert cfg.audio.demo_file == str(paths.DEMO.resolve())


def test_path_keys_left_out_mean_the_installed_files_given_ones_the_files_folder(system, tmp_path):
    (tmp_path / "m").mkdir()
    file = tmp_path / "c.toml"
    file.write_text('[audio]\ndemo_file = "m/mine.flac"\n')
    cfg = config.load(file)
    assert cfg.audio.demo_file == str(tmp_path / "m" / "mine.flac")
    assert cfg.emotion.large_model == str((paths.SHARE / "models" / "large.onnx").resolve())


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: a[0])
def test_every_command_reads_the_system_config_then_emocap_config(argv, system, tmp_path, monkeypatch, capsys):
    system.write_text("[audio]\nbogus_key = 1\n")
    assert cli.main(argv) == 2
    assert capsys.readouterr().err.strip() == f"emocap: {system}: [audio] bogus_key: unknown key; expected one of " \
        f"{sorted(f.name for f in dataclasses.fields(config.AudioConfig))}"
    monkeypatch.setenv(paths.CONFIG_ENV, str(tmp_path / "absent.toml"))
    assert cli.main(argv) == 2
    assert capsys.readouterr().err.strip() == \
        f"emocap: {tmp_path / 'absent.toml'}: no such config file (named by $EMOCAP_CONFIG)"


def test_emoji_must_cover_the_models_labels_and_no_more(system):
    cfg = config.load()
    names = labels.of_models([EmotionModel(cfg.emotion.small_model), EmotionModel(cfg.emotion.large_model)])
    assert len(names) == 7
    labels.check_emoji(cfg, names)
    short = dataclasses.replace(cfg, captions=config.CaptionConfig(emoji={l: "x" for l in names[1:]}))
    with pytest.raises(ConfigError, match=r"\[captions\] emoji: expected a string for each of the models' labels"):
        labels.check_emoji(short, names)
    with pytest.raises(ConfigError, match=r"\[captions\] emoji"):
        labels.check_emoji(cfg, names + ["boredom"])


def test_check_config_checks_the_emoji_against_the_models(system, tmp_path, capsys):
    file = tmp_path / "c.toml"
    file.write_text('[captions]\nemoji = { happiness = "x" }\n')
    assert cli.main(["check-config", str(file)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"emocap: {file}: [captions] emoji: expected a string for each of the models' labels [")
