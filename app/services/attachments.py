"""佐证材料 (evidence attachments): store, list, read and delete the files a unit attaches to a 自评表,
an indicator row, a 专项资金 or one of its nodes (issue 12 §5).

The bytes are stored content-addressed under JIXIAO_FILES_DIR (`attachments/ab/abcdef…`, by SHA-256):
an upload is streamed to a temporary file in the same directory and renamed onto its address only when
complete, so a reader, another replica or `jixiao backup` never sees half a file, and a refusal or a
disk error removes the temporary file. The row is committed after the file is in place; if the commit
fails, a file that no row names is removed again. The type is sniffed from the first bytes (and, for
Office files, from their inner structure), never taken from the name or the browser's Content-Type.

Who may see an attachment is who may see its parent (app/services/scope.py, app/services/funds.py);
adding and deleting are allowed to the parent's writer until it is submitted (409 afterwards).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import sqlalchemy as sa
from sqlmodel import Session, select

from app.domain import evaluation as lifecycle
from app.domain.categories import LEVEL2_BY_SLUG
from app.models import Attachment, FundEvaluation, FundNode, Indicator, Project, SelfEvaluation, SpecialFund
from app.security import Principal
from app.services import audit, funds, scope
from app.services.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from app.sqltypes import utcnow

SUBDIR = "attachments"
NOT_FOUND = "佐证材料不存在或无权查看"
PARENT_LABELS = {"evaluation": "自评表", "indicator": "绩效指标", "fund": "专项资金", "fund_node": "资金分配节点"}


@dataclass(frozen=True)
class FileType:
    code: str
    label: str  # what a user calls it
    content_type: str
    extensions: tuple[str, ...]  # the names it may carry (lower case, with the dot)


TYPES = {
    t.code: t
    for t in (
        FileType("pdf", "PDF 文档", "application/pdf", (".pdf",)),
        FileType("png", "PNG 图片", "image/png", (".png",)),
        FileType("jpeg", "JPEG 图片", "image/jpeg", (".jpg", ".jpeg")),
        FileType(
            "docx", "Word 文档", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)
        ),
        FileType("xlsx", "Excel 表格", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)),
        FileType("doc", "Word 97-2003 文档", "application/msword", (".doc", ".wps")),
        FileType("xls", "Excel 97-2003 表格", "application/vnd.ms-excel", (".xls", ".et")),
    )
}
LABEL_BY_CONTENT_TYPE = {t.content_type: t.label for t in TYPES.values()}
ALLOWED_TEXT = "PDF、PNG/JPEG 图片、Word（.docx/.doc/.wps）、Excel（.xlsx/.xls/.et）"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _ole_kind(path: Path) -> str | None:
    """A Word or Excel 97-2003 file (WPS saves the same formats): told by its stream names."""
    data = path.read_bytes()
    if "WordDocument".encode("utf-16-le") in data:
        return "doc"
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return "xls"
    return None


def _zip_kind(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return None


def sniff(path: Path) -> str | None:
    """The file's type code from its content (magic bytes, inner structure); None when not allowed."""
    with path.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    if head.startswith(OLE_MAGIC):
        return _ole_kind(path)
    return None


def check_type(path: Path, name: str) -> FileType:
    """The sniffed type, refused (422, in Chinese) when not allowed or when the name says otherwise."""
    code = sniff(path)
    extension = Path(name).suffix.lower()
    if code is None:
        raise ValidationFailed(
            f"“{name}”的内容不是允许的文件类型：佐证材料只能是 {ALLOWED_TEXT}（按文件内容判断，不看扩展名）"
        )
    kind = TYPES[code]
    if extension not in kind.extensions:
        said = extension or "（无扩展名）"
        raise ValidationFailed(
            f"“{name}”的扩展名 {said} 与内容不符：文件内容是{kind.label}（应为 {'、'.join(kind.extensions)}），"
            "请检查是否选错了文件，或改正扩展名后重新上传"
        )
    return kind


