"""Configuration: conf/fletch.yaml, then `FLETCH_*` environment overrides, then command-line flags.

Environment variables name a key path with `__` between levels: `FLETCH_DATA_DIR=/srv/lake`,
`FLETCH_API__PORT=9090`, `FLETCH_DISCOVERY=zookeeper`. Values are read as YAML scalars or flow
collections (`FLETCH_WORKERS=[grpc://a:8081,grpc://b:8081]`). An unknown key, in the file or in the
environment, is an error: a typo must never be silently ignored.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from planner.durations import parse_duration

ENV_PREFIX = "FLETCH_"
# Environment variables with the prefix that are not config keys.
_NOT_CONFIG_KEYS = {"FLETCH_CONFIG"}
DEFAULT_CONFIG_PATH = Path("conf/fletch.yaml")


class ConfigError(Exception):
    """The configuration cannot be loaded; the message says which key or file and why."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApiConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    flight_port: int = Field(8815, ge=0, le=65535)


class WorkerConfig(_Section):
    host: str = "127.0.0.1"
    ports: list[int] = Field(default_factory=lambda: [8081, 8082])
    cache_dir: str = ""
    cache_bytes: int = Field(2 << 30, gt=0)
    duckdb_threads: int = Field(0, ge=0)
    # Bearer token required from clients that are not the API (DoGet is authorized by the
    # signed ticket). Empty: no token needed.
    auth_token: str = ""
    # PEM files; with both set the worker serves grpc+tls://.
    tls_cert: str = ""
    tls_key: str = ""


class ZooKeeperConfig(_Section):
    """`discovery: zookeeper`: workers register ephemeral sequential znodes under `path`."""

    hosts: str = "127.0.0.1:2181"
    path: str = "/fletch/workers"
    session_timeout_s: float = Field(10.0, gt=0)
    # Location a worker registers; empty: the location it listens on.
    advertise: str = ""


class KubernetesConfig(_Section):
    """`discovery: kubernetes`: ready endpoints of the workers' Service (EndpointSlices)."""

    namespace: str = "default"
    service: str = "fletch-worker"
    # Empty: kubernetes.io/service-name=<service>.
    label_selector: str = ""
    # Named port of the slice that serves Flight; empty: the slice's first port.
    port_name: str = "flight"
    scheme: Literal["grpc", "grpc+tls"] = "grpc"
    # Empty: in-cluster config, else the default kubeconfig.
    kubeconfig: str = ""
    watch_timeout_s: int = Field(300, gt=0)


class EcsConfig(_Section):
    """`discovery: ecs`: RUNNING tasks of a service, by ENI address, polled."""

    cluster: str = "fletch"
    service: str = "fletch-worker"
    port: int = Field(8081, gt=0, le=65535)
    scheme: Literal["grpc", "grpc+tls"] = "grpc"
    region: str = ""
    poll_interval_s: float = Field(15.0, gt=0)


class HealthConfig(_Section):
    """The API's view of worker health, from call outcomes."""

    # A worker whose call failed gets no new work for this long (unless no other is left).
    cooldown_s: float = Field(10.0, ge=0)


class LifecycleConfig(_Section):
    """Graceful shutdown on SIGTERM."""

    # Worker: time between deregistering and refusing new tickets, so the API's view catches up.
    deregister_grace_s: float = Field(1.0, ge=0)
    # Worker: longest wait for running DoGets before exiting anyway.
    drain_timeout_s: float = Field(30.0, ge=0)


class FletchConfig(_Section):
    data_dir: str = "./data"
    # `sqlite:///path/catalog.db` or `postgresql://...`; empty means SQLite in data_dir.
    catalog: str = ""
    # Relative paths are resolved against the config file's directory. Empty: one `file`
    # profile for every org, under <data_dir>/lake.
    storage_profiles: str = ""
    default_org: str = "default"
    lookback_delta: str = "5m"
    # Shared HMAC key for tickets. Empty is allowed only for single-process use; `fletch up`
    # generates one for the processes it starts.
    ticket_key: str = ""
    discovery: Literal["local", "zookeeper", "kubernetes", "ecs"] = "local"
    workers: list[str] = Field(default_factory=list)
    api: ApiConfig = ApiConfig()
    worker: WorkerConfig = WorkerConfig()
    zookeeper: ZooKeeperConfig = ZooKeeperConfig()
    kubernetes: KubernetesConfig = KubernetesConfig()
    ecs: EcsConfig = EcsConfig()
    health: HealthConfig = HealthConfig()
    lifecycle: LifecycleConfig = LifecycleConfig()

    @field_validator("lookback_delta")
    @classmethod
    def _valid_duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def lookback_delta_ms(self) -> int:
        return parse_duration(self.lookback_delta)

    @property
    def catalog_dsn(self) -> str:
        return self.catalog or f"sqlite:///{Path(self.data_dir) / 'catalog.db'}"

    def redacted(self) -> dict[str, Any]:
        """The effective configuration for printing, with secrets masked."""
        data = self.model_dump()
        if data["ticket_key"]:
            data["ticket_key"] = "<set>"
        if data["worker"]["auth_token"]:
            data["worker"]["auth_token"] = "<set>"
        return data


def load_config(path: str | os.PathLike[str] | None = None,
                environ: Mapping[str, str] | None = None,
                overrides: Mapping[str, Any] | None = None) -> FletchConfig:
    """Read the YAML file (if any), apply `FLETCH_*` environment values, then explicit overrides."""
    environ = os.environ if environ is None else environ
    explicit = path is not None or "FLETCH_CONFIG" in environ
    config_path = Path(path or environ.get("FLETCH_CONFIG") or DEFAULT_CONFIG_PATH)
    data: dict[str, Any] = {}
    if config_path.exists():
        data = _read_yaml(config_path)
    elif explicit:
        raise ConfigError(f"config file {config_path} does not exist")
    for name, raw in environ.items():
        if name.startswith(ENV_PREFIX) and name not in _NOT_CONFIG_KEYS:
            keys = name[len(ENV_PREFIX):].lower().split("__")
            _set_path(data, keys, _parse_env_value(name, raw), source=name)
    for dotted, value in (overrides or {}).items():
        _set_path(data, dotted.split("."), value, source=f"--{dotted}")
    profiles = data.get("storage_profiles")
    if isinstance(profiles, str) and profiles and config_path.exists():
        data["storage_profiles"] = str(config_path.parent / profiles)
    try:
        return FletchConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_describe(err, config_path)) from None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys")
    return loaded


def _parse_env_value(name: str, raw: str) -> Any:
    try:
        return yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        raise ConfigError(f"{name}: cannot read value {raw!r}") from None


def _set_path(data: dict[str, Any], keys: list[str], value: Any, *, source: str) -> None:
    target = data
    for key in keys[:-1]:
        nested = target.setdefault(key, {})
        if not isinstance(nested, dict):
            raise ConfigError(f"{source}: {key!r} is not a section")
        target = nested
    target[keys[-1]] = value


def _describe(err: ValidationError, path: Path) -> str:
    lines = [f"invalid configuration ({path}, FLETCH_* environment):"]
    for problem in err.errors():
        where = ".".join(str(part) for part in problem["loc"])
        message = "unknown key" if problem["type"] == "extra_forbidden" else problem["msg"]
        lines.append(f"  {where}: {message}")
    return "\n".join(lines)
