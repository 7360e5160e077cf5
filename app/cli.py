"""The jixiao command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from app.domain.evaluation import ROLE_LABELS
from app.settings import ROOT, Settings, SettingsError, load_settings

cli = typer.Typer(help="jixiao 绩效目标与自评服务", no_args_is_help=True, add_completion=False)
users_cli = typer.Typer(help="账号管理", no_args_is_help=True)
cli.add_typer(users_cli, name="users")


def fail(message: str, code: int = 1) -> None:
    """One clear line on stderr, no traceback wall."""
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc), 2)


def engine_or_exit(settings: Settings):
    import sqlalchemy as sa

    from app.db import make_engine

    engine = make_engine(settings, batch=True)  # an administrator's batch job: the long statement timeout
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        fail(f"无法连接数据库（DATABASE_URL={_redact(settings.database_url)}）：{first}")
    return engine


def _redact(url: str) -> str:
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "（无法解析）"


def alembic_config(database_url: str, line: str = "alembic"):
    """The main line (`alembic`), or the year partitions' (`partition`: migrations/partition)."""
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"), ini_section=line)
    config.set_main_option("script_location", str(ROOT / "migrations" / ("" if line == "alembic" else line)))
    config.attributes["database_url"] = database_url
    return config


def migrate_database(settings: Settings) -> None:
    """alembic upgrade head on the configured database."""
    from alembic import command

    command.upgrade(alembic_config(settings.database_url), "head")


def schema_is_current(engine, settings: Settings) -> bool:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(settings.database_url))
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current == set(script.get_heads())


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口")] = 8000,
    workers: Annotated[int | None, typer.Option(help="进程数（默认取 JIXIAO_WORKERS，即 1）", min=1, max=64)] = None,
) -> None:
    """启动网页与 API 服务。"""
    import uvicorn

    from app.settings import check_connection_budget

    settings = settings_or_exit()
    workers = workers or settings.workers
    try:
        check_connection_budget(settings, workers)
    except ValueError as exc:
        fail(str(exc))
    engine = engine_or_exit(settings)
    if not schema_is_current(engine, settings):
        fail("数据库结构不是最新版本：请先运行 jixiao migrate")
    from app.services import import_runs

    # Imports run in the server's threads: any still "running" whose heartbeat stopped belong to a process
    # that died (on PostgreSQL other replicas' live imports keep beating and are left alone).
    if interrupted := import_runs.fail_interrupted(engine=engine, heartbeat_seconds=settings.import_heartbeat_seconds):
        typer.echo(f"有 {interrupted} 个导入因服务停止而未完成，已标记为失败（导入页面上说明了原因）")
    from app.uploads import remove_stale_uploads

    if left := remove_stale_uploads():  # the files of imports whose process was killed
        typer.echo(f"已删除 {left} 个遗留的上传临时文件（来自被中断的导入）")
    engine.dispose()
    typer.echo(f"jixiao 正在 http://{host}:{port} 上服务（数据库：{_redact(settings.database_url)}）")
    uvicorn.run(
        "app.main:create_app", factory=True, host=host, port=port, workers=workers, proxy_headers=True, log_level="info"
    )


@cli.command()
def migrate() -> None:
    """把数据库结构升级到最新版本（alembic upgrade head）；已按年度分区的库同时补建年度分区（含下一年度）。"""
    settings = settings_or_exit()
    engine = engine_or_exit(settings)
    migrate_database(settings)
    typer.echo("数据库已是最新结构。")
    if engine.dialect.name == "postgresql":
        from app.services import partition

        with engine.begin() as connection:
            outcome = partition.partition_by_year(connection) if partition.recorded(connection) else None
        if outcome is not None and outcome.years:
            typer.echo(f"已按年度分区：新建的年度分区 {'、'.join(str(y) for y in outcome.years)}")
    engine.dispose()


def operator() -> str:
    """Who the audit names for a command: the operating-system account running it."""
    from app.services.audit import cli_operator

    return cli_operator()


def _session(settings: Settings):
    from sqlmodel import Session

    return Session(engine_or_exit(settings), expire_on_commit=False)


def _run_service(fn):
    from app.services.errors import DomainError

    try:
        return fn()
    except DomainError as exc:
        fail(exc.message)


