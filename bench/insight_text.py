"""The text analysis of 100,000 survey comments (``insight.text.analyse_many``) against plain jieba.

Generates 100,000 realistic short comments (seeded) from phrase banks — a few themes per comment,
praise and complaints, negations (不太满意, 不是很累), now and then a risk phrase — in two "periods"
of 50,000, the second with more 形式主义 complaints and fewer about housing. Then, in the same run:

- the analysis: ``Analyzer.analyse_many(texts, workers=2)`` (forked pool, the jieba dictionary
  inherited) — wall time (median of ``RUNS`` after a warm-up), texts per second, and peak memory
  (first run):
  the summed PSS of the parent and its workers sampled every 0.5 s from ``/proc/<pid>/smaps_rollup``
  (PSS splits the pages the workers share with the parent, so the sum is the real footprint),
  plus the parent's and the largest worker's peak RSS from ``getrusage``;
- the same analysis in one process on a 20,000-text subset (checked equal to the pool's results);
- the baseline: plain ``jieba.lcut`` (the stock dictionary, HMM on — jieba's default) over the same
  100,000 texts in one process, median of ``RUNS``. Its dictionary is loaded only after the first
  analysis run, the one whose memory is sampled; after that baseline and analysis runs alternate,
  so both see the same load from whatever else the machine is doing.

The ratio is the analysis time over the plain-segmentation time: what tokens, keywords, themes,
sentiment and risk cost on top of segmentation, with the two cores helping. The CPU seconds of both
(the workers' and the parent's for the analysis) are printed too, with their ratio: on a machine
busy with other work the wall times stretch, the CPU ratio much less. No database needed.
"""

from __future__ import annotations

import gc
import random
import resource
import statistics
import threading
import time

from bench import Result, log

N_TEXTS = 100_000
RUNS = 3
SUBSET = 20_000
SEED = 2026

OPENERS = [
    "",
    "",
    "",
    "最近",
    "这段时间",
    "今年以来",
    "总的来说，",
    "说实话，",
    "个人感觉",
    "我觉得",
    "反映一下：",
    "希望组织了解：",
]
CLOSINGS = [
    "",
    "",
    "",
    "希望组织关心。",
    "建议统筹安排。",
    "谢谢组织关心。",
    "总体还算满意。",
    "希望能有改善。",
    "以上是个人想法。",
]
# theme → (complaints, praise or neutral remarks)
BANK: dict[str, tuple[list[str], list[str]]] = {
    "工作压力": (
        [
            "加班加点成了常态",
            "任务重、人手不足，身心疲惫",
            "周末经常加班，休息不好",
            "临时任务太多，忙不过来",
            "白加黑五加二，压力山大",
            "工作量越来越大，有点吃不消",
        ],
        ["工作节奏适中，不是很累", "加班比以前少了，轻松一些", "任务安排合理，没那么忙"],
    ),
    "职业发展": (
        ["职称评定名额太少", "职级晋升看不到希望", "上升通道窄，论资排辈", "培训机会少，本领恐慌"],
        ["交流轮岗给了锻炼机会", "职级晋升比较公平", "年轻干部成长机会多"],
    ),
    "薪酬待遇": (
        ["绩效工资偏低", "收入低，生活成本高", "加班没有加班费", "津贴补贴不太合理"],
        ["待遇有所改善", "绩效奖励兑现及时"],
    ),
    "住房": (
        ["房贷压力大", "住得远，通勤时间长", "周转房太少，租房负担重", "住房公积金偏低"],
        ["人才公寓解决了住房问题", "住房补贴到位，很满意"],
    ),
    "子女教育": (
        [
            "孩子上学接送困难",
            "子女入学难，希望单位协调",
            "课后服务时间短，没人带孩子",
            "孩子中考，顾不上辅导作业",
        ],
        ["课后服务解决了接送孩子的难题", "子女入学问题得到了解决"],
    ),
    "医疗健康": (
        ["颈椎腰椎都有问题", "经常失眠，身体吃不消", "体检查出高血压", "看病难，请假也难"],
        ["职工体检很周到", "疗休养安排得好，身心健康"],
    ),
    "家庭照护": (
        ["家里老人生病，顾不上照顾", "父母年迈需要照护", "夫妻两地分居，家庭负担重", "陪伴家人的时间太少"],
        ["单位允许弹性工作，方便照顾老人", "护理假落实了，很感谢"],
    ),
    "人际关系": (
        ["同事之间沟通不畅", "和领导有些隔阂", "部门之间推诿扯皮，关系紧张"],
        ["同事关系融洽，团结协作", "领导关心同事，氛围和谐"],
    ),
    "作风建设": (
        ["个别干部庸懒散", "办事效率低，门难进脸难看", "有的同志不作为、慢作为"],
        ["作风建设见实效", "八项规定落实到位，风气好转"],
    ),
    "形式主义负担": (
        [
            "文山会海，会议太多",
            "督查检查多，迎检材料重复报送",
            "填表报数太多，过度留痕",
            "工作群里打卡截图，指尖上的形式主义",
            "基层减负没有落实到位",
            "材料多、台账多，疲于应付",
        ],
        ["基层减负有成效，会议少了", "检查考核精简了，轻松不少"],
    ),
    "学习教育": (
        ["理论学习形式单一，有点枯燥", "学习任务重，学习时间不够", "集中学习内容空洞"],
        ["理论学习很有收获", "三会一课内容充实，受益匪浅", "主题党日接地气，很受启发", "专题党课讲得很好"],
    ),
    "思想认识": (
        ["有时感到迷茫，动力不足", "职业倦怠，干劲不足", "身边有人躺平混日子"],
        ["理想信念更坚定了", "获得感和归属感增强", "对未来充满信心"],
    ),
}
RISK = ["有时候觉得活着没意思", "压力大到不想活了", "真的撑不下去了"]
PERIOD_WEIGHTS = [
    dict.fromkeys(BANK, 1.0),
    {**dict.fromkeys(BANK, 1.0), "形式主义负担": 1.8, "住房": 0.6},  # the second period's shift
]


