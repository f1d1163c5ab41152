"""Settings: profile files, environment priority, data dir relocation and model_config.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import EXIT_BAD_INPUT, ConfigError, EngineError
from engine.settings import (
    DEFAULT_MODEL_CONFIG,
    build_settings,
    get_settings,
    load_model_config,
    reset_settings,
)


@pytest.fixture
def env_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with our own two profile files, selected through AIOS_ENV_DIR."""
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / ".env.local-hf").write_text(
        "# test profile\nPROVIDER_ALLOWLIST=hf, OpenAI\nEGRESS_ALLOWLIST=router.huggingface.co\n"
        "NO_NET_MODE=false\nAIOS_MAX_RETRIES=4\nAIOS_SIM_SEED=11\n")
    (folder / ".env.local-only").write_text(
        "NO_NET_MODE=true\nPROVIDER_ALLOWLIST=\nEGRESS_ALLOWLIST=\nAIOS_MAX_RETRIES=1\n")
    monkeypatch.setenv("AIOS_ENV_DIR", str(folder))
    return folder


def write_model_config(data_dir: Path, content: str) -> Path:
    path = data_dir / "config" / "model_config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    return path


def test_the_default_profile_is_local_hf(env_dir):
    settings = build_settings()
    assert settings.aios_profile == "local-hf"
    assert settings.provider_allowlist == ["hf", "openai"]
    assert settings.egress_allowlist == ["router.huggingface.co"]
    assert settings.no_net_mode is False and settings.aios_max_retries == 4


def test_aios_profile_local_only_selects_the_strict_file(env_dir, monkeypatch):
    monkeypatch.setenv("AIOS_PROFILE", "local-only")
    settings = build_settings()
    assert settings.aios_profile == "local-only"
    assert settings.no_net_mode is True
    assert settings.provider_allowlist == [] and settings.egress_allowlist == []
    assert settings.aios_max_retries == 1 and settings.aios_sim_seed == 0


def test_the_environment_wins_over_the_profile_file(env_dir, monkeypatch):
    monkeypatch.setenv("NO_NET_MODE", "true")
    monkeypatch.setenv("EGRESS_ALLOWLIST", "api.example.com,Other.Example.org")
    monkeypatch.setenv("AIOS_MAX_RETRIES", "0")
    settings = build_settings()
    assert settings.no_net_mode is True
    assert settings.egress_allowlist == ["api.example.com", "other.example.org"]
    assert settings.aios_max_retries == 0
    # Values the environment does not set still come from the file.
    assert settings.provider_allowlist == ["hf", "openai"] and settings.aios_sim_seed == 11


def test_keyword_overrides_win_over_everything(env_dir, monkeypatch):
    monkeypatch.setenv("AIOS_MAX_RETRIES", "3")
    assert build_settings(aios_max_retries=7).aios_max_retries == 7


def test_a_missing_profile_file_falls_back_to_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("AIOS_ENV_DIR", str(tmp_path / "empty"))
    settings = build_settings()
    assert settings.provider_allowlist == [] and settings.no_net_mode is False


def test_an_unknown_profile_is_a_config_error(env_dir, monkeypatch):
    monkeypatch.setenv("AIOS_PROFILE", "cloud")
    with pytest.raises(ConfigError) as info:
        build_settings()
    assert "AIOS_PROFILE='cloud'" in info.value.message and "local-only" in info.value.message
    assert info.value.exit_code == EXIT_BAD_INPUT and isinstance(info.value, EngineError)


def test_a_bad_value_names_the_variable_and_the_profile_file(env_dir, monkeypatch):
    monkeypatch.setenv("AIOS_MAX_RETRIES", "many")
    with pytest.raises(ConfigError) as info:
        build_settings()
    assert "AIOS_MAX_RETRIES" in info.value.message and ".env.local-hf" in info.value.message
    (env_dir / ".env.local-hf").write_text("AIOS_PROVIDER=cloud\n")
    monkeypatch.delenv("AIOS_MAX_RETRIES")
    monkeypatch.delenv("AIOS_PROVIDER")
    with pytest.raises(ConfigError, match="AIOS_PROVIDER"):
        build_settings()


def test_aios_data_dir_relocates_every_path(tmp_path, monkeypatch):
    target = tmp_path / "elsewhere"
    monkeypatch.setenv("AIOS_DATA_DIR", str(target))
    paths = build_settings().paths
    assert paths.root == target.resolve()
    assert paths.log == target.resolve() / "analytics" / "hypotheses.ndjson"
    assert paths.adaptive_state == target.resolve() / "analytics" / "adaptive_routing_state.json"
    assert paths.model_config == target.resolve() / "config" / "model_config.json"
    assert paths.sample_set == target.resolve() / "goldens" / "sample_set.json"