@cli.command()
def demo(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="仅当数据库里还没有演示数据时加载")] = False,
) -> None:
    """加载演示数据（一份已发布绩效目标表中的主管部门及其单位，各一个登录账号，并导入其项目）。"""
    from app.services import demo as demo_service

    settings = settings_or_exit()
    if settings.env == "production":
        # The demo accounts' password is printed below and in the README: never on a real system.
        fail(
            "生产环境（JIXIAO_ENV=production）不加载演示数据：演示账号的密码是公开的。"
            "请用 jixiao users add 创建账号，用 jixiao import 导入绩效目标表。"
        )
    with _session(settings) as session:
        if if_empty and demo_service.demo_loaded(session=session):
            typer.echo("演示数据已存在，跳过加载。")
        else:
            _run_service(lambda: demo_service.load_demo(session=session))
            typer.echo("演示数据已加载。")
    typer.echo(f"演示账号（密码均为 {demo_service.DEMO_PASSWORD}）：")
    for login in demo_service.demo_logins():
        typer.echo(f"  {login.username:<20} {login.role:<11} {login.scope}")


@users_cli.command("add")
def users_add(
    username: str,
    role: Annotated[str, typer.Option(help="unit|department|finance|admin")],
    unit: Annotated[str | None, typer.Option(help="所属单位（名称或编码）")] = None,
    department: Annotated[str | None, typer.Option(help="所属主管部门（名称或编码）")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="从标准输入读取密码")] = False,
) -> None:
    """新增账号。"""
    from app.services import accounts

    password = _read_password(password_stdin)
    settings = settings_or_exit()
    with _session(settings) as session:
        user = _run_service(
            lambda: accounts.add_user(
                session=session,
                username=username,
                password=password,
                role=role,
                unit=unit,
                department=department,
                actor=operator(),
            )
        )
        typer.echo(f"已新增账号 {user.username}（{ROLE_LABELS[user.role]}）")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = typer.prompt("密码", hide_input=True, confirmation_prompt=True)
    else:
        fail("请用 --password-stdin 从标准输入提供密码", 2)
    if not password:
        fail("密码不能为空", 2)
    return password


@users_cli.command("list")
def users_list() -> None:
    """列出账号。"""
    from app.models import Department, Unit
    from app.services import accounts

    settings = settings_or_exit()
    with _session(settings) as session:
        for user in accounts.list_users(session=session):
            scope = ""
            if user.unit_id:
                scope = session.get(Unit, user.unit_id).name
            elif user.department_id:
                scope = session.get(Department, user.department_id).name
            state = "" if user.is_active else "（已停用）"
            typer.echo(f"{user.username:<20} {user.role:<11} {scope}{state}")


@users_cli.command("passwd")
def users_passwd(
    username: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="从标准输入读取密码")] = False,
) -> None:
    """修改密码。"""
    from app.services import accounts

    password = _read_password(password_stdin)
    settings = settings_or_exit()
    with _session(settings) as session:
        _run_service(
            lambda: accounts.change_password(session=session, username=username, password=password, actor=operator())
        )
        typer.echo(f"已修改 {username} 的密码")


@users_cli.command("disable")
def users_disable(username: str) -> None:
    """停用账号。"""
    from app.services import accounts

    settings = settings_or_exit()
    with _session(settings) as session:
        _run_service(lambda: accounts.disable_user(session=session, username=username, actor=operator()))
        typer.echo(f"已停用 {username}")


@users_cli.command("end-sessions")
def users_end_sessions(username: str) -> None:
    """结束某账号的全部登录会话（各处都需重新登录）。"""
    from app.services import accounts

    settings = settings_or_exit()
    with _session(settings) as session:
        ended = _run_service(
            lambda: accounts.end_sessions(
                session=session, user=accounts.find_user(session=session, username=username), actor=operator()
            )
        )
        typer.echo(f"已结束 {username} 的 {ended} 个登录会话")


