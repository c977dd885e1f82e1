"""Forms of the library screens (plain POST forms; the services do the real checks)."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from sizheng.core.models import Role, RoleGrant, User
from sizheng.library.models import BODY_MAX_CHARS, MaterialKind, MaterialState, TargetKind, Topic

TEXT = {"class": "form-control"}
SELECT = {"class": "form-select"}
DATE = {"class": "form-control", "type": "date"}
CHECK = {"class": "form-check-input"}
EVERYONE_LABEL = "全体人员（仅机关工委发布的资料可选）"
INTENTS = [("draft", "保存草稿"), ("publish", "发布")]


def _org_label(org) -> str:
    return org.name


class FilterForm(forms.Form):
    """Search and filters of the library list (all optional; a bad value is simply ignored)."""

    q = forms.CharField(label="关键词", required=False, max_length=100,
                        widget=forms.TextInput(attrs={**TEXT, "placeholder": "标题、简介、来源或主题"}))  # fmt: skip
    topic = forms.ModelChoiceField(queryset=Topic.objects.all(), label="主题", required=False,
                                   empty_label="全部主题", widget=forms.Select(attrs=SELECT))  # fmt: skip
    kind = forms.ChoiceField(label="类型", required=False, choices=[("", "全部类型"), *MaterialKind.choices],
                             widget=forms.Select(attrs=SELECT))  # fmt: skip
    org = forms.ModelChoiceField(queryset=None, label="发布组织", required=False, empty_label="全部组织",
                                 widget=forms.Select(attrs=SELECT))  # fmt: skip
    year = forms.IntegerField(label="发布年份", required=False, min_value=1900, max_value=2100,
                              widget=forms.NumberInput(attrs={**TEXT, "placeholder": "如 2026"}))  # fmt: skip
    state = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *MaterialState.choices],
                              widget=forms.Select(attrs=SELECT))  # fmt: skip

    def __init__(self, *args, orgs=None, show_state: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs
        self.fields["org"].label_from_instance = _org_label
        if not show_state:
            del self.fields["state"]


class MaterialForm(forms.Form):
    """A material: a file to upload or an article typed in, with its metadata."""

    org = forms.ModelChoiceField(queryset=None, label="所属组织", empty_label=None,
                                 widget=forms.Select(attrs=SELECT))  # fmt: skip
    title = forms.CharField(label="标题", max_length=200, widget=forms.TextInput(attrs=TEXT))
    topics = forms.ModelMultipleChoiceField(queryset=None, label="主题", required=False,
                                            widget=forms.CheckboxSelectMultiple(attrs=CHECK))  # fmt: skip
    summary = forms.CharField(label="内容简介", required=False, max_length=1000,
                              widget=forms.Textarea(attrs={**TEXT, "rows": 3}))  # fmt: skip
    source = forms.CharField(label="来源", required=False, max_length=120,
                             widget=forms.TextInput(attrs={**TEXT, "placeholder": "如：人民网、本单位原创"}))  # fmt: skip
    published_on = forms.DateField(label="发布日期", widget=forms.DateInput(attrs=DATE))
    audience_org = forms.ModelChoiceField(
        queryset=None, label="阅览范围", required=False, empty_label=EVERYONE_LABEL,
        widget=forms.Select(attrs=SELECT), help_text="选择一个党组织时，只有该组织及其下级组织的同志可以查看和下载。",
    )  # fmt: skip
    upload = forms.FileField(
        label="资料文件", required=False, widget=forms.ClearableFileInput(attrs=TEXT),
        help_text="支持 PDF、Word（docx/doc/wps）、OFD、PPT（pptx/ppt）、MP3、MP4 和 TXT，单个文件不超过上传大小限制。",
    )  # fmt: skip
    body = forms.CharField(
        label="在线撰写正文", required=False, max_length=BODY_MAX_CHARS,
        widget=forms.Textarea(attrs={**TEXT, "rows": 12}),
        help_text="不上传文件时，可在此直接撰写文章。空一行分段；行首“# ”为标题，“- ”为列表，**两侧加星号**为加粗；不支持 HTML。",
    )  # fmt: skip
    intent = forms.ChoiceField(choices=INTENTS, required=False, widget=forms.HiddenInput)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, orgs=None, audience_orgs=None, material=None, column=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topics"].queryset = Topic.objects.filter(is_active=True)
        self.fields["audience_org"].queryset = audience_orgs
        self.fields["audience_org"].label_from_instance = _org_label
        self.fields["published_on"].initial = timezone.localdate()
        if material is not None or column is not None:
            del self.fields["org"]
        else:
            self.fields["org"].queryset = orgs
            self.fields["org"].label_from_instance = _org_label
        if material is None:
            del self.fields["version"]
        else:
            self.fields["version"].required = True
            # Topics that were retired since stay selectable on the materials that carry them.
            self.fields["topics"].queryset = Topic.objects.filter(is_active=True) | Topic.objects.filter(
                materials=material
            )
            self.fields["topics"].queryset = self.fields["topics"].queryset.distinct()
        is_article = column is not None or (material is not None and material.is_article)
        if is_article:
            del self.fields["upload"]
            self.fields["body"].label = "正文"
            self.fields["body"].required = material is None
            self.fields[
                "body"
            ].help_text = "空一行分段；行首“# ”为小标题，“- ”为列表，**两侧加星号**为加粗；不支持 HTML，输入的内容按原样显示。"
        elif material is not None:
            del self.fields["body"]
            self.fields["upload"].label = "替换文件"
            self.fields["upload"].help_text = "不替换时留空；替换的文件须为同一类型。"
        if material is not None:
            del self.fields["intent"]

    def service_kwargs(self) -> dict:
        """The cleaned data as the services' keyword arguments."""
        d = dict(self.cleaned_data)
        d.pop("intent", None)
        d.pop("version", None)
        d["topics"] = list(d.get("topics") or [])
        return d

    @property
    def publish(self) -> bool:
        return self.cleaned_data.get("intent") == "publish"


