"""The colours of the metrics report's charts and tiles."""

INK = "#1a202c"
BLUE, ORANGE, GREEN, PURPLE, RED, TEAL, GREY = (
    "#2b6cb0", "#dd6b20", "#2f855a", "#805ad5", "#c53030", "#319795", "#718096",
)  # fmt: skip