@cli.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="绩效目标表文件：.xlsx、.csv 或已发布表的 .txt")],
    year: Annotated[int | None, typer.Option(help="年度；文件有“年度”列时可省略")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只检查并报告，不写入数据库")] = False,
    force: Annotated[bool, typer.Option("--force", help="允许删除已填报实际完成值的指标")] = False,
    as_draft: Annotated[
        bool, typer.Option("--draft", help="新表作为草稿导入（由单位修改后申报）；默认作为已批复的目标表导入")
    ] = False,
    as_adjustment: Annotated[
        bool,
        typer.Option("--as-adjustment", help="文件修改了已批复的目标表时提交调整申请（经审核后生效），而不是拒绝导入"),
    ] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="调整申请的原因（与 --as-adjustment 一起用）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出报告")] = False,
) -> None:
    """导入绩效目标表（整个文件要么全部导入，要么不写入任何内容）。"""
    import json

    from app.services import imports

    if not file.is_file():
        fail(f"文件不存在：{file}", 2)
    settings = settings_or_exit()
    with _session(settings) as session:
        bars: dict[str, object] = {}

        def progress(done: int, total: int | None, phase: str) -> None:
            if not total or not sys.stderr.isatty():
                return
            bar = bars.get(phase)
            if bar is None:
                for earlier in bars.values():  # one line per phase: finish the previous one first
                    earlier.__exit__(None, None, None)
                bars.clear()
                label = {"read": "读取文件", "store": "写入数据库"}.get(phase, phase)
                bar = bars[phase] = typer.progressbar(length=total, label=label, file=sys.stderr)
                bar.__enter__()
            bar.update(done - bar.pos)

        try:
            report = _run_service(
                lambda: imports.import_file(
                    session=session,
                    path=file,  # streamed from disk: a province's table is never held whole
                    filename=file.name,
                    year=year,
                    dry_run=dry_run,
                    force=force,
                    actor=operator(),
                    as_draft=as_draft,
                    as_adjustment=as_adjustment,
                    adjustment_reason=reason,
                    max_bytes=settings.import_max_bytes,
                    on_progress=progress,
                    limits=imports.read_limits(settings),
                )
            )
        finally:
            for bar in bars.values():
                bar.__exit__(None, None, None)

    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2, default=str))
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


@cli.command("check-report")
def check_report_(
    file: Annotated[Path, typer.Argument(help="自评报告：.docx、文字版 .pdf 或 .txt（UTF-8 或 GBK）")],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出全部数字与核对项")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="也列出相符的核对项和全部申报数字")] = False,
) -> None:
    """核对自评报告中的数字：分配数之和、支出加结余、支出率与到位率、得分之和、等级。

    退出码：0 全部相符；1 有不符之处；2 文件无法读取。不需要数据库。
    """
    import json

    from app.services import report_checks
    from app.services.errors import DomainError

    if not file.is_file():
        fail(f"文件不存在：{file}", 2)
    settings = settings_or_exit()
    data = file.read_bytes()
    if len(data) > settings.report_check_max_bytes:
        fail(f"文件过大（{len(data) / 1048576:.1f} MB），上限为 JIXIAO_REPORT_CHECK_MAX_BYTES", 2)
    try:
        result = report_checks.check_file(data=data, filename=file.name)
    except DomainError as exc:
        fail(exc.message, 2)
    if as_json:
        typer.echo(json.dumps({"filename": file.name, **result.to_dict()}, ensure_ascii=False, indent=2))
    else:
        _print_check(result, show_all)
    if result.flags:
        raise typer.Exit(1)


def _print_check(result, show_all: bool) -> None:
    flags = result.flags
    typer.echo(
        f"共 {result.line_count} 行，识别出 {len(result.figures)} 个申报数字，做了 {len(result.findings)} 项核对，"
        + (f"{len(flags)} 项不符：" if flags else "全部相符。")
    )
    for finding in result.findings if show_all else flags:
        typer.echo(f"\n[{finding.label}] {finding.message}")
        for fig in finding.figures:
            typer.echo(f"  第{fig.line}行 {fig.kind_label} {fig.written}：{fig.line_text}")
    if result.expected_grade:
        typer.echo(f"\n按申报的总分应得等级：{result.expected_grade}")
    if result.not_derivable:
        typer.echo(f"\n仅列出、无法推算的数字 {len(result.not_derivable)} 个：")
        for fig in result.not_derivable:
            typer.echo(f"  第{fig.line}行 {fig.kind_label} {fig.label} {fig.written}")
    if show_all:
        typer.echo("\n全部申报数字：")
        for fig in result.figures:
            typer.echo(f"  第{fig.line}行 {fig.kind_label} {fig.label} {fig.written}")


