"""Error pages and fragments for the web side."""

from __future__ import annotations

from fastapi import Request

from app.web.render import render, wants_fragment

TITLES = {
    401: "请先登录",
    403: "没有权限",
    404: "页面不存在",
    409: "操作冲突",
    413: "内容过大",
    422: "输入有误",
    500: "服务器错误",
    503: "暂时无法服务",
}


def error_page(request: Request, status: int, message: str):
    """A Chinese error page, or a toast fragment for htmx requests; 401 sends plain pages to /login."""
    if status == 401 and not wants_fragment(request):
        from fastapi.responses import RedirectResponse

        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    headers = {}
    if wants_fragment(request):
        # Errors go to the toast area whatever the element targeted.
        headers = {"HX-Retarget": "#toast", "HX-Reswap": "innerHTML"}
    return render(
        request,
        "errors/error.html",
        {"status": status, "title": TITLES.get(status, "出错了"), "message": message},
        block="content",
        status_code=status,
        headers=headers,
    )
