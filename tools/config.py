"""All configuration in one place: ``TUNESMITH_*`` environment variables over ``tunesmith.toml``.

The TOML file is looked up in the working directory, then in ``TUNESMITH_HOME``. Every field can
be set either way (``TUNESMITH_MAX_UPLOAD_MB=50`` or ``max_upload_mb = 50``).
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field

# Offline by construction and no spinning OpenMP threads: set before torch/transformers/gradio load.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "OMP_WAIT_POLICY": "PASSIVE",
}


class Settings(BaseModel):
    home: Path = Field(default_factory=lambda: Path.home() / ".local" / "share" / "tunesmith",
                       description="state: database, artifacts, indexes, caches")
    host: str = Field(default="127.0.0.1", description="address the server binds")
    port: int = Field(default=7860, description="port of the UI and API")
    api_key: str | None = Field(default=None, description="when set, the API requires it (Bearer)")
    planner: str = Field(default="embedded", description="embedded | causal:PATH | openai:URL")
    threads: int = Field(default=2, ge=1, description="torch / BLAS threads")
    max_upload_mb: float = Field(default=100.0, gt=0, description="largest accepted file")
    max_audio_seconds: float = Field(default=900.0, gt=0, description="longest accepted audio or video")
    max_score_notes: int = Field(default=200_000, gt=0, description="most notes accepted in a MIDI file or score")
    max_song_seconds: float = Field(default=360.0, gt=0, description="longest song text_to_song makes")
    soundfont: Path | None = Field(default=None, description="GM SoundFont (.sf2) to render with")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def artifacts_dir(self) -> Path:
        return self.home / "artifacts"

    @property
    def database_path(self) -> Path:
        return self.home / "tunesmith.sqlite3"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"


def _toml_values(home_hint: Path | None) -> dict:
    candidates = [Path.cwd() / "tunesmith.toml"]
    if home_hint:
        candidates.append(home_hint / "tunesmith.toml")
    for path in candidates:
        if path.is_file():
            with path.open("rb") as handle:
                return dict(tomllib.load(handle))
    return {}


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build settings from the TOML file and the environment (environment wins)."""
    env = dict(os.environ if env is None else env)
    home_env = env.get("TUNESMITH_HOME")
    values = _toml_values(Path(home_env).expanduser() if home_env else None)
    for name in Settings.model_fields:
        raw = env.get(f"TUNESMITH_{name.upper()}")
        if raw not in (None, ""):
            values[name] = raw
    settings = Settings.model_validate(values)
    settings.home = settings.home.expanduser()
    return settings


@lru_cache(maxsize=1)
def settings() -> Settings:
    """Process-wide settings, read once."""
    return load_settings()


def prepare_environment(current: Settings | None = None) -> Settings:
    """Set the offline and threading variables and point caches inside the data dir.

    Called by every entry point before heavy libraries are imported.
    """
    current = current or settings()
    for name, value in OFFLINE_ENV.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("OMP_NUM_THREADS", str(current.threads))
    os.environ.setdefault("HF_HOME", str(current.cache_dir / "huggingface"))
    os.environ.setdefault("GRADIO_TEMP_DIR", str(current.cache_dir / "gradio"))
    os.environ.setdefault("NUMBA_CACHE_DIR", str(current.cache_dir / "numba"))
    os.environ.setdefault("MPLCONFIGDIR", str(current.cache_dir / "matplotlib"))
    current.home.mkdir(parents=True, exist_ok=True)
    return current


def configure_music21(scratch: Path) -> None:
    """Keep music21's scratch files inside our data dir instead of /tmp/music21."""
    from music21 import environment

    scratch.mkdir(parents=True, exist_ok=True)
    environment.set("directoryScratch", str(scratch))
