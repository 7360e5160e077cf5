"""The production Docker files, checked offline (no network, no Docker engine).

What a broken deploy would look like and what guards it here: a compose file Compose rejects (schema),
a depends_on naming a missing service, a container command that is no `jixiao` sub-command, a COPY of
a file the build context leaves out, an image running as root or carrying the test tools, a secret
written into the file. `../shared/tools/compose-real/up.sh .` brings the stack up for real.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "docker" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / ".env.example"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

# Dummy values for the ${VAR:?} secrets, so the file can be interpolated offline.
DUMMY_ENV = {
    "POSTGRES_PASSWORD": "dummy0password0for0tests",
    "SECRET_KEY": "dummy-secret-key-for-offline-tests",
    "POSTGRES_APP_PASSWORD": "dummy0app0password0for0tests",
}
REQUIRED_SECRETS = ("POSTGRES_PASSWORD", "SECRET_KEY", "POSTGRES_APP_PASSWORD")


# --- small readers -----------------------------------------------------------------------------


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        keyword, _, rest = pending.strip().partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    return instructions


def exec_form(arguments: str) -> list[str]:
    """CMD/ENTRYPOINT arguments as argv (JSON exec form, or shell form split like sh would)."""
    arguments = arguments.strip()
    if arguments.startswith("["):
        return json.loads(arguments)
    return shlex.split(arguments)


def last(instruction: str) -> str | None:
    found = [args for keyword, args in dockerfile_instructions() if keyword == instruction]
    return found[-1] if found else None


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message} and $$."""
    pattern = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        value = env.get(name)
        unset = value is None or (operator is not None and operator.startswith(":") and value == "")
        if operator and operator.endswith("?") and unset:
            raise KeyError(f"required variable {name} is missing: {argument}")
        if operator and operator.endswith("-") and unset:
            return argument
        return value or ""

    return pattern.sub(replace, text)


def _walk(node, fn):
    if isinstance(node, dict):
        return {key: _walk(value, fn) for key, value in node.items()}
    if isinstance(node, list):
        return [_walk(value, fn) for value in node]
    return fn(node) if isinstance(node, str) else node


def compose_raw() -> dict:
    """docker-compose.yml parsed, anchors merged, nothing interpolated."""
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def compose(env: dict[str, str] | None = None) -> dict:
    """docker-compose.yml parsed, then interpolated as Compose does: string values, with env
    (default: only the dummy secrets)."""
    return _walk(compose_raw(), lambda value: interpolate(value, DUMMY_ENV if env is None else env))


