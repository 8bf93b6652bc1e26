"""Progress status of an indicator, from its trend projected to the target year.

How it is computed (the pages and docs/programme.md say the same):

1. **achieved** when the latest value reaches the target (at least its minimum; more than
   it for "more than" targets; yes for a milestone).
2. Otherwise the trend is the least-squares line through the baseline and the value at the
   end of every quarter since (at most the last eight quarters), and is projected to the
   last day of the target year. Projected / target ≥ 1 is **on track**, ≥ 0.8 **needs
   attention**, below 0.8 **off track**; a target year already past is **off track**.
3. A yes/no milestone not yet met has no trend to project: **needs attention** until its
   year has passed, then **off track**.
4. An indicator without a target is **tracked**; one with no value yet (a reported
   indicator without an approved update) is **no data**.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from lanhai.programme.indicators import Target

STATUSES = ("achieved", "on_track", "needs_attention", "off_track", "tracked", "no_data")
STATUS_EN = {"achieved": "Achieved", "on_track": "On track",
             "needs_attention": "Needs attention", "off_track": "Off track",
             "tracked": "Tracked", "no_data": "No data"}
STATUS_ZH = {"achieved": "已完成", "on_track": "进展正常", "needs_attention": "需关注",
             "off_track": "进度滞后", "tracked": "跟踪", "no_data": "暂无数据"}
#: projected / target from which an indicator is on track, and needs attention
ON_TRACK, ATTENTION = 1.0, 0.8
#: how many recent quarters the trend is fitted to
TREND_QUARTERS = 8


@dataclass(frozen=True)
class Progress:
    """The status and the projection behind it."""

    status: str
    projected: float | None = None
    #: projected / target
    ratio: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {"status": self.status, "projected": self.projected, "ratio": self.ratio}


def trend(points: Sequence[tuple[dt.date, float]]) -> tuple[float, float] | None:
    """Slope (per day) and intercept of the least-squares line through ``points`` (days
    counted from the first), or None with fewer than two distinct days."""
    if len({d for d, _ in points}) < 2:
        return None
    origin = points[0][0]
    xs = [(d - origin).days for d, _ in points]
    ys = [v for _, v in points]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    return slope, my - slope * mx


def assess(target: Target, target_date: dt.date, baseline: tuple[dt.date, float] | None,
           series: Sequence[tuple[dt.date, float | None]], as_of: dt.date) -> Progress:
    """The status of an indicator whose value at each quarter end is ``series`` (None where
    nothing was reported), judged on ``as_of``."""
    known = [(d, v) for d, v in series if v is not None and d <= as_of]
    if not known:
        return Progress("no_data")
    latest = known[-1][1]
    if target.tracked_only:
        return Progress("tracked")
    goal = target.goal
    assert goal is not None
    if target.reached(latest):
        return Progress("achieved", latest, round(latest / goal, 3) if goal else None)
    if as_of > target_date:
        return Progress("off_track", latest, round(latest / goal, 3) if goal else None)
    if target.milestone:
        return Progress("needs_attention")
    points = known[-TREND_QUARTERS:]
    if baseline is not None and baseline[0] < points[0][0]:
        points = [baseline, *points]
    fitted = trend(points)
    if fitted is None:
        projected = latest
    else:
        slope, intercept = fitted
        projected = max(latest, intercept + slope * (target_date - points[0][0]).days)
    ratio = projected / goal if goal else 1.0
    status = "on_track" if ratio >= ON_TRACK else "needs_attention" if ratio >= ATTENTION \
        else "off_track"
    return Progress(status, round(projected, 2), round(ratio, 3))


#: how the status is computed, as the pages and the report say it
HOW_STATUS = {
    "en": "Achieved: the latest value reaches the target (its minimum for a range). Otherwise "
          "the trend is the least-squares line through the baseline and the value at the end "
          "of each quarter (the last eight), projected to the end of the target year: "
          "projected / target of at least 1 is on track, at least 0.8 needs attention, below "
          "0.8 off track; a target year already past is off track. A yes/no milestone not "
          "yet met needs attention until its year has passed. An indicator without a target "
          "is tracked; a reported one without an approved update has no data.",
    "zh": "已完成：最新值达到目标（区间目标取下限）。否则以基线和此前各季度末数值（最近八个季度）"
          "做最小二乘直线拟合，外推至目标年年末：预计值/目标 ≥ 1 为进展正常，≥ 0.8 为需关注，"
          "低于 0.8 为进度滞后；目标年已过仍未完成为进度滞后。尚未实现的“是/否”里程碑在目标年结束前"
          "为需关注。无目标值的指标为跟踪；报送类指标尚无审核通过的数据时为暂无数据。",
}
