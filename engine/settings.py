"""Typed settings: environment variables over the selected profile file over defaults.

Priority (highest first): keyword arguments to `Settings(...)`, process environment variables,
the profile file chosen by AIOS_PROFILE (`.env.local-hf` by default, `.env.local-only` for the
strict no-network profile), then the defaults below. `get_settings()` builds the object lazily
and caches it; tests call `reset_settings()` after changing the environment.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from engine.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[1]
PROFILES = {"local-hf": ".env.local-hf", "local-only": ".env.local-only"}

# Runbook 004's model_config.json defaults: LM Studio on its default port.
DEFAULT_MODEL_CONFIG: dict[str, dict[str, str]] = {
    "main_model": {
        "name": "openhermes-2.5-mistral-7b",
        "api_endpoint": "http://localhost:1234/v1/chat/completions",
    },
    "embedder_llm": {
        "name": "llama-3.2-1b-instruct-abliterated",
        "api_endpoint": "http://localhost:1234/v1/chat/completions",
    },
}

CommaList = Annotated[list[str], NoDecode]


_KNOWN_SECRETS: set[str] = set()


def known_secret_values() -> list[str]:
    """Every secret value seen by any Settings built in this process (for masking only)."""
    return list(_KNOWN_SECRETS)


class Settings(BaseSettings):
    """Every knob the engine reads. Field names map to UPPER_CASE environment variables."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_file_encoding="utf-8")

    aios_profile: Literal["local-hf", "local-only"] = "local-hf"
    aios_data_dir: Path = REPO_ROOT / "data_core"
    aios_provider: Literal["auto", "openai", "sim"] = "auto"

    # Secrets: SecretStr so that repr(), str() and model_dump() never show them.
    hf_token: SecretStr | None = None
    openai_api_key: SecretStr | None = None
    aios_api_key: SecretStr | None = None
    # Optional bearer token the gateway requires on every endpoint but /health and /metrics.
    aios_gateway_token: SecretStr | None = None

    # Egress policy (runbook 000).
    provider_allowlist: CommaList = Field(default_factory=list)
    egress_allowlist: CommaList = Field(default_factory=list)
    no_net_mode: bool = False

    # model_config.json overrides.
    aios_main_model: str | None = None
    aios_main_endpoint: str | None = None
    aios_main_provider: str | None = None
    aios_embedder_model: str | None = None
    aios_embedder_endpoint: str | None = None
    aios_embedder_provider: str | None = None

    # Provider client behaviour.
    aios_request_timeout_s: float = Field(default=60.0, gt=0)
    aios_probe_timeout_s: float = Field(default=0.5, gt=0)
    aios_max_retries: int = Field(default=2, ge=0, le=10)
    aios_retry_backoff_s: float = Field(default=0.5, ge=0)
    aios_max_retry_after_s: float = Field(default=30.0, ge=0)
    aios_max_tokens: int = Field(default=512, gt=0)

    # Simulator: modelled latencies are multiplied by this scale for the real sleep.
    aios_sim_seed: int = 0
    aios_sim_latency_scale: float = Field(default=0.0002, ge=0)

    # The closed loop.
    aios_adaptive_enabled: bool = True
    aios_experiment_seed: str = "aios-adaptive-routing"
    aios_router: str = "complexity"
    aios_quality_judge: bool = False
    # Share of answers also asked of the other model after the served answer (a `comparison` event);
    # 0 turns shadow comparisons off. Their agreement is the adaptive controller's best label.
    aios_shadow_rate: float = Field(default=0.05, ge=0.0, le=1.0)
    # The learned router's model (`train-router --out`), used when AIOS_ROUTER=learned; missing or
    # unusable -> a warning and the default complexity router.
    aios_router_model: str | None = None
    # Share of answers routed against the router's decision (probability recorded on the event), so a
    # log can evaluate other boundaries and routers (`replay`); 0 turns exploration off.
    aios_explore_rate: float = Field(default=0.02, ge=0.0, le=0.5)

    # Bandit and recipes (runbook 000).
    bandit_enabled: bool = False
    recipes_reload_mode: Literal["events", "poll", "off"] = "events"
    recipes_reload_interval_seconds: float = Field(default=5.0, gt=0)
    recipes_debounce_ms: int = Field(default=300, ge=0)
    validation_strict: bool = False
    validation_strict_scope: Literal["all", "critical"] = "all"
    # Where the dashboard looks for the HTTP gateway (`python -m engine serve`).
    aios_gateway_url: str = "http://127.0.0.1:8000"
    # Gateway hardening: request body cap (413 above it), chat history and session-id caps (422),
    # and Host names accepted besides the address a request arrived on (DNS-rebinding guard).
    aios_gateway_max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    aios_gateway_max_messages: int = Field(default=256, ge=1)
    aios_gateway_max_session_id_chars: int = Field(default=256, ge=1)
    aios_gateway_allowed_hosts: CommaList = Field(default_factory=list)
    # Beyond one machine (README): a PostgreSQL URL (postgresql://user:pass@host/db) moves the events,
    # the adaptive state and the bandit statistics there; unset keeps the files. A secret: it may
    # hold a password.
    aios_store_url: SecretStr | None = None
    aios_store_pool_size: int = Field(default=4, ge=1, le=64)
    # OpenTelemetry export of each answer as a GenAI span (OTLP/HTTP protobuf); unset = no export.
    # The standard OTel variable names, so a collector set up for other services needs nothing new.
    otel_exporter_otlp_endpoint: str | None = None
    otel_exporter_otlp_traces_endpoint: str | None = None
    otel_instrumentation_genai_capture_message_content: bool = False
    otel_service_name: str = "aios-engine"

    @field_validator("provider_allowlist", "egress_allowlist", "aios_gateway_allowed_hosts", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip().lower() for item in value.split(",") if item.strip()]
        return value

    @field_validator("hf_token", "openai_api_key", "aios_api_key", "aios_gateway_token", mode="before")
    @classmethod
    def _clean_secret(cls, value: Any) -> Any:
        # A token pasted with a newline or a smart quote would fail later inside the HTTP client
        # with a misleading error (or an exception quoting the header). Surrounding whitespace is
        # dropped; anything else that cannot go into an HTTP header is refused here, by name only.
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if not all(33 <= ord(c) < 127 for c in value):
                raise ValueError("contains a space, control or non-ASCII character that cannot be "
                                 "sent in an HTTP header; copy the token again")
        return value

    @field_validator("aios_data_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    def model_post_init(self, context: Any, /) -> None:
        # Every secret any settings object of this process has held is masked wherever the engine
        # stores or serves text (engine.logging_setup.mask_secrets), whichever object wrote it.
        _KNOWN_SECRETS.update(self.secret_values())

    @property
    def paths(self) -> DataPaths:
        return DataPaths.under(self.aios_data_dir)

    def secret_values(self) -> list[str]:
        """The plain values of every secret, for redaction filters; never display these."""
        out = []
        # Every SecretStr field, so a secret added later is masked without being listed here; a
        # URL's password (AIOS_STORE_URL) also alone, as a driver's error may quote just that.
        for name in type(self).model_fields:
            secret = getattr(self, name)
            if isinstance(secret, SecretStr) and secret.get_secret_value():
                out.append(secret.get_secret_value())
                try:
                    password = urlsplit(secret.get_secret_value()).password
                except ValueError:
                    password = None
                if password:
                    out.append(password)
        return out

    def api_key_for(self, provider: str) -> SecretStr | None:
        """The bearer token for a provider: HF_TOKEN for `hf`, else AIOS_API_KEY or OPENAI_API_KEY."""
        if provider == "hf":
            return self.hf_token
        return self.aios_api_key or self.openai_api_key

    def redacted(self) -> dict[str, Any]:
        """Settings as plain JSON-able values with every secret replaced by a marker."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "**********" if value.get_secret_value() else ""
            elif isinstance(value, Path):
                value = str(value)
            out[name.upper()] = value
        return out


@dataclass(frozen=True)
class DataPaths:
    """Every file the engine reads or writes, all under one data directory (AIOS_DATA_DIR)."""

    root: Path

    @classmethod
    def under(cls, root: Path) -> DataPaths:
        return cls(root=Path(root))

    @property
    def analytics_dir(self) -> Path:
        return self.root / "analytics"

    @property
    def log(self) -> Path:
        return self.analytics_dir / "hypotheses.ndjson"

    @property
    def adaptive_state(self) -> Path:
        return self.analytics_dir / "adaptive_routing_state.json"

    @property
    def bandit_db(self) -> Path:
        return self.analytics_dir / "bandit.sqlite3"

    @property
    def goldens_dir(self) -> Path:
        return self.root / "goldens"

    @property
    def sample_set(self) -> Path:
        return self.goldens_dir / "sample_set.json"

    @property
    def baseline(self) -> Path:
        return self.goldens_dir / "baseline_new.json"

    @property
    def last_report(self) -> Path:
        return self.goldens_dir / "last_report.json"

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def model_config(self) -> Path:
        return self.config_dir / "model_config.json"

    @property
    def recipes_dir(self) -> Path:
        return self.root / "recipes"


@dataclass(frozen=True)
class ModelSpec:
    """One model entry of model_config.json, after env overrides."""

    role: str  # "main" or "embedder"
    name: str
    api_endpoint: str
    provider: str = "lmstudio"

    @property
    def models_url(self) -> str:
        """The `GET /v1/models` URL next to a chat-completions endpoint."""
        endpoint = self.api_endpoint.rstrip("/")
        if endpoint.endswith("/chat/completions"):
            return endpoint[: -len("/chat/completions")] + "/models"
        return endpoint + "/models"


@dataclass(frozen=True)
class ModelConfig:
    main: ModelSpec
    embedder: ModelSpec

    def for_route(self, route: str) -> ModelSpec:
        return self.main if route == "main" else self.embedder


def profile_file(profile: str) -> Path:
    """The profile file for AIOS_PROFILE; AIOS_ENV_DIR relocates the folder (default: repo root)."""
    folder = Path(os.environ.get("AIOS_ENV_DIR", REPO_ROOT))
    return folder / PROFILES[profile]


def build_settings(**overrides: Any) -> Settings:
    """Build settings from the environment and the profile file; raise ConfigError on bad values."""
    profile = overrides.get("aios_profile") or os.environ.get("AIOS_PROFILE", "local-hf")
    if profile not in PROFILES:
        raise ConfigError(f"AIOS_PROFILE={profile!r} is not one of {sorted(PROFILES)}")
    env_file = profile_file(profile)
    try:
        return Settings(_env_file=env_file if env_file.exists() else None, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid settings (environment or {env_file.name}): {problems}") from None


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, built on first use."""
    return build_settings()


def reset_settings() -> None:
    """Forget the cached settings so the next `get_settings()` re-reads the environment."""
    get_settings.cache_clear()


def load_model_config(settings: Settings | None = None) -> ModelConfig:
    """Read `<data dir>/config/model_config.json` (defaults when absent) and apply env overrides.

    Raises ConfigError naming the file and field when the file is not valid.
    """
    settings = settings or get_settings()
    path = settings.paths.model_config
    raw: dict[str, Any] = json.loads(json.dumps(DEFAULT_MODEL_CONFIG))
    if path.exists():
        if not path.is_file():
            raise ConfigError(f"{path}: is a directory (or not a regular file), expected model_config.json")
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not UTF-8 text") from None
        except RecursionError:
            raise ConfigError(f"{path}: nested too deeply to be a model config") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read ({exc.strerror or type(exc).__name__})") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a JSON object with main_model and embedder_llm")
        for key in ("main_model", "embedder_llm"):
            entry = loaded.get(key, {})
            if not isinstance(entry, dict):
                raise ConfigError(f"{path}: field {key} must be an object with name and api_endpoint")
            raw[key].update({k: v for k, v in entry.items() if isinstance(v, str)})

    def spec(role: str, key: str, model: str | None, endpoint: str | None, provider: str | None) -> ModelSpec:
        entry = raw[key]
        name = model or entry.get("name", "")
        url = endpoint or entry.get("api_endpoint", "")
        if not name or not url.startswith(("http://", "https://")):
            raise ConfigError(f"{path}: field {key} needs a name and an http(s) api_endpoint")
        return ModelSpec(role, name, url, (provider or entry.get("provider") or "lmstudio").lower())

    return ModelConfig(
        main=spec("main", "main_model", settings.aios_main_model, settings.aios_main_endpoint,
                  settings.aios_main_provider),
        embedder=spec("embedder", "embedder_llm", settings.aios_embedder_model,
                      settings.aios_embedder_endpoint, settings.aios_embedder_provider),
    )