def clean_name(name: str | None) -> str:
    """The uploaded name without any directory part or control characters, at most 255 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    if not base:
        raise ValidationFailed("上传的文件没有文件名：请选择一个文件")
    if len(base) > 255:
        stem, suffix = os.path.splitext(base)
        base = stem[: 255 - len(suffix)] + suffix
    return base


# --- the store --------------------------------------------------------------------------------


def store_root(files_dir: Path) -> Path:
    return files_dir / SUBDIR


def path_of(files_dir: Path, sha256: str) -> Path:
    return store_root(files_dir) / sha256[:2] / sha256


def write_temp(files_dir: Path, chunks) -> tuple[Path, int, str]:
    """Write the chunks to a temporary file inside the store (same filesystem as the final place);
    the caller renames it onto its address or removes it. A disk error removes it and says so."""
    root = store_root(files_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(dir=root, prefix=".upload-", suffix=".tmp", delete=False)
    except OSError as exc:
        raise StorageFailed(exc) from exc
    path, size, digest = Path(handle.name), 0, hashlib.sha256()
    try:
        with handle:
            for chunk in chunks:
                size += len(chunk)
                digest.update(chunk)
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise StorageFailed(exc) from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, size, digest.hexdigest()


class StorageFailed(DomainError):
    """The disk refused the file (full, read-only, no permission): nothing was stored."""

    status = 507
    code = "storage_failed"

    def __init__(self, exc: OSError):
        super().__init__(
            f"佐证材料未能保存：服务器的文件存储出错（{exc.strerror or exc}），未保存任何内容，请稍后重试或联系管理员"
        )


def _place(files_dir: Path, temp: Path, sha256: str) -> bool:
    """Rename the complete temporary file onto its address; False when the same content was there."""
    final = path_of(files_dir, sha256)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            temp.unlink(missing_ok=True)
            return False
        os.chmod(temp, 0o644)
        os.replace(temp, final)
        return True
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise StorageFailed(exc) from exc


# --- parents and who may do what ---------------------------------------------------------------


@dataclass(frozen=True)
class Parent:
    kind: str
    id: int
    status: str  # the lifecycle status of what it belongs to (自评 or 专项资金自评)
    unit_id: int | None  # the owning unit (a 自评表's project; a fund node's recipient)
    fund_id: int | None = None
    evaluation_id: int | None = None


def visible_parent(*, session: Session, principal: Principal, kind: str, parent_id: int) -> Parent:
    """The parent if the caller may see it; otherwise NotFound (no existence leak)."""
    if kind == "evaluation":
        ev = scope.visible_evaluation(session=session, principal=principal, evaluation_id=parent_id)
        project = session.get(Project, ev.project_id)
        return Parent(kind, parent_id, ev.status, project.unit_id if project else None, evaluation_id=ev.id)
    if kind == "indicator":
        indicator = session.get(Indicator, parent_id)
        if indicator is None:
            raise NotFound("绩效指标不存在或无权查看")
        project = scope.visible_project(session=session, principal=principal, project_id=indicator.project_id)
        ev = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == project.id)).first()
        if ev is None:
            raise NotFound("绩效指标不存在或无权查看")
        return Parent(kind, parent_id, ev.status, project.unit_id, evaluation_id=ev.id)
    if kind == "fund":
        fund = funds.visible_fund(session=session, principal=principal, fund_id=parent_id)
        return Parent(kind, parent_id, _fund_status(session, fund.id), None, fund_id=fund.id)
    if kind == "fund_node":
        node = funds.visible_node(session=session, principal=principal, node_id=parent_id)
        return Parent(kind, parent_id, _fund_status(session, node.fund_id), node.unit_id, fund_id=node.fund_id)
    raise NotFound(NOT_FOUND)


def _fund_status(session: Session, fund_id: int) -> str:
    row = session.exec(select(FundEvaluation.status).where(FundEvaluation.fund_id == fund_id)).first()
    return row or lifecycle.FIRST_STATUS


def _may_write(principal: Principal, parent: Parent) -> bool:
    """The parent's writer: the unit of a 自评表; a fund's 主管部门 or the bureau; a node's recipient unit too."""
    if parent.kind in ("evaluation", "indicator"):
        return principal.role == "unit" and principal.unit_id == parent.unit_id
    if principal.role in ("department", "finance", "admin"):
        return True  # visible_fund limited a department to its own funds
    return parent.kind == "fund_node" and principal.role == "unit" and principal.unit_id == parent.unit_id


