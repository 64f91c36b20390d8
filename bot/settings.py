"""Settings, read once at the edge and passed down as one typed object.

Precedence, lowest first: ``config/parley.toml`` (the documented defaults, installed as
package data ``parley.config``), a ``.env`` file in the working directory, ``PARLEY_*``
environment variables, command-line flags.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    NonNegativeInt,
    PositiveInt,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from parley.index import ParleyError

DEFAULT_CONFIG = Path(str(files("parley.config") / "parley.toml"))
CLAIM_LABELS_FILE = "claim-labels.jsonl"
ENV_PREFIX = "PARLEY_"
MAX_RETENTION_DAYS = 36_500  # 100 years: more is a typo, and would overflow the date arithmetic
_PATH_SETTINGS = ("corpus_dir", "index_dir", "model_path", "claim_labels", "feedback_db")


class SettingsError(ParleyError):
    """A setting is missing or invalid; the message names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    corpus_dir: Path
    claim_labels: Path | None = None
    index_dir: Path
    model_path: Path | None = None
    embed_batch_size: PositiveInt
    query_threads: NonNegativeInt
    chunk_min_words: PositiveInt
    chunk_max_words: PositiveInt
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"]
    feedback_db: Path
    # Where processes share votes, de-duplication, cooldowns and index versions across
    # hosts: a postgresql:// URL (PARLEY_DATABASE_URL; it may hold a password, so it is
    # never shown). Unset: the SQLite file feedback_db.
    database_url: SecretStr | None = None
    feedback_retention_days: float = Field(gt=0, le=MAX_RETENTION_DAYS, allow_inf_nan=False)
    cooldown_seconds: float = Field(ge=0, allow_inf_nan=False)
    # Keep the questions Parley could not answer, for `parley feedback gaps` (SECURITY.md).
    log_unanswered: bool = False
    answer_workers: PositiveInt

    # Discord. The token is read as DISCORD_TOKEN (or PARLEY_DISCORD_TOKEN) and never shown.
    discord_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN", "PARLEY_DISCORD_TOKEN", "discord_token"))
    discord_api_base: str
    discord_gateway_url: str
    discord_guild_ids: Annotated[list[int], NoDecode] = []
    # Role ids, never names: anyone with Manage Roles can create a role of any name.
    discord_admin_roles: Annotated[list[int], NoDecode] = []
    discord_shard_count: NonNegativeInt = 0
    discord_shard_ids: Annotated[list[NonNegativeInt], NoDecode] = []

    # Slack. Tokens and the signing secret come from the environment (or .env) only.
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token"))
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token"))
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret"))
    slack_port: int = Field(ge=1, le=65535)
    slack_api_base: str
    slack_admin_users: Annotated[list[str], NoDecode] = []

    @field_validator("discord_guild_ids", "discord_admin_roles", "discord_shard_ids", "slack_admin_users",
                     mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("model_path", "claim_labels", "discord_token", "slack_bot_token", "slack_app_token",
                     "slack_signing_secret", "database_url", mode="before")
    @classmethod
    def _empty_means_packaged(cls, value: Any) -> Any:
        return None if value in ("", None) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="before")
    @classmethod
    def _labels_beside_the_corpus(cls, values: Any) -> Any:
        # Reviewed labels belong to the corpus they label: unless named, they are the
        # corpus folder's own claim-labels.jsonl, so `--corpus elsewhere/` brings its own.
        # It need not exist yet: the first framing review writes it.
        if isinstance(values, dict) and not values.get("claim_labels") and values.get("corpus_dir"):
            values = {**values, "claim_labels": Path(values["corpus_dir"]) / CLAIM_LABELS_FILE}
        return values

    @model_validator(mode="after")
    def _chunk_bounds(self) -> Settings:
        if self.chunk_min_words > self.chunk_max_words:
            raise ValueError("chunk_min_words must not exceed chunk_max_words")
        return self

    @model_validator(mode="after")
    def _shards(self) -> Settings:
        if self.discord_shard_ids and not self.discord_shard_count:
            raise ValueError("discord_shard_ids needs discord_shard_count (the total over all processes)")
        if any(shard >= self.discord_shard_count for shard in self.discord_shard_ids):
            raise ValueError(f"discord_shard_ids must be below discord_shard_count ({self.discord_shard_count})")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, dotenv_settings, _ConfigFileSource(settings_cls))


class _ConfigFileSource(TomlConfigSettingsSource):
    """The shipped ``parley.toml`` or the file ``PARLEY_CONFIG`` names.

    Relative paths in the shipped defaults are relative to the working directory (an
    installed package has no project folder to hang them on); in a file of your own, to
    that file's folder, so a config and its data can move together.
    """

    def __init__(self, settings_cls: type[BaseSettings]):
        self.config_file = Path(os.environ.get(f"{ENV_PREFIX}CONFIG") or DEFAULT_CONFIG)
        if not self.config_file.is_file():
            raise SettingsError(
                f"Settings file {self.config_file} not found. Set PARLEY_CONFIG to Parley's "
                "config/parley.toml."
            )
        super().__init__(settings_cls, toml_file=self.config_file)

    def __call__(self) -> dict[str, Any]:
        values = super().__call__()
        named = os.environ.get(f"{ENV_PREFIX}CONFIG")
        base = self.config_file.resolve().parent if named else Path.cwd()
        for name in _PATH_SETTINGS:
            value = values.get(name)
            if isinstance(value, str) and value and not Path(value).is_absolute():
                values[name] = str(base / value)
        return values


def load_settings(**overrides: Any) -> Settings:
    """Settings from every source; ``overrides`` (flags) win, ``None`` means not given."""
    given = {name: value for name, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            name = ".".join(str(part) for part in item["loc"])
            message = item["msg"].removeprefix("Value error, ")
            problems.append(f"{ENV_PREFIX}{name.upper()} ({name}): {message}" if name else message)
        raise SettingsError("Invalid settings: " + "; ".join(problems)) from None
    except ValueError as error:  # a malformed TOML file
        raise SettingsError(f"Cannot read settings: {error}") from None
