"""Roster screens: upload → preview (dry run) → confirm → import, and the people-list Excel export.

The uploaded file waits between the preview and the confirmation in the media storage under
``.sizheng-imports/`` (``importer.store_upload``: the bucket or shared directory every web machine reads, so the
confirmation may land on any machine), named by a random token kept in the session and the uploader's
id, and is deleted after the import, a failed confirmation, or an hour.
The URL patterns are ``roster_urlpatterns``, included by ``org/urls.py``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from sizheng.core.xlsx import xlsx_response
from sizheng.org import access, importer
from sizheng.org.export import roster_export
from sizheng.org.forms import PeopleFilterForm, StyledForm
from sizheng.org.models import Org, Person
from sizheng.org.roster import EXPORT_HEADERS

SESSION_KEY = "roster_import"
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
_SIGNATURES = {".xlsx": b"PK\x03\x04", ".xls": b"\xd0\xcf\x11\xe0"}
SENSITIVE_CONFIRMATION = "我确认导出含完整身份证号和电话的名册，并对数据安全负责"


class RosterUploadForm(StyledForm):
    """The roster file and the org for members whose row names none."""

    file = forms.FileField(
        label="名册文件", help_text="Excel 表格（.xlsx 或 .xls），不超过 10 MB；读取第一个工作表。"
    )
    org = forms.ModelChoiceField(
        label="默认党组织",
        queryset=Org.objects.none(),
        required=False,
        empty_label="（不指定）",
        help_text="表中未填写所在党组织、且系统中尚无党组织的党员，将归入此党组织。",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = importer.importable_orgs(user)
        self.fields["org"].error_messages["invalid_choice"] = "所选党组织不在您的管理范围内，请重新选择。"
        self.fields["file"].error_messages["required"] = "请选择要导入的名册文件。"
        self.fields["file"].widget.attrs["accept"] = ".xlsx,.xls"

    def clean_file(self):
        """Only real .xlsx / .xls files (checked by their first bytes, not only the name) up to 10 MB."""
        upload = self.cleaned_data["file"]
        ext = Path(upload.name or "").suffix.lower()
        if ext not in _SIGNATURES:
            raise ValidationError("只能导入 .xlsx 或 .xls 格式的 Excel 表格。")
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError("文件超过 10 MB，请拆分成几个文件分批导入。")
        head = upload.read(len(_SIGNATURES[ext]))
        upload.seek(0)
        if head != _SIGNATURES[ext]:
            raise ValidationError("文件内容不是有效的 Excel 表格，请确认没有改过扩展名，且文件没有加密。")
        return upload


class SensitiveExportForm(forms.Form):
    """The explicit confirmation a sensitive export needs."""

    confirm = forms.BooleanField(
        label=SENSITIVE_CONFIRMATION,
        error_messages={"required": "导出含完整身份证号和电话的名册前，请勾选确认。"},
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )


def _importer_or_404(user) -> None:
    """Roster import is for org admins and the committee admin; everyone else gets 404 (nothing leaks)."""
    if not importer.may_import(user):
        raise Http404("页面不存在。")


def _upload_page(request: HttpRequest, form, *, status: int = 200, notice: str = "") -> HttpResponse:
    return render(
        request,
        "org/roster_import.html",
        {"form": form, "notice": notice, "headers": EXPORT_HEADERS},
        status=status,
    )


def _forget_pending(request: HttpRequest) -> None:
    """Drop the session's pending upload and its file."""
    pending = request.session.pop(SESSION_KEY, None) or {}
    if pending.get("token"):
        importer.discard_upload(pending["token"], pending.get("ext", ""), request.user)


