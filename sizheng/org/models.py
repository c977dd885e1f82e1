"""Units, offices, the one Org tree, people, their org roles and their transfer history."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sizheng.core.crypto import EncryptedCharField, blind_index

ID_INDEX_PURPOSE = "person.id_number"


class Unit(models.Model):
    """A government department (单位): the body that is assessed; it has one root party org."""

    name = models.CharField(_("单位名称"), max_length=100, unique=True)
    short_name = models.CharField(_("简称"), max_length=40, blank=True)
    code = models.CharField(_("单位代码"), max_length=32, unique=True)
    category = models.CharField(_("单位类别"), max_length=32, default="党政机关")
    order = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class Office(models.Model):
    """An office (处室) inside a unit; non-members belong to one too."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="offices", verbose_name=_("单位"))
    name = models.CharField(_("处室名称"), max_length=100)
    order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("处室")
        verbose_name_plural = _("处室")
        ordering = ["unit_id", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="org_office_unique_name")]

    def __str__(self) -> str:
        return self.name


class OrgQuerySet(models.QuerySet):
    def subtree_of(self, *orgs: Org):
        """Each org and everything below it (materialised path prefix)."""
        q = models.Q(pk__in=[])
        for org in orgs:
            q |= models.Q(path__startswith=org.path)
        return self.filter(q)

    def active_on(self, day: date | None = None):
        """Orgs that exist on a day (founded, not yet dissolved)."""
        day = day or timezone.localdate()
        return self.filter(models.Q(founded_on__isnull=True) | models.Q(founded_on__lte=day)).filter(
            models.Q(dissolved_on__isnull=True) | models.Q(dissolved_on__gt=day)
        )

    def visible_to(self, user):
        """Orgs in the user's scope (ARCHITECTURE §4)."""
        from sizheng.org.access import visible_org_q

        return self.filter(visible_org_q(user))


