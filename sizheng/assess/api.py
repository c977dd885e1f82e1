"""The stateless method endpoints (issue 9 §7): ``POST /assess/ahp``, ``/assess/entropy``, ``/assess/topsis``.

Each takes the parameters of the function of ``sizheng.assess.methods`` as JSON and answers with the
result's attributes; nothing is stored. A :class:`~sizheng.assess.methods.MethodError` answers 422
in the API's one error shape, its Chinese sentence as ``detail``. Any logged-in user or token may
call them (the data they carry are the caller's own numbers).
"""

# No `from __future__ import annotations` here: ninja reads the parameter annotations at import time.

from collections.abc import Callable
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from sizheng.assess import methods
from sizheng.core.apitools import ErrorOut

router = Router(tags=["测评方法"])
_ERRORS = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut, 429: ErrorOut}

# Limits well above any real use; the request size limit bounds the body anyway.
MAX_ROWS = 5000
MAX_COLUMNS = 500

PriorityName = Literal["eigenvector", "rgmm", "colnorm"]
RiTableName = Literal[
    "saaty1980", "saaty_cn", "saaty2005", "gong_xu", "donegan_dodd", "tummala_ling", "alonso_lamata"
]
JudgmentRow = Annotated[list[float | None], Field(min_length=1, max_length=30)]
DataRow = Annotated[list[float], Field(min_length=1, max_length=MAX_COLUMNS)]


class MethodFailed(HttpError):
    """422 with the method's own sentence and the parameter it concerns."""

    def __init__(self, exc: methods.MethodError) -> None:
        super().__init__(422, exc.message)
        loc = ["body", "payload", exc.field] if exc.field else []
        self.errors = [{"loc": loc, "message": exc.message}]


def _run(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return func(*args, **kwargs)
    except methods.MethodError as exc:
        raise MethodFailed(exc) from None


# --- AHP ---------------------------------------------------------------------------------


class AhpIn(Schema):
    """A pairwise comparison matrix, or elements with (possibly incomplete) pairs — not both."""

    matrix: list[JudgmentRow] | None = Field(
        None,
        max_length=30,
        description="判断矩阵（正互反矩阵，a_ij 表示第 i 个元素相对第 j 个元素的重要程度）；修复模式下下三角可为 null",
    )
    elements: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        None, max_length=30, description="比较元素名称（与 pairs 一起使用）"
    )
    pairs: list[tuple[str, str, float]] | None = Field(
        None,
        max_length=500,
        description="两两比较 [甲, 乙, 判断值]：甲相对乙的重要程度；可不完整，缺失项按 λmax 最小补全",
    )
    priority: PriorityName = Field(
        "eigenvector", description="权重计算方法：eigenvector 特征向量法、rgmm 方根法、colnorm 和积法"
    )
    ri_table: RiTableName = Field("saaty_cn", description="随机一致性指标 RI 表")
    threshold: float = Field(0.1, description="一致性比例阈值（CR 小于它为通过）")
    repair: bool = Field(False, description="修复模式：只读上三角，由它重建对角线和下三角（仅用于 matrix）")


class AhpOut(Schema):
    """Priorities and consistency, with the choices they were computed with."""

    weights: list[float]
    lambda_max: float
    ci: float
    cr: float
    ri: float
    ri_table: str
    consistent: bool
    matrix: list[list[float]]
    priority: str
    threshold: float
    elements: list[str] | None
    completed: list[tuple[str, str, float]] = Field(..., description="按 λmax 最小补全的比较 [甲, 乙, 值]")
    repaired: list[tuple[int, int, float | None, float]] = Field(
        ..., description="修复模式重建的单元格 [行, 列, 原值, 新值]（从 0 起计）"
    )
    warnings: list[str]