def check_writable(principal: Principal, parent: Parent, verb: str) -> None:
    """Refused: 403 for a caller who never may, 409 (with the status) once the parent is submitted."""
    if not _may_write(principal, parent):
        raise PermissionDenied(f"您的账号不能{verb}这份{PARENT_LABELS[parent.kind]}的佐证材料")
    if principal.scopes is not None and "write" not in principal.scopes:
        raise PermissionDenied(f"此令牌没有「填报」权限（write），不能{verb}佐证材料")
    if parent.status not in lifecycle.EDITING:
        what = "专项资金自评" if parent.fund_id is not None else "自评"
        raise Conflict(
            f"{what}当前状态为“{lifecycle.STATUS_LABELS[parent.status]}”，已送审的材料不能再{verb}佐证材料；"
            "如需更改，请先撤回或等待退回"
        )


def may_change(principal: Principal | None, parent: Parent) -> bool:
    """Whether the page should offer the upload form and the delete buttons."""
    if principal is None:
        return False
    try:
        check_writable(principal, parent, "修改")
    except (PermissionDenied, Conflict):
        return False
    return True


# --- use cases ---------------------------------------------------------------------------------


def _stream(parent: Parent) -> str:
    """Attachment events join their parent's audit stream (a 自评表's or a fund's)."""
    if parent.evaluation_id is not None:
        return audit.stream_of("self_evaluation", parent.evaluation_id, "")
    return funds.fund_stream(parent.fund_id)  # type: ignore[arg-type]


def _json(row: Attachment) -> dict:
    return {
        "id": row.id,
        "parent_kind": row.parent_kind,
        "parent_id": row.parent_id,
        "name": row.name,
        "size": row.size,
        "content_type": row.content_type,
        "sha256": row.sha256,
    }