def test_a_relative_data_dir_becomes_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AIOS_DATA_DIR", "rel/data")
    assert build_settings().aios_data_dir == (tmp_path / "rel" / "data").resolve()


def test_get_settings_is_cached_until_reset(monkeypatch, tmp_path):
    first = get_settings()
    assert get_settings() is first
    monkeypatch.setenv("AIOS_DATA_DIR", str(tmp_path / "other"))
    assert get_settings() is first
    reset_settings()
    assert get_settings().aios_data_dir == (tmp_path / "other").resolve()


def test_model_config_defaults_when_the_file_is_absent(data_dir):
    models = load_model_config(build_settings())
    assert models.main.name == DEFAULT_MODEL_CONFIG["main_model"]["name"]
    assert models.embedder.api_endpoint == "http://localhost:1234/v1/chat/completions"
    assert models.main.provider == "lmstudio"
    assert models.main.models_url == "http://localhost:1234/v1/models"


def test_model_config_file_is_read_and_env_overrides_it(data_dir, monkeypatch):
    write_model_config(data_dir, json.dumps({
        "main_model": {"name": "qwen-7b", "api_endpoint": "http://127.0.0.1:8000/v1/chat/completions",
                       "provider": "vLLM"},
        "embedder_llm": {"name": "tiny-1b", "api_endpoint": "http://127.0.0.1:8001/v1"}}))
    models = load_model_config(build_settings())
    assert (models.main.name, models.main.provider) == ("qwen-7b", "vllm")
    assert models.embedder.models_url == "http://127.0.0.1:8001/v1/models"

    monkeypatch.setenv("AIOS_MAIN_MODEL", "llama-8b")
    monkeypatch.setenv("AIOS_EMBEDDER_ENDPOINT", "http://127.0.0.1:11434/v1/chat/completions")
    monkeypatch.setenv("AIOS_EMBEDDER_PROVIDER", "ollama")
    models = load_model_config(build_settings())
    assert models.main.name == "llama-8b"
    assert models.main.api_endpoint == "http://127.0.0.1:8000/v1/chat/completions"  # from the file
    assert models.embedder.name == "tiny-1b"
    assert models.embedder.api_endpoint == "http://127.0.0.1:11434/v1/chat/completions"
    assert models.for_route("embedder").provider == "ollama"


def test_a_partial_model_config_keeps_the_defaults_for_the_rest(data_dir):
    write_model_config(data_dir, '{"main_model": {"name": "only-the-name"}}')
    models = load_model_config(build_settings())
    assert models.main.name == "only-the-name"
    assert models.main.api_endpoint == DEFAULT_MODEL_CONFIG["main_model"]["api_endpoint"]
    assert models.embedder.name == DEFAULT_MODEL_CONFIG["embedder_llm"]["name"]


def test_a_malformed_model_config_is_a_config_error_naming_the_file_and_line(data_dir):
    path = write_model_config(data_dir, '{\n  "main_model": {"name": "x",,}\n}\n')
    with pytest.raises(ConfigError) as info:
        load_model_config(build_settings())
    assert str(path) in info.value.message and "line 2" in info.value.message
    assert info.value.exit_code == EXIT_BAD_INPUT


@pytest.mark.parametrize("content,field", [
    ('["not", "an", "object"]', "main_model and embedder_llm"),
    ('{"main_model": "qwen"}', "main_model"),
    ('{"embedder_llm": {"name": "x", "api_endpoint": "ftp://host/v1"}}', "embedder_llm"),
    ('{"main_model": {"name": "", "api_endpoint": "http://h/v1"}}', "main_model"),
])
def test_a_model_config_with_bad_fields_names_the_file_and_field(data_dir, content, field):
    path = write_model_config(data_dir, content)
    with pytest.raises(ConfigError) as info:
        load_model_config(build_settings())
    assert str(path) in info.value.message and field in info.value.message


def test_secrets_are_secret_str_and_redacted(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_test_secret_value_123")
    monkeypatch.setenv("AIOS_API_KEY", "sk-local-secret-456")
    settings = build_settings()
    assert "hf_test_secret_value_123" not in repr(settings) + str(settings.model_dump())
    redacted = settings.redacted()
    assert redacted["HF_TOKEN"] == "**********" and redacted["AIOS_API_KEY"] == "**********"
    assert redacted["OPENAI_API_KEY"] is None
    assert sorted(settings.secret_values()) == ["hf_test_secret_value_123", "sk-local-secret-456"]
    assert settings.api_key_for("hf").get_secret_value() == "hf_test_secret_value_123"
    assert settings.api_key_for("lmstudio").get_secret_value() == "sk-local-secret-456"