@router.post("/ahp", response={200: AhpOut, **_ERRORS}, url_name="assess-api-ahp", summary="层次分析法")
def ahp_compute(request: HttpRequest, payload: AhpIn):
    """AHP weights, λmax, CI and CR of one judgment matrix, or of pairs completed by minimising λmax."""
    options = {"priority": payload.priority, "ri_table": payload.ri_table, "threshold": payload.threshold}
    if payload.matrix is not None and (payload.elements is not None or payload.pairs is not None):
        raise MethodFailed(
            methods.MethodError("请只提供判断矩阵，或只提供比较元素和两两比较，不要同时提供。")
        )
    if payload.matrix is not None:
        matrix = [[float("nan") if v is None else v for v in row] for row in payload.matrix]
        result = _run(methods.ahp, matrix, repair=payload.repair, **options)
    elif payload.elements is not None and payload.pairs is not None:
        result = _run(methods.ahp_from_pairs, payload.elements, [list(p) for p in payload.pairs], **options)
    else:
        raise MethodFailed(
            methods.MethodError(
                "请提供判断矩阵（matrix），或比较元素（elements）和两两比较（pairs）。", field="matrix"
            )
        )
    return result.to_dict()


# --- entropy -------------------------------------------------------------------------------


class EntropyIn(Schema):
    """A decision matrix (rows = units, columns = indicators) and the entropy variant."""

    matrix: list[DataRow] = Field(
        ..., min_length=1, max_length=MAX_ROWS, description="决策矩阵：每行一个被评对象，每列一个指标"
    )
    variant: Literal["raw", "minmax"] = Field(
        "raw", description="raw 直接按比重计算；minmax 先按指标类型极差正向化"
    )
    criteria_types: list[int] | None = Field(
        None, max_length=MAX_COLUMNS, description="指标类型：1 效益型，-1 成本型"
    )
    shift: float = Field(0.0, description="平移量（加在数据上，避免 0 的比重）")


class EntropyOut(Schema):
    """Entropy weights and the entropy of each indicator."""

    weights: list[float]
    entropies: list[float]
    variant: str
    shift: float
    criteria_types: list[int] | None
    constant_columns: list[int] = Field(..., description="取值全同、权重为 0 的指标（从 0 起计）")


@router.post(
    "/entropy", response={200: EntropyOut, **_ERRORS}, url_name="assess-api-entropy", summary="熵权法"
)
def entropy_compute(request: HttpRequest, payload: EntropyIn):
    """Objective weights of the indicators from the dispersion of the data (熵权法)."""
    result = _run(
        methods.entropy_weights,
        payload.matrix,
        variant=payload.variant,
        criteria_types=payload.criteria_types,
        shift=payload.shift,
    )
    return result.to_dict()


# --- TOPSIS --------------------------------------------------------------------------------


class TopsisIn(Schema):
    """A decision matrix, indicator weights and types, and the normalisation."""

    matrix: list[DataRow] = Field(
        ..., min_length=1, max_length=MAX_ROWS, description="决策矩阵：每行一个被评对象，每列一个指标"
    )
    weights: list[float] = Field(
        ..., min_length=1, max_length=MAX_COLUMNS, description="指标权重（非负，自动归一）"
    )
    criteria_types: list[int] = Field(
        ..., min_length=1, max_length=MAX_COLUMNS, description="指标类型：1 效益型，-1 成本型"
    )
    normalization: Literal["vector", "minmax"] = Field(
        "vector", description="规范化：vector 向量规范化，minmax 极差规范化"
    )


class ReferenceOut(Schema):
    """The normalisation and ideal points the closeness was measured against."""

    normalization: str
    criteria_types: list[int]
    offset: list[float]
    scale: list[float]
    ideal: list[float]
    anti_ideal: list[float]


class TopsisOut(Schema):
    """Closeness to the ideal point, the distances and the competition ranking (1 = best)."""

    closeness: list[float]
    d_plus: list[float]
    d_minus: list[float]
    ranking: list[int]
    normalization: str
    weights: list[float]
    reference: ReferenceOut | None


@router.post(
    "/topsis", response={200: TopsisOut, **_ERRORS}, url_name="assess-api-topsis", summary="TOPSIS 排序"
)
def topsis_compute(request: HttpRequest, payload: TopsisIn):
    """TOPSIS closeness and ranking of the rows (逼近理想解排序)."""
    result = _run(
        methods.topsis,
        payload.matrix,
        payload.weights,
        payload.criteria_types,
        normalization=payload.normalization,
    )
    return result.to_dict()