# What to do about a refusal, in this face's words (the service says only what is wrong).
CLI_REMEDIES = {
    "year_missing": "请用 --year 指定年度",
    "removes_actuals": "确认删除请加 --force",
    "approved_table": "如需按文件修改已批复的表，请加 --as-adjustment（可用 --reason 写明原因）提交调整申请",
}
COUNT_LABELS = {
    "units": "单位",
    "units_created": "新建单位",
    "departments_created": "新建主管部门",
    "projects_created": "新建项目",
    "projects_updated": "更新项目",
    "projects_unchanged": "未变项目",
    "indicators_created": "新建指标",
    "indicators_updated": "更新指标",
    "indicators_unchanged": "未变指标",
    "indicators_removed": "删除指标",
    "adjustments_requested": "提交调整申请",
}


def _print_report(report) -> None:
    state = "（试运行，未写入）" if report.dry_run else ("已写入" if report.committed else "未写入")
    typer.echo(f"导入 {report.file} · 年度 {report.year or '未知'} · {state}")
    counts = "，".join(f"{COUNT_LABELS.get(k, k)} {v}" for k, v in report.counts.items() if v)
    if counts:
        typer.echo(counts)
    for problem in report.errors:
        remedy = CLI_REMEDIES.get(problem.get("code", ""))
        typer.echo(f"错误：{problem['where']}：{problem['message']}{'；' + remedy if remedy else ''}", err=True)
    if report.warnings:
        typer.echo(f"警告 {len(report.warnings)} 条：")
        for problem in report.warnings[:50]:
            typer.echo(f"  {problem['where']}：{problem['message']}")
        if len(report.warnings) > 50:
            typer.echo(f"  ……另有 {len(report.warnings) - 50} 条，用 --json 查看全部")


@cli.command()
def template(
    path: Annotated[Path, typer.Argument(help="输出文件（.xlsx）")] = Path("绩效目标表导入模板.xlsx"),
) -> None:
    """生成空白的导入模板（含填写示例和各列说明）。"""
    from app.importers.template import write_template

    write_template(path)
    typer.echo(f"已生成导入模板：{path}")


@cli.command("parse-target")
def parse_target_cmd(
    texts: Annotated[list[str], typer.Argument(help="一个或多个指标值，如 “≥95%” “不少于1,300亿元”")],
    year: Annotated[int | None, typer.Option(help="参考年度（用于“12月底前”这类期限）")] = None,
) -> None:
    """解析指标值，每个输出一行 JSON。"""
    import json

    from app.domain.targets import parse_target

    for text in texts:
        typer.echo(json.dumps(parse_target(text, year=year).to_json(), ensure_ascii=False))


scoring_cli = typer.Typer(help="评分模板（有版本；每份自评记录其计分所用的版本）", no_args_is_help=True)
cli.add_typer(scoring_cli, name="scoring")


@scoring_cli.command("show")
def scoring_show(name: Annotated[str, typer.Option(help="模板名称")] = "national-2020") -> None:
    """显示评分模板的当前版本及其全部设置（JSON）。"""
    import json

    from app.services import templates

    settings = settings_or_exit()
    with _session(settings) as session:
        row = _run_service(lambda: templates.current_template(session=session, name=name))
        session.commit()
        typer.echo(f"{templates.label(row)}  {row.title}")
        typer.echo(json.dumps(row.settings, ensure_ascii=False, indent=2))


@scoring_cli.command("use")
def scoring_use(
    year: Annotated[int, typer.Option(help="年度")],
    template: Annotated[str, typer.Option(help="模板名称：national-2020 或 guideline-2021（2021 指引）")],
    department: Annotated[str | None, typer.Option(help="只对这个主管部门（名称）生效；不填则对整个年度")] = None,
) -> None:
    """选定某年度（或某主管部门）新建自评所用的评分模板；导入的表须符合该模板。"""
    from app.services import templates

    settings = settings_or_exit()
    with _session(settings) as session:
        _run_service(
            lambda: templates.choose(session=session, year=year, name=template, department=department, actor=operator())
        )
        scope = f"{year} 年度" + (f"“{department}”" if department else "")
        typer.echo(f"{scope}的自评使用评分模板 {template}")


