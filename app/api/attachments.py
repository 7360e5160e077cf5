"""佐证材料 (evidence attachments) under /api/v1: list and upload on a parent, read, download, delete."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import File, Request, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from app.api.routing import PrefixRouter
from app.api.scopes import requires
from app.auth import PrincipalDep
from app.db import SessionDep
from app.models import Attachment
from app.services import attachments
from app.uploads import download_response, read_chunks

router = PrefixRouter(prefix="/api/v1", tags=["佐证材料"])

PARENT_DOC = " / ".join(f"{code} {label}" for code, label in attachments.PARENT_LABELS.items())
TYPES_DOC = "；".join(f"{t.label} {t.content_type}（{'、'.join(t.extensions)}）" for t in attachments.TYPES.values())


class AttachmentPublic(BaseModel):
    """一份佐证材料：文件名、大小、按内容判断的类型、SHA-256、上传人与时间。"""

    id: int = Field(description="佐证材料编号")
    parent_kind: str = Field(description=f"附于何处：{PARENT_DOC}")
    parent_id: int = Field(description="所附对象的编号（自评、指标、专项资金或资金分配节点的编号）")
    name: str = Field(description="上传时的文件名")
    size: int = Field(description="大小（字节）")
    content_type: str = Field(description=f"按文件内容判断的类型（不看扩展名）：{TYPES_DOC}")
    type_label: str = Field(description="类型的中文名")
    sha256: str = Field(description="文件内容的 SHA-256（十六进制小写）")
    uploader: str = Field(description="上传人")
    created_at: datetime = Field(description="上传时间（UTC，ISO 8601）")
    download_url: str = Field(description="下载地址")


class AttachmentList(BaseModel):
    """所附对象的全部佐证材料（未删除的），按上传先后。"""

    items: list[AttachmentPublic]


def public(row: Attachment) -> dict[str, Any]:
    return {
        "id": row.id,
        "parent_kind": row.parent_kind,
        "parent_id": row.parent_id,
        "name": row.name,
        "size": row.size,
        "content_type": row.content_type,
        "type_label": attachments.type_label(row.content_type),
        "sha256": row.sha256,
        "uploader": row.uploader,
        "created_at": row.created_at,
        "download_url": f"/api/v1/attachments/{row.id}/content",
    }


NOT_WRITER = (
    "不是所附对象的填报人（自评表：本单位；专项资金：主管部门、财政局，或节点的用款单位），或令牌没有 write 权限"
)
OVERSIZE = "文件超过上限（JIXIAO_ATTACHMENT_MAX_BYTES，默认 20 MB）：按 Content-Length 在读取请求体之前即拒绝"
UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {"description": "已保存：返回这份佐证材料"},
    403: {"description": NOT_WRITER},
    404: {"description": "所附对象不存在或不在您可查看的范围内"},
    409: {"description": "所附对象已送审（或已审核），不能再上传"},
    413: {"description": OVERSIZE},
    422: {"description": "文件类型不允许，或扩展名与内容不符（按内容判断），或是空文件；message 说明原因"},
    507: {"description": "服务器的文件存储出错（磁盘满、只读等）：未保存任何内容"},
}
FILE_DOC = f"佐证材料文件：{attachments.ALLOWED_TEXT}，每个不超过 JIXIAO_ATTACHMENT_MAX_BYTES（默认 20 MB）"


def _upload(request: Request, session, principal, kind: str, parent_id: int, file: UploadFile) -> dict[str, Any]:
    settings = request.app.state.settings
    chunks = read_chunks(file, settings.attachment_max_bytes, "JIXIAO_ATTACHMENT_MAX_BYTES")
    # Parent and permission first: a caller who may not attach is refused before anything is written.
    parent = attachments.visible_parent(session=session, principal=principal, kind=kind, parent_id=parent_id)
    attachments.check_writable(principal, parent, "上传")
    temp, size, digest = attachments.write_temp(settings.files_dir, chunks)
    row = attachments.add(
        session=session,
        principal=principal,
        files_dir=settings.files_dir,
        kind=kind,
        parent_id=parent_id,
        name=file.filename,
        temp=temp,
        size=size,
        sha256=digest,
    )
    return public(row)


def _list(session, principal, kind: str, parent_id: int) -> dict[str, Any]:
    rows = attachments.list_for(session=session, principal=principal, kind=kind, parent_id=parent_id)
    return {"items": [public(r) for r in rows]}


# --- per parent: list and upload ---------------------------------------------------------------


@router.get("/self-evaluations/{evaluation_id}/attachments", summary="自评表的佐证材料", response_model=AttachmentList)
@requires("read")
def list_evaluation_attachments(evaluation_id: int, principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    """The 自评表's own attachments (not those of its indicator rows: see /indicators/{id}/attachments)."""
    return _list(session, principal, "evaluation", evaluation_id)


