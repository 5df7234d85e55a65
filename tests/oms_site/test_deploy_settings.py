"""Production settings pass Django's deployment checks, and the schema is warning-free."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _production_environment() -> dict:
    """This process's environment with the production settings and no secret key."""
    dropped = {"DJANGO_ALLOW_ASYNC_UNSAFE", "SECRET_KEY", "SECRET_KEY_FILE"}
    return {k: v for k, v in os.environ.items() if k not in dropped} | {
        "DJANGO_SETTINGS_MODULE": "oms_site.settings"
    }


def manage(*args, env=None):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_production_environment() | (env or {}),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_quiet_with_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "DEBUG": "false",
            "SECRET_KEY": "a-long-random-production-secret-" + "x7Qp9" * 10,
            "ALLOWED_HOSTS": "oms.example.com",
            "SECURE_SSL_REDIRECT": "true",
            "SECURE_HSTS_SECONDS": "31536000",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
            "SECURE_HSTS_PRELOAD": "true",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_openapi_schema_validates_without_warnings(tmp_path):
    result = manage(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "schema.yaml"),
        env={"DEBUG": "true"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = manage("check", env={"DEBUG": "false", "OMS_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_a_secret_key_file_is_read(tmp_path):
    key_file = tmp_path / "secret-key"
    key_file.write_text("file-secret-" + "k3Vn8" * 12 + "\n")
    result = manage("check", env={"DEBUG": "false", "SECRET_KEY_FILE": str(key_file)})
    assert result.returncode == 0, result.stderr


def test_the_key_file_in_var_is_used_when_nothing_else_is_set(tmp_path):
    (tmp_path / "secret-key").write_text("var-secret-" + "p4Lw2" * 12 + "\n")
    result = manage("check", env={"DEBUG": "false", "OMS_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr


def test_debug_without_a_key_is_flagged_by_check_deploy(tmp_path):
    result = manage("check", "--deploy", env={"DEBUG": "true", "OMS_VAR_DIR": str(tmp_path)})
    assert "security.W009" in result.stdout + result.stderr