@scoring_cli.command("choices")
def scoring_choices(year: Annotated[int | None, typer.Option(help="年度")] = None) -> None:
    """列出各年度（及主管部门）选定的评分模板；未选定的年度用 national-2020。"""
    from app.services import templates

    settings = settings_or_exit()
    with _session(settings) as session:
        rows = templates.choices(session=session, year=year)
        if not rows:
            typer.echo("尚未选定任何年度的模板：各年度均用 national-2020")
        for choice, department in rows:
            typer.echo(f"{choice.year}\t{department or '（整个年度）'}\t{choice.template_name}")


@scoring_cli.command("set")
def scoring_set(
    changes: Annotated[str, typer.Argument(help='要修改的设置（JSON），如 \'{"lower_formula": "ratio"}\'')],
    name: Annotated[str, typer.Option(help="模板名称")] = "national-2020",
) -> None:
    """保存评分模板的新版本（已计分的自评保持原版本，直到用 rescore 重新计分）。"""
    import json

    from app.services import templates

    try:
        parsed = json.loads(changes)
    except json.JSONDecodeError as exc:
        fail(f"设置不是有效的 JSON：{exc.msg}（第 {exc.pos + 1} 个字符）", 2)
    if not isinstance(parsed, dict):
        fail('设置应为 JSON 对象，如 {"lower_formula": "ratio"}', 2)
    settings = settings_or_exit()
    with _session(settings) as session:
        row = _run_service(lambda: templates.new_version(session=session, name=name, changes=parsed, actor=operator()))
        typer.echo(f"已保存 {templates.label(row)}；用 jixiao scoring rescore --year 年度 让已有自评改用新版本计分")


@scoring_cli.command("rescore")
def scoring_rescore(
    year: Annotated[int, typer.Option(help="年度")],
    name: Annotated[str, typer.Option(help="模板名称")] = "national-2020",
    include_submitted: Annotated[
        bool, typer.Option("--include-submitted", help="也重新计算已送审（未审核）的自评")
    ] = False,
) -> None:
    """让某年度的自评改用模板的当前版本并重新计分（审核通过和终审的不动）。"""
    from app.services import evaluations

    settings = settings_or_exit()
    with _session(settings) as session:
        count = _run_service(
            lambda: evaluations.rescore_year(
                session=session, year=year, name=name, include_submitted=include_submitted, actor=operator()
            )
        )
        typer.echo(f"已重新计分 {count} 份自评")


tokens_cli = typer.Typer(help="API 令牌（财政局等系统调用 /api/v1 所用）", no_args_is_help=True)
cli.add_typer(tokens_cli, name="tokens")


@tokens_cli.command("create")
def tokens_create(
    role: Annotated[str, typer.Option(help="finance|department|unit")],
    name: Annotated[str, typer.Option(help="令牌名称（用途或使用方，便于识别）")],
    unit: Annotated[str | None, typer.Option(help="单位令牌所属单位（名称或编码）")] = None,
    department: Annotated[str | None, typer.Option(help="主管部门令牌所属部门（名称或编码）")] = None,
    scope: Annotated[
        str,
        typer.Option(
            help="权限，可多个（空格或逗号分隔）：read 查询导出、write 本单位填报、review 审核、"
            "admin 导入/填报期/模板；"
            "单位令牌只能 read/write；默认 read"
        ),
    ] = "read",
    days: Annotated[int, typer.Option(min=1, max=3660, help="有效天数，默认 365（一年）")] = 365,
) -> None:
    """新建 API 令牌；令牌只显示这一次（库中只存其摘要）。"""
    from app.services import tokens

    settings = settings_or_exit()
    with _session(settings) as session:
        row, secret = _run_service(
            lambda: tokens.create_token(
                session=session,
                role=role,
                name=name,
                unit=unit,
                department=department,
                scope=scope,
                days=days,
                actor=operator(),
            )
        )
        typer.echo(
            f"已新建令牌 {row.id}（{row.name}，{row.role}，权限 {row.scope}，"
            f"有效至 {row.expires_at:%Y-%m-%d}）。请立即妥善保存，之后无法再次查看：",
            err=True,
        )
        typer.echo(secret)


