"""Load the configuration: defaults < config.toml < environment < flags.

A bad value raises `ConfigError` with one line naming the key (and the
environment variable, when it came from one) and what is wrong.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

import msgspec

from dtbot.clock import zone
from dtbot.config.schema import Config
from dtbot.errors import ConfigError

CONFIG_ENV = "DTBOT_CONFIG"

# The API document's `.env` names and dtbot's own. Each provider NAME (the four built-in ones and any
# added in config.toml) also reads NAME_API_KEY and NAME_BASE_URL, e.g. OPENAI_API_KEY, DEEPSEEK_BASE_URL.
ENV_KEYS: dict[str, str] = {
    "HOST": "server.host",
    "PORT": "server.port",
    "DTBOT_WORKERS": "server.workers",
    "DTBOT_TIMEZONE": "server.timezone",
    "LOG_LEVEL": "server.log_level",
    "LOG_FORMAT": "server.log_format",
    "MAX_BODY_BYTES": "server.max_body_bytes",
    "CORS_ORIGINS": "server.cors_origins",
    "DATABASE_URL": "database.url",
    "REDIS_URL": "redis.url",
    "API_RATE_LIMIT": "limits.rate_limit_per_minute",
    "MAX_TOKENS_PER_REQUEST": "limits.max_tokens_per_request",
    "DEFAULT_MODEL": "limits.default_model",
    "DINGTALK_APP_KEY": "dingtalk.app_key",
    "DINGTALK_APP_SECRET": "dingtalk.app_secret",
    "DINGTALK_WEBHOOK_SECRET": "dingtalk.webhook_secret",
    "DINGTALK_API_BASE": "dingtalk.api_base",
    "DINGTALK_WEBHOOK_ALLOWLIST": "dingtalk.webhook_allowlist",
    "DINGTALK_ROBOT_CODE": "dingtalk.robot_code",
    "DINGTALK_MODE": "dingtalk.mode",
    "DINGTALK_CARD_TEMPLATE_ID": "dingtalk.card_template_id",
    "JWT_SECRET": "security.jwt_secret",
}

_DB_SCHEMES = re.compile(r"^(sqlite|sqlite\+aiosqlite|mysql|mysql\+aiomysql|mariadb)://")
_REDIS_SCHEMES = re.compile(r"^(redis|rediss|unix)://")
_ORIGIN = re.compile(r"^https?://[^/\s?#@]+$")


def provider_env_keys(providers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """NAME_API_KEY and NAME_BASE_URL for every provider, e.g. ("OPENAI_API_KEY", "providers.openai.api_key")."""
    pairs = []
    for name in providers:
        prefix = re.sub(r"[^A-Za-z0-9]", "_", name).upper()
        pairs += [
            (f"{prefix}_API_KEY", f"providers.{name}.api_key"),
            (f"{prefix}_BASE_URL", f"providers.{name}.base_url"),
        ]
    return pairs


def config_path(explicit: str | Path | None, environ: Mapping[str, str]) -> Path | None:
    """The config file to read: the flag, then `DTBOT_CONFIG`, then ./config.toml if present."""
    chosen = explicit or environ.get(CONFIG_ENV)
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        return path
    local = Path("config.toml")
    return local if local.is_file() else None


def load_config(
    path: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Build the configuration from its four sources; `overrides` maps dotted keys to flag values."""
    environ = os.environ if environ is None else environ
    merged: dict[str, Any] = msgspec.to_builtins(Config())
    origin: dict[str, str] = {}
    file = config_path(path, environ)
    if file is not None:
        _deep_merge(merged, _read_toml(file))
    for name, dotted in [*ENV_KEYS.items(), *provider_env_keys(merged.get("providers", {}))]:
        if name in environ:
            _set_dotted(merged, dotted, environ[name])
            origin[dotted] = name
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _set_dotted(merged, dotted, value)
            origin.pop(dotted, None)
    try:
        config = msgspec.convert(merged, Config, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(_describe(exc, origin)) from None
    _check(config, origin)
    return config


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None


def _deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = value


def _set_dotted(tree: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        tree = tree.setdefault(part, {})
    tree[leaf] = value


def _name(dotted: str, origin: Mapping[str, str]) -> str:
    env = origin.get(dotted)
    return f"{env} ({dotted})" if env else dotted


def _describe(exc: msgspec.ValidationError, origin: Mapping[str, str]) -> str:
    text = str(exc)
    match = re.search(r" - at `\$\.(.+)`$", text)
    if not match:
        return f"config: {text}"
    dotted = re.sub(r"\[['\"]?([^\]'\"]+)['\"]?\]", r".\1", match.group(1))
    problem = text[: match.start()]
    if problem.startswith("Object contains unknown field"):
        return f"config: {problem.replace('Object contains', 'section ' + dotted + ' has an')}"
    return f"config: {_name(dotted, origin)}: {problem[0].lower()}{problem[1:]}"


def _check(config: Config, origin_map: Mapping[str, str]) -> None:
    """Checks that span fields or need more than a type."""
    if not _DB_SCHEMES.match(config.database.url):
        raise ConfigError(
            f"config: {_name('database.url', origin_map)}: unsupported URL; "
            "use sqlite:///path.db or mysql://user:pass@host:3306/db"
        )
    if config.redis.url and not _REDIS_SCHEMES.match(config.redis.url):
        raise ConfigError(f"config: {_name('redis.url', origin_map)}: use redis://host:6379/0, or leave it empty")
    try:
        zone(config.server.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"config: {_name('server.timezone', origin_map)}: unknown time zone {config.server.timezone!r}"
        ) from None
    for model_id, model in config.models.items():
        if model.provider not in config.providers:
            raise ConfigError(f"config: models.{model_id}.provider: unknown provider {model.provider!r}")
        for fallback in model.fallbacks:
            if fallback not in config.models:
                raise ConfigError(f"config: models.{model_id}.fallbacks: unknown model {fallback!r}")
    _check_origins(config.server.cors_allowed, "server.cors_origins", origin_map, star=True)
    _check_origins(config.dingtalk.allowlist, "dingtalk.webhook_allowlist", origin_map, star=False)
    if config.dingtalk.model and config.dingtalk.model not in config.models:
        raise ConfigError(f"config: dingtalk.model: unknown model {config.dingtalk.model!r}")
    if config.limits.default_model not in config.models:
        raise ConfigError(
            f"config: {_name('limits.default_model', origin_map)}: unknown model {config.limits.default_model!r}"
        )


def _check_origins(origins: list[str], dotted: str, origin_map: Mapping[str, str], *, star: bool) -> None:
    for origin in origins:
        if not (_ORIGIN.match(origin) or (star and origin == "*")):
            raise ConfigError(
                f"config: {_name(dotted, origin_map)}: {origin!r} is not an origin; "
                "expected scheme://host[:port], comma-separated" + (", or *" if star else "")
            )
