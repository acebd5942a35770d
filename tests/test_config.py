import subprocess
import sys

import pytest

from fletch.cli import main
from fletch.config import ConfigError, load_config


def write(tmp_path, text):
    path = tmp_path / "fletch.yaml"
    path.write_text(text)
    return path


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={})
    assert config.api.port == 8080 and config.api.flight_port == 8815
    assert config.worker.ports == [8081, 8082]
    assert config.lookback_delta_ms == 300_000
    assert config.default_org == "default" and config.discovery == "local"
    assert config.catalog_dsn == "sqlite:///data/catalog.db"


def test_file_then_environment_then_overrides(tmp_path):
    path = write(tmp_path, "data_dir: /srv/lake\napi:\n  port: 9000\nstorage_profiles: s.yaml\n")
    env = {"FLETCH_API__FLIGHT_PORT": "9815", "FLETCH_DISCOVERY": "zookeeper",
           "FLETCH_WORKERS": "[grpc://a:1, grpc://b:2]", "FLETCH_API__PORT": "9001", "HOME": "/x"}
    config = load_config(path, environ=env, overrides={"api.port": 9002})
    assert config.data_dir == "/srv/lake"
    assert (config.api.port, config.api.flight_port) == (9002, 9815)
    assert config.discovery == "zookeeper" and config.workers == ["grpc://a:1", "grpc://b:2"]
    assert config.storage_profiles == str(tmp_path / "s.yaml")
    assert config.catalog_dsn == "sqlite:////srv/lake/catalog.db"


@pytest.mark.parametrize(("text", "env", "message"), [
    ("data_dri: x\n", {}, "data_dri: unknown key"),
    ("api:\n  prot: 1\n", {}, "api.prot: unknown key"),
    ("", {"FLETCH_API__PROT": "1"}, "api.prot: unknown key"),
    ("", {"FLETCH_NOPE": "1"}, "nope: unknown key"),
    ("api:\n  port: many\n", {}, "api.port"),
    ("api:\n  port: 70000\n", {}, "api.port"),
    ("lookback_delta: 5 minutes\n", {}, "not a valid duration"),
    ("discovery: consul\n", {}, "discovery"),
    ("- a\n- b\n", {}, "top level must be a mapping"),
    ("api: [\n", {}, "not valid YAML"),
    ("api: 3\n", {"FLETCH_API__PORT": "1"}, "'api' is not a section"),
])
def test_bad_configuration_is_an_error(tmp_path, text, env, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text), environ=env)


def test_explicit_missing_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml", environ={})


def test_check_config_prints_effective_values_and_hides_the_key(tmp_path, monkeypatch, capsys):
    path = write(tmp_path, "ticket_key: s3cret\n")
    monkeypatch.setenv("FLETCH_API__PORT", "9999")
    assert main(["-c", str(path), "check-config"]) == 0
    out = capsys.readouterr().out
    assert "port: 9999" in out and "ticket_key: <set>" in out and "s3cret" not in out


def test_check_config_reports_errors_without_traceback(tmp_path):
    path = write(tmp_path, "colour: red\n")
    done = subprocess.run([sys.executable, "-m", "fletch", "-c", str(path), "check-config"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "colour: unknown key" in done.stderr and "Traceback" not in done.stderr


def test_shipped_config_is_valid():
    config = load_config("conf/fletch.yaml", environ={})
    assert config.storage_profiles.endswith("conf/storage.yaml")
