"""How the commercial-ratio bands look: their colours, names, shaded areas, legend and pill.

The bands themselves (which period is in which, at which thresholds) come from the
published file: marts.commercial_ratio.band and marts.commercial_ratio_bands.
"""

from __future__ import annotations

from orchestration.lib.report import fmt
from orchestration.lib.report.charts import Band
from orchestration.lib.report.palette import GREY
from orchestration.lib.report.template import legend, pill

# band -> (strong colour, light fill)
BAND_STYLES = {
    "unsustainable": ("#c53030", "#fde8e8"),
    "balanced": ("#b7791f", "#fdf3d8"),
    "efficient": ("#2f855a", "#e3f4e8"),
    "under_invested": ("#2b6cb0", "#e3edfb"),
}


BAND_NAMES = {"unsustainable": "unsustainable", "balanced": "balanced", "efficient": "efficient",
              "under_invested": "under-invested"}


def ratio_bands(thresholds: tuple[float, float, float] | None) -> list[Band]:
    if thresholds is None:
        return []
    t1, t2, t3 = thresholds
    return [
        Band(None, t1, BAND_STYLES["unsustainable"][1], f"unsustainable < {t1:g}"),
        Band(t1, t2, BAND_STYLES["balanced"][1], f"balanced {t1:g}{fmt.DASH}{t2:g}"),
        Band(t2, t3, BAND_STYLES["efficient"][1], f"efficient {t2:g}{fmt.DASH}{t3:g}"),
        Band(t3, None, BAND_STYLES["under_invested"][1], f"under-invested > {t3:g}"),
    ]


def band_legend(thresholds: tuple[float, float, float] | None) -> str:
    if thresholds is None:
        return ""
    return legend([(band.label, band.color, "box") for band in ratio_bands(thresholds)])


def band_pill(band: str | None) -> str:
    if not band:
        return ""
    strong, light = BAND_STYLES.get(band, (GREY, "#edf2f7"))
    return pill(BAND_NAMES.get(band, band), strong, light)
