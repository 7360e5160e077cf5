"""The one Settings class: every setting comes from the environment (or .env), documented in .env.example."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

# Values that are obviously not secrets; refused outside development.
PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "dev", "development", "please-change-me"}
DEV_SECRET = "jixiao-development-only-secret"


class SettingsError(Exception):
    """A setting is missing or wrong; the message says what to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    env: Literal["development", "production", "test"] = Field("development", alias="JIXIAO_ENV")
    database_url: str = Field(f"sqlite:///{ROOT / 'data' / 'jixiao.db'}", alias="DATABASE_URL")
    # A read replica (PostgreSQL streaming replica, or any copy kept current) for the bureau's read-only
    # /api/v1 lists, statistics and their exports; every write, login and audit row goes to DATABASE_URL.
    database_read_url: str | None = Field(None, alias="DATABASE_READ_URL")
    secret_key: str = Field(DEV_SECRET, alias="SECRET_KEY")
    cookie_secure: bool | None = Field(None, alias="COOKIE_SECURE")
    # Login sessions (app.services.sessions): the absolute lifetime from login, and how long one may
    # sit unused (measured to the minute, as last-seen is written at most once a minute).
    session_hours: int = Field(12, alias="SESSION_HOURS", ge=1, le=24 * 30)
    session_idle_minutes: int = Field(30, alias="JIXIAO_SESSION_IDLE_MINUTES", ge=2, le=24 * 60 * 30)
    # Connections per process: DB_POOL_SIZE kept open, and as many requests served at once (the rest
    # wait in line, app/db.py DatabaseGate); the overflow is for work beside requests. Every process
    # (JIXIAO_WORKERS) may open pool + overflow: the total must fit the budget, which must stay
    # below PostgreSQL's max_connections (100 by default) with room for migrations and psql.
    db_pool_size: int = Field(10, alias="DB_POOL_SIZE", ge=1, le=1000)
    workers: int = Field(1, alias="JIXIAO_WORKERS", ge=1, le=64)
    request_queue_seconds: float = Field(30, alias="JIXIAO_REQUEST_QUEUE_TIMEOUT", gt=0, le=600)
    # Of the DB_POOL_SIZE requests in flight, how many run at once; one running longer than
    # JIXIAO_REQUEST_LONG_SECONDS gives its turn to the next (app/db.py, DatabaseGate)
    request_concurrency: int = Field(4, alias="JIXIAO_REQUEST_CONCURRENCY", ge=1, le=1000)
    request_long_seconds: float = Field(1.0, alias="JIXIAO_REQUEST_LONG_SECONDS", gt=0, le=600)
    db_connection_budget: int = Field(60, alias="JIXIAO_DB_CONNECTION_BUDGET", ge=1, le=100_000)
    # Waiting for the database (app/timeouts.py): connections beyond the pool, how long a request waits
    # for a free connection, for a new one, and for a statement (imports and exports get the long one);
    # connections older than the recycle age are replaced; /readyz answers within its own bound.
    db_max_overflow: int = Field(5, alias="JIXIAO_DB_MAX_OVERFLOW", ge=0, le=1000)
    db_pool_timeout_seconds: float = Field(10, alias="JIXIAO_DB_POOL_TIMEOUT", gt=0, le=600)
    db_connect_timeout_seconds: int = Field(5, alias="JIXIAO_DB_CONNECT_TIMEOUT", ge=1, le=600)
    db_statement_timeout_seconds: float = Field(30, alias="JIXIAO_DB_STATEMENT_TIMEOUT", gt=0, le=3600)
    db_long_statement_timeout_seconds: float = Field(900, alias="JIXIAO_DB_LONG_STATEMENT_TIMEOUT", gt=0, le=24 * 3600)
    db_pool_recycle_seconds: int = Field(1800, alias="JIXIAO_DB_POOL_RECYCLE", ge=-1)
    # DATABASE_URL reaches PostgreSQL through a transaction pooler (PgBouncer pool_mode=transaction): each
    # transaction may run on another server connection, so nothing may outlive a transaction — psycopg
    # prepares no server-side statements (prepare_threshold=None). The rest holds whatever this says: the
    # app sets only SET LOCAL (app/timeouts.py), never LISTEN, and takes no session advisory lock.
    db_transaction_pooler: bool = Field(False, alias="JIXIAO_DB_TRANSACTION_POOLER")
    # A process's pooled connections are all closed after this many seconds without a request (0: kept),
    # so that a quiet replica gives its connections back to PostgreSQL; the next request opens one.
    db_pool_idle_seconds: float = Field(300, alias="JIXIAO_DB_POOL_IDLE_SECONDS", ge=0, le=24 * 3600)
    readyz_timeout_seconds: float = Field(3, alias="JIXIAO_READYZ_TIMEOUT", gt=0, le=60)
    # How often the process running an import writes its heartbeat (PostgreSQL); a run silent for six
    # of them is failed by whichever replica looks at it (app.services.import_runs).
    import_heartbeat_seconds: float = Field(5, alias="JIXIAO_IMPORT_HEARTBEAT_SECONDS", gt=0, le=600)
    # The 绩效目标表 import streams (a temporary file, batches of COPY, memory flat), so its defaults take a
    # province's file: one year of about 1,036,000 indicators is ~240 MB of csv, ~80 MB of xlsx that
    # unpacks to ~1.2 GB, about 15.5 million cells; an xlsx sheet holds at most 1,048,576 rows.
    import_max_bytes: int = Field(400 * 1024 * 1024, alias="IMPORT_MAX_BYTES", ge=1024)
    # What an import reads at most (app.importers.rows.ReadLimits): rows and cells of all sheets, and the
    # unpacked size of an xlsx, checked in its zip directory before anything is unpacked.
    import_max_rows: int = Field(1_100_000, alias="JIXIAO_IMPORT_MAX_ROWS", ge=100)
    import_max_cells: int = Field(20_000_000, alias="JIXIAO_IMPORT_MAX_CELLS", ge=1000)
    import_max_uncompressed_bytes: int = Field(
        1536 * 1024 * 1024, alias="JIXIAO_IMPORT_MAX_UNCOMPRESSED_BYTES", ge=1024 * 1024
    )
    # A 资金分配 xlsx (page and API) is read whole into memory: its own, much smaller limit, judged on
    # Content-Length before the body is read and again while it streams in.
    fund_tree_max_bytes: int = Field(10 * 1024 * 1024, alias="JIXIAO_FUND_TREE_MAX_BYTES", ge=1024)
    # Login throttling (app.services.logins): failures of one account from one address, and from one
    # address, before the delays begin; the longest delay.
    login_free_failures: int = Field(5, alias="JIXIAO_LOGIN_FREE_FAILURES", ge=1, le=1000)
    login_address_free_failures: int = Field(30, alias="JIXIAO_LOGIN_ADDRESS_FREE_FAILURES", ge=1, le=100_000)
    login_max_delay_seconds: int = Field(900, alias="JIXIAO_LOGIN_MAX_DELAY_SECONDS", ge=1, le=86_400)
    # A report uploaded to jixiao check-report (page and API): refused above this, before it is read.
    report_check_max_bytes: int = Field(20 * 1024 * 1024, alias="JIXIAO_REPORT_CHECK_MAX_BYTES", ge=1024)
    # A filled-in 离线填报表 uploaded (page and API): its size, judged on Content-Length before the body is
    # read, and the rows of all its sheets, judged from the workbook before any cell is read.
    offline_max_bytes: int = Field(10 * 1024 * 1024, alias="JIXIAO_OFFLINE_MAX_BYTES", ge=1024)
    offline_max_rows: int = Field(50_000, alias="JIXIAO_OFFLINE_MAX_ROWS", ge=100)
    # Its unpacked size, from the zip directory before anything is unpacked: openpyxl holds the shared
    # strings in memory, and every unit may upload, so not the import's province-sized limit.
    offline_max_uncompressed_bytes: int = Field(
        300 * 1024 * 1024, alias="JIXIAO_OFFLINE_MAX_UNCOMPRESSED_BYTES", ge=1024 * 1024
    )
    # PostgreSQL: the role the application connects as (DATABASE_URL's user), distinct from the role
    # that runs migrations. `jixiao migrate` (run as the owner) grants it every table's rows but only
    # SELECT and INSERT on the audit table, and creates it when JIXIAO_DB_APP_PASSWORD is given.
    db_app_role: str | None = Field(None, alias="JIXIAO_DB_APP_ROLE", max_length=63, pattern=r"^[a-z_][a-z0-9_]*$")
    db_app_password: str | None = Field(None, alias="JIXIAO_DB_APP_PASSWORD")
    # Stored files: the 佐证材料 (app/services/attachments.py, under attachments/, by SHA-256), which
    # `jixiao backup` copies beside the database with their SHA-256. Every app replica must see the same
    # directory (a shared volume).
    files_dir: Path = Field(ROOT / "data" / "files", alias="JIXIAO_FILES_DIR")
    # One 佐证材料 file (page and API): refused above this, on Content-Length before the body is read,
    # and again while it streams in.
    attachment_max_bytes: int = Field(20 * 1024 * 1024, alias="JIXIAO_ATTACHMENT_MAX_BYTES", ge=1024)
    # Every request body (file uploads included): checked on Content-Length and while it streams in.
    max_request_bytes: int = Field(410 * 1024 * 1024, alias="JIXIAO_MAX_REQUEST_BYTES", ge=1024)
    # Bodies that are parsed in memory (JSON, plain forms): much smaller.
    max_json_bytes: int = Field(2 * 1024 * 1024, alias="JIXIAO_MAX_JSON_BYTES", ge=1024)

    @field_validator("database_url", "database_read_url")
    @classmethod
    def _database_url_shape(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if value.startswith("postgres://"):
            value = "postgresql://" + value[len("postgres://") :]
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://") :]
        if not (value.startswith("sqlite:///") or value.startswith("postgresql+psycopg://")):
            raise ValueError("DATABASE_URL 应为 sqlite:///路径 或 postgresql://用户:密码@主机:端口/库名")
        return value

    @model_validator(mode="after")
    def _secret_outside_development(self) -> Settings:
        if self.env == "production" and (
            self.secret_key.strip().lower() in PLACEHOLDER_SECRETS or self.secret_key == DEV_SECRET
        ):
            raise ValueError("生产环境必须设置 SECRET_KEY（一个随机的长字符串，例如 openssl rand -hex 32）")
        if self.env == "production" and len(self.secret_key) < 16:
            raise ValueError("SECRET_KEY 太短：生产环境至少 16 个字符")
        return self

    @model_validator(mode="after")
    def _import_fits_in_a_request(self) -> Settings:
        if self.import_max_bytes > self.max_request_bytes:
            raise ValueError(
                f"IMPORT_MAX_BYTES（{self.import_max_bytes}）大于 JIXIAO_MAX_REQUEST_BYTES"
                f"（{self.max_request_bytes}）：这么大的文件传不上来，"
                "请把 JIXIAO_MAX_REQUEST_BYTES 设得比 IMPORT_MAX_BYTES 大一些（约 1 MB）"
            )
        return self

    @model_validator(mode="after")
    def _connections_fit_the_budget(self) -> Settings:
        check_connection_budget(self, self.workers)
        return self

    @model_validator(mode="after")
    def _replica_of_postgresql(self) -> Settings:
        if self.database_read_url and (self.is_sqlite or self.database_read_url.startswith("sqlite")):
            raise ValueError(
                "DATABASE_READ_URL（只读副本）只用于 PostgreSQL：DATABASE_URL 与它都应是 postgresql://… 地址"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def check_connection_budget(settings: Settings, workers: int) -> None:
    """workers × (pool + overflow) connections at most: refused when that exceeds the budget."""
    per_process = settings.db_pool_size + settings.db_max_overflow
    if settings.is_sqlite or workers * per_process <= settings.db_connection_budget:
        return
    raise ValueError(
        f"数据库连接数超出预算：{workers} 个进程 ×（DB_POOL_SIZE {settings.db_pool_size} + "
        f"JIXIAO_DB_MAX_OVERFLOW {settings.db_max_overflow}）= {workers * per_process}，大于 "
        f"JIXIAO_DB_CONNECTION_BUDGET {settings.db_connection_budget}。请减少进程数或连接池，"
        "或在确认 PostgreSQL 的 max_connections 足够后调大预算"
    )


def load_settings(**overrides) -> Settings:
    """Build settings, turning validation errors into one clear line (SettingsError)."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ())) or "设置"
            msg = err.get("msg", "")
            msg = msg.removeprefix("Value error, ")
            lines.append(f"{where.upper()}: {msg}")
        raise SettingsError("配置错误 — " + "；".join(lines)) from None


@lru_cache
def get_settings() -> Settings:
    return load_settings()