@router.post(
    "/self-evaluations/{evaluation_id}/attachments",
    summary="为自评表上传佐证材料（multipart）",
    response_model=AttachmentPublic,
    status_code=201,
    responses=UPLOAD_RESPONSES,
)
@requires("write")
def upload_evaluation_attachment(
    request: Request,
    evaluation_id: int,
    principal: PrincipalDep,
    session: SessionDep,
    file: Annotated[UploadFile, File(description=FILE_DOC)],
) -> dict[str, Any]:
    """Attach a file to the 自评表 while it is a draft (or returned)."""
    return _upload(request, session, principal, "evaluation", evaluation_id, file)


@router.get("/indicators/{indicator_id}/attachments", summary="绩效指标的佐证材料", response_model=AttachmentList)
@requires("read")
def list_indicator_attachments(indicator_id: int, principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    """The attachments of one indicator row of a 自评表."""
    return _list(session, principal, "indicator", indicator_id)


@router.post(
    "/indicators/{indicator_id}/attachments",
    summary="为绩效指标上传佐证材料（multipart）",
    response_model=AttachmentPublic,
    status_code=201,
    responses=UPLOAD_RESPONSES,
)
@requires("write")
def upload_indicator_attachment(
    request: Request,
    indicator_id: int,
    principal: PrincipalDep,
    session: SessionDep,
    file: Annotated[UploadFile, File(description=FILE_DOC)],
) -> dict[str, Any]:
    """Attach a file to one indicator row while its 自评表 is a draft (or returned)."""
    return _upload(request, session, principal, "indicator", indicator_id, file)


@router.get("/funds/{fund_id}/attachments", summary="专项资金的佐证材料", response_model=AttachmentList)
@requires("read")
def list_fund_attachments(fund_id: int, principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    """The fund's own attachments (a node's: /fund-nodes/{id}/attachments)."""
    return _list(session, principal, "fund", fund_id)


@router.post(
    "/funds/{fund_id}/attachments",
    summary="为专项资金上传佐证材料（multipart）",
    response_model=AttachmentPublic,
    status_code=201,
    responses=UPLOAD_RESPONSES,
)
@requires("write")
def upload_fund_attachment(
    request: Request,
    fund_id: int,
    principal: PrincipalDep,
    session: SessionDep,
    file: Annotated[UploadFile, File(description=FILE_DOC)],
) -> dict[str, Any]:
    """Attach a file to the fund while its self-evaluation is open (its 主管部门 or the bureau)."""
    return _upload(request, session, principal, "fund", fund_id, file)


@router.get("/fund-nodes/{node_id}/attachments", summary="资金分配节点的佐证材料", response_model=AttachmentList)
@requires("read")
def list_node_attachments(node_id: int, principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    """The attachments of one node of a fund's allocation tree."""
    return _list(session, principal, "fund_node", node_id)


@router.post(
    "/fund-nodes/{node_id}/attachments",
    summary="为资金分配节点上传佐证材料（multipart）",
    response_model=AttachmentPublic,
    status_code=201,
    responses=UPLOAD_RESPONSES,
)
@requires("write")
def upload_node_attachment(
    request: Request,
    node_id: int,
    principal: PrincipalDep,
    session: SessionDep,
    file: Annotated[UploadFile, File(description=FILE_DOC)],
) -> dict[str, Any]:
    """Attach a file to a node (its recipient unit, the fund's 主管部门 or the bureau) while the fund is open."""
    return _upload(request, session, principal, "fund_node", node_id, file)


# --- one attachment ----------------------------------------------------------------------------


@router.get("/attachments/{attachment_id}", summary="一份佐证材料的信息", response_model=AttachmentPublic)
@requires("read")
def get_attachment(attachment_id: int, principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    """Name, size, type, SHA-256, uploader and time; 404 unless the caller may see its parent."""
    row, _ = attachments.visible(session=session, principal=principal, attachment_id=attachment_id)
    return public(row)


@router.get(
    "/attachments/{attachment_id}/content",
    summary="下载佐证材料",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "文件内容，Content-Type 为按内容判断的类型；总是作为附件下载"
            "（Content-Disposition: attachment，中文文件名按 RFC 5987 的 filename*），不在浏览器中打开",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
@requires("read")
def download_attachment(request: Request, attachment_id: int, principal: PrincipalDep, session: SessionDep):
    """The stored bytes, as a download; 404 unless the caller may see its parent."""
    row, _ = attachments.visible(session=session, principal=principal, attachment_id=attachment_id)
    return download_response(request, row)


@router.delete(
    "/attachments/{attachment_id}",
    summary="删除佐证材料",
    status_code=204,
    responses={409: {"description": "所附对象已送审，不能再删除"}},
)
@requires("write")
def delete_attachment(attachment_id: int, principal: PrincipalDep, session: SessionDep) -> None:
    """Delete (mark deleted, audited) while the parent is not yet submitted; 409 afterwards."""
    attachments.delete(session=session, principal=principal, attachment_id=attachment_id)
