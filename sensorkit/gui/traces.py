"""The traces: one row per EMG channel (band-passed, envelope on top, microvolts) and the
pelvic obliquity with the drop threshold, scrolling; onset, movement-onset and repetition
marks drawn as the pipeline reports them.

Drawn as pyqtgraph advises for fast curves: `PlotCurveItem`s with `skipFiniteCheck`,
clipped to the view and peak-downsampled, 1-px opaque pens without antialiasing, and no
auto-range while streaming (each row's range follows its data a few times a second).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from sensorkit.gui.display import DisplayBuffers

TRACE_PEN = pg.mkPen("#3a6ea5", width=1)
ENVELOPE_PEN = pg.mkPen("#e07b00", width=1)
OBLIQUITY_PEN = pg.mkPen("#2f7d32", width=1)
MARK_PENS = {
    "onset": pg.mkPen("#c62828", width=1),
    "movement": pg.mkPen("#555555", width=1, style=pg.QtCore.Qt.DashLine),
    "rep_end": pg.mkPen("#999999", width=1, style=pg.QtCore.Qt.DotLine),
}


class ScrollingCurve(pg.PlotCurveItem):
    """A curve whose bounds are its row's fixed span: pyqtgraph would otherwise scan the data
    for its bounds several times a frame (a fifth of the window's drawing time), which a
    scrolling trace in a fixed range never needs."""

    def __init__(self, window_s: float, **kw) -> None:
        super().__init__(**kw)
        self._rect = pg.QtCore.QRectF(-window_s - 1.0, -1e9, window_s + 2.0, 2e9)

    def boundingRect(self):  # noqa: N802 (Qt's name)
        return self._rect

    def dataBounds(self, ax, frac=1.0, orthoRange=None):  # noqa: N802, N803 (pyqtgraph's names)
        return (-self._rect.width(), 0.0) if ax == 0 else (None, None)


def peak_decimate(t: np.ndarray, x: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """At most 2 x `bins` points that keep every bin's minimum and maximum (`x` is (n, ch)), so a
    trace drawn in about `bins` pixels looks the same as with all its samples: what
    pyqtgraph's peak downsampling does for PlotDataItems, done once for every channel."""
    k = len(t) // bins
    if k < 2:
        return t, x
    bins = len(t) // k  # bins of k samples that cover all but fewer than k of them
    n = k * bins
    start = len(t) - n  # the oldest few left out, the newest kept
    xs = x[start:].reshape(bins, k, -1)
    lo, hi = xs.min(axis=1), xs.max(axis=1)  # a bin with a lost sample is NaN: drawn as a gap
    out = np.empty((2 * bins, x.shape[1]), dtype=x.dtype)
    out[0::2], out[1::2] = lo, hi
    tb = t[start:].reshape(bins, k)
    return np.repeat(tb[:, k // 2], 2), out


class TracesView(pg.GraphicsLayoutWidget):
    """Rows of scrolling traces; `refresh(display, pelvis)` draws the newest `window_s` seconds."""

    def __init__(self, window_s: float = 10.0, drop_threshold_deg: float = 5.0) -> None:
        super().__init__()
        self.window_s = window_s
        self.threshold = drop_threshold_deg
        self.setBackground("w")
        self.rows: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, tuple[pg.PlotCurveItem, pg.PlotCurveItem]] = {}
        self.obliquity: pg.PlotCurveItem | None = None
        self.marks: list[tuple[float, str, str | None, pg.InfiniteLine]] = []  # time, kind, channel, line
        self._labels: list[str] = []
        self._frames = 0
        self._now = 0.0
        self.stance: str | None = None  # the block's stance side: the trace shows its free side's drop

    def _plot(self, title: str) -> pg.PlotItem:
        p = self.addPlot(row=len(self.rows), col=0)
        p.setLabel("left", title, **{"font-size": "7pt"})
        p.setMenuEnabled(False)
        p.setMouseEnabled(x=False, y=False)
        p.hideButtons()
        p.disableAutoRange()
        p.setClipToView(True)
        p.setDownsampling(auto=True, mode="peak")
        p.showGrid(x=True, y=False, alpha=0.2)
        p.setXRange(-self.window_s, 0, padding=0)
        p.getAxis("left").setWidth(70)
        if self.rows:
            p.setXLink(next(iter(self.rows.values())))
        return p

    def _build(self, labels: list[str]) -> None:
        self._labels = list(labels)
        for label in labels:
            p = self._plot(label)
            p.hideAxis("bottom")  # one time axis, under the last row: 16 more cost a third of a frame
            band = ScrollingCurve(self.window_s, pen=TRACE_PEN, skipFiniteCheck=True, antialias=False)
            env = ScrollingCurve(self.window_s, pen=ENVELOPE_PEN, skipFiniteCheck=True, antialias=False)
            p.addItem(band)
            p.addItem(env)
            self.rows[label] = p
            self.curves[label] = (band, env)
        p = self._plot("pelvic drop")
        self.obliquity = ScrollingCurve(self.window_s, pen=OBLIQUITY_PEN, skipFiniteCheck=True, antialias=False)
        p.addItem(self.obliquity)
        band = pg.LinearRegionItem((self.threshold, 30), orientation="horizontal", movable=False,
                                   brush=pg.mkBrush(198, 40, 40, 30), pen=pg.mkPen(None))  # fmt: skip
        p.addItem(band)
        p.setYRange(-10, 15, padding=0)
        p.setLabel("bottom", "time (s, 0 = now); EMG in uV, band-passed (blue) with its envelope (orange); "
                   "drop of the free side in deg, flagged in the red band")  # fmt: skip
        self.rows["__pelvis__"] = p

    def set_stance(self, side: str | None) -> None:
        """The stance side of the block under way (None: show obliquity, left side up)."""
        self.stance = side

    def clear_all(self) -> None:
        """Forget the drawn data and marks (the rows stay)."""
        for band, env in self.curves.values():
            band.setData([], [])
            env.setData([], [])
        if self.obliquity is not None:
            self.obliquity.setData([], [])
        for _, _, _, line in self.marks:
            if line.getViewBox() is not None:
                line.getViewBox().removeItem(line)
        self.marks = []

    def add_mark(self, t_s: float, kind: str, channel: str | None = None) -> None:
        """A vertical mark at data time `t_s` on one channel's row (or on every row)."""
        rows = [self.rows[channel]] if channel in self.rows else list(self.rows.values())
        for p in rows:
            line = pg.InfiniteLine(pos=t_s - self._now, angle=90, pen=MARK_PENS.get(kind, MARK_PENS["movement"]))
            p.addItem(line)
            self.marks.append((t_s, kind, channel, line))

    def refresh(self, display: DisplayBuffers, pelvis=None) -> None:
        """Draw the newest window of the display buffers and the pelvis obliquity."""
        if display.band is None:
            return
        if not self.rows:
            self._build(display.labels)
        t, x = display.band.latest(int(self.window_s * display.fs))
        _, env = display.envelope.latest(int(self.window_s * display.fs))
        if not len(t):
            return
        self._now = now = float(t[-1])
        bins = max(200, int(self.width()))  # about one bin a pixel
        t_band, x = peak_decimate(t, x, bins)
        k = max(1, len(t) // bins)
        t_env, env = t[len(t) - k * (len(t) // k) :: k], env[len(t) - k * (len(t) // k) :: k]  # smooth: every k-th
        rel = t_band - now
        rescale = self._frames % 10 == 0  # ranges follow the data a few times a second, not every frame
        self._frames += 1
        for j, label in enumerate(self._labels):
            band, envelope = self.curves[label]
            band.setData(rel, x[:, j])
            envelope.setData(t_env - now, env[:, j])
            if rescale:
                peak = float(np.nanpercentile(np.abs(x[:, j]), 99)) if np.isfinite(x[:, j]).any() else 1.0
                self.rows[label].setYRange(-max(peak, 5.0), max(peak, 5.0), padding=0.05)
        if pelvis is not None and self.obliquity is not None:
            to, obl = pelvis.recent_obliquity(self.window_s)
            if len(to):  # left stance: the right side drops as obliquity rises (as rep_drop signs it)
                self.obliquity.setData(to - now, obl if self.stance != "R" else -obl)
        keep = []
        for t_s, kind, channel, line in self.marks:
            if t_s - now < -self.window_s:
                line.getViewBox() and line.getViewBox().removeItem(line)
                continue
            line.setValue(t_s - now)
            keep.append((t_s, kind, channel, line))
        self.marks = keep