@tokens_cli.command("list")
def tokens_list() -> None:
    """列出 API 令牌（前缀、名称、角色、范围、权限、创建与最近使用时间、有效期、是否吊销）。"""
    from app.services import tokens

    def when(value) -> str:
        return f"{value:%Y-%m-%d %H:%M}" if value else "-"

    settings = settings_or_exit()
    with _session(settings) as session:
        rows = tokens.list_tokens(session=session)
        if not rows:
            typer.echo("还没有 API 令牌。")
        for t in rows:
            state = f"已吊销 {when(t.revoked_at)}" if t.revoked_at else "有效"
            typer.echo(
                f"{t.id:>4}  {t.prefix}…  {t.name}  {t.role}  {t.scope}  权限 {t.scopes}  创建 {when(t.created_at)}  "
                f"最近使用 {when(t.last_used_at)}  有效至 {when(t.expires_at)}  {state}"
            )


@tokens_cli.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(min=1, max=2**31 - 1, help="令牌编号（见 jixiao tokens list）")],
) -> None:
    """吊销 API 令牌：之后用它的请求一律被拒绝（401）。"""
    from app.services import tokens

    settings = settings_or_exit()
    with _session(settings) as session:
        row = _run_service(lambda: tokens.revoke_token(session=session, token_id=token_id, actor=operator()))
        typer.echo(f"已吊销令牌 {row.id}（{row.name}）")


@tokens_cli.command("rotate")
def tokens_rotate(
    token_id: Annotated[int, typer.Argument(min=1, max=2**31 - 1, help="令牌编号（见 jixiao tokens list）")],
    days: Annotated[int, typer.Option(min=1, max=3660, help="新令牌的有效天数，默认 365")] = 365,
) -> None:
    """轮换 API 令牌：新建同名、同角色、同范围与权限的令牌，并吊销旧令牌；新令牌只显示这一次。"""
    from app.services import tokens

    settings = settings_or_exit()
    with _session(settings) as session:
        row, secret = _run_service(
            lambda: tokens.rotate_token(session=session, token_id=token_id, days=days, actor=operator())
        )
        typer.echo(
            f"已轮换：旧令牌 {token_id} 已吊销，新令牌 {row.id}（{row.name}，权限 {row.scope}，"
            f"有效至 {row.expires_at:%Y-%m-%d}）。请立即妥善保存，之后无法再次查看：",
            err=True,
        )
        typer.echo(secret)


targets_cli = typer.Typer(help="绩效目标表", no_args_is_help=True)
cli.add_typer(targets_cli, name="targets")


@targets_cli.command("recheck")
def targets_recheck(
    year: Annotated[int, typer.Option(help="年度")],
    all_tables: Annotated[bool, typer.Option("--all", help="全部重新检查（默认只检查尚未检查过的）")] = False,
) -> None:
    """重新运行目标表质量检查，保存每张表的问题数（审核人的“按质量排序”据此排序）。"""
    from app.services import target_tables

    settings = settings_or_exit()
    with _session(settings) as session:
        done = _run_service(
            lambda: target_tables.recheck_year(session=session, year=year, only_unchecked=not all_tables)
        )
    typer.echo(f"已检查 {year} 年度 {done} 张目标表。")


@cli.command("backup")
def backup_cmd(
    directory: Annotated[Path, typer.Argument(help="新建的备份目录")],
    files_dir: Annotated[
        Path | None, typer.Option(help="另行指定存放附件等文件的目录（默认 JIXIAO_FILES_DIR）")
    ] = None,
) -> None:
    """在服务运行时备份数据库（SQLite 在线备份 / PostgreSQL pg_dump）和存储的文件，附 SHA-256 清单。"""
    from app.services import audit, backup

    settings = settings_or_exit()
    engine_or_exit(settings).dispose()
    result = _run_service(
        lambda: backup.backup(settings=settings, directory=directory, files_dir=files_dir or settings.files_dir)
    )
    with _session(settings) as session:
        audit.record(
            session=session,
            actor=operator(),
            action="backup",
            entity_type="backup",
            entity_id=None,
            after={"directory": str(directory.resolve()), "database": result.database, "files": result.files},
        )
        session.commit()
    typer.echo(
        f"已备份到 {directory}：数据库 {result.database}，文件 {result.files} 个（清单 manifest.json 含 SHA-256）"
    )


