"""The demo city: units, offices, the org tree, people, org posts and the demo accounts.

Two steps, so a seed's output can be checked without a database:

- ``plan_city(rng, scale, today=)`` is pure: it draws everything from ``rng`` and returns a
  ``CityPlan`` of plain dataclasses that refer to each other by list index.
- ``build_city(plan)`` writes the plan with bulk inserts (the org tree level by level, paths
  computed like ``services._path_for``) and creates the demo accounts with their grants.

At scale 1: 40 units, about 150 orgs, about 3,000 people; scale 10 is ten times that. The
tree follows rules.md §1–2: a unit's root org is a 机关党委 (≥ 100 party members), a 党总支
(50–99) or a single 党支部 (fewer); units with fewer than 3 full members share a joint
branch (≤ 5 units); branches stay within 50 members; each unit (but the tiny ones, whose one
or two members cannot form one) has a 党组 holding its leadership team, with no members.

What later generators find in ``ctx.shared``: ``unit_ids``, ``office_ids``, ``org_ids``,
``person_ids`` (lists of pks), ``root_org_id``, ``accounts`` ({username: user id}) and
``demo_person_ids`` ({username: Person pk} for the demo accounts that have a roster record).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sizheng.core.demo import ensure_demo_user, generator
from sizheng.org.idcard import make_id_number
from sizheng.org.models import Org, OrgRole, PoliticalStatus

BATCH = 1000
K = Org.Kind
T = OrgRole.Title
PS = PoliticalStatus
CURRENT_POST_TITLES = (T.SECRETARY, T.DEPUTY_SECRETARY, T.ORGANIZATION, T.PUBLICITY, T.DISCIPLINE)

# --- the city's vocabulary ---------------------------------------------------------------

# (name, short name, title of the head, size class): L ≥ 165 staff, M 70–140, S 20–65, T(iny) 6–12.
# Order matters: the first four (the smallest scale) hold a large, a medium and two tiny units,
# so even a tiny demo has a 机关党委/党总支 with branches and a joint branch.
BASE_UNITS = [
    ("市委办公室", "市委办", "主任", "M"),
    ("市公安局", "公安局", "局长", "L"),
    ("市委机要保密局", "机要保密局", "局长", "T"),
    ("市档案馆", "档案馆", "馆长", "T"),
    ("市政府办公室", "市政府办", "主任", "M"),
    ("市发展和改革委员会", "发改委", "主任", "M"),
    ("市财政局", "财政局", "局长", "L"),
    ("市教育局", "教育局", "局长", "M"),
    ("市委组织部", "组织部", "部长", "M"),
    ("市委宣传部", "宣传部", "部长", "S"),
    ("市委统战部", "统战部", "部长", "S"),
    ("市委政策研究室", "政研室", "主任", "S"),
    ("市委机构编制委员会办公室", "编办", "主任", "S"),
    ("市委网络安全和信息化委员会办公室", "网信办", "主任", "S"),
    ("市科学技术局", "科技局", "局长", "S"),
    ("市工业和信息化局", "工信局", "局长", "M"),
    ("市民族宗教事务局", "民宗局", "局长", "S"),
    ("市民政局", "民政局", "局长", "M"),
    ("市司法局", "司法局", "局长", "M"),
    ("市人力资源和社会保障局", "人社局", "局长", "L"),
    ("市自然资源和规划局", "自然资源局", "局长", "L"),
    ("市生态环境局", "生态环境局", "局长", "M"),
    ("市住房和城乡建设局", "住建局", "局长", "L"),
    ("市交通运输局", "交通运输局", "局长", "L"),
    ("市水利局", "水利局", "局长", "M"),
    ("市农业农村局", "农业农村局", "局长", "M"),
    ("市商务局", "商务局", "局长", "S"),
    ("市文化旅游广电局", "文旅广电局", "局长", "M"),
    ("市卫生健康委员会", "卫健委", "主任", "M"),
    ("市退役军人事务局", "退役军人局", "局长", "S"),
    ("市应急管理局", "应急管理局", "局长", "M"),
    ("市审计局", "审计局", "局长", "M"),
    ("市人民政府国有资产监督管理委员会", "国资委", "主任", "S"),
    ("市市场监督管理局", "市场监管局", "局长", "L"),
    ("市统计局", "统计局", "局长", "S"),
    ("市医疗保障局", "医保局", "局长", "S"),
    ("市林业局", "林业局", "局长", "S"),
    ("市城市管理综合执法局", "城管执法局", "局长", "L"),
    ("市信访局", "信访局", "局长", "S"),
    ("市人民政府地方志编纂室", "地方志办", "主任", "T"),
    ("市机关事务管理局", "机关事务局", "局长", "M"),
    ("市行政审批服务局", "行政审批局", "局长", "M"),
    ("市数据资源局", "数据资源局", "局长", "S"),
    ("市人民防空办公室", "人防办", "主任", "T"),
    ("市体育局", "体育局", "局长", "S"),
    ("市总工会", "总工会", "主席", "S"),
    ("市妇女联合会", "妇联", "主席", "T"),
    ("市科学技术协会", "科协", "主席", "T"),
    ("市文学艺术界联合会", "文联", "主席", "T"),
    ("市残疾人联合会", "残联", "理事长", "S"),
    ("市供销合作社联合社", "供销社", "主任", "S"),
    ("市人民政府驻北京联络处", "驻京联络处", "主任", "T"),
    ("市投资促进局", "投促局", "局长", "S"),
    ("市粮食和物资储备局", "粮储局", "局长", "S"),
    ("市乡村振兴局", "乡村振兴局", "局长", "S"),
    ("市住房公积金管理中心", "公积金中心", "主任", "M"),
    ("市公共资源交易中心", "交易中心", "主任", "S"),
    ("市人民检察院", "检察院", "检察长", "L"),
    ("市中级人民法院", "中院", "院长", "L"),
    ("市委党校", "党校", "常务副校长", "M"),
    ("市委老干部局", "老干部局", "局长", "S"),
    ("市红十字会", "红十字会", "常务副会长", "T"),
    ("市人民政府侨务办公室", "侨办", "主任", "T"),
]
SIZE_RANGES = {"L": (165, 250), "M": (70, 140), "S": (20, 65), "T": (6, 12)}
# Beyond the base list (scale > 1.5): the same departments of the districts and counties.
DISTRICTS = ["东城区", "西城区", "南湖区", "北山区", "江北区", "河西区", "高新区", "经开区",
             "临江县", "青山县", "永安县", "平川县"]  # fmt: skip
SPECIFIC_OFFICES = {
    "财政局": ["预算处", "国库处", "税政处", "经济建设处", "社会保障处", "政府采购管理处", "会计处"],
    "教育局": ["基础教育处", "职业教育与成人教育处", "学生资助管理处", "教师工作处", "督导室"],
    "公安局": ["指挥中心", "警务督察处", "法制处", "政治处", "警务保障处", "治安管理处", "刑事侦查处"],
    "发改委": ["发展规划处", "固定资产投资处", "价格管理处", "产业发展处", "社会发展处", "能源处"],
    "人社局": ["就业促进处", "养老保险处", "劳动关系处", "专业技术人员管理处", "职业能力建设处"],
    "卫健委": ["医政医管处", "疾病预防控制处", "基层卫生健康处", "妇幼健康处", "老龄健康处"],
    "市场监管局": ["登记注册处", "价格监督检查处", "食品安全协调处", "特种设备安全监察处", "知识产权处"],
    "住建局": ["建筑市场监管处", "城市建设处", "房地产市场监管处", "住房保障处"],
    "交通运输局": ["综合运输处", "公路管理处", "运输服务处", "安全监督处"],
    "审计局": ["财政审计处", "经济责任审计处", "社会保障审计处", "固定资产投资审计处"],
    "组织部": ["组织处", "干部一处", "干部二处", "干部监督处", "公务员管理处"],
    "宣传部": ["理论处", "宣传处", "文艺处", "新闻处"],
    "自然资源局": ["国土空间规划处", "耕地保护处", "不动产登记处", "矿产资源管理处"],
    "生态环境局": ["大气环境处", "水生态环境处", "土壤生态环境处", "环境影响评价处"],
    "民政局": ["社会救助处", "养老服务处", "社会组织管理处", "区划地名处"],
    "检察院": ["第一检察部", "第二检察部", "第三检察部", "控告申诉检察部", "检务督察部"],
    "中院": ["立案庭", "刑事审判庭", "民事审判庭", "行政审判庭", "执行局"],
}
GENERIC_OFFICES = [
    "财务处", "政策法规处", "综合处", "规划发展处", "行政审批处", "监督检查处", "科技信息处",
    "宣传教育处", "对外合作处", "统计分析处", "安全监管处", "督查室", "信访办公室", "项目管理处",
    "执法监督处", "离退休干部处", "服务指导处", "标准化处", "机关党委办公室", "改革发展处",
]  # fmt: skip
# The city: its districts' region codes (GB/T 2260) for the 身份证号, and the 籍贯 around it.
REGION_CODES = ["430102", "430103", "430104", "430105", "430111", "430112", "430121", "430181", "430182"]
HOME_PLACES = ["湖南长沙", "湖南株洲", "湖南湘潭", "湖南衡阳", "湖南邵阳", "湖南岳阳", "湖南常德", "湖南益阳",
               "湖南郴州", "湖南永州", "湖南怀化", "湖南娄底", "湖南张家界", "湖南湘西"]  # fmt: skip
OTHER_PLACES = ["湖北武汉", "湖北荆州", "江西南昌", "江西萍乡", "广东广州", "广东韶关", "河南信阳", "河南南阳",
                "四川成都", "山东济南", "江苏南京", "浙江杭州", "广西桂林", "贵州遵义", "安徽合肥", "河北保定",
                "重庆", "陕西西安", "福建福州", "山西太原"]  # fmt: skip
# Surnames with their approximate share (per mille) of the population.
SURNAMES = (
    "王71 李70 张68 刘54 陈45 杨31 黄22 赵20 吴18 周17 徐13 孙13 马12 朱11 胡10 郭10 何9 高9 林9 罗9 "
    "郑8 梁8 谢6 宋6 唐6 许5 韩5 冯5 邓5 曹5 彭5 曾5 肖5 田4 董4 袁4 潘4 于4 蒋4 蔡4 余4 杜4 叶4 程4 "
    "苏3 魏3 吕3 丁3 任3 沈3 姚3 卢3 姜3 崔3 钟3 谭3 陆3 汪3 范3 金3 石3 廖3 贾3 夏3 韦2 付2 方2 白2 "
    "邹2 孟2 熊2 秦2 邱2 江2 尹2 薛2 闫2 段2 雷2 侯2 龙2 史2 陶2 黎2 贺2 顾2 毛2 郝2 龚2 邵2 万2 钱2 "
    "严2 覃1 武1 戴1 莫1 孔1 向1 汤1 欧阳1 司马1"
)
SURNAME_LIST = [s.rstrip("0123456789") for s in SURNAMES.split()]
SURNAME_WEIGHTS = [int(s[len(name) :]) for s, name in zip(SURNAMES.split(), SURNAME_LIST, strict=True)]
MALE_CHARS = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁浩凯健俊帆帅旭宇晨毅峰建国志文海东林龙亮成兵振坤博昊然晓子轩泽睿航远新卫立永德忠洪春庆安家天瑞彬"
FEMALE_CHARS = (
    "芳娜敏静丽艳娟霞燕秀玲桂英梅琳雪婷倩颖慧莉萍红玉兰晶洁琴云佳欣怡悦璐瑶涵雯萱蕾露丹妍薇晓诗梦思月彤宁婧"
)
ETHNICITIES = ["汉族"] * 940 + ["土家族"] * 18 + ["苗族"] * 12 + ["回族"] * 8 + ["侗族"] * 6 + ["瑶族"] * 5 + \
    ["满族"] * 4 + ["壮族"] * 3 + ["蒙古族"] * 2 + ["白族"] * 1 + ["朝鲜族"] * 1  # fmt: skip
DEMOCRATIC_PARTIES = [PS.CDL, PS.CAPD, PS.JIUSAN, PS.CNDCA, PS.CPWDP, PS.CZGP, PS.RCCK, PS.TDSGL]
DEMOCRATIC_WEIGHTS = [25, 20, 18, 15, 10, 6, 5, 1]
PHONE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
                  "155", "156", "157", "158", "159", "177", "180", "181", "182", "183", "185", "186", "187",
                  "188", "189", "199"]  # fmt: skip
CATEGORIES = ["公务员", "参照公务员法管理人员", "事业人员", "工勤人员"]
CATEGORY_WEIGHTS = [80, 8, 8, 4]
_DIGITS = "零一二三四五六七八九"


def _cn(n: int) -> str:
    """1–99 in Chinese numerals (第一、第十二 …)."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


