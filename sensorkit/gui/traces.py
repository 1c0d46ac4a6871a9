"""The traces: one lane per EMG channel (band-passed, envelope on top, microvolts) and the
pelvic obliquity with the drop threshold, scrolling; onset, movement-onset and repetition
marks drawn as the pipeline reports them.

Drawn as pyqtgraph advises for fast curves (`MultiPlotSpeedTest`): the EMG lanes share one
plot and are drawn as two curves in all (every band-passed trace in one path, every envelope
in another) rather than two curves, a view box and an axis per channel; the per-item
overhead, not the points, was most of a frame's time at 16 channels. Curves are clipped to
the view and peak-decimated to about a point pair per pixel, 1-px opaque pens without
antialiasing, and nothing auto-ranges while streaming (each lane's scale follows its data a
few times a second and is printed beside its name).
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
LANE_HALF = 0.45  # a lane's full scale reaches this far from its centre (lanes are 1 apart)
MIN_SCALE_UV = 50.0  # a quiet lane keeps this scale, so resting noise (~5 uV) looks quiet, not like activity
PELVIS = "__pelvis__"
PELVIS_RANGE_DEG = (-10.0, 15.0)


class ScrollingCurve(pg.PlotCurveItem):
    """A curve whose bounds are its plot's fixed span: pyqtgraph would otherwise scan the data
    for its bounds several times a frame, which a scrolling trace in a fixed range never needs."""

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


def lanes_path(rel_t: np.ndarray, y: np.ndarray, centres: np.ndarray, scales: np.ndarray):
    """Every channel of `y` ((n, ch)) in its lane, as one curve's x, y and connect arrays: a
    channel's values are divided by its scale, clipped to its lane and moved to its centre;
    points do not connect across lanes, nor to or from a lost (NaN) sample, so a lost packet
    leaves a gap instead of blanking the lane."""
    n, ch = y.shape
    lane = np.clip(y / scales, -1.0, 1.0) * LANE_HALF + centres  # (n, ch)
    flat = np.ascontiguousarray(lane.T).ravel()
    finite = np.isfinite(flat)
    connect = finite.copy()  # pyqtgraph: 1 = this point connects to the next one
    connect[:-1] &= finite[1:]
    connect[n - 1 :: n] = False  # a lane's last point
    flat[~finite] = 0.0  # never hand Qt a NaN: it drops the whole path
    return np.tile(rel_t, ch), flat, connect.astype(np.int32)


# signal-quality badges: what the clinician should fix, red when the channel carries no muscle
BADGES = {
    "lift_off": ("electrode off?", "#c62828"),
    "flat": ("flat line", "#c62828"),
    "saturation": ("saturated", "#c62828"),
    "gap": ("samples lost", "#b26a00"),
    "hum": ("mains hum", "#b26a00"),
    "pop": ("pop", "#b26a00"),
}


class TracesView(pg.GraphicsLayoutWidget):
    """EMG lanes over the pelvis row; `refresh(display, pelvis)` draws the newest `window_s` seconds."""

    def __init__(self, window_s: float = 10.0, drop_threshold_deg: float = 5.0) -> None:
        super().__init__()
        self.window_s = window_s
        self.threshold = drop_threshold_deg
        self.setBackground("w")
        self.labels: list[str] = []
        self.emg: pg.PlotItem | None = None
        self.pelvis_plot: pg.PlotItem | None = None
        self.band: pg.PlotCurveItem | None = None
        self.envelope: pg.PlotCurveItem | None = None
        self.obliquity: pg.PlotCurveItem | None = None
        self.mark_curves: dict[tuple[str, str], pg.PlotCurveItem] = {}  # (plot, kind) -> segments
        self.marks: list[tuple[float, str, str | None]] = []  # data time, kind, channel (None: all lanes)
        self.scales = np.ones(0)  # uV at a lane's full scale
        self._centres = np.ones(0)
        self._frames = 0
        self._now = 0.0
        self.stance: str | None = None  # the block's stance side: the trace shows its free side's drop
        self.quality: dict[str, str] = {}  # channel -> its signal-quality state (Quality events)
        self.badges: dict[str, pg.TextItem] = {}

    def _plot(self, row: int) -> pg.PlotItem:
        p = self.addPlot(row=row, col=0)
        p.setMenuEnabled(False)
        p.setMouseEnabled(x=False, y=False)
        p.hideButtons()
        p.disableAutoRange()
        p.setClipToView(True)
        p.showGrid(x=True, y=False, alpha=0.2)
        p.setXRange(-self.window_s, 0, padding=0)
        return p

    def _curve(self, plot: pg.PlotItem, pen, connect="all") -> pg.PlotCurveItem:
        curve = ScrollingCurve(self.window_s, pen=pen, skipFiniteCheck=True, antialias=False, connect=connect)
        plot.addItem(curve)
        return curve

    def _build(self, labels: list[str]) -> None:
        self.labels = list(labels)
        n = len(labels)
        self._centres = np.arange(n - 1, -1, -1, dtype=np.float64)  # the first channel on top
        self.scales = np.full(n, MIN_SCALE_UV)
        self.emg = p = self._plot(0)
        p.hideAxis("bottom")
        p.setYRange(-0.5, n - 0.5, padding=0)
        self._tick_font = pg.QtGui.QFont()  # kept here: the axis holds no reference of its own to it
        self._tick_font.setPointSize(7)
        axis = p.getAxis("left")
        axis.setStyle(tickFont=self._tick_font, textFillLimits=[(0, 1.0)])  # every lane named
        longest = max(labels, key=len, default="") + "  ±0000 uV"
        self._axis_width = pg.QtGui.QFontMetrics(self._tick_font).horizontalAdvance(longest) + 16
        axis.setWidth(self._axis_width)  # pyqtgraph drops a label wider than its axis
        self._label_lanes()
        self.band = self._curve(p, TRACE_PEN)
        self.envelope = self._curve(p, ENVELOPE_PEN)
        self.pelvis_plot = q = self._plot(1)
        q.setXLink(p)
        q.getAxis("left").setWidth(self._axis_width)  # aligned under the lanes
        q.setLabel("left", "pelvic drop (deg)", **{"font-size": "7pt"})
        self.obliquity = self._curve(q, OBLIQUITY_PEN)
        q.addItem(pg.LinearRegionItem((self.threshold, 30), orientation="horizontal", movable=False,
                                      brush=pg.mkBrush(198, 40, 40, 30), pen=pg.mkPen(None)))  # fmt: skip
        q.setYRange(*PELVIS_RANGE_DEG, padding=0)
        q.setLabel("bottom", "time (s, 0 = now); EMG band-passed (blue), envelope (orange), lane scale +- uV; "
                   "free side's drop in deg (red: above threshold)")  # fmt: skip
        for kind in MARK_PENS:
            for name, plot in (("emg", p), ("pelvis", q)):
                self.mark_curves[(name, kind)] = self._curve(plot, MARK_PENS[kind], connect="pairs")
        for channel, state in self.quality.items():
            self._badge(channel, state)
        layout = self.ci.layout
        layout.setRowStretchFactor(0, max(3, n))
        layout.setRowStretchFactor(1, 2)

    def _label_lanes(self) -> None:
        lanes = zip(self._centres, self.labels, self.scales, strict=True)
        ticks = [(float(c), f"{label}  ±{s:.0f} uV") for c, label, s in lanes]
        self.emg.getAxis("left").setTicks([ticks, []])

    def set_quality(self, channel: str, state: str) -> None:
        """A channel's signal-quality state (`Quality` events): a badge at the right end of its
        lane while it is anything but ok (motion artefacts come with every movement: none)."""
        self.quality[channel] = state
        if self.emg is not None:
            self._badge(channel, state)

    def _badge(self, channel: str, state: str) -> None:
        if channel not in self.labels:
            return
        text, colour = BADGES.get(state, (None, None))
        badge = self.badges.get(channel)
        if text is None:
            if badge is not None:
                badge.hide()
            return
        if badge is None:
            badge = self.badges[channel] = pg.TextItem(anchor=(1, 0.5))
            self.emg.addItem(badge)
            badge.setPos(-0.005 * self.window_s, float(self._centres[self.labels.index(channel)]))
        badge.setHtml(f'<span style="background:{colour}; color:white; font-size:8pt; padding:2px">'
                      f"&nbsp;{text}&nbsp;</span>")  # fmt: skip
        badge.show()

    def set_stance(self, side: str | None) -> None:
        """The stance side of the block under way (None: show obliquity, left side up)."""
        self.stance = side

    def clear_all(self) -> None:
        """Forget the drawn data and marks (the lanes stay)."""
        for curve in (self.band, self.envelope, self.obliquity, *self.mark_curves.values()):
            if curve is not None:
                curve.setData([], [])
        self.marks = []

    def add_mark(self, t_s: float, kind: str, channel: str | None = None) -> None:
        """A vertical mark at data time `t_s`: on one channel's lane, on the pelvis row
        (`channel="__pelvis__"`), or across every lane and the pelvis row (None)."""
        self.marks.append((t_s, kind if kind in MARK_PENS else "movement", channel))

    def _draw_marks(self, now: float) -> None:
        self.marks = [m for m in self.marks if m[0] - now >= -self.window_s]
        lanes = dict(zip(self.labels, self._centres, strict=True))
        n = len(self.labels)
        for (plot, kind), curve in self.mark_curves.items():
            xs, ys = [], []
            for t_s, k, channel in self.marks:
                if k != kind:
                    continue
                if plot == "emg" and channel in lanes:
                    lo, hi = lanes[channel] - 0.5, lanes[channel] + 0.5
                elif plot == "emg" and channel is None:
                    lo, hi = -0.5, n - 0.5
                elif plot == "pelvis" and channel in (None, PELVIS):
                    lo, hi = PELVIS_RANGE_DEG
                else:
                    continue
                xs += [t_s - now, t_s - now]
                ys += [lo, hi]
            curve.setData(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))

    def refresh(self, display: DisplayBuffers, pelvis=None) -> None:
        """Draw the newest window of the display buffers and the pelvis obliquity."""
        if display.band is None:
            return
        if self.emg is None:
            self._build(display.labels)
        t, x = display.band.latest(int(self.window_s * display.fs))
        # the envelope with its own times: the acquisition thread may append between the two
        # reads, and the band's times then do not fit the envelope's samples
        t_e, env = display.envelope.latest(int(self.window_s * display.fs))
        if not len(t) or not len(t_e):
            return
        self._now = now = float(t[-1])
        bins = max(200, int(self.width()) - 120)  # about one bin a pixel of the plot
        t_band, x = peak_decimate(t, x, bins)
        k = max(1, len(t_e) // bins)
        first = len(t_e) - k * (len(t_e) // k)
        t_env, env = t_e[first::k], env[first::k]  # smooth: every k-th
        if self._frames % 10 == 0:  # scales follow the data a few times a second, not every frame
            with np.errstate(all="ignore"):
                peak = np.nanpercentile(np.abs(x), 99, axis=0) if np.isfinite(x).any() else self.scales
            self.scales = np.maximum(np.where(np.isfinite(peak), peak, MIN_SCALE_UV), MIN_SCALE_UV)
            self._label_lanes()
        self._frames += 1
        xb, yb, cb = lanes_path(t_band - now, x, self._centres, self.scales)
        self.band.setData(xb, yb, connect=cb)
        xe, ye, ce = lanes_path(t_env - now, env, self._centres, self.scales)
        self.envelope.setData(xe, ye, connect=ce)
        if pelvis is not None and self.obliquity is not None:
            to, obl = pelvis.recent_obliquity(self.window_s)
            if len(to):  # left stance: the right side drops as obliquity rises (as rep_drop signs it)
                y = obl if self.stance != "R" else -obl
                finite = np.isfinite(y)
                self.obliquity.setData(to - now, np.where(finite, y, 0.0), connect=finite.astype(np.int32))
        self._draw_marks(now)