@cli.command("restore")
def restore_cmd(
    directory: Annotated[Path, typer.Argument(help="jixiao backup 生成的备份目录")],
    files_dir: Annotated[Path | None, typer.Option(help="恢复文件到此目录（默认 JIXIAO_FILES_DIR）")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="确认用备份替换当前数据库的全部内容")] = False,
) -> None:
    """用备份替换当前数据库和文件（先核对清单中的 SHA-256）；请先停止服务。"""
    from app.services import backup

    if not yes:
        fail("恢复会用备份替换当前数据库的全部内容：请先停止服务，确认后加 --yes 再执行", 2)
    settings = settings_or_exit()
    manifest = _run_service(
        lambda: backup.restore(settings=settings, directory=directory, files_dir=files_dir or settings.files_dir)
    )
    # The restored schema may be older than this code, and the app's role needs its grants again.
    migrate_database(settings)
    count = len(manifest["files"])
    typer.echo(f"已从 {directory}（{manifest['created_at']} 的备份）恢复数据库和 {count} 个文件，并升级到最新结构。")


audit_cli = typer.Typer(help="审计记录（只增不改，按记录流以 SHA-256 链接）", no_args_is_help=True)
cli.add_typer(audit_cli, name="audit")


@audit_cli.command("verify")
def audit_verify() -> None:
    """逐条核对审计记录的摘要链：发现被改动、删除或调换的记录时列出并以状态 1 退出。"""
    from app.services import audit

    settings = settings_or_exit()
    with _session(settings) as session:
        result = audit.verify(session=session)
    for item in result.breaks[:200]:
        typer.echo(f"记录流 {item.stream} 第 {item.seq} 条（编号 {item.event_id}）：{item.problem}")
    if len(result.breaks) > 200:
        typer.echo(f"……另有 {len(result.breaks) - 200} 处问题")
    typer.echo(f"共 {result.events} 条记录、{result.streams} 个记录流；各记录流末条的总摘要：{result.digest}")
    if not result.ok:
        fail(f"审计记录的摘要链有 {len(result.breaks)} 处不符：上面列出的记录在写入后被改动或删除过")
    typer.echo("审计记录完整：每条记录的摘要都与内容相符，且与前一条衔接。")


db_cli = typer.Typer(help="数据库的运维步骤", no_args_is_help=True)
cli.add_typer(db_cli, name="db")


@db_cli.command("partition")
def db_partition() -> None:
    """把 indicator 与 indicator_result 按年度分区（仅 PostgreSQL；以表的所有者运行，持锁重写两张表，
    请在停机窗口执行；记录为 alembic -n partition 的版本）。再次执行时补建缺少的年度分区（含下一年度）。"""
    from alembic import command

    from app.services import partition

    settings = settings_or_exit()
    engine = engine_or_exit(settings)
    if engine.dialect.name != "postgresql":
        fail("按年度分区只用于 PostgreSQL（SQLite 没有分区）", 2)
    config = alembic_config(settings.database_url, "partition")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        if partition.recorded(connection):
            outcome = partition.partition_by_year(connection)  # the step is taken: add the years' partitions
        else:
            command.upgrade(config, "head")
            outcome = config.attributes["outcome"]
    engine.dispose()
    years = "、".join(str(y) for y in outcome.years) or "无"
    if outcome.done == "already":
        typer.echo(f"已经按年度分区；新建的年度分区：{years}（其余年度由 DEFAULT 分区接收）")
    else:
        rows = "，".join(f"{t} {n:,} 行" for t, n in outcome.rows.items())
        typer.echo(f"已按年度分区（{rows}）；年度分区：{years}，另有 DEFAULT 分区接收其他年度")


@db_cli.command("unpartition")
def db_unpartition() -> None:
    """撤销按年度分区：恢复为普通表（仅 PostgreSQL；持锁重写两张表；alembic -n partition downgrade base）。"""
    from alembic import command

    from app.services import partition

    settings = settings_or_exit()
    engine = engine_or_exit(settings)
    if engine.dialect.name != "postgresql":
        fail("按年度分区只用于 PostgreSQL（SQLite 没有分区）", 2)
    config = alembic_config(settings.database_url, "partition")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        if partition.recorded(connection):
            command.downgrade(config, "base")
            outcome = config.attributes["outcome"]
        else:  # partitioned before the step was recorded (or never): undo what is there
            outcome = partition.unpartition(connection)
    engine.dispose()
    typer.echo("没有分区，无需撤销。" if outcome.done == "not partitioned" else "已恢复为普通表。")


def main() -> None:
    cli()


if __name__ == "__main__":  # after every command is registered (the db group too)
    main()
