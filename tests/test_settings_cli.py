"""Settings fail fast with one clear line; the CLI manages accounts and the demo data."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlmodel import select

from app.models import AuditEvent, Department, Unit, User
from app.settings import SettingsError, load_settings


def run_cli(*args, env=None, stdin=""):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], input=stdin, capture_output=True, text=True, env=full_env, timeout=120
    )


def test_production_refuses_a_missing_secret():
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings(JIXIAO_ENV="production")
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings(JIXIAO_ENV="production", SECRET_KEY="change-me")
    assert load_settings(JIXIAO_ENV="production", SECRET_KEY="x" * 40).secret_key == "x" * 40


def test_default_database_is_a_sqlite_file_under_data():
    settings = load_settings()
    if "DATABASE_URL" not in os.environ:
        assert settings.database_url.startswith("sqlite:///") and "/data/" in settings.database_url


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nothing"}, "无法连接数据库"),
        ({"JIXIAO_ENV": "production", "SECRET_KEY": ""}, "SECRET_KEY"),
    ],
)
def test_bad_configuration_gives_one_line_and_nonzero_exit(env, needle, tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/x.db", **env}
    result = run_cli("migrate", env=env)
    assert result.returncode != 0
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_refuses_an_unmigrated_database(tmp_path):
    result = run_cli("serve", env={"DATABASE_URL": f"sqlite:///{tmp_path}/empty.db"})
    assert result.returncode != 0
    assert "jixiao migrate" in result.stderr


def test_users_and_demo_commands(settings, session):
    env = {"DATABASE_URL": settings.database_url}
    result = run_cli("demo", "--if-empty", env=env)
    assert result.returncode == 0, result.stderr
    assert "wuxian_jiancezhan" in result.stdout
    units = {u.name for u in session.exec(select(Unit))}
    assert units == {"广州市工业和信息化局", "广州市工业和信息化产业发展中心", "广州市无线电监测站"}
    # The demo's units sit under the Guangzhou bureau; the seed fund brings its own
    # department (the province's 工信厅), which has no units.
    departments = {d.name for d in session.exec(select(Department))}
    assert departments == {"广州市工业和信息化局", "广东省工业和信息化厅"}
    again = run_cli("demo", "--if-empty", env=env)
    assert "跳过" in again.stdout
    assert len(session.exec(select(Unit)).all()) == 3

    result = run_cli(
        "users",
        "add",
        "zhang",
        "--role",
        "unit",
        "--unit",
        "广州市无线电监测站",
        "--password-stdin",
        env=env,
        stdin="s3cret-pass\n",
    )
    assert result.returncode == 0, result.stderr
    session.expire_all()
    user = session.exec(select(User).where(User.username == "zhang")).one()
    assert user.role == "unit" and user.password_hash.startswith("$argon2")
    assert "s3cret-pass" not in user.password_hash

    listing = run_cli("users", "list", env=env)
    assert "zhang" in listing.stdout and "广州市无线电监测站" in listing.stdout

    bad = run_cli("users", "add", "li", "--role", "unit", "--password-stdin", env=env, stdin="s3cret-pass\n")
    assert bad.returncode != 0 and "--unit" in bad.stderr

    assert run_cli("users", "passwd", "zhang", "--password-stdin", env=env, stdin="another-pass\n").returncode == 0
    assert run_cli("users", "disable", "zhang", env=env).returncode == 0
    session.expire_all()
    assert session.exec(select(User).where(User.username == "zhang")).one().is_active is False
    actions = {e.action for e in session.exec(select(AuditEvent))}
    assert {"user.add", "user.passwd", "user.disable"} <= actions
