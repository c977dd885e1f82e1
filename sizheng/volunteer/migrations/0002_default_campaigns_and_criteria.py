"""Load the 市直机关十大志愿行动 and the default civility checklists as data the committee admin may edit."""

from django.db import migrations

# A copy taken when this migration was written, so later edits do not change what it did.
CAMPAIGNS = [
    ("理论宣讲志愿行动", "组织机关党员干部深入社区、企业、学校宣讲党的创新理论和政策法规。"),
    ("文明交通志愿行动", "在重点路口、公交站点开展文明劝导，倡导礼让斑马线、文明出行。"),
    ("社区报到志愿行动", "机关党组织和在职党员到社区报到，认领服务项目，参与基层治理。"),
    ("生态环保志愿行动", "开展植树护绿、河湖巡护、垃圾分类宣传和环境整治。"),
    ("关爱“一老一小”志愿行动", "走访慰问孤寡老人、困境儿童和留守儿童，开展陪伴、助学、助老服务。"),
    ("助残帮困志愿行动", "结对帮扶残疾人和困难群众，提供生活照料、就业帮扶和心理慰藉。"),
    ("文明餐桌“光盘”志愿行动", "倡导厉行节约、反对浪费，推广公筷公勺和分餐制。"),
    ("无偿献血志愿行动", "组织机关干部参加无偿献血和造血干细胞捐献宣传。"),
    ("政务服务志愿行动", "在政务服务中心、窗口单位开展导办帮办和政策咨询。"),
    ("应急救援志愿行动", "参与防汛抗旱、疫情防控、应急演练和安全知识普及。"),
]  # fmt: skip

CRITERIA = {
    "unit": [
        ("思想政治建设", "深入学习贯彻习近平新时代中国特色社会主义思想，理论学习中心组学习和“三会一课”制度落实。",),
        ("领导班子建设", "领导班子团结坚强，民主集中制执行好，带头开展精神文明创建。"),
        ("社会主义核心价值观建设", "培育和践行社会主义核心价值观，开展道德讲堂、先进典型学习宣传。"),
        ("党风廉政建设", "落实全面从严治党主体责任，严守中央八项规定精神，近三年无重大违纪违法问题。"),
        ("志愿服务", "建立志愿服务队伍，常态化开展志愿服务活动，干部职工积极参与（按组织确认的参与情况填写，不以积分排名）。"),
        ("诚信建设和依法行政", "依法履职、政务公开，服务群众满意度高，无重大失信行为。"),
        ("文明环境", "办公环境整洁有序，落实节约型机关建设要求，开展垃圾分类。"),
        ("文化建设和人文关怀", "开展健康向上的文化体育活动，关心关爱干部职工，落实谈心谈话和困难帮扶。"),
        ("业务工作实绩", "年度重点工作完成情况良好，考核结果优良。"),
    ],
    "office": [
        ("政治学习", "处室党员干部按计划参加理论学习和组织生活，学习记录完整。"),
        ("团结协作", "处室内部团结和谐，与其他处室协作配合好。"),
        ("作风纪律", "严守工作纪律和廉洁纪律，服务态度好，无有效投诉。"),
        ("业务工作", "处室年度工作任务完成情况良好。"),
        ("文明办公", "办公环境整洁，文明礼仪规范，厉行节约。"),
        ("志愿服务", "处室人员参加单位组织的志愿服务活动。"),
    ],
    "family": [
        ("爱国守法", "家庭成员热爱祖国，遵纪守法，无违法犯罪记录。"),
        ("家风家教", "注重家庭、家教、家风，家庭成员崇德向善、廉洁自律。"),
        ("孝老爱亲", "尊老爱幼，夫妻和睦，家庭关系和谐。"),
        ("邻里互助", "邻里团结，热心社区事务和公益活动。"),
        ("勤俭节约和绿色生活", "勤俭持家，践行绿色低碳生活方式，参与垃圾分类。"),
    ],
}  # fmt: skip


def load(apps, schema_editor):
    Campaign = apps.get_model("volunteer", "Campaign")
    Criterion = apps.get_model("volunteer", "Criterion")
    for i, (name, description) in enumerate(CAMPAIGNS, start=1):
        Campaign.objects.update_or_create(name=name, defaults={"description": description, "order": i})
    for kind, rows in CRITERIA.items():
        for i, (title, requirement) in enumerate(rows, start=1):
            if not Criterion.objects.filter(kind=kind, title=title).exists():
                Criterion.objects.create(kind=kind, title=title, requirement=requirement, order=i)


def unload(apps, schema_editor):
    Campaign = apps.get_model("volunteer", "Campaign")
    Criterion = apps.get_model("volunteer", "Criterion")
    Campaign.objects.filter(name__in=[c[0] for c in CAMPAIGNS], activities__isnull=True).delete()
    for kind, rows in CRITERIA.items():
        Criterion.objects.filter(kind=kind, title__in=[r[0] for r in rows], items__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("volunteer", "0001_volunteering_and_civility")]

    operations = [migrations.RunPython(load, unload)]