def compose_variables() -> set[str]:
    """Every ${NAME} the compose file reads (comments excluded)."""
    names: set[str] = set()
    _walk(compose_raw(), lambda value: names.update(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", value)))
    return names


def jixiao_services(config: dict) -> dict[str, dict]:
    """The services that run the image built from docker/Dockerfile."""
    return {
        name: service
        for name, service in config["services"].items()
        if isinstance(service.get("build"), dict) and service["build"].get("dockerfile") == "docker/Dockerfile"
    }


def argv_of(service: dict) -> list[str]:
    """What the container runs: the image's ENTRYPOINT plus the service's command (or the image's CMD)."""
    entrypoint = service.get("entrypoint", exec_form(last("ENTRYPOINT") or "[]"))
    command = service.get("command", exec_form(last("CMD") or "[]"))
    if isinstance(entrypoint, str):
        entrypoint = shlex.split(entrypoint)
    if isinstance(command, str):
        command = shlex.split(command)
    return list(entrypoint) + list(command)


def check_jsonschema_command() -> list[str]:
    """check-jsonschema from the running interpreter's environment (the .venv under make test)."""
    beside = Path(sys.executable).parent / "check-jsonschema"
    if beside.exists():
        return [str(beside)]
    return [sys.executable, "-m", "check_jsonschema"]


def _dockerignore_regex(pattern: str) -> re.Pattern:
    """A .dockerignore pattern as a regex over slash-separated paths (Go filepath.Match plus **)."""
    regex, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif pattern[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif pattern[i] == "?":
            regex, i = regex + "[^/]", i + 1
        else:
            regex, i = regex + re.escape(pattern[i]), i + 1
    return re.compile(regex)


def build_context_excludes(relative: str) -> bool:
    """Whether .dockerignore leaves relative (a path inside the repo) out of the build context."""
    rules = []
    for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            negate = line.startswith("!")
            rules.append((negate, _dockerignore_regex(line.lstrip("!").strip("/"))))
    parts = relative.split("/")
    prefixes = ["/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]
    excluded = False
    # Docker: the last matching rule wins; a rule matching a parent folder covers everything inside it.
    for negate, regex in rules:
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            excluded = not negate
    return excluded


# --- the compose file -----------------------------------------------------------------------------


def test_compose_file_matches_the_compose_spec():
    result = subprocess.run(
        [*check_jsonschema_command(), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_interpolated_compose_file_still_matches_the_compose_spec(tmp_path):
    """With the secrets set, every ${…} resolves to a value the spec accepts (ports, booleans …)."""
    resolved = tmp_path / "docker-compose.resolved.yml"
    resolved.write_text(yaml.safe_dump(compose(), allow_unicode=True), encoding="utf-8")
    result = subprocess.run(
        [*check_jsonschema_command(), "--builtin-schema", "vendor.compose-spec", str(resolved)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("secret", REQUIRED_SECRETS)
def test_compose_refuses_to_run_without_each_secret(secret):
    env = {k: v for k, v in DUMMY_ENV.items() if k != secret}
    with pytest.raises(KeyError, match=secret):
        compose(env)
    with pytest.raises(KeyError, match=secret):
        compose({**env, secret: ""})  # an empty secret is as bad as none


def test_no_secret_is_written_in_the_compose_file():
    texts: list[str] = []
    _walk(compose_raw(), texts.append)
    text = "\n".join(texts)
    for secret in REQUIRED_SECRETS:
        # Every use of the secret is a required ${VAR:?message} reference: no value, no default.
        references = re.findall(r"\$\{" + secret + r"(:?[-?])?", text)
        assert references and all(op == ":?" for op in references), f"{secret} must always be ${{{secret}:?…}}"
    config = compose()
    app_env = config["services"]["app"]["environment"]
    assert app_env["SECRET_KEY"] == DUMMY_ENV["SECRET_KEY"]
    assert DUMMY_ENV["POSTGRES_APP_PASSWORD"] in app_env["DATABASE_URL"]
    assert DUMMY_ENV["POSTGRES_PASSWORD"] in config["services"]["migrate"]["environment"]["DATABASE_URL"]
    assert config["services"]["db"]["environment"]["POSTGRES_PASSWORD"] == DUMMY_ENV["POSTGRES_PASSWORD"]


def test_the_app_runs_as_a_role_other_than_the_one_that_migrates():
    """The audit is append-only only if the app's role is not the owner (SECURITY.md)."""
    from sqlalchemy.engine import make_url

    services = compose()["services"]
    app_url = make_url(services["app"]["environment"]["DATABASE_URL"])
    migrate_env = services["migrate"]["environment"]
    owner_url = make_url(migrate_env["DATABASE_URL"])
    assert app_url.username != owner_url.username
    assert owner_url.username == services["db"]["environment"]["POSTGRES_USER"]
    assert migrate_env["JIXIAO_DB_APP_ROLE"] == app_url.username
    assert migrate_env["JIXIAO_DB_APP_PASSWORD"] == app_url.password
    # The app goes through PgBouncer, the migrations straight to PostgreSQL; one database.
    assert app_url.database == owner_url.database and owner_url.host == "db"
    pgbouncer_env = services["pgbouncer"]["environment"]
    assert (app_url.host, app_url.port) == ("pgbouncer", 6432)
    assert (pgbouncer_env["PGBOUNCER_USER"], pgbouncer_env["PGBOUNCER_PASSWORD"]) == (
        app_url.username,
        app_url.password,
    )


def test_every_depends_on_names_an_existing_service():
    services = compose()["services"]
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        names = depends_on if isinstance(depends_on, list) else list(depends_on)
        for dependency in names:
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            assert dependency != name


def test_app_waits_for_a_healthy_database_and_a_finished_migration():
    services = compose()["services"]
    app_depends = services["app"]["depends_on"]
    assert app_depends["db"]["condition"] == "service_healthy"
    assert app_depends["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert argv_of(services["migrate"])[:2] == ["jixiao", "migrate"]
    assert services["migrate"].get("restart", "no") == "no"  # one-shot: a restart would loop forever


def test_database_is_postgres_with_a_named_volume_and_a_pg_isready_healthcheck():
    config = compose()
    db = config["services"]["db"]
    assert db["image"].startswith("postgres:15")
    test = db["healthcheck"]["test"]
    assert "pg_isready" in (test if isinstance(test, str) else " ".join(test))
    volume_names = [v.split(":", 1)[0] for v in db["volumes"] if isinstance(v, str)]
    assert any(name in (config.get("volumes") or {}) for name in volume_names), "db data must be a named volume"
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"])


def test_attachments_live_on_a_named_volume_every_app_replica_mounts():
    """佐证材料 are files on disk: a container's own layer would lose them, and two replicas with
    separate disks would each miss the other's uploads."""
    config = compose()
    app = config["services"]["app"]
    files_dir = app["environment"]["JIXIAO_FILES_DIR"]
    mounts = {v.split(":", 1)[1]: v.split(":", 1)[0] for v in app.get("volumes", []) if isinstance(v, str)}
    assert files_dir in mounts, "JIXIAO_FILES_DIR must be a mounted volume"
    assert mounts[files_dir] in (config.get("volumes") or {}), "the files must be on a named volume"
    assert app["environment"]["JIXIAO_ATTACHMENT_MAX_BYTES"] == "20971520"  # the setting's default
    # the image creates the directory for its non-root user, so the new volume is writable by it
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text(encoding="utf-8")
    assert f"mkdir -p {files_dir}" in dockerfile and "chown -R jixiao:jixiao /var/lib/jixiao" in dockerfile


def test_app_connects_to_the_db_service_with_a_url_the_settings_accept():
    from app.settings import load_settings

    config = compose()
    env = config["services"]["app"]["environment"]
    settings = load_settings(**{k: v for k, v in env.items() if k != "FORWARDED_ALLOW_IPS"})
    assert settings.env == "production"
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert "@pgbouncer:6432/" in settings.database_url  # the pooler's service name, on the compose network
    assert settings.db_transaction_pooler is True  # PgBouncer runs pool_mode = transaction
    assert settings.database_read_url is None  # no replica unless DATABASE_READ_URL is set
    assert settings.cookie_secure is True


def test_the_proxy_publishes_the_one_port_and_reaches_the_replicas_where_they_serve():
    """`--scale app=N` needs the replicas unpublished (N containers cannot bind one host port); nginx is
    the one published port and proxies to the port the app serves on."""
    services = compose()["services"]
    app, proxy = services["app"], services["proxy"]
    assert "ports" not in app
    argv = argv_of(app)
    serve_port = argv[argv.index("--port") + 1]
    conf = (ROOT / "docker" / "nginx" / "nginx.conf").read_text(encoding="utf-8")
    assert f"http://app:{serve_port}" in conf and "resolver 127.0.0.11" in conf
    listen = re.search(r"listen (\d+);", conf).group(1)
    assert [str(p).rsplit(":", 1)[-1] for p in proxy["ports"]] == [listen]
    assert compose({**DUMMY_ENV, "JIXIAO_BIND": "0.0.0.0", "JIXIAO_PORT": "8080"})["services"]["proxy"]["ports"] == [
        f"0.0.0.0:8080:{listen}"
    ]
    assert proxy["depends_on"]["app"]["condition"] == "service_healthy"
    # Larger than any request the app accepts, so the app (not nginx) answers a too-large upload.
    from app.settings import load_settings

    limit = load_settings(**{k: v for k, v in app["environment"].items() if k != "FORWARDED_ALLOW_IPS"})
    body_mb = int(re.search(r"client_max_body_size (\d+)m;", conf).group(1))
    assert body_mb * 1024 * 1024 > limit.max_request_bytes


def test_pgbouncer_pools_transactions_and_the_connections_fit_postgresql():
    """The connection budget with the defaults: each replica's workers × (pool + overflow) fits its
    budget; 3 replicas fit PgBouncer's clients; PgBouncer's server connections plus the migration and
    an administrator's psql stay below PostgreSQL's max_connections (100)."""
    from app.settings import load_settings

    services = compose()["services"]
    entrypoint = (ROOT / "docker" / "pgbouncer" / "entrypoint.sh").read_text(encoding="utf-8")
    assert "pool_mode = transaction" in entrypoint and "server_idle_timeout" in entrypoint
    pgbouncer = services["pgbouncer"]
    assert pgbouncer["build"]["context"] == "docker/pgbouncer" and "image" in pgbouncer
    assert services["app"]["depends_on"]["pgbouncer"]["condition"] == "service_healthy"
    env = services["app"]["environment"]
    settings = load_settings(**{k: v for k, v in env.items() if k != "FORWARDED_ALLOW_IPS"})
    per_replica = settings.workers * (settings.db_pool_size + settings.db_max_overflow)
    assert per_replica <= settings.db_connection_budget
    assert 3 * settings.db_connection_budget <= int(pgbouncer["environment"]["PGBOUNCER_MAX_CLIENT_CONN"])
    assert int(pgbouncer["environment"]["PGBOUNCER_POOL_SIZE"]) + 1 + 5 <= 100


# --- commands are real -----------------------------------------------------------------------------


def _click_command():
    import typer

    from app.cli import cli

    return typer.main.get_command(cli)


@pytest.mark.parametrize("source", ["app", "migrate", "Dockerfile CMD"])
def test_container_commands_are_real_jixiao_commands(source):
    """argv[0] is the installed jixiao script, and the rest parses as that sub-command and its options."""
    import click

    if source == "Dockerfile CMD":
        argv = exec_form(last("ENTRYPOINT")) + exec_form(last("CMD"))
    else:
        argv = argv_of(compose()["services"][source])
    assert argv[0] == "jixiao"
    group = _click_command()
    assert argv[1] in group.commands, f"{argv[1]} is not a jixiao sub-command: {sorted(group.commands)}"
    # make_context parses without running: an unknown option or a bad value fails here.
    command = group.commands[argv[1]]
    try:
        command.make_context(f"jixiao {argv[1]}", list(argv[2:]))
    except click.exceptions.ClickException as exc:  # pragma: no cover - the failure message is the point
        pytest.fail(f"`{' '.join(argv)}`: {exc.format_message()}")


def test_entrypoint_is_a_script_of_this_project():
    """ENTRYPOINT's program is this project's console script (or a file of the repo), and it exists."""
    import importlib

    program = exec_form(last("ENTRYPOINT"))[0]
    scripts = PYPROJECT["project"]["scripts"]
    if program not in scripts:  # a script copied from the repo, e.g. /app/docker/entrypoint.sh
        workdir = last("WORKDIR") or "/"
        relative = Path(program).relative_to(workdir) if program.startswith("/") else Path(program)
        assert (ROOT / relative).is_file(), f"ENTRYPOINT {program}: no {relative} in the repository"
        return
    module_name, _, function = scripts[program].partition(":")
    assert (ROOT / (module_name.replace(".", "/") + ".py")).is_file()
    assert callable(getattr(importlib.import_module(module_name), function))


def test_every_copied_path_exists_and_is_in_the_build_context():
    copies = [
        exec_form(args) if args.startswith("[") else shlex.split(args)
        for keyword, args in dockerfile_instructions()
        if keyword == "COPY"
    ]
    assert copies
    for copy in copies:
        assert not any(arg.startswith("--from") for arg in copy), "single-stage build expected"
        sources = [arg for arg in copy[:-1] if not arg.startswith("--")]
        for source in sources:
            matches = list(ROOT.glob(source))
            if not any(ch in source for ch in "*?["):
                assert matches, f"COPY {source}: not in the repository"
            for match in matches:
                relative = match.relative_to(ROOT).as_posix()
                assert not build_context_excludes(relative), f"COPY {relative}: excluded by .dockerignore"


def test_build_context_leaves_out_local_secrets_and_state():
    for relative in (
        ".env",
        ".venv/bin/python",
        "data/jixiao.db",
        ".git/config",
        "tests/test_docker.py",
        "app/__pycache__/cli.cpython-311.pyc",
    ):
        assert build_context_excludes(relative), f"{relative} would be sent into the image build"
    for relative in (
        "app/cli.py",
        "migrations/env.py",
        "templates/base.html",
        "alembic.ini",
        "pyproject.toml",
    ):
        assert not build_context_excludes(relative)


# --- the image ---------------------------------------------------------------------------------------


def test_image_is_slim_python_matching_requires_python():
    base = last("FROM").split()[0]
    assert re.fullmatch(r"python:3\.\d+-slim(-\w+)?", base), base
    minor = int(base.split(":")[1].split(".")[1].split("-")[0])
    required = re.search(r">=\s*3\.(\d+)", PYPROJECT["project"]["requires-python"])
    assert minor >= int(required.group(1))


def test_image_runs_as_a_non_root_user():
    instructions = dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    users = [args.split(":")[0] for keyword, args in instructions if keyword == "USER"]
    assert users, "no USER: the container would run as root"
    assert users[-1] not in ("root", "0")
    last_user = max(i for i, k in enumerate(keywords) if k == "USER")
    assert last_user < keywords.index("ENTRYPOINT") and last_user < keywords.index("CMD")
    assert not any(k == "RUN" for k in keywords[last_user:]), "RUN after USER would need root"
    for name, service in jixiao_services(compose()).items():
        assert str(service.get("user", users[-1])).split(":")[0] not in ("root", "0"), name


def test_no_dev_dependency_is_installed_in_the_image():
    """Only [project].dependencies (and the build backend) are installed; never the [test] extra."""
    dev_names = {
        re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower()
        for requirements in PYPROJECT["project"].get("optional-dependencies", {}).values()
        for requirement in requirements
    }
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    installs = [run for run in runs if "pip install" in run]
    assert installs
    for run in installs:
        assert "optional-dependencies" not in run
        assert not re.search(r"\.\[|\[(test|dev)\]", run), f"extra installed: {run}"
        for word in re.findall(r"[A-Za-z0-9_.-]+", run.split("pip install", 1)[1]):
            assert word.lower() not in dev_names, f"dev dependency {word} installed: {run}"
        if "-e ." in run or " . " in f"{run} ":
            assert "--no-deps" in run, "installing the project must not pull dependencies (or extras) again"
    # Run the Dockerfile's requirement extraction on this pyproject.toml: it lists exactly the runtime set.
    extraction = next(run for run in runs if "tomllib" in run)
    code = shlex.split(extraction.split(">", 1)[0])[2]
    listed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.split("\n")
    listed = [line for line in listed if line]
    assert listed == PYPROJECT["build-system"]["requires"] + PYPROJECT["project"]["dependencies"]
    listed_names = {re.split(r"[\[<>=!~; ]", line, maxsplit=1)[0].lower() for line in listed}
    assert not listed_names & dev_names


def _python_urllib_probe(test) -> str:
    argv = test if isinstance(test, list) else ["CMD-SHELL", test]
    assert argv[0] == "CMD" and argv[1] in ("python", "python3"), f"healthcheck must run Python: {argv}"
    code = argv[argv.index("-c") + 1]
    assert "urllib" in code
    assert not any(tool in " ".join(argv) for tool in ("curl", "wget"))
    return re.search(r"http://127\.0\.0\.1:(\d+)(/\w+)", code).group(0)


def test_healthchecks_are_python_probes_of_real_health_routes():
    from app.api.health import router

    routes = {route.path for route in router.routes}
    image_probe = _python_urllib_probe(["CMD", *exec_form(re.sub(r"^(--\S+\s+)*CMD\s+", "", last("HEALTHCHECK")))])
    app_probe = _python_urllib_probe(compose()["services"]["app"]["healthcheck"]["test"])
    for probe in (image_probe, app_probe):
        port, path = re.search(r":(\d+)(/\w+)", probe).groups()
        assert path in routes
        assert port == "8000"
    # The app's probe is the readiness route: healthy only while the database answers.
    assert app_probe.endswith("/readyz")


# --- .env.example ------------------------------------------------------------------------------------


def _documented_names() -> dict[str, list[str]]:
    """NAME -> the comment lines just above `NAME=` / `# NAME=` in .env.example."""
    documented: dict[str, list[str]] = {}
    comments: list[str] = []
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"#?\s*([A-Z][A-Z0-9_]*)=.*", line.strip())
        if match:
            documented.setdefault(match.group(1), comments)
            continue
        comments = comments + [line] if line.startswith("#") else []
    return documented


def test_env_example_documents_every_setting_in_chinese_and_english():
    from app.settings import Settings

    documented = _documented_names()
    names = [field.alias or name.upper() for name, field in Settings.model_fields.items()]
    assert names
    for name in names:
        assert name in documented, f".env.example does not document {name}"
        text = "\n".join(documented[name])
        assert re.search(r"[\u4e00-\u9fff]", text), f"{name}: no Chinese comment"
        assert re.search(r"[A-Za-z]{4,} [A-Za-z]{3,}", text), f"{name}: no English comment"


def test_env_example_documents_every_compose_variable():
    missing = compose_variables() - set(_documented_names())
    assert not missing, f".env.example does not document {sorted(missing)}"


def test_env_example_sets_no_secret_and_keeps_development_defaults(tmp_path, monkeypatch):
    """Copied to .env as is, it neither leaks a secret nor breaks `make run` (development, SQLite)."""
    from app.settings import load_settings

    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        assert not re.match(r"(SECRET_KEY|POSTGRES_PASSWORD)=\S", line), f"a real value in .env.example: {line}"
    (tmp_path / ".env").write_text(ENV_EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for name in ("JIXIAO_ENV", "DATABASE_URL", "SECRET_KEY", "COOKIE_SECURE"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.env == "development"
    assert settings.is_sqlite