@login_required
@require_http_methods(["GET", "POST"])
def roster_import(request: HttpRequest) -> HttpResponse:
    """Upload a roster: a dry run shows what would change, or every error, before anything is written."""
    _importer_or_404(request.user)
    posted = request.method == "POST"
    form = RosterUploadForm(
        request.POST if posted else None, request.FILES if posted else None, user=request.user
    )
    if not posted:
        return _upload_page(request, form)
    if not form.is_valid():
        return _upload_page(request, form, status=422)
    upload, org = form.cleaned_data["file"], form.cleaned_data["org"]
    data = upload.read()
    result = importer.roster_import(actor=request.user, source=data, default_org=org, dry_run=True)
    _forget_pending(request)
    ctx = {"result": result, "filename": upload.name, "org": org}
    if result.errors:
        return render(request, "org/roster_preview.html", ctx, status=422)
    ext = Path(upload.name).suffix.lower()
    token = importer.store_upload(data, ext, owner=request.user)
    request.session[SESSION_KEY] = {
        "token": token,
        "ext": ext,
        "org": org.pk if org else None,
        "name": upload.name,
    }
    return render(request, "org/roster_preview.html", {**ctx, "token": token})


@login_required
@require_POST
def roster_import_confirm(request: HttpRequest) -> HttpResponse:
    """Import the previewed file for real (all-or-nothing), then delete it."""
    _importer_or_404(request.user)
    pending = request.session.get(SESSION_KEY) or {}
    token = request.POST.get("token", "")
    data = None
    # Bound twice to the uploader: the token must be the one in their session, and the file's name
    # carries their id, so another user's session or token finds nothing.
    if token and secrets.compare_digest(token, str(pending.get("token", ""))):
        data = importer.read_upload(token, pending.get("ext", ""), request.user)
    if data is None:
        _forget_pending(request)
        notice = "要导入的文件已过期（超过 1 小时）或已经导入过，请重新上传名册。"
        return _upload_page(request, RosterUploadForm(user=request.user), status=409, notice=notice)
    _forget_pending(request)
    org = (
        importer.importable_orgs(request.user).filter(pk=pending.get("org")).first()
        if pending.get("org")
        else None
    )
    result = importer.roster_import(actor=request.user, source=data, default_org=org)
    ctx = {"result": result, "filename": pending.get("name", ""), "org": org}
    if result.errors:
        return render(request, "org/roster_preview.html", ctx, status=422)
    return render(request, "org/roster_import_done.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def people_export(request: HttpRequest) -> HttpResponse:
    """The filtered people list as Excel: masked; ``?sensitive=1`` → an audited, confirmed full export."""
    user = request.user
    if not access.can_list_people(user):
        raise Http404("页面不存在。")
    form = PeopleFilterForm(request.GET or None, user=user)
    people = form.filter(Person.objects.visible_to(user).current())
    filters = {k: v for k, v in request.GET.items() if k not in ("sensitive", "page") and v}
    stamp = timezone.localdate().strftime("%Y%m%d")
    if request.method == "GET" and request.GET.get("sensitive") != "1":
        data = roster_export(actor=user, people_qs=people, sensitive=False, filters=filters)
        return xlsx_response(data, f"人员名册-{stamp}.xlsx")
    access.require(access.may_export_identifiers(user), "只有党务干部可以导出含完整身份证号和电话的名册。")
    confirm = SensitiveExportForm(request.POST if request.method == "POST" else None)
    params = request.GET.copy()
    params["sensitive"] = "1"
    ctx = {"form": confirm, "querystring": params.urlencode(), "count": people.count(), "filters": filters}
    if request.method == "GET":
        return render(request, "org/roster_export_confirm.html", ctx)
    if not confirm.is_valid():
        return render(request, "org/roster_export_confirm.html", ctx, status=422)
    data = roster_export(actor=user, people_qs=people, sensitive=True, filters=filters)
    return xlsx_response(data, f"人员名册（含身份证号）-{stamp}.xlsx")


roster_urlpatterns = [
    path("roster/import/", roster_import, name="roster_import"),
    path("roster/import/confirm/", roster_import_confirm, name="roster_import_confirm"),
    path("people/export/", people_export, name="people_export"),
]