class TransitionForm(forms.Form):
    """Publish, withdraw (with a ticked confirmation) or send back to draft."""

    action = forms.ChoiceField(choices=[("publish", "发布"), ("withdraw", "撤回"), ("redraft", "恢复为草稿")])
    version = forms.IntegerField(widget=forms.HiddenInput)
    confirm = forms.BooleanField(label="我确认撤回：撤回后同事将不能再查看和下载该资料", required=False,
                                 widget=forms.CheckboxInput(attrs=CHECK))  # fmt: skip

    def clean(self):
        data = super().clean()
        if data.get("action") == "withdraw" and not data.get("confirm"):
            self.add_error("confirm", "撤回后同事将不能再查看该资料，请先勾选确认，再撤回。")
        return data


class AttachForm(forms.Form):
    """Use this material on one of the plans, sessions or 党课 the user manages."""

    # A free value shown as a select: the view resolves it through the target's scope rule (404 / 403),
    # so a target older than the select's recent entries can still be posted.
    target = forms.CharField(label="用于", max_length=40, widget=forms.Select(attrs=SELECT),
                             error_messages={"required": "请选择要使用该资料的学习计划、学习活动或党课。"})  # fmt: skip

    def __init__(self, *args, choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        groups = []
        for kind, targets in (choices or {}).items():
            if targets:
                groups.append((TargetKind(kind).label, [(f"{t.kind}:{t.id}", t.label) for t in targets]))
        self.fields["target"].widget.choices = [("", "请选择学习计划、学习活动或党课"), *groups]

    def clean_target(self) -> tuple[str, int]:
        raw = self.cleaned_data["target"]
        kind, _, pk = raw.partition(":")
        if kind not in TargetKind.values or not pk.isdigit():
            raise forms.ValidationError("请选择要使用该资料的学习计划、学习活动或党课。")
        return kind, int(pk)


class PickForm(forms.Form):
    """On the target side: the material to add."""

    material = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class TopicForm(forms.Form):
    """A new topic."""

    name = forms.CharField(label="主题名称", max_length=40, widget=forms.TextInput(attrs=TEXT))
    order = forms.IntegerField(label="排序", required=False, min_value=0, max_value=32767,
                               widget=forms.NumberInput(attrs=TEXT))  # fmt: skip


class TopicEditForm(forms.Form):
    """Rename, reorder or retire a topic."""

    name = forms.CharField(label="主题名称", max_length=40, widget=forms.TextInput(attrs=TEXT))
    order = forms.IntegerField(
        label="排序", min_value=0, max_value=32767, widget=forms.NumberInput(attrs=TEXT)
    )
    is_active = forms.BooleanField(label="在用", required=False, widget=forms.CheckboxInput(attrs=CHECK))
    version = forms.IntegerField(widget=forms.HiddenInput)


class ColumnForm(forms.Form):
    """A new in-house column."""

    org = forms.ModelChoiceField(queryset=None, label="主办组织", empty_label=None,
                                 widget=forms.Select(attrs=SELECT))  # fmt: skip
    name = forms.CharField(label="专栏名称", max_length=60,
                           widget=forms.TextInput(attrs={**TEXT, "placeholder": "如：机关e课堂"}))  # fmt: skip
    description = forms.CharField(label="专栏简介", required=False, max_length=500,
                                  widget=forms.Textarea(attrs={**TEXT, "rows": 3}))  # fmt: skip

    def __init__(self, *args, orgs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs
        self.fields["org"].label_from_instance = _org_label


class ColumnEditForm(forms.Form):
    """A column's name, description and whether it is in use."""

    name = forms.CharField(label="专栏名称", max_length=60, widget=forms.TextInput(attrs=TEXT))
    description = forms.CharField(label="专栏简介", required=False, max_length=500,
                                  widget=forms.Textarea(attrs={**TEXT, "rows": 3}))  # fmt: skip
    is_active = forms.BooleanField(label="在用（停用后不能再发布新文章，已发布的文章仍可查看）", required=False,
                                   widget=forms.CheckboxInput(attrs=CHECK))  # fmt: skip
    version = forms.IntegerField(widget=forms.HiddenInput)


def editor_candidates():
    """Users who hold a secretary or 党务干部 role today (authors are kept to managers)."""
    granted = RoleGrant.objects.in_force().filter(role__in=[Role.SECRETARY, Role.ORG_ADMIN]).values("user_id")
    return User.objects.filter(pk__in=granted, is_active=True).order_by("username")


class EditorForm(forms.Form):
    """Name an author of a column."""

    user = forms.ModelChoiceField(queryset=None, label="撰稿人", empty_label="请选择书记或党务干部",
                                  widget=forms.Select(attrs=SELECT))  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = editor_candidates()
        self.fields["user"].label_from_instance = lambda u: (
            f"{u.display_name}（{u.username}）" if u.display_name else u.username
        )