def add(
    *,
    session: Session,
    principal: Principal,
    files_dir: Path,
    kind: str,
    parent_id: int,
    name: str | None,
    temp: Path,
    size: int,
    sha256: str,
) -> Attachment:
    """Attach a file already streamed to `temp` (write_temp): checked, placed at its address, recorded
    and audited in one go; on any refusal or failure the temporary file is removed and no row remains."""
    placed = False
    try:
        parent = visible_parent(session=session, principal=principal, kind=kind, parent_id=parent_id)
        check_writable(principal, parent, "上传")
        filename = clean_name(name)
        if size == 0:
            raise ValidationFailed(f"“{filename}”是空文件（0 字节），未保存")
        kind_of_file = check_type(temp, filename)
        placed = _place(files_dir, temp, sha256)
        row = Attachment(
            parent_kind=kind,
            parent_id=parent_id,
            name=filename,
            size=size,
            content_type=kind_of_file.content_type,
            sha256=sha256,
            uploaded_by_id=principal.user_id,
            uploader=principal.name[:200],
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
        audit.record(
            session=session,
            actor=principal,
            action="attachment_upload",
            entity_type="attachment",
            entity_id=row.id,
            after=_json(row),
            stream=_stream(parent),
        )
        session.commit()
    except BaseException:
        session.rollback()
        temp.unlink(missing_ok=True)
        if placed:
            _drop_unreferenced(session, files_dir, sha256)
        raise
    return row


def _drop_unreferenced(session: Session, files_dir: Path, sha256: str) -> None:
    """A file this upload placed whose row was not committed: removed unless a row names it."""
    try:
        named = session.exec(select(Attachment.id).where(Attachment.sha256 == sha256)).first()
    except sa.exc.SQLAlchemyError:
        return  # the database is gone: leave the file (it is whole; a later upload reuses it)
    if named is None:
        path_of(files_dir, sha256).unlink(missing_ok=True)


def list_for(*, session: Session, principal: Principal, kind: str, parent_id: int) -> list[Attachment]:
    """The parent's attachments (not deleted), oldest first, if the caller may see the parent."""
    visible_parent(session=session, principal=principal, kind=kind, parent_id=parent_id)
    return rows_for(session, [(kind, parent_id)])


def rows_for(session: Session, parents: list[tuple[str, int]]) -> list[Attachment]:
    """The attachments of these parents (already checked as visible), oldest first."""
    if not parents:
        return []
    by_kind: dict[str, list[int]] = {}
    for kind, parent_id in parents:
        by_kind.setdefault(kind, []).append(parent_id)
    # one IN per kind (a 自评表 with 30 rows was 31 ORed pairs: a new statement to build for every size)
    query = select(Attachment).where(attached_to(by_kind))
    return list(session.exec(query.order_by(Attachment.id)).all())


def attached_to(parents: dict[str, Any]) -> Any:
    """Which rows are a parent's attachments: not deleted, and of one of `parents` ({kind: its ids, as a
    list, a subquery or one id's column}). The one rule rows_for reads by and the 自评表's query asks by
    (app.services.evaluations: whether the evaluation or one of its rows has any)."""

    def of(ids: Any) -> Any:
        if isinstance(ids, list | tuple | sa.Select):
            return Attachment.parent_id.in_(ids)  # type: ignore[attr-defined]
        return Attachment.parent_id == ids

    clauses = [sa.and_(Attachment.parent_kind == kind, of(ids)) for kind, ids in parents.items()]
    return sa.and_(Attachment.deleted_at.is_(None), sa.or_(*clauses))  # type: ignore[union-attr]


def for_evaluation(session: Session, evaluation: SelfEvaluation) -> list[Attachment]:
    """A 自评表's own attachments and those of its indicator rows (the evaluation was checked visible)."""
    indicator_ids = session.exec(select(Indicator.id).where(Indicator.project_id == evaluation.project_id)).all()
    return rows_for(session, [("evaluation", evaluation.id), *(("indicator", i) for i in indicator_ids)])  # type: ignore[list-item]


def for_fund(session: Session, principal: Principal, fund: SpecialFund) -> list[Attachment]:
    """A fund's own attachments and those of the nodes the caller may see (the fund was checked visible)."""
    nodes = session.exec(select(FundNode).where(FundNode.fund_id == fund.id)).all()
    visible = []
    for node in nodes:
        try:
            funds.visible_node(session=session, principal=principal, node_id=node.id)  # type: ignore[arg-type]
        except NotFound:
            continue
        visible.append(("fund_node", node.id))
    return rows_for(session, [("fund", fund.id), *visible])  # type: ignore[list-item]


def visible(*, session: Session, principal: Principal, attachment_id: int) -> tuple[Attachment, Parent]:
    """The attachment if the caller may see its parent; otherwise NotFound, whatever the id."""
    row = session.get(Attachment, attachment_id)
    if row is None or row.deleted_at is not None:
        raise NotFound(NOT_FOUND)
    try:
        parent = visible_parent(session=session, principal=principal, kind=row.parent_kind, parent_id=row.parent_id)
    except NotFound:
        raise NotFound(NOT_FOUND) from None
    return row, parent


def open_file(*, files_dir: Path, row: Attachment) -> BinaryIO:
    """The stored bytes; a missing file (a store not restored) is said plainly."""
    try:
        return path_of(files_dir, row.sha256).open("rb")
    except FileNotFoundError:
        raise NotFound(
            f"佐证材料“{row.name}”的文件不在存储目录中（JIXIAO_FILES_DIR）：请联系管理员从备份恢复"
        ) from None


def delete(*, session: Session, principal: Principal, attachment_id: int) -> Attachment:
    """Mark the attachment deleted (until its parent is submitted), audited; the bytes stay for the record."""
    row, parent = visible(session=session, principal=principal, attachment_id=attachment_id)
    check_writable(principal, parent, "删除")
    before = _json(row)
    row.deleted_at = utcnow()
    row.deleted_by_id = principal.user_id
    session.add(row)
    audit.record(
        session=session,
        actor=principal,
        action="attachment_delete",
        entity_type="attachment",
        entity_id=row.id,
        before=before,
        stream=_stream(parent),
    )
    session.commit()
    return row


def size_text(n: int) -> str:
    """1.2 MB, 35 KB, 512 字节."""
    if n >= 1024 * 1024:
        return f"{n / 1048576:.1f}".removesuffix(".0") + " MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} 字节"


def type_label(content_type: str) -> str:
    return LABEL_BY_CONTENT_TYPE.get(content_type, content_type)


def download_headers(row: Attachment) -> dict[str, str]:
    """Always a download, never shown in place (a PDF or an Office file can carry active content): an
    ASCII fallback name for old clients, the real one (Chinese) as RFC 5987 filename*, and a sandbox."""
    suffix = Path(row.name).suffix.lower()
    fallback = f"attachment-{row.id}{suffix if suffix.isascii() and suffix[1:].isalnum() else ''}"
    return {
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(row.name, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Content-Length": str(row.size),
    }


# --- what a page lists -------------------------------------------------------------------------


@dataclass
class Listing:
    """The attachments block of a 自评表 or a fund page: its rows, what each hangs on, where the caller
    may attach (value "kind:id" → label) and which parents it may still change."""

    top: Parent
    rows: list[Attachment]
    labels: dict[str, str]  # "kind:id" → what it is attached to
    targets: dict[str, str]  # the subset the caller may attach to (and delete from) now
    refusal: str | None  # why the caller may not attach any more (submitted), None otherwise

    def key(self, row: Attachment) -> str:
        return f"{row.parent_kind}:{row.parent_id}"


def _listing(
    session: Session,
    principal: Principal,
    top: Parent,
    parents: list[Parent],
    labels: dict[str, str],
    *,
    none_attached: bool = False,
):
    targets, refusal = {}, None
    for parent in parents:
        key = f"{parent.kind}:{parent.id}"
        try:
            check_writable(principal, parent, "上传")
        except Conflict as exc:
            refusal = exc.message
            continue
        except PermissionDenied:
            continue
        targets[key] = labels[key]
    rows = [] if none_attached else rows_for(session, [(p.kind, p.id) for p in parents])
    return Listing(top=top, rows=rows, labels=labels, targets=targets, refusal=refusal)


def evaluation_listing(*, session: Session, principal: Principal, evaluation_id: int) -> Listing:
    """A 自评表's attachments and those of its indicator rows (404 unless the caller may see it)."""
    top = visible_parent(session=session, principal=principal, kind="evaluation", parent_id=evaluation_id)
    ev = session.get(SelfEvaluation, evaluation_id)
    # the columns the labels need, not the indicators' entities
    indicators = session.exec(
        select(Indicator.id, Indicator.level2, Indicator.level2_name, Indicator.name)
        .where(Indicator.project_id == ev.project_id)  # type: ignore[union-attr]
        .order_by(Indicator.position, Indicator.id)
    ).all()
    return _evaluation_listing(session, principal, top, indicators)


def listing_of_visible(
    *,
    session: Session,
    principal: Principal,
    evaluation: SelfEvaluation,
    unit_id: int,
    indicators: list,
    none_attached: bool = False,
) -> Listing:
    """evaluation_listing for a caller that has already read the evaluation through the scope check
    (the 自评表 page) and its indicators in the table's order: only the attachments are read, and not
    even those when the caller's query found that there are none."""
    top = Parent("evaluation", evaluation.id, evaluation.status, unit_id, evaluation_id=evaluation.id)  # type: ignore[arg-type]
    return _evaluation_listing(session, principal, top, indicators, none_attached=none_attached)


def _evaluation_listing(
    session: Session, principal: Principal, top: Parent, indicators, *, none_attached: bool = False
) -> Listing:
    evaluation_id = top.id
    parents = [top] + [
        Parent("indicator", i.id, top.status, top.unit_id, evaluation_id=evaluation_id)  # type: ignore[arg-type]
        for i in indicators
    ]
    labels = {f"evaluation:{evaluation_id}": "整张自评表"}
    for i in indicators:
        level2 = LEVEL2_BY_SLUG[i.level2].name if i.level2 in LEVEL2_BY_SLUG else (i.level2_name or "")
        labels[f"indicator:{i.id}"] = f"指标：{level2}·{i.name}"[:120]
    return _listing(session, principal, top, parents, labels, none_attached=none_attached)


def fund_listing(*, session: Session, principal: Principal, fund_id: int) -> Listing:
    """A fund's attachments and those of the nodes the caller may see (404 unless it may see the fund)."""
    top = visible_parent(session=session, principal=principal, kind="fund", parent_id=fund_id)
    parents, labels = [top], {f"fund:{fund_id}": "本专项资金"}
    for node in session.exec(
        select(FundNode).where(FundNode.fund_id == fund_id).order_by(FundNode.position, FundNode.id)
    ).all():
        try:
            funds.visible_node(session=session, principal=principal, node_id=node.id)  # type: ignore[arg-type]
        except NotFound:
            continue
        parents.append(Parent("fund_node", node.id, top.status, node.unit_id, fund_id=fund_id))  # type: ignore[arg-type]
        labels[f"fund_node:{node.id}"] = f"节点：{node.name}"[:120]
    return _listing(session, principal, top, parents, labels)


def parse_target(value: str | None, listing: Listing) -> tuple[str, int]:
    """The "kind:id" a page's form chose, one of the page's own parents; else 404."""
    if not value or value not in listing.labels:
        raise NotFound("所选的附件位置不存在或不属于本页")
    kind, _, number = value.partition(":")
    return kind, int(number)


def top_of(*, session: Session, row: Attachment) -> tuple[str, int]:
    """The page an attachment is listed on: ("evaluation", id) or ("fund", id)."""
    if row.parent_kind == "evaluation":
        return "evaluation", row.parent_id
    if row.parent_kind == "indicator":
        indicator = session.get(Indicator, row.parent_id)
        ev = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == indicator.project_id)).one()  # type: ignore[union-attr]
        return "evaluation", ev.id  # type: ignore[return-value]
    if row.parent_kind == "fund":
        return "fund", row.parent_id
    node = session.get(FundNode, row.parent_id)
    return "fund", node.fund_id  # type: ignore[union-attr]


# --- what the prints and the reports list --------------------------------------------------------

EVIDENCE_TITLE = "佐证材料清单"
EVIDENCE_HEADER = ("序号", "文件名", "附于", "大小", "类型", "SHA-256（前 12 位）")


def evidence_rows(listing: Listing) -> tuple[tuple[str, ...], ...]:
    """One row per attachment: what a printed 自评表 or report says of it (the bytes travel separately)."""
    return tuple(
        (
            str(n),
            row.name,
            listing.labels.get(listing.key(row), "").removeprefix("指标：").removeprefix("节点："),
            size_text(row.size),
            type_label(row.content_type),
            row.sha256[:12],
        )
        for n, row in enumerate(listing.rows, 1)
    )
