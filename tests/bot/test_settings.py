import re
from pathlib import Path

import pytest

from parley.bot.settings import DEFAULT_CONFIG, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in ("PARLEY_CORPUS_DIR", "PARLEY_INDEX_DIR", "PARLEY_CONFIG", "PARLEY_EMBED_BATCH_SIZE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_come_from_the_shipped_file_relative_to_the_working_directory(tmp_path):
    settings = load_settings()
    assert settings.corpus_dir == tmp_path / "corpus"
    assert settings.index_dir == tmp_path / "data" / "index"
    assert settings.model_path is None
    assert settings.chunk_min_words == 40 and settings.chunk_max_words == 120


def test_environment_beats_file_and_flags_beat_environment(monkeypatch):
    monkeypatch.setenv("PARLEY_INDEX_DIR", "/srv/parley/index")
    monkeypatch.setenv("PARLEY_EMBED_BATCH_SIZE", "8")
    assert load_settings().index_dir == Path("/srv/parley/index")
    assert load_settings().embed_batch_size == 8
    assert load_settings(index_dir=Path("/flag")).index_dir == Path("/flag")
    assert load_settings(index_dir=None).index_dir == Path("/srv/parley/index")


def test_dotenv_file_in_the_working_directory_is_read(tmp_path):
    (tmp_path / ".env").write_text("PARLEY_CORPUS_DIR=/from/dotenv\n")
    assert load_settings().corpus_dir == Path("/from/dotenv")


def test_another_config_file_can_be_named(monkeypatch, tmp_path):
    config = tmp_path / "conf" / "parley.toml"
    config.parent.mkdir()
    config.write_text(
        DEFAULT_CONFIG.read_text().replace('"data/index"', '"var/idx"')
    )
    monkeypatch.setenv("PARLEY_CONFIG", str(config))
    assert load_settings().index_dir == tmp_path / "conf" / "var" / "idx"


def test_claim_labels_default_to_the_corpus_folders_own(tmp_path):
    # no corpus/ here yet: the labels go where the first framing review will write them
    assert load_settings().claim_labels == tmp_path / "corpus" / "claim-labels.jsonl"
    corpus = tmp_path / "elsewhere"
    corpus.mkdir()
    (corpus / "claim-labels.jsonl").write_text("")
    assert load_settings(corpus_dir=corpus).claim_labels == corpus / "claim-labels.jsonl"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PARLEY_EMBED_BATCH_SIZE", "0"),
        ("PARLEY_CHUNK_MIN_WORDS", "500"),
        ("PARLEY_LOG_LEVEL", "LOUD"),
    ],
)
def test_invalid_settings_fail_naming_the_setting(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    if variable == "PARLEY_CHUNK_MIN_WORDS":
        assert "chunk_min_words" in message
    else:
        assert variable in message


def test_missing_config_file_is_explained(monkeypatch, tmp_path):
    monkeypatch.setenv("PARLEY_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(SettingsError, match="PARLEY_CONFIG"):
        load_settings()


@pytest.mark.parametrize(
    ("environment", "says"),
    [
        ({"PARLEY_DISCORD_SHARD_IDS": "0,1"}, "discord_shard_ids needs discord_shard_count"),
        ({"PARLEY_DISCORD_SHARD_COUNT": "2", "PARLEY_DISCORD_SHARD_IDS": "1,2"}, "below discord_shard_count (2)"),
        ({"PARLEY_DISCORD_SHARD_IDS": "one"}, "PARLEY_DISCORD_SHARD_IDS"),
    ],
)
def test_inconsistent_shard_settings_are_explained(monkeypatch, environment, says):
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=re.escape(says)):
        load_settings()


def test_shard_settings_are_read_as_a_count_and_ids(monkeypatch):
    monkeypatch.setenv("PARLEY_DISCORD_SHARD_COUNT", "4")
    monkeypatch.setenv("PARLEY_DISCORD_SHARD_IDS", "2, 3")
    settings = load_settings()
    assert (settings.discord_shard_count, settings.discord_shard_ids) == (4, [2, 3])