def _add_years(day: date, years: int) -> date:
    """The same day ``years`` later (28 February for 29 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _between(rng: random.Random, lo: date, hi: date) -> date:
    """A day from ``lo`` to ``hi`` inclusive (``lo`` when the range is empty)."""
    return lo + timedelta(days=rng.randint(0, max(0, (hi - lo).days)))


# --- the plan ----------------------------------------------------------------------------


@dataclass
class UnitPlan:
    """A unit to create; ``tiny`` units share a joint branch."""

    name: str
    short_name: str
    code: str
    category: str
    order: int
    head_title: str
    size: int
    tiny: bool


@dataclass
class OfficePlan:
    """An office of ``units[unit]``."""

    unit: int
    name: str
    order: int


@dataclass
class OrgPlan:
    """An org; ``parent`` and ``units`` are indexes into the plan (parents come first)."""

    code: str
    name: str
    kind: str
    parent: int | None
    units: tuple[int, ...]
    relation: str = Org.Relation.SAME_UNIT
    founded_on: date | None = None
    dissolved_on: date | None = None
    term_starts_on: date | None = None
    term_ends_on: date | None = None
    order: int = 0


@dataclass
class PersonPlan:
    """A person; ``unit``/``office``/``org`` are plan indexes."""

    name: str
    gender: str
    ethnicity: str
    native_place: str
    birth_date: date
    id_number: str
    phone: str
    education: str
    work_started_on: date
    joined_on: date | None
    confirmed_on: date | None
    political_status: str
    unit: int
    office: int
    org: int | None
    position: str
    category: str
    is_leader: bool


@dataclass
class RolePlan:
    """An org post held by ``people[person]`` in ``orgs[org]``."""

    org: int
    person: int
    title: str
    starts_on: date
    ends_on: date | None


@dataclass
class CityPlan:
    """Everything ``build_city`` writes; equal plans write equal cities."""

    today: date
    scale: float
    units: list[UnitPlan] = field(default_factory=list)
    offices: list[OfficePlan] = field(default_factory=list)
    orgs: list[OrgPlan] = field(default_factory=list)
    people: list[PersonPlan] = field(default_factory=list)
    roles: list[RolePlan] = field(default_factory=list)
    accounts: dict[str, int] = field(default_factory=dict)  # demo username → person index


_PARTY = (PS.CPC_MEMBER, PS.CPC_PROBATIONARY)


def plan_city(rng: random.Random, scale: float, *, today: date | None = None) -> CityPlan:
    """The whole demo city drawn from ``rng`` (pure: no database, same rng state → same plan)."""
    if today is None:
        from django.utils import timezone

        today = timezone.localdate()
    return _Planner(rng, scale, today).run()


class _Planner:
    """Builds a ``CityPlan`` step by step; the indexes it keeps are plan indexes."""

    def __init__(self, rng: random.Random, scale: float, today: date) -> None:
        """Start an empty plan; ``used_*`` keep 身份证号 and phone numbers unique."""
        self.rng = rng
        self.today = today
        self.plan = CityPlan(today=today, scale=scale)
        self.used_ids: set[str] = set()
        self.used_phones: set[str] = set()
        self.unit_people: list[list[int]] = []
        self.unit_head: list[int] = []
        self.rank: list[str] = []  # per person: leader / head (of an office) / deputy / staff
        self.unit_root: dict[int, int] = {}  # unit → its root org (branch, general branch or committee)
        self.unit_lg: dict[int, int] = {}
        self.branches_of: dict[int, list[int]] = {}  # unit root org → its branches
        self.members: dict[int, list[int]] = {}  # org → party members (its own, or its units' for roots)
        self.children: dict[int | None, int] = {}  # parent → number of children so far (for `order`)
        self.holders: dict[int, list[int]] = {}  # org → the people holding its current posts

    def run(self) -> CityPlan:
        """Units, then people per unit, then the tree and its posts, then the demo accounts."""
        self._units()
        for u in range(len(self.plan.units)):
            self._unit_people(u)
        self._tree()
        self._accounts()
        return self.plan

    # --- units and offices ---

    def _units(self) -> None:
        """Pick the units for the scale and their sizes (about 75 people a unit on average)."""
        rng, scale = self.rng, self.plan.scale
        n = max(4, round(40 * scale))
        specs, seen = [], set()
        for i in range(n):
            if i < len(BASE_UNITS):
                name, short, head, cls = BASE_UNITS[i]
            else:
                k = i - len(BASE_UNITS)
                base_name, base_short, head, cls = BASE_UNITS[k % len(BASE_UNITS)]
                district = DISTRICTS[(k // len(BASE_UNITS)) % len(DISTRICTS)]
                name = district + base_name.removeprefix("市").replace("中级", "")
                short = district[:2] + base_short
                lap = k // (len(BASE_UNITS) * len(DISTRICTS))
                if lap:
                    name, short = f"{name}（{lap + 1}）", f"{short}{lap + 1}"
            if name in seen:
                raise RuntimeError(f"演示单位名称重复：{name}。")
            seen.add(name)
            specs.append((name, short, head, cls))
        sizes = [rng.randint(*SIZE_RANGES[cls]) for *_, cls in specs]
        tiny = [cls == "T" for *_, cls in specs]
        if sum(tiny) == 1:  # a joint branch needs two units: a lone tiny unit becomes a small one
            j = tiny.index(True)
            tiny[j], sizes[j] = False, rng.randint(20, 30)
        # Stretch the small and medium units so the city averages 75 people a unit.
        fixed = sum(s for s, (*_, c), t in zip(sizes, specs, tiny, strict=True) if t or c == "L")
        flex = sum(sizes) - fixed
        factor = min(2.0, max(0.5, (75 * n - fixed) / flex)) if flex else 1.0
        for i, (*_, cls) in enumerate(specs):
            if not tiny[i] and cls != "L":
                sizes[i] = min(160, max(20, round(sizes[i] * factor)))
        for i, (name, short, head, _cls) in enumerate(specs):
            category = "党政机关"
            if any(w in name for w in ("工会", "联合会", "科学技术协会", "红十字会")):
                category = "群团机关"
            elif any(w in name for w in ("馆", "中心", "党校")):
                category = "事业单位"
            self.plan.units.append(
                UnitPlan(
                    name=name,
                    short_name=short,
                    code=f"U{i + 1:04d}",
                    category=category,
                    order=i + 1,
                    head_title=head,
                    size=sizes[i],
                    tiny=tiny[i],
                )
            )

    def _office_names(self, unit: UnitPlan, n: int) -> list[str]:
        """``n`` office names: 办公室 and 人事处 first, then the unit's own, then common ones."""
        base_short = (
            unit.short_name if unit.order <= len(BASE_UNITS) else unit.short_name[2:].rstrip("0123456789")
        )
        specific = list(SPECIFIC_OFFICES.get(base_short, []))
        self.rng.shuffle(specific)
        generic = list(GENERIC_OFFICES)
        self.rng.shuffle(generic)
        names = ["办公室", "人事处"] + [x for x in specific + generic if x not in ("办公室", "人事处")]
        names = names[:n]
        if unit.order > len(BASE_UNITS):  # district and county departments have 科, not 处
            names = [x[:-1] + "科" if x.endswith("处") else x for x in names]
        return names

    # --- people ---

    def _unit_people(self, u: int) -> None:
        """A unit's offices, its leadership team and its staff office by office."""
        rng, unit = self.rng, self.plan.units[u]
        n_off = 4 if unit.tiny else min(12, max(4, 4 + unit.size // 30 + rng.randint(-1, 1)))
        offices = []
        for k, name in enumerate(self._office_names(unit, n_off)):
            offices.append(len(self.plan.offices))
            self.plan.offices.append(OfficePlan(unit=u, name=name, order=k + 1))
        self.unit_people.append([])

        if unit.tiny:
            n_lead = 2
        elif unit.size >= 60:
            n_lead = rng.randint(5, 7)
        elif unit.size >= 30:
            n_lead = rng.randint(4, 5)
        else:
            n_lead = rng.randint(3, 4)
        head = unit.head_title
        deputy = head if head.startswith("常务副") else "副" + head
        deputy = deputy.replace("常务副", "副")
        for k in range(n_lead):
            status = PS.CPC_MEMBER
            if k == 0:
                position, ages = head, (45, 58)
            elif k == n_lead - 1 and n_lead >= 5:
                position, ages = "派驻纪检监察组组长", (42, 57)
            elif unit.tiny:  # one or two full members in all: the head, maybe the deputy
                position, ages = deputy, (40, 57)
                status = PS.CPC_MEMBER if rng.random() < 0.5 else None
            elif k == n_lead - 1 and n_lead >= 4 and rng.random() < 0.2:
                position, ages = deputy, (40, 57)
                status = rng.choices(DEMOCRATIC_PARTIES, DEMOCRATIC_WEIGHTS)[0]
            else:
                position, ages = deputy, (40, 57)
            p = self._person(u, offices[0], ages, status, position, "leader")
            if k == 0:
                self.unit_head.append(p)

        # Everyone else spread over the offices: each office has a head, bigger ones deputies.
        rest = unit.size - n_lead
        least = 1 if unit.tiny else 2
        counts = [least] * n_off
        weights = [rng.uniform(0.6, 1.6) for _ in range(n_off)]
        for k in rng.choices(range(n_off), weights, k=max(0, rest - least * n_off)):
            counts[k] += 1
        full_rate = rng.uniform(0.58, 0.74)
        for k, office in enumerate(offices):
            office_name = self.plan.offices[office].name
            for j in range(counts[k]):
                if j == 0:
                    rank, ages = "head", (36, 56)
                elif j <= (2 if counts[k] >= 10 else 1 if counts[k] >= 4 else 0):
                    rank, ages = "deputy", (30, 52)
                else:
                    rank, ages = "staff", (22, 59)
                status = None
                if not unit.tiny:
                    x = rng.random()
                    status = (
                        PS.CPC_MEMBER
                        if x < full_rate
                        else PS.CPC_PROBATIONARY
                        if x < full_rate + 0.035
                        else None
                    )
                    if rank in ("head", "deputy") and status is None and rng.random() < 0.6:
                        status = PS.CPC_MEMBER  # most office heads are members
                self._person(u, office, ages, status, _office_title(office_name, rank), rank)

    def _person(
        self, u: int, office: int, ages: tuple[int, int], status: str | None, position: str, rank: str
    ) -> int:
        """One person with consistent dates, a valid unique 身份证号 and a unique phone; returns the index."""
        rng, today = self.rng, self.today
        male = rng.random() < (0.75 if rank == "leader" else 0.55)
        surname = rng.choices(SURNAME_LIST, SURNAME_WEIGHTS)[0]
        chars = MALE_CHARS if male else FEMALE_CHARS
        given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.72 else "")
        born = _between(
            rng, _add_years(today, -(ages[1] + 1)) + timedelta(days=1), _add_years(today, -ages[0])
        )
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        if status is None:
            status = self._non_party_status(age)

        x = rng.random()
        if age >= 25 and x < (0.3 if age < 45 else 0.1):
            education, start_age = "研究生", rng.randint(24, 26)
        elif x < 0.88 or age < 24:
            education, start_age = "大学本科", rng.randint(21, 23)
        elif x < 0.97 or age < 45:
            education, start_age = "大专", rng.randint(19, 21)
        else:
            education, start_age = "中专", 18
        work = min(
            _add_years(born, start_age) + timedelta(days=rng.randint(0, 300)), today - timedelta(days=30)
        )

        joined = confirmed = None
        if status == PS.CPC_MEMBER:
            earliest = _add_years(born, 18) + timedelta(days=30)
            latest = today - timedelta(days=400)
            mode = min(max(age - 1.2, 18.2), 24 + rng.random() * 4)
            # Leaders and office heads joined young (BR-SEC-1 wants a year of 党龄 of any secretary).
            oldest = min(age - 1.15, 32 if rank in ("leader", "head") else 45)
            years = rng.triangular(18.2, max(oldest, 18.3), min(mode, max(oldest, 18.3)))
            joined = min(max(born + timedelta(days=int(years * 365.25)), earliest), latest)
            confirmed = _add_years(joined, 1) + timedelta(days=rng.randint(0, 20))
        elif status == PS.CPC_PROBATIONARY:
            joined = today - timedelta(days=rng.randint(20, 350))

        region = rng.choice(REGION_CODES)
        while True:
            seq = rng.randrange(0, 500) * 2 + (1 if male else 2)  # the sequence's parity is the gender
            id_number = make_id_number(region, born, seq)
            if id_number not in self.used_ids:
                break
        self.used_ids.add(id_number)
        while True:
            phone = f"{rng.choice(PHONE_PREFIXES)}{rng.randrange(10**8):08d}"
            if phone not in self.used_phones:
                break
        self.used_phones.add(phone)

        category = "公务员" if rank != "staff" else rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0]
        if rank == "staff":
            position = _staff_position(rng, age, category)
        elif (
            rank == "leader"
            and status == PS.CPC_MEMBER
            and position != "派驻纪检监察组组长"
            and not self.plan.units[u].tiny
        ):
            position = ("党组书记、" if not self.unit_people[u] else "党组成员、") + position
        index = len(self.plan.people)
        self.plan.people.append(PersonPlan(
            name=surname + given, gender="male" if male else "female", ethnicity=rng.choice(ETHNICITIES),
            native_place=rng.choice(HOME_PLACES) if rng.random() < 0.75 else rng.choice(OTHER_PLACES),
            birth_date=born, id_number=id_number, phone=phone, education=education, work_started_on=work,
            joined_on=joined, confirmed_on=confirmed, political_status=status, unit=u, office=office, org=None,
            position=position, category=category, is_leader=rank == "leader",
        ))  # fmt: skip
        self.rank.append(rank)
        self.unit_people[u].append(index)
        return index

    def _non_party_status(self, age: int) -> str:
        """共青团员 (under 28), a democratic party, 无党派人士 or 群众."""
        rng = self.rng
        if age < 28 and rng.random() < 0.6:
            return PS.CYL_MEMBER
        x = rng.random()
        if x < 0.12:
            return rng.choices(DEMOCRATIC_PARTIES, DEMOCRATIC_WEIGHTS)[0]
        return PS.NON_PARTY if x < 0.17 else PS.MASSES

    # --- the tree ---

    def _org(self, **fields) -> int:
        """Append an org, numbering it among its siblings; returns its index."""
        parent = fields.get("parent")
        self.children[parent] = self.children.get(parent, 0) + 1
        self.plan.orgs.append(OrgPlan(order=self.children[parent], **fields))
        return len(self.plan.orgs) - 1

    def _term(self, years: int, founded: date) -> tuple[date, date]:
        """A current term ending some time in the next ``years`` (staggered), starting after ``founded``."""
        end = self.today + timedelta(days=self.rng.randint(1, years * 365 - 1))
        return max(_add_years(end, -years) + timedelta(days=1), founded), end

    def _tree(self) -> None:
        """The root, each unit's root org with its branches and 党组, the joint branches, then the posts."""
        rng, plan = self.rng, self.plan
        root_founded = date(rng.randint(1993, 1995), rng.randint(1, 12), rng.randint(1, 28))
        start, end = self._term(5, root_founded)
        root = self._org(
            code="ROOT",
            name="市直机关工作委员会",
            kind=K.WORK_COMMITTEE,
            parent=None,
            units=(),
            founded_on=root_founded,
            term_starts_on=start,
            term_ends_on=end,
        )
        self.root = root
        people = plan.people
        full = [sum(people[p].political_status == PS.CPC_MEMBER for p in ps) for ps in self.unit_people]
        party = [sum(people[p].political_status in _PARTY for p in ps) for ps in self.unit_people]
        joint_units = [u for u in range(len(plan.units)) if full[u] < 3]
        split_units = [u for u in range(len(plan.units)) if full[u] >= 3 and party[u] >= 50]
        n_new = max(1, round(plan.scale))
        new_branch_units = set(rng.sample(split_units, min(n_new, len(split_units))))

        for u in range(len(plan.units)):
            if full[u] < 3:
                continue
            unit = plan.units[u]
            founded = _between(rng, date(1996, 1, 1), date(2012, 12, 31))
            members = [p for p in self.unit_people[u] if people[p].political_status in _PARTY]
            kind, years = unit_root_kind(party[u])
            if kind != K.BRANCH:
                name = f"{unit.name}机关委员会" if kind == K.COMMITTEE else f"{unit.name}机关总支部委员会"
                start, end = self._term(years, founded)
                top = self._org(
                    code=unit.code,
                    name=name,
                    kind=kind,
                    parent=root,
                    units=(u,),
                    founded_on=founded,
                    term_starts_on=start,
                    term_ends_on=end,
                )
                self.members[top] = members
                self.branches_of[top] = []
                # Branches follow the offices (members sorted by office), at most about 42 each.
                k = max(3 if kind == K.COMMITTEE else 2, math.ceil(len(members) / rng.randint(24, 38)))
                ordered = sorted(members, key=lambda p: (people[p].office, p))
                for b in range(k):
                    chunk = ordered[b * len(ordered) // k : (b + 1) * len(ordered) // k]
                    recent = u in new_branch_units and b == k - 1
                    self._branch(u, top, b + 1, chunk, recent=recent)
            else:
                top = self._branch(u, root, 0, members)
                self.members[top] = members
            self.unit_root[u] = top
            lg_founded = _between(rng, date(1996, 1, 1), date(2015, 12, 31))
            self.unit_lg[u] = self._org(
                code=f"{unit.code}-DZ",
                name=f"{unit.name}党组",
                kind=K.LEADING_GROUP,
                parent=root,
                units=(u,),
                founded_on=lg_founded,
            )

        # Units with fewer than 3 full members share joint branches of 2–5 units (BR-ORG-1).
        n_groups = math.ceil(len(joint_units) / 4)
        for g in range(n_groups):
            group = joint_units[g * len(joint_units) // n_groups : (g + 1) * len(joint_units) // n_groups]
            members = [p for u in group for p in self.unit_people[u] if people[p].political_status in _PARTY]
            n_full = sum(people[p].political_status == PS.CPC_MEMBER for p in members)
            founded = _between(rng, date(2005, 1, 1), date(2018, 12, 31))
            start, end = self._term(3, founded)
            suffix = "支部委员会" if n_full >= 7 else "党支部"
            org = self._org(
                code=f"LH{g + 1:03d}",
                name=f"市直机关第{_cn(g + 1)}联合{suffix}",
                kind=K.BRANCH,
                parent=root,
                units=tuple(group),
                relation=Org.Relation.JOINT,
                founded_on=founded,
                term_starts_on=start,
                term_ends_on=end,
            )
            for p in members:
                people[p].org = org
            self.members[org] = members
            self._branch_posts(org, members)
            for u in group:
                self.unit_root[u] = org

        self._dissolved()
        for u, top in self.unit_root.items():
            if top in self.branches_of:
                self._top_posts(u, top)
        for u, lg in self.unit_lg.items():
            self._leading_group_posts(u, lg)

    def _branch(self, u: int, parent: int, number: int, members: list[int], *, recent: bool = False) -> int:
        """A branch of unit ``u`` (numbered under a committee, or the unit's only one) with its posts and groups."""
        rng, people, unit = self.rng, self.plan.people, self.plan.units[u]
        n_full = sum(people[p].political_status == PS.CPC_MEMBER for p in members)
        suffix = "支部委员会" if n_full >= 7 else "党支部"
        parent_founded = self.plan.orgs[parent].founded_on
        if recent:  # founded in the middle of a quarter, recently (a compliance exemption case)
            founded = _mid_quarter(self.today)
            start, end = founded, _add_years(founded, 3) - timedelta(days=1)
        else:
            founded = _between(rng, parent_founded, date(2018, 12, 31))
            start, end = self._term(3, founded)
            founded = min(founded, start)
        org = self._org(
            code=f"{unit.code}-{number:02d}" if number else unit.code,
            name=f"{unit.name}机关第{_cn(number)}{suffix}" if number else f"{unit.name}机关{suffix}",
            kind=K.BRANCH,
            parent=parent,
            units=(u,),
            founded_on=founded,
            term_starts_on=start,
            term_ends_on=end,
        )
        if number:
            self.branches_of[parent].append(org)
        for p in members:
            people[p].org = org
        self.members[org] = members
        self._branch_posts(org, members)
        # A few big branches have 党小组 (the members stay on the branch's roll).
        if len(members) >= 28 and rng.random() < 0.2:
            taken = self.holders.get(org, [])
            pool = [p for p in members if p not in taken and not people[p].is_leader
                    and people[p].political_status == PS.CPC_MEMBER]  # fmt: skip
            for g in range(rng.randint(2, 3)):
                group = self._org(
                    code=f"{self.plan.orgs[org].code}-{g + 1}",
                    name=f"{self.plan.orgs[org].name.removesuffix(suffix)}支部第{_cn(g + 1)}党小组",
                    kind=K.GROUP,
                    parent=org,
                    units=(u,),
                    founded_on=_between(rng, founded, self.today - timedelta(days=30)),
                )
                if pool:
                    leader = pool.pop(rng.randrange(len(pool)))
                    self.plan.roles.append(
                        RolePlan(group, leader, T.GROUP_LEADER, self.plan.orgs[group].founded_on, None)
                    )
        return org

    def _eligible(self, members: list[int], on: date) -> list[int]:
        """Full members with a year of 党龄 on ``on`` (BR-SEC-1), leaders left out."""
        people = self.plan.people
        limit = on - timedelta(days=365)
        return [p for p in members if people[p].confirmed_on and people[p].confirmed_on <= limit
                and not people[p].is_leader]  # fmt: skip

    def _assign(self, org: int, titles: list[str], pool: list[int], first: list[int]) -> None:
        """Fill ``titles`` with distinct people: the first from ``first`` when possible, the rest from ``pool``."""
        rng, o = self.rng, self.plan.orgs[org]
        chosen: list[int] = []
        for i, title in enumerate(titles):
            candidates = [p for p in (first if i == 0 and first else pool) if p not in chosen]
            if not candidates:
                candidates = [p for p in pool if p not in chosen]
            if not candidates:
                break
            p = rng.choice(candidates)
            chosen.append(p)
            self.plan.roles.append(RolePlan(org, p, title, o.term_starts_on, o.term_ends_on))
        self.holders[org] = chosen
        self._predecessor(org, chosen[0] if chosen else None, pool)

    def _predecessor(self, org: int, current: int | None, pool: list[int]) -> None:
        """The previous term's secretary (re-elected or someone else), when the org existed then."""
        o = self.plan.orgs[org]
        years = 5 if o.kind in (K.COMMITTEE, K.WORK_COMMITTEE) else 3
        prev_start = _add_years(o.term_starts_on, -years)
        if current is None or o.founded_on is None or o.founded_on > prev_start:
            return
        others = [p for p in self._eligible(pool, prev_start) if p != current]
        who = current if self.rng.random() < 0.5 or not others else self.rng.choice(others)
        self.plan.roles.append(
            RolePlan(org, who, T.SECRETARY, prev_start, o.term_starts_on - timedelta(days=1))
        )

    def _branch_posts(self, org: int, members: list[int]) -> None:
        """BR-COM-1: ≥ 7 full members → a committee (书记, 组织, 宣传, maybe 纪检); fewer → a secretary."""
        rng, people = self.rng, self.plan.people
        o = self.plan.orgs[org]
        full = [p for p in members if people[p].political_status == PS.CPC_MEMBER]
        eligible = self._eligible(members, o.term_starts_on)
        seasoned = [p for p in full if people[p].confirmed_on <= o.term_starts_on - timedelta(days=365)]
        pool = [p for p in full if not people[p].is_leader] or full
        # A joint branch of tiny units may have only leaders: then one of them is its secretary.
        first = [p for p in eligible if self.rank[p] in ("head", "deputy")] or eligible or seasoned or pool
        titles = [T.SECRETARY]
        if len(full) >= 7:
            titles += [T.ORGANIZATION, T.PUBLICITY]
            if rng.random() < 0.6:
                titles.append(T.DISCIPLINE)
            if len(members) >= 30 and rng.random() < 0.3:
                titles.insert(1, T.DEPUTY_SECRETARY)
        self._assign(org, titles, pool, first)

    def _top_posts(self, u: int, org: int) -> None:
        """A 机关党委 / 党总支: a deputy leader as 书记, a full-time deputy, 委员, and a 党务干部 (≥ 50 members)."""
        rng, people, o = self.rng, self.plan.people, self.plan.orgs[org]
        ids = self.unit_people[u]
        limit = o.term_starts_on - timedelta(days=365)
        deputies = [p for p in ids[1:] if people[p].is_leader and people[p].position.startswith("党组成员")
                    and people[p].confirmed_on and people[p].confirmed_on <= limit]  # fmt: skip
        titles = [T.SECRETARY, T.DEPUTY_SECRETARY, T.ORGANIZATION, T.PUBLICITY, T.DISCIPLINE]
        if o.kind == K.COMMITTEE:
            titles += [T.COMMITTEE_MEMBER] * rng.randint(0, 2)
        if len(self.members[org]) >= 50:
            titles.append(T.PARTY_AFFAIRS)
        self._assign(org, titles, self._eligible(self.members[org], o.term_starts_on), deputies)

    def _leading_group_posts(self, u: int, org: int) -> None:
        """The 党组: the head as 书记, the other member leaders as 党组成员 (no term: appointed)."""
        people = self.plan.people
        for p in self.unit_people[u]:
            if people[p].is_leader and people[p].position.startswith("党组"):
                title = T.SECRETARY if people[p].position.startswith("党组书记") else T.COMMITTEE_MEMBER
                since = _between(
                    self.rng, self.today - timedelta(days=6 * 365), self.today - timedelta(days=60)
                )
                self.plan.roles.append(RolePlan(org, p, title, since, None))

    def _dissolved(self) -> None:
        """A couple of branches merged away in the last two years (no members left; the old secretary's post ended)."""
        rng, plan, today = self.rng, self.plan, self.today
        tops = [top for top in self.branches_of if plan.orgs[top].kind != K.BRANCH]
        for _ in range(max(2, round(2 * plan.scale)) if tops else 0):
            top = rng.choice(tops)
            o = plan.orgs[top]
            u = o.units[0]
            number = len(self.branches_of[top]) + 1
            gone = today - timedelta(days=rng.randint(30, 700))
            start = gone - timedelta(days=rng.randint(200, 900))
            founded = _between(rng, o.founded_on, start)
            org = self._org(
                code=f"{plan.units[u].code}-{number:02d}",
                name=f"{plan.units[u].name}机关第{_cn(number)}支部委员会",
                kind=K.BRANCH,
                parent=top,
                units=(u,),
                founded_on=founded,
                dissolved_on=gone,
                term_starts_on=start,
                term_ends_on=_add_years(start, 3) - timedelta(days=1),
            )
            self.branches_of[top].append(org)
            pool = self._eligible(self.members[top], start)
            if pool:
                plan.roles.append(RolePlan(org, rng.choice(pool), T.SECRETARY, start, gone))

    # --- the demo accounts ---

    def _accounts(self) -> None:
        """Pick the people behind shuji_a, dangwu_a, dangyuan, lingdao (one unit) and shuji_b (another)."""
        rng, plan = self.rng, self.plan
        posts: dict[int, set[int]] = {}
        holders: dict[tuple[int, str], int] = {}
        for r in plan.roles:
            posts.setdefault(r.person, set()).add(r.org)
            if r.ends_on is None or r.ends_on >= self.today:
                holders[(r.org, r.title)] = r.person

        def only_in(p, org):
            """Whether every post ``p`` ever held is in ``org``."""
            return posts.get(p, set()) <= {org}

        def branch_ok(b):
            """A live branch with a committee whose secretary holds no post elsewhere."""
            full = [p for p in self.members.get(b, []) if plan.people[p].political_status == PS.CPC_MEMBER]
            sec = holders.get((b, T.SECRETARY))
            return (
                len(full) >= 7 and sec is not None and only_in(sec, b) and plan.orgs[b].dissolved_on is None
            )

        units = list(self.unit_root)
        rng.shuffle(units)
        for u in units:
            top = self.unit_root[u]
            head = self.unit_head[u]
            if top not in self.branches_of or u not in self.unit_lg or not only_in(head, self.unit_lg[u]):
                continue
            for b in self.branches_of[top]:
                admin = holders.get((b, T.ORGANIZATION))
                plain = [p for p in self.members.get(b, []) if p not in posts and not plan.people[p].is_leader
                         and plan.people[p].political_status == PS.CPC_MEMBER]  # fmt: skip
                if plan.people[head].org != b and branch_ok(b) and admin and only_in(admin, b) and plain:
                    plan.accounts.update(
                        shuji_a=holders[(b, T.SECRETARY)],
                        dangwu_a=admin,
                        dangyuan=rng.choice(plain),
                        lingdao=head,
                    )
                    break
            if plan.accounts:
                break
        if not plan.accounts:
            raise RuntimeError("演示城市中没有合适的支部安排演示账号，请增大 --scale。")
        unit_a = plan.people[plan.accounts["shuji_a"]].unit
        others = [o for o, org in enumerate(plan.orgs) if org.kind == K.BRANCH and unit_a not in org.units
                  and branch_ok(o)]  # fmt: skip
        if not others:
            raise RuntimeError("演示城市中没有第二个单位的支部可安排 shuji_b，请增大 --scale。")
        # Prefer a branch already due for 换届; else one whose secretary keeps a year of 党龄 when its term moves.
        soon = [b for b in others if plan.orgs[b].term_ends_on <= self.today + timedelta(days=180)]
        limit = _add_years(self.today, -4) + timedelta(days=30)
        senior = [b for b in others if plan.people[holders[(b, T.SECRETARY)]].confirmed_on <= limit]
        b = rng.choice(soon or senior or others)
        plan.accounts["shuji_b"] = self._term_ends_soon(b, holders[(b, T.SECRETARY)])

    def _term_ends_soon(self, org: int, secretary: int) -> int:
        """Let shuji_b's branch face its 换届 within six months, so the term reminder shows up in the demo.

        Moving the term back may leave its secretary short of a year of 党龄 at its start (BR-SEC-1);
        then a member who had one and holds no post takes the post. Returns the secretary.
        """
        plan, o = self.plan, self.plan.orgs[org]
        if o.term_ends_on <= self.today + timedelta(days=180):
            return secretary
        old_start = o.term_starts_on
        o.term_ends_on = self.today + timedelta(days=self.rng.randint(30, 170))
        o.term_starts_on = _add_years(o.term_ends_on, -3) + timedelta(days=1)
        parent_founded = plan.orgs[o.parent].founded_on
        o.founded_on = max(parent_founded, min(o.founded_on, o.term_starts_on))
        prev_start = _add_years(o.term_starts_on, -3)
        kept = []
        for r in plan.roles:
            if r.org == org and r.starts_on == old_start:
                r.starts_on, r.ends_on = o.term_starts_on, o.term_ends_on
            elif r.org == org and r.ends_on and r.ends_on < old_start:  # the predecessor
                if prev_start < o.founded_on:
                    continue
                r.starts_on, r.ends_on = prev_start, o.term_starts_on - timedelta(days=1)
            kept.append(r)
        plan.roles = kept
        people, limit = plan.people, o.term_starts_on - timedelta(days=365)
        if people[secretary].confirmed_on <= limit:
            return secretary
        holding = {r.person for r in plan.roles}
        fit = [p for p in self.members[org] if p not in holding and not people[p].is_leader
               and people[p].confirmed_on and people[p].confirmed_on <= limit]  # fmt: skip
        if not fit:
            return secretary
        successor = self.rng.choice(fit)
        for r in plan.roles:
            if (
                r.org == org
                and r.person == secretary
                and r.title == T.SECRETARY
                and r.starts_on == o.term_starts_on
            ):
                r.person = successor
        return successor


def unit_root_kind(party_members: int) -> tuple[str, int]:
    """A unit's root org and its term in years by its party members (JG-ORG-1/2/3, BR-TERM-1)."""
    if party_members >= 100:
        return K.COMMITTEE, 5
    if party_members >= 50:
        return K.GENERAL_BRANCH, 3
    return K.BRANCH, 3


def _office_title(office: str, rank: str) -> str:
    """处长 / 副处长, 主任 / 副主任, 科长 … from the office's name."""
    if rank not in ("head", "deputy"):
        return ""
    if office.endswith(("处", "局")):
        title = "处长" if office.endswith("处") else "局长"
    elif office.endswith("科"):
        title = "科长"
    elif office.endswith(("庭", "部")):
        title = "庭长" if office.endswith("庭") else "主任"
    else:
        title = "主任"
    return title if rank == "head" else "副" + title


def _staff_position(rng: random.Random, age: int, category: str) -> str:
    """A rank (职级) that fits the age."""
    if category == "工勤人员":
        return "工勤技能岗位"
    if category == "事业人员":
        return rng.choice(["专业技术岗位", "管理岗位"])
    if age < 26:
        return rng.choice(["一级科员", "二级科员"])
    if age < 32:
        return rng.choice(["四级主任科员", "一级科员"])
    if age < 40:
        return rng.choice(["三级主任科员", "二级主任科员"])
    if age < 50:
        return rng.choice(["一级主任科员", "二级主任科员", "四级调研员"])
    return rng.choice(["四级调研员", "三级调研员", "一级主任科员"])


def _mid_quarter(today: date) -> date:
    """The 15th of the middle month of this quarter, or of the last one when that is not yet past."""
    start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    day = start.replace(month=start.month + 1, day=15)
    if day > today - timedelta(days=7):
        prev = date(start.year - 1, 10, 1) if start.month == 1 else start.replace(month=start.month - 3)
        day = prev.replace(month=prev.month + 1, day=15)
    return day


# --- writing the plan --------------------------------------------------------------------


def build_city(plan: CityPlan, *, log=print) -> dict:
    """Write the plan with bulk inserts and create the demo accounts; returns what goes in ``ctx.shared``."""
    from django.db import transaction

    with transaction.atomic():
        return _build(plan, log)


def _build(plan: CityPlan, log) -> dict:
    """The inserts, in dependency order, inside build_city's transaction."""
    from sizheng.org.models import Office, Person, Unit

    units = [Unit(name=u.name, short_name=u.short_name, code=u.code, category=u.category, order=u.order)
             for u in plan.units]  # fmt: skip
    Unit.objects.bulk_create(units, batch_size=BATCH)
    offices = [Office(unit=units[o.unit], name=o.name, order=o.order) for o in plan.offices]
    Office.objects.bulk_create(offices, batch_size=BATCH)

    orgs = _build_orgs(plan, units)

    people = []
    for p in plan.people:
        person = Person(
            name=p.name, gender=p.gender, ethnicity=p.ethnicity, native_place=p.native_place,
            birth_date=p.birth_date, id_number=p.id_number, phone=p.phone, education=p.education,
            work_started_on=p.work_started_on, joined_on=p.joined_on, confirmed_on=p.confirmed_on,
            political_status=p.political_status, unit=units[p.unit], office=offices[p.office],
            org=orgs[p.org] if p.org is not None else None, position=p.position, category=p.category,
            is_leader=p.is_leader,
        )  # fmt: skip
        person.refresh_id_index()
        people.append(person)
    Person.objects.bulk_create(people, batch_size=BATCH)
    OrgRole.objects.bulk_create(
        [OrgRole(org=orgs[r.org], person=people[r.person], title=r.title, starts_on=r.starts_on, ends_on=r.ends_on)
         for r in plan.roles],
        batch_size=BATCH,
    )  # fmt: skip
    log(f"  单位 {len(units)} 个，处室 {len(offices)} 个，党组织 {len(orgs)} 个，人员 {len(people)} 人，"
        f"组织职务 {len(plan.roles)} 项。")  # fmt: skip
    accounts, demo_people = _build_accounts(plan, units, orgs, people)
    return {
        "unit_ids": [u.pk for u in units],
        "office_ids": [o.pk for o in offices],
        "org_ids": [o.pk for o in orgs],
        "person_ids": [p.pk for p in people],
        "root_org_id": orgs[0].pk,
        "accounts": accounts,
        "demo_person_ids": demo_people,
    }


def _build_orgs(plan: CityPlan, units: list) -> list[Org]:
    """The tree level by level: each level's parents already have their pks and paths."""
    depths: list[int] = []
    for o in plan.orgs:
        depths.append(0 if o.parent is None else depths[o.parent] + 1)
    orgs: list[Org] = [None] * len(plan.orgs)  # type: ignore[list-item]
    for level in range(max(depths) + 1):
        batch = [i for i, d in enumerate(depths) if d == level]
        objs = [Org(code=plan.orgs[i].code, name=plan.orgs[i].name, kind=plan.orgs[i].kind,
                    parent=orgs[plan.orgs[i].parent] if plan.orgs[i].parent is not None else None, path="",
                    depth=level, relation=plan.orgs[i].relation, founded_on=plan.orgs[i].founded_on,
                    dissolved_on=plan.orgs[i].dissolved_on, term_starts_on=plan.orgs[i].term_starts_on,
                    term_ends_on=plan.orgs[i].term_ends_on, order=plan.orgs[i].order) for i in batch]  # fmt: skip
        Org.objects.bulk_create(objs, batch_size=BATCH)
        for i, obj in zip(batch, objs, strict=True):
            # The same materialised path as services._path_for.
            obj.path = f"{obj.parent.path if obj.parent else ''}{obj.pk:06d}."
            orgs[i] = obj
        Org.objects.bulk_update(objs, ["path"], batch_size=BATCH)
    through = Org.units.through
    through.objects.bulk_create(
        [through(org_id=orgs[i].pk, unit_id=units[u].pk) for i, o in enumerate(plan.orgs) for u in o.units],
        batch_size=BATCH,
    )
    return orgs


def _build_accounts(plan: CityPlan, units, orgs, people) -> tuple[dict[str, int], dict[str, int]]:
    """The demo accounts: roster ones linked to their Person (grants derived), the rest granted by hand."""
    from sizheng.core import services as core_services
    from sizheng.core.models import Role, RoleGrant
    from sizheng.org import services
    from sizheng.org.models import Person

    S = RoleGrant.ScopeKind
    accounts, demo_people = {}, {}
    for username, index in plan.accounts.items():
        person = people[index]
        user = ensure_demo_user(username, display_name=person.name)
        Person.objects.filter(pk=person.pk).update(user=user)
        person.user = user
        services.person_sync_grants(person=person)
        accounts[username], demo_people[username] = user.pk, person.pk
    lingdao = people[plan.accounts["lingdao"]]
    root = orgs[0]
    manual = [
        ("gongwei", "市直机关工委组织部", Role.COMMITTEE_ADMIN, S.ALL, None, False),
        ("lingdao", None, Role.LEADER, S.UNIT, lingdao.unit_id, False),
        # "all" until the assessment and weighting apps exist; they narrow these to rounds / sessions.
        ("kaohe", "考核组", Role.ASSESSOR, S.ALL, None, False),
        ("zhuanjia", "评估专家", Role.EXPERT, S.ALL, None, False),
        ("xinli", "心理咨询员", Role.COUNSELOR, S.ORG, root.pk, False),
        ("xinli2", "备岗心理咨询员", Role.COUNSELOR, S.ORG, root.pk, True),
        ("gonghui", "市总工会", Role.UNION, S.ORG, root.pk, False),
    ]
    for username, display, role, kind, scope_id, backup in manual:
        user = lingdao.user if username == "lingdao" else ensure_demo_user(username, display_name=display)
        core_services.role_grant(
            user=user, role=role, actor=None, scope_kind=kind, scope_id=scope_id, is_backup=backup
        )
        accounts[username] = user.pk
    return accounts, demo_people


def _shared_from_db() -> dict:
    """What ``ctx.shared`` holds when the city already exists."""
    from sizheng.core.demo import DEMO_ACCOUNTS
    from sizheng.core.models import User
    from sizheng.org.models import Office, Person, Unit

    root = Org.objects.filter(parent__isnull=True).values_list("pk", flat=True).first()
    return {
        "unit_ids": list(Unit.objects.order_by("pk").values_list("pk", flat=True)),
        "office_ids": list(Office.objects.order_by("pk").values_list("pk", flat=True)),
        "org_ids": list(Org.objects.order_by("pk").values_list("pk", flat=True)),
        "person_ids": list(Person.objects.order_by("pk").values_list("pk", flat=True)),
        "root_org_id": root,
        "accounts": dict(User.objects.filter(username__in=DEMO_ACCOUNTS).values_list("username", "pk")),
        "demo_person_ids": dict(
            Person.objects.filter(user__username__in=DEMO_ACCOUNTS).values_list("user__username", "pk")
        ),
    }


@generator("org.city", order=100, label="演示城市：单位、组织与人员")
def demo_city(ctx) -> None:
    """Plan the city from the generator's seeded stream and write it (skipped when units exist)."""
    from sizheng.org.models import Unit

    if Unit.objects.exists():
        ctx.log("  已有单位数据，跳过演示城市。")
        ctx.shared.update(_shared_from_db())
        return
    plan = plan_city(ctx.rng, ctx.scale)
    ctx.shared.update(build_city(plan, log=ctx.log))
