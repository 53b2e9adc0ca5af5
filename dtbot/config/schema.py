"""The shape of dtbot's configuration, with its built-in defaults.

Every field here can be set in `config.toml` under its section; the
environment names that override them are listed in `dtbot.config.load.ENV_KEYS`.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

Port = Annotated[int, Meta(ge=1, le=65535)]
Positive = Annotated[int, Meta(ge=1)]
Seconds = Annotated[float, Meta(gt=0)]
Price = Annotated[float, Meta(ge=0)]
LogLevel = Literal["debug", "info", "warning", "error"]
SECRET_FIELDS = frozenset({"api_key", "app_secret", "webhook_secret", "jwt_secret"})


class Section(Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every section: unknown keys are a configuration error; secrets never show in its repr."""

    def __repr__(self) -> str:
        fields = []
        for name in self.__struct_fields__:
            value = getattr(self, name)
            shown = "'***'" if value and name in SECRET_FIELDS else repr(value)
            fields.append(f"{name}={shown}")
        return f"{type(self).__name__}({', '.join(fields)})"


class ServerConfig(Section):
    host: str = "127.0.0.1"
    port: Port = 3000
    workers: Annotated[int, Meta(ge=1, le=64)] = 1
    timezone: str = "Asia/Shanghai"
    log_level: LogLevel = "info"


class DatabaseConfig(Section):
    url: str = "sqlite:///dtbot.db"
    pool_size: Positive = 10
    connect_timeout: Seconds = 5.0


class RedisConfig(Section):
    url: str = ""


class LimitsConfig(Section):
    rate_limit_per_minute: Positive = 60
    max_tokens_per_request: Positive = 4000
    default_model: str = "gpt-3.5-turbo"


class ProviderConfig(Section):
    kind: Literal["openai", "zhipu", "dashscope", "anthropic"] = "openai"
    api_key: str = ""
    base_url: str = ""
    connect_timeout: Seconds = 5.0
    first_token_timeout: Seconds = 60.0
    total_timeout: Seconds = 600.0
    max_retries: Annotated[int, Meta(ge=0, le=10)] = 2
    retry_backoff: Seconds = 0.2

    @property
    def configured(self) -> bool:
        """True when the provider has an API key (a local server that needs none takes any value)."""
        return bool(self.api_key)


class ModelConfig(Section):
    provider: str = ""
    upstream: str = ""
    name: str = ""
    description: str = ""
    max_tokens: Positive = 8192
    input_price: Price = 0.0
    output_price: Price = 0.0
    currency: Literal["USD", "CNY"] = "USD"
    fallbacks: list[str] = msgspec.field(default_factory=list)


class DingTalkConfig(Section):
    app_key: str = ""
    app_secret: str = ""
    webhook_secret: str = ""
    api_base: str = "https://api.dingtalk.com"
    webhook_allowlist: str = "https://oapi.dingtalk.com,https://api.dingtalk.com"


class SecurityConfig(Section):
    jwt_secret: str = ""


def default_providers() -> dict[str, ProviderConfig]:
    """The four built-in providers at their public URLs, none configured."""
    return {
        "openai": ProviderConfig(kind="openai", base_url="https://api.openai.com/v1"),
        "zhipu": ProviderConfig(kind="zhipu", base_url="https://open.bigmodel.cn/api/paas/v4"),
        "dashscope": ProviderConfig(kind="dashscope", base_url="https://dashscope.aliyuncs.com/compatible-mode/v1"),
        "anthropic": ProviderConfig(kind="anthropic", base_url="https://api.anthropic.com"),
    }


def default_models() -> dict[str, ModelConfig]:
    """The API document's five models; prices are per 1,000 tokens."""
    return {
        "gpt-4": ModelConfig(
            provider="openai",
            name="GPT-4",
            description="OpenAI最先进的语言模型",
            max_tokens=8192,
            input_price=0.03,
            output_price=0.06,
            currency="USD",
        ),
        "gpt-3.5-turbo": ModelConfig(
            provider="openai",
            name="GPT-3.5 Turbo",
            description="OpenAI快速、经济的对话模型",
            max_tokens=16385,
            input_price=0.0005,
            output_price=0.0015,
            currency="USD",
        ),
        "glm-4": ModelConfig(
            provider="zhipu",
            name="ChatGLM-4",
            description="智谱AI自研大语言模型",
            max_tokens=128000,
            input_price=0.1,
            output_price=0.1,
            currency="CNY",
        ),
        "qwen-turbo": ModelConfig(
            provider="dashscope",
            name="通义千问 Turbo",
            description="阿里云通义千问，速度快、成本低",
            max_tokens=131072,
            input_price=0.0003,
            output_price=0.0006,
            currency="CNY",
        ),
        "claude-3-sonnet": ModelConfig(
            provider="anthropic",
            upstream="claude-3-sonnet-20240229",
            name="Claude 3 Sonnet",
            description="Anthropic Claude 3 均衡型模型",
            max_tokens=200000,
            input_price=0.003,
            output_price=0.015,
            currency="USD",
        ),
    }


class Config(Section):
    """The whole configuration: built-in defaults < config.toml < environment < flags."""

    server: ServerConfig = msgspec.field(default_factory=ServerConfig)
    database: DatabaseConfig = msgspec.field(default_factory=DatabaseConfig)
    redis: RedisConfig = msgspec.field(default_factory=RedisConfig)
    limits: LimitsConfig = msgspec.field(default_factory=LimitsConfig)
    providers: dict[str, ProviderConfig] = msgspec.field(default_factory=default_providers)
    models: dict[str, ModelConfig] = msgspec.field(default_factory=default_models)
    dingtalk: DingTalkConfig = msgspec.field(default_factory=DingTalkConfig)
    security: SecurityConfig = msgspec.field(default_factory=SecurityConfig)
