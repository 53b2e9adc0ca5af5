"""Configuration sources and their order: defaults < config.toml < environment < flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from dtbot.config import load_config
from dtbot.errors import ConfigError
from dtbot.store.urls import async_url, sync_url


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_match_the_api_document() -> None:
    config = load_config(environ={})
    assert config.server.port == 3000
    assert config.limits.max_tokens_per_request == 4000
    assert set(config.models) == {"gpt-4", "gpt-3.5-turbo", "glm-4", "qwen-turbo", "claude-3-sonnet"}
    assert {name: p.configured for name, p in config.providers.items()} == dict.fromkeys(
        ["openai", "zhipu", "dashscope", "anthropic"], False
    )


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    file = write(
        tmp_path / "config.toml", "[server]\nport = 4000\nhost = '0.0.0.0'\n[limits]\nrate_limit_per_minute = 7\n"
    )
    assert load_config(file, environ={}).server.port == 4000
    from_env = load_config(file, environ={"PORT": "5000", "API_RATE_LIMIT": "9"})
    assert (from_env.server.port, from_env.server.host, from_env.limits.rate_limit_per_minute) == (5000, "0.0.0.0", 9)
    assert load_config(file, environ={"PORT": "5000"}, overrides={"server.port": 6000}).server.port == 6000


def test_config_file_from_environment_variable(tmp_path: Path) -> None:
    file = write(tmp_path / "other.toml", "[database]\nurl = 'sqlite:///elsewhere.db'\n")
    assert load_config(environ={"DTBOT_CONFIG": str(file)}).database.url == "sqlite:///elsewhere.db"


def test_models_and_providers_extend_the_defaults(tmp_path: Path) -> None:
    file = write(
        tmp_path / "config.toml",
        """
[providers.deepseek]
kind = "openai"
base_url = "https://api.deepseek.com/v1"
[models.deepseek-chat]
provider = "deepseek"
name = "DeepSeek Chat"
currency = "CNY"
[models.gpt-4]
fallbacks = ["glm-4"]
""",
    )
    config = load_config(file, environ={"OPENAI_API_KEY": "sk-test"})
    assert config.models["deepseek-chat"].provider == "deepseek"
    assert config.models["gpt-4"].fallbacks == ["glm-4"]
    assert config.models["gpt-4"].input_price == 0.03  # untouched fields keep their defaults
    assert config.providers["openai"].configured and config.providers["openai"].api_key == "sk-test"
    assert config.providers["openai"].base_url == "https://api.openai.com/v1"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"PORT": "abc"}, "PORT (server.port): expected `int`, got `str`"),
        ({"PORT": "70000"}, "PORT (server.port): expected `int` <= 65535"),
        ({"API_RATE_LIMIT": "0"}, "API_RATE_LIMIT (limits.rate_limit_per_minute)"),
        ({"API_RATE_LIMIT": "100000000"}, "expected `int` <= 1000000"),
        ({"DATABASE_URL": "postgres://x/y"}, "DATABASE_URL (database.url): unsupported URL"),
        ({"REDIS_URL": "memcached://x"}, "REDIS_URL (redis.url)"),
        ({"DTBOT_TIMEZONE": "Mars/Base"}, "unknown time zone"),
        ({"DEFAULT_MODEL": "gpt-99"}, "DEFAULT_MODEL (limits.default_model): unknown model"),
        ({"DINGTALK_WEBHOOK_ALLOWLIST": "https://ok.example,oapi.dingtalk.com"}, "is not an origin"),
        ({"DINGTALK_MODE": "carrier-pigeon"}, "DINGTALK_MODE (dingtalk.mode)"),
    ],
)
def test_a_bad_value_names_its_key(environ: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(environ=environ)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unknown_keys_and_bad_toml_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="server"):
        load_config(write(tmp_path / "a.toml", "[server]\nprot = 1\n"), environ={})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path / "b.toml", "[server\n"), environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml", environ={})
    with pytest.raises(ConfigError, match="unknown provider"):
        load_config(write(tmp_path / "c.toml", "[models.x]\nprovider = 'nobody'\n"), environ={})


def test_database_urls_of_the_document_pick_the_async_driver() -> None:
    mysql = "mysql://user:pass@db:3306/dingtalk_bot"
    assert async_url(mysql).drivername == "mysql+aiomysql"
    assert async_url(mysql).query["charset"] == "utf8mb4"
    assert sync_url(mysql).drivername == "mysql+pymysql"
    assert async_url("sqlite:///data/dtbot.db").drivername == "sqlite+aiosqlite"
    assert async_url("sqlite:///data/dtbot.db").database == "data/dtbot.db"


def test_the_repository_config_file_is_valid_and_holds_no_secrets() -> None:
    path = Path(__file__).parent.parent / "config.toml"
    config = load_config(path, environ={})
    assert not any(p.api_key for p in config.providers.values())
    assert not config.dingtalk.app_secret and not config.security.jwt_secret