def make_texts(rng: random.Random, n: int, weights: dict[str, float]) -> list[str]:
    """``n`` comments: an opener, one to three theme remarks (60 % complaints), a closing."""
    themes = list(weights)
    cum = list(weights.values())
    out = []
    for _ in range(n):
        parts = []
        for theme in set(rng.choices(themes, cum, k=rng.choice([1, 1, 2, 2, 3]))):
            complaints, praise = BANK[theme]
            parts.append(rng.choice(complaints if rng.random() < 0.6 else praise))
        if rng.random() < 0.0005:
            parts.append(rng.choice(RISK))
        body = rng.choice(["，", "；", "。"]).join(parts)
        out.append(f"{rng.choice(OPENERS)}{body}。{rng.choice(CLOSINGS)}")
    return out


def _rollup(pid: int) -> tuple[int, int, int]:
    """(RSS, PSS, USS) of a process in bytes, from /proc/<pid>/smaps_rollup (one kernel walk)."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if rest.strip().endswith("kB"):
                fields[key] = int(rest.split()[0]) * 1024
    return fields["Rss"], fields["Pss"], fields["Private_Clean"] + fields["Private_Dirty"]


class PeakMemory:
    """Samples the summed PSS of this process and its children (and their RSS/USS) until stopped.

    Every half second: reading a process's memory map costs a few milliseconds of kernel time,
    so sampling faster would take a visible share of the two cores being measured.
    """

    def __init__(self, interval: float = 0.5) -> None:
        self._interval = interval
        self._stop = threading.Event()
        self.pss = 0
        self.parent_rss = 0
        self.child_uss = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.wait(self._interval):
            try:
                rss, total, _ = _rollup(me.pid)
                self.parent_rss = max(self.parent_rss, rss)
                for child in me.children(recursive=True):
                    try:
                        _, pss, uss = _rollup(child.pid)
                    except (OSError, KeyError):
                        continue  # the child exited between listing and reading
                    total += pss
                    self.child_uss = max(self.child_uss, uss)
            except (OSError, KeyError, psutil.Error):
                continue
            self.pss = max(self.pss, total)


class AnalysisRuns:
    """Timed ``analyse_many(texts, workers=2)`` runs: wall times, and CPU of the workers and in all."""

    def __init__(self, analyzer, texts: list[str]) -> None:
        self.analyzer = analyzer
        self.texts = texts
        self.times: list[float] = []
        self.workers_cpu = 0.0
        self.cpu = 0.0

    def run(self, memory: PeakMemory | None = None) -> list:
        gc.collect()
        children, own = _children_cpu(), _self_cpu()
        t0 = time.perf_counter()
        if memory is None:
            results = self.analyzer.analyse_many(self.texts, workers=2)
        else:
            with memory:
                results = self.analyzer.analyse_many(self.texts, workers=2)
        self.times.append(time.perf_counter() - t0)
        self.workers_cpu += _children_cpu() - children
        self.cpu += _children_cpu() - children + _self_cpu() - own
        return results


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run() -> list[Result]:
    """Generate the comments, time the analysis (2 workers, 1 process) and plain jieba."""
    rng = random.Random(SEED)
    log(f"生成 {N_TEXTS:,} 条意见（两个时期各一半）…")
    half = N_TEXTS // 2
    texts = make_texts(rng, half, PERIOD_WEIGHTS[0]) + make_texts(rng, N_TEXTS - half, PERIOD_WEIGHTS[1])
    chars = sum(map(len, texts))

    from sizheng.insight import text

    start = time.perf_counter()
    analyzer = text.default_analyzer()
    init_time = time.perf_counter() - start
    log(f"分词词典与词表初始化 {init_time:.1f} 秒；预热 …")
    analyzer.analyse_many(texts[:2000], workers=1)

    runs = AnalysisRuns(analyzer, texts)

    # Run 1 alone, before jieba's stock dictionary is loaded for the baseline: its peak memory is
    # the analysis's own (the parent and the workers it forked).
    log(f"计时：analyse_many，2 个进程（第 1/{RUNS} 次，同时采样内存）…")
    peak = PeakMemory()
    results = runs.run(peak)
    children_maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    self_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    log(f"计时：单进程分析 {SUBSET:,} 条（并核对与多进程结果一致）…")
    t0 = time.perf_counter()
    serial = analyzer.analyse_many(texts[:SUBSET], workers=1)
    serial_rate = SUBSET / (time.perf_counter() - t0)
    if serial != results[:SUBSET]:
        raise RuntimeError("单进程与多进程的分析结果不一致")
    del serial
    risky = sum(r.risk for r in results)
    emerging = text.emerging_themes(results[half:], results[:half], include_falls=True)
    trend = "、".join(f"{e.theme}{e.effect * 100:+.1f}pt" for e in emerging[:3]) or "无"
    del results

    import jieba

    log("载入 jieba 默认词典（基线）…")
    jieba.setLogLevel(30)
    jieba.initialize()
    for t in texts[:2000]:
        jieba.lcut(t)
    base_times = []
    base_cpu = 0.0
    # Baseline and analysis runs alternate, so both see the same load from whatever else runs.
    for n in range(RUNS):
        log(f"计时：jieba.lcut，单进程（第 {n + 1}/{RUNS} 次）…")
        own = _self_cpu()
        t0 = time.perf_counter()
        for t in texts:
            jieba.lcut(t)
        base_times.append(time.perf_counter() - t0)
        base_cpu += _self_cpu() - own
        if n + 1 < RUNS:
            log(f"计时：analyse_many，2 个进程（第 {n + 2}/{RUNS} 次）…")
            runs.run()
    par_time = statistics.median(runs.times)
    base_time = statistics.median(base_times)
    # How many cores the workers kept busy on average (2.0 = both, all the time).
    busy = runs.workers_cpu / sum(runs.times)
    # CPU seconds per run (workers + parent): unlike wall time, not stretched by other load.
    par_cpu = runs.cpu / RUNS
    base_cpu /= RUNS

    mb = 1024 * 1024
    figures = (
        f"insight text @{N_TEXTS // 1000}k ({chars / N_TEXTS:.0f} chars avg): analyse_many 2 workers "
        f"{par_time:.1f} s median (n={RUNS}) = {N_TEXTS / par_time:,.0f} texts/s, workers busy {busy:.2f} cores; 1 process "
        f"{serial_rate:,.0f} texts/s ({SUBSET // 1000}k subset, results equal); plain jieba.lcut 1 process "
        f"{base_time:.1f} s = {N_TEXTS / base_time:,.0f} texts/s; ratio {par_time / base_time:.2f}× wall; "
        f"CPU per run {par_cpu:.1f} s vs {base_cpu:.1f} s = {par_cpu / base_cpu:.2f}× CPU; "
        f"peak memory parent+workers {peak.pss / mb:.0f} MB PSS (parent RSS {peak.parent_rss / mb:.0f} MB, "
        f"worker USS ≤ {peak.child_uss / mb:.0f} MB; getrusage max RSS parent {self_maxrss / mb:.0f} MB, "
        f"largest worker {children_maxrss / mb:.0f} MB); init {init_time:.1f} s; "
        f"risk {risky} texts; period shift: {trend}"
    )
    print(figures, flush=True)
    return [Result("insight_text", f"{N_TEXTS:,} texts, 2 workers", figures)]