class Org(models.Model):
    """A party organisation in the one tree rooted at the 机关工委."""

    class Kind(models.TextChoices):
        WORK_COMMITTEE = "work_committee", _("机关工委")
        COMMITTEE = "committee", _("机关党委")
        GENERAL_BRANCH = "general_branch", _("党总支")
        BRANCH = "branch", _("党支部")
        GROUP = "group", _("党小组")
        LEADING_GROUP = "leading_group", _("党组")

    class Relation(models.TextChoices):
        SAME_UNIT = "same_unit", _("单位建立")
        OWN_ENTITY = "own_entity", _("独立法人单位建立")
        JOINT = "joint", _("联合建立")

    code = models.CharField(_("组织代码"), max_length=32, unique=True)
    name = models.CharField(_("组织名称"), max_length=120)
    kind = models.CharField(_("组织类型"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("上级组织"),
    )
    # Materialised path of zero-padded ids ("000001.000007."): a subtree is one indexed prefix match.
    path = models.CharField(max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    units = models.ManyToManyField(Unit, blank=True, related_name="orgs", verbose_name=_("所属单位"))
    relation = models.CharField(
        _("与单位关系"), max_length=16, choices=Relation.choices, default=Relation.SAME_UNIT
    )
    category = models.CharField(_("组织类别"), max_length=32, default="党政机关")
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)
    dissolved_on = models.DateField(_("撤销日期"), null=True, blank=True)
    term_starts_on = models.DateField(_("本届任期开始"), null=True, blank=True)
    term_ends_on = models.DateField(_("本届任期届满"), null=True, blank=True)
    contact = models.CharField(_("联系人及电话"), max_length=100, blank=True)
    order = models.PositiveIntegerField(_("排序"), default=0)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = OrgQuerySet.as_manager()

    class Meta:
        verbose_name = _("党组织")
        verbose_name_plural = _("党组织")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    @property
    def full_name(self) -> str:
        """The formal name: “中共” + the name (rules.md §7)."""
        return self.name if self.name.startswith("中共") else f"中共{self.name}"

    @property
    def is_root(self) -> bool:
        return self.parent_id is None

    def is_active_on(self, day: date | None = None) -> bool:
        day = day or timezone.localdate()
        return (self.founded_on is None or self.founded_on <= day) and (
            self.dissolved_on is None or self.dissolved_on > day
        )

    def clean(self) -> None:
        if self.kind == self.Kind.WORK_COMMITTEE and self.parent_id is not None:
            raise ValidationError("机关工委是组织树的根，不能有上级组织。")
        if self.kind != self.Kind.WORK_COMMITTEE and self.parent_id is None:
            raise ValidationError("除机关工委外，每个党组织都必须有上级组织。")
        if self.founded_on and self.dissolved_on and self.dissolved_on <= self.founded_on:
            raise ValidationError("撤销日期必须晚于成立日期。")
        if self.term_starts_on and self.term_ends_on and self.term_ends_on <= self.term_starts_on:
            raise ValidationError("任期届满日期必须晚于任期开始日期。")


class PoliticalStatus(models.TextChoices):
    """The 13 official 政治面貌 values (rules.md §7)."""

    CPC_MEMBER = "cpc_member", _("中共党员")
    CPC_PROBATIONARY = "cpc_probationary", _("中共预备党员")
    CYL_MEMBER = "cyl_member", _("共青团员")
    RCCK = "rcck", _("民革党员")
    CDL = "cdl", _("民盟盟员")
    CNDCA = "cndca", _("民建会员")
    CAPD = "capd", _("民进会员")
    CPWDP = "cpwdp", _("农工党党员")
    CZGP = "czgp", _("致公党党员")
    JIUSAN = "jiusan", _("九三学社社员")
    TDSGL = "tdsgl", _("台盟盟员")
    NON_PARTY = "non_party", _("无党派人士")
    MASSES = "masses", _("群众")


PARTY_STATUSES = frozenset({PoliticalStatus.CPC_MEMBER, PoliticalStatus.CPC_PROBATIONARY})
POLITICAL_STATUS_LABELS = dict(PoliticalStatus.choices)  # value → lazy label
# The columns ``for_list`` loads: the people list's, and what opening accounts for them reads.
LIST_FIELDS = (
    "name", "gender", "birth_date", "political_status", "position", "is_leader", "left_on", "user",
    "unit__name", "unit__short_name", "office__name", "org__name", "org__path",
)  # fmt: skip


class PersonQuerySet(models.QuerySet):
    def visible_to(self, user):
        """People in the user's scope (ARCHITECTURE §4)."""
        from sizheng.org.access import visible_person_q

        return self.filter(visible_person_q(user))

    def current(self):
        """People still on the roster."""
        return self.filter(left_on__isnull=True)

    def party_members(self):
        return self.filter(political_status__in=PARTY_STATUSES)

    def for_list(self):
        """What the people list (and its account-opening step) shows, in one query: not the encrypted
        identifiers (decrypted per row) nor the other wide columns of the person and the orgs."""
        return self.select_related("unit", "office", "org").only(*LIST_FIELDS)


class Person(models.Model):
    """Every staff member, party member or not (思政工作 covers all staff)."""

    class Gender(models.TextChoices):
        MALE = "male", _("男")
        FEMALE = "female", _("女")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="person"
    )
    name = models.CharField(_("姓名"), max_length=50, db_index=True)
    gender = models.CharField(_("性别"), max_length=8, choices=Gender.choices, blank=True)
    ethnicity = models.CharField(_("民族"), max_length=20, blank=True)
    native_place = models.CharField(_("籍贯"), max_length=50, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    birth_month_only = models.BooleanField(_("出生日期只精确到月"), default=False)
    id_number = EncryptedCharField(_("公民身份证号"), max_length=18, blank=True)
    id_index = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    phone = EncryptedCharField(_("联系电话"), max_length=20, blank=True)
    education = models.CharField(_("学历"), max_length=20, blank=True)
    work_started_on = models.DateField(_("参加工作日期"), null=True, blank=True)
    joined_on = models.DateField(_("入党日期"), null=True, blank=True)
    confirmed_on = models.DateField(_("转正日期"), null=True, blank=True)
    political_status = models.CharField(
        _("政治面貌"), max_length=20, choices=PoliticalStatus.choices, default=PoliticalStatus.MASSES
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="people", verbose_name=_("单位"))
    office = models.ForeignKey(
        Office, null=True, blank=True, on_delete=models.PROTECT, related_name="people", verbose_name=_("处室")
    )
    org = models.ForeignKey(
        Org,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name=_("所在党组织"),
    )
    position = models.CharField(_("职务/职级"), max_length=60, blank=True)
    category = models.CharField(_("人员类别"), max_length=30, blank=True)
    is_leader = models.BooleanField(_("领导班子成员"), default=False)
    left_on = models.DateField(_("离开日期"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        ordering = ["unit_id", "office_id", "id"]
        indexes = [
            models.Index(fields=["unit", "office"]),
            models.Index(fields=["org", "political_status"]),
            # The people still on the roster: the list's count and its 政治面貌 choices read this small
            # index instead of every wide row (PostgreSQL at 30,000 people: ~15 ms → ~1 ms each).
            models.Index(
                fields=["political_status"],
                condition=models.Q(left_on__isnull=True),
                name="org_person_current_status",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    # As Django's get_FOO_display, without rebuilding the choices dict on every call (the list calls
    # them per row: ~0.1 ms each).
    def get_gender_display(self) -> str:
        return str(GENDER_LABELS.get(self.gender, self.gender))

    def get_political_status_display(self) -> str:
        return str(POLITICAL_STATUS_LABELS.get(self.political_status, self.political_status))

    @property
    def is_party_member(self) -> bool:
        return self.political_status in PARTY_STATUSES

    def refresh_id_index(self) -> None:
        """Keep the blind index in step with the encrypted 身份证号 (None when blank)."""
        self.id_index = blind_index(self.id_number, purpose=ID_INDEX_PURPOSE) if self.id_number else None

    def age_on(self, day: date | None = None) -> int | None:
        if not self.birth_date:
            return None
        day = day or timezone.localdate()
        return (
            day.year
            - self.birth_date.year
            - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))
        )


GENDER_LABELS = dict(Person.Gender.choices)  # value → lazy label


class OrgRole(models.Model):
    """A post in an org's committee with its term; 书记/副书记 grant `secretary`, 组织委员/党务干部 `org_admin`."""

    class Title(models.TextChoices):
        SECRETARY = "secretary", _("书记")
        DEPUTY_SECRETARY = "deputy_secretary", _("副书记")
        ORGANIZATION = "organization", _("组织委员")
        PUBLICITY = "publicity", _("宣传委员")
        DISCIPLINE = "discipline", _("纪检委员")
        COMMITTEE_MEMBER = "committee_member", _("委员")
        PARTY_AFFAIRS = "party_affairs", _("党务干部")
        GROUP_LEADER = "group_leader", _("党小组长")

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="roles", verbose_name=_("党组织"))
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="org_roles", verbose_name=_("人员")
    )
    title = models.CharField(_("职务"), max_length=20, choices=Title.choices)
    starts_on = models.DateField(_("任职日期"))
    ends_on = models.DateField(_("任期届满/离任日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("组织职务")
        verbose_name_plural = _("组织职务")
        ordering = ["org_id", "title", "-starts_on"]

    def __str__(self) -> str:
        return f"{self.org} {self.get_title_display()} {self.person}"

    def clean(self) -> None:
        if self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError("离任日期不能早于任职日期。")


class PersonMove(models.Model):
    """One change of a person's org, unit or office (transfers keep their history)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="moves")
    on = models.DateField(_("调动日期"))
    from_unit = models.ForeignKey(Unit, null=True, on_delete=models.PROTECT, related_name="+")
    to_unit = models.ForeignKey(Unit, null=True, on_delete=models.PROTECT, related_name="+")
    from_office = models.ForeignKey(Office, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_office = models.ForeignKey(Office, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    from_org = models.ForeignKey(Org, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_org = models.ForeignKey(Org, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("调动记录")
        verbose_name_plural = _("调动记录")
        ordering = ["-on", "-id"]

    def __str__(self) -> str:
        return f"{self.person} {self.on}"
