"""Configuration: its schema, defaults and loading."""

from dtbot.config.load import ENV_KEYS, load_config
from dtbot.config.schema import Config, ModelConfig, ProviderConfig

__all__ = ["ENV_KEYS", "Config", "ModelConfig", "ProviderConfig", "load_config"]
