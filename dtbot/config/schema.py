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
# Bounds shared with the runtime settings, so a configured default is always a valid setting.
PerMinute = Annotated[int, Meta(ge=1, le=1_000_000)]
TokenCount = Annotated[int, Meta(ge=1, le=10_000_000)]
SECRET_FIELDS = frozenset({"api_key", "app_secret", "webhook_secret", "jwt_secret"})


def origins(text: str) -> list[str]:
    """A comma-separated list of origins, each without spaces or a trailing slash."""
    return [origin.strip().rstrip("/") for origin in text.split(",") if origin.strip()]


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
    log_format: Literal["text", "json"] = "text"
    max_body_bytes: Annotated[int, Meta(ge=1024, le=100_000_000)] = 1_048_576  # larger requests get 413
    cors_origins: str = ""  # comma-separated origins browsers may call from, or "*"; empty: CORS off

    @property
    def cors_allowed(self) -> list[str]:
        """The origins that CORS admits; empty when CORS is off."""
        return origins(self.cors_origins)


class DatabaseConfig(Section):
    url: str = "sqlite:///dtbot.db"
    pool_size: Positive = 10
    connect_timeout: Seconds = 5.0


class RedisConfig(Section):
    url: str = ""


class LimitsConfig(Section):
    rate_limit_per_minute: PerMinute = 60
    max_tokens_per_request: TokenCount = 4000
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


class RobotTexts(Section):
    """What the robot says besides the model's answers (Chinese by default)."""

    help: str = (
        "我是智能助手，直接提问即可。可用命令：\n"
        "/help 帮助：显示本说明\n/reset 重置：开始新的对话\n"
        "/model [模型] 模型：查看或切换模型\n/usage 用量：查看今日用量"
    )
    reset: str = "好的，已开始新的对话。"
    unsupported: str = "暂时只能处理文字和语音消息，图片和文件还不支持哦。"
    not_allowed: str = "抱歉，您没有使用此机器人的权限。"
    rate_limited: str = "消息太频繁了，请稍后再试。"
    quota_exceeded: str = "今日用量已达上限，请明天再来。"
    blocked: str = "抱歉，这个问题无法回答。"
    failed: str = "抱歉，模型服务暂时不可用，请稍后再试。"
    empty: str = "请问有什么可以帮您？"


class DingTalkConfig(Section):
    app_key: str = ""
    app_secret: str = ""
    webhook_secret: str = ""
    robot_code: str = ""  # for OpenAPI sends; DingTalk's robotCode, usually the app key
    api_base: str = "https://api.dingtalk.com"
    webhook_allowlist: str = "https://oapi.dingtalk.com,https://api.dingtalk.com"
    mode: Literal["webhook", "stream"] = "webhook"
    model: str = ""  # empty: the runtime defaultModel
    system_prompt: str = "你是企业钉钉里的智能助手，请用简洁的中文回答。"
    group_context: Literal["sender", "group"] = "sender"  # one conversation per group and sender, or per group
    allow_users: list[str] = msgspec.field(default_factory=list)  # staff ids; empty: everyone
    allow_groups: list[str] = msgspec.field(default_factory=list)  # conversation ids; empty: every group
    sender_rate_per_minute: Annotated[int, Meta(ge=0)] = 20  # 0: no limit
    sender_daily_tokens: Annotated[int, Meta(ge=0)] = 0  # 0: no limit
    sensitive_words: list[str] = msgspec.field(default_factory=list)
    text_reply_limit: Positive = 200  # answers up to this many characters without Markdown go out as text
    workers: Annotated[int, Meta(ge=1, le=1024)] = 32  # messages answered at once per process
    card_template_id: str = ""  # an AI card template: answers stream into a card; empty: text or Markdown
    card_key: str = "content"  # the template's variable the answer goes into
    card_update_seconds: Seconds = 0.5  # DingTalk counts every card call
    lease_seconds: Seconds = 30.0  # a worker that stops renewing its claim this long is taken for dead
    requeue_seconds: Seconds = 10.0  # a message queued this long without a worker is queued again
    texts: RobotTexts = msgspec.field(default_factory=RobotTexts)

    @property
    def enabled(self) -> bool:
        """True when callbacks can be verified (a secret is set)."""
        return bool(self.app_secret or self.webhook_secret)

    @property
    def allowlist(self) -> list[str]:
        """The origins webhooks may be posted to."""
        return origins(self.webhook_allowlist)


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
