// ui/src/chart.js: the price chart (lightweight-charts): candles, volume,
// indicator overlays (EMA fast/slow, Bollinger bands) and an RSI pane,
// updated live by trades and candles; counts its frames for the
// frame-rate figure (window.__zvt.fps).
import {
	createChart, CandlestickSeries, HistogramSeries, LineSeries, createSeriesMarkers, ColorType,
} from 'lightweight-charts';

const UP = '#26a69a';
const DOWN = '#ef5350';

export function priceChart(node, { indicators = true } = {}) {
	const chart = createChart(node, {
		autoSize: true,
		layout: { background: { type: ColorType.Solid, color: '#1e222d' }, textColor: '#d1d4dc', attributionLogo: false },
		grid: { vertLines: { color: '#2a2e39' }, horzLines: { color: '#2a2e39' } },
		timeScale: { timeVisible: true, secondsVisible: false },
	});
	const candles = chart.addSeries(CandlestickSeries, {
		upColor: UP, downColor: DOWN, borderVisible: false, wickUpColor: UP, wickDownColor: DOWN,
	});
	const volume = chart.addSeries(HistogramSeries, { priceFormat: { type: 'volume' }, priceScaleId: 'vol' });
	chart.priceScale('vol').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
	const ov = {};
	if (indicators) {
		ov.emaFast = chart.addSeries(LineSeries, { color: '#f7a21b', lineWidth: 1, priceLineVisible: false, lastValueVisible: false });
		ov.emaSlow = chart.addSeries(LineSeries, { color: '#2962ff', lineWidth: 1, priceLineVisible: false, lastValueVisible: false });
		for (const k of ['bbUpper', 'bbMid', 'bbLower'])
			ov[k] = chart.addSeries(LineSeries, { color: '#9c27b0', lineWidth: 1, lineStyle: k === 'bbMid' ? 2 : 0, priceLineVisible: false, lastValueVisible: false });
		ov.rsi = chart.addSeries(LineSeries, { color: '#e91e63', lineWidth: 1, priceLineVisible: false }, 1);
		chart.panes()[1]?.setHeight(90);
	}
	let bars = [];
	let markers = null;
	const pending = new Set();
	let scheduled = false;
	const flush = () => {
		scheduled = false;
		for (const b of [...pending].sort((x, y) => x.time - y.time)) {
			candles.update({ ...b });
			volume.update(vol(b));
		}
		pending.clear();
	};

	const vol = (b) => ({ time: b.time, value: b.volume, color: b.close >= b.open ? `${UP}80` : `${DOWN}80` });
	return {
		chart,
		bars: () => bars,
		// Replace the bars: [{time (s), open, high, low, close, volume}]
		setBars(list) {
			bars = list;
			pending.clear();
			candles.setData(list);
			volume.setData(list.map(vol));
		},
		// Replace or append the bar at b.time (never older than the last).
		upsert(b) {
			const last = bars[bars.length - 1];
			if (last && b.time < last.time)
				return;
			if (last && b.time === last.time)
				Object.assign(last, b);
			else
				bars.push({ ...b });
			pending.add(bars[bars.length - 1]);
			if (!scheduled) {
				scheduled = true;
				requestAnimationFrame(flush);
			}
		},
		// A trade into the bar of its bucket (tfSec seconds).  Trades only
		// change the bars here; the chart is told once per frame (flush),
		// however many arrive in between.
		trade(ts, price, qty, tfSec) {
			const t = Math.floor(ts / tfSec) * tfSec;
			const last = bars[bars.length - 1];
			if (last && t < last.time)
				return;
			if (last && t === last.time) {
				last.high = Math.max(last.high, price);
				last.low = Math.min(last.low, price);
				last.close = price;
				last.volume += qty;
			} else {
				if (last)
					pending.add(last);	/* its final values */
				bars.push({ time: t, open: price, high: price, low: price, close: price, volume: qty });
			}
			pending.add(bars[bars.length - 1]);
			if (!scheduled) {
				scheduled = true;
				requestAnimationFrame(flush);
			}
		},
		setIndicators(rows) {
			if (!indicators)
				return;
			const line = (k) => rows.filter((r) => r[k] !== null).map((r) => ({ time: r.time, value: r[k] }));
			ov.emaFast.setData(line('ema_fast'));
			ov.emaSlow.setData(line('ema_slow'));
			ov.bbUpper.setData(line('bb_upper'));
			ov.bbMid.setData(line('bb_mid'));
			ov.bbLower.setData(line('bb_lower'));
			ov.rsi.setData(line('rsi'));
		},
		setMarkers(list) {
			if (markers)
				markers.setMarkers(list);
			else
				markers = createSeriesMarkers(candles, list);
		},
		fit() {
			chart.timeScale().fitContent();
		},
		remove() {
			chart.remove();
		},
	};
}

// A line chart (equity) with a histogram pane (drawdown).
export function equityChart(node) {
	const chart = createChart(node, {
		autoSize: true,
		layout: { background: { type: ColorType.Solid, color: '#1e222d' }, textColor: '#d1d4dc', attributionLogo: false },
		grid: { vertLines: { color: '#2a2e39' }, horzLines: { color: '#2a2e39' } },
		timeScale: { timeVisible: true },
	});
	const equity = chart.addSeries(LineSeries, { color: UP, lineWidth: 2 });
	const dd = chart.addSeries(HistogramSeries, { color: DOWN }, 1);
	chart.panes()[1]?.setHeight(80);
	return {
		set(rows) {
			equity.setData(rows.map((r) => ({ time: r.time, value: r.equity })));
			dd.setData(rows.map((r) => ({ time: r.time, value: -100 * r.drawdown })));
			chart.timeScale().fitContent();
		},
		remove() {
			chart.remove();
		},
	};
}

// Frames painted per second, measured with requestAnimationFrame.
export function frameCounter() {
	let frames = 0, since = performance.now(), fps = 0, run = true;
	const tick = (now) => {
		frames++;
		if (now - since >= 1000) {
			fps = (frames * 1000) / (now - since);
			frames = 0;
			since = now;
		}
		if (run)
			requestAnimationFrame(tick);
	};
	requestAnimationFrame(tick);
	return { fps: () => fps, stop: () => { run = false; } };
}
