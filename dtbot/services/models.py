"""The model catalog: the document's models plus those of `config.toml`, with prices and availability."""

from __future__ import annotations

import time

from msgspec import Struct

from dtbot.config import Config, ModelConfig
from dtbot.config.load import provider_env_keys
from dtbot.errors import ModelNotSupported


class ModelInfo(Struct, frozen=True, kw_only=True):
    """A model as `GET /api/models` lists it (the document's field names)."""

    id: str
    name: str
    provider: str
    description: str
    max_tokens: int
    input_price: float
    output_price: float
    currency: str
    available: bool


class CatalogModel(Struct, frozen=True, kw_only=True):
    """What the gateway needs to call a model: its provider, upstream name, context and prices."""

    id: str
    provider: str
    upstream: str
    context: int
    input_price: float
    output_price: float
    currency: str
    fallbacks: tuple[str, ...]

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """The price of a call; catalog prices are per 1,000 tokens."""
        return (prompt_tokens * self.input_price + completion_tokens * self.output_price) / 1000


class ModelService:
    """Looks models up; `available` means the model's provider has a key."""

    def __init__(self, config: Config) -> None:
        self.created = int(time.time())  # OpenAI's model list wants a creation time; the catalog's load time
        self._configured = {name for name, provider in config.providers.items() if provider.configured}
        self._models = {model_id: _catalog_model(model_id, model) for model_id, model in config.models.items()}
        self._listing = [
            ModelInfo(
                id=model_id,
                name=model.name or model_id,
                provider=model.provider,
                description=model.description,
                max_tokens=model.max_tokens,
                input_price=model.input_price,
                output_price=model.output_price,
                currency=model.currency,
                available=model.provider in self._configured,
            )
            for model_id, model in config.models.items()
        ]

    def list(self) -> list[ModelInfo]:
        """Every model of the catalog, in configuration order."""
        return self._listing

    def require_known(self, model_id: str) -> CatalogModel:
        """The catalog entry, available or not; 40004 when the catalog has no such model."""
        model = self._models.get(model_id)
        if model is None:
            raise ModelNotSupported(f"模型不支持: {model_id!r} is not in the model catalog (see GET /api/models)")
        return model

    def resolve(self, model_id: str) -> CatalogModel:
        """The model to call; 40004 when it is unknown or its provider is not configured."""
        model = self.require_known(model_id)
        if model.provider not in self._configured:
            raise ModelNotSupported(
                f"模型不支持: {model_id!r} is unavailable: provider {model.provider!r} has no API key "
                f"(set {provider_env_keys([model.provider])[0][0]})"
            )
        return model


def _catalog_model(model_id: str, model: ModelConfig) -> CatalogModel:
    return CatalogModel(
        id=model_id,
        provider=model.provider,
        upstream=model.upstream or model_id,
        context=model.max_tokens,
        input_price=model.input_price,
        output_price=model.output_price,
        currency=model.currency,
        fallbacks=tuple(model.fallbacks),
    )
