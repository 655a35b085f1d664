import { useEffect, useRef, useSyncExternalStore } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { LossSeries } from '../../state/trainRun';

const HEIGHT = 220;
const STEP_TICKS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000];
const darkQuery = () => globalThis.matchMedia?.('(prefers-color-scheme: dark)');
const subscribeScheme = (notify: () => void) => {
  const query = darkQuery();
  query?.addEventListener('change', notify);
  return () => query?.removeEventListener('change', notify);
};
const isDark = () => darkQuery()?.matches ?? false;

/**
 * Raw and smoothed loss per step (uPlot: canvas, cheap to redraw at every step). The raw curve of batch-size-1
 * diffusion training is mostly noise (each step draws a random timestep); the smoothed one shows the trend.
 * Colours come from the page's CSS variables and follow light/dark; the chart is rebuilt when the scheme changes.
 */
export function LossChart({ loss }: { loss: LossSeries }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const dark = useSyncExternalStore(subscribeScheme, isDark);
  const latest = useRef(loss);
  latest.current = loss;

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const css = getComputedStyle(el);
    const color = (name: string) => css.getPropertyValue(name).trim();
    const axis = { stroke: color('--muted'), grid: { stroke: color('--border'), width: 1 }, ticks: { stroke: color('--border'), width: 1 } };
    const options: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: HEIGHT,
      scales: { x: { time: false } },
      // Steps are whole numbers: ticks at 1, 2, 5, 10, 20, 50 … never 2.5.
      axes: [
        { ...axis, label: 'step', incrs: STEP_TICKS },
        { ...axis, label: 'loss', size: 60 },
      ],
      series: [
        { label: 'step' },
        { label: 'loss', stroke: color('--muted'), width: 1, alpha: 0.6, points: { show: false } },
        { label: 'smoothed', stroke: color('--accent'), width: 2, points: { show: false } },
      ],
      cursor: { drag: { x: false, y: false } },
    };
    const chart = new uPlot(options, [latest.current.steps, latest.current.raw, latest.current.smoothed], el);
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [dark]);

  useEffect(() => {
    plot.current?.setData([loss.steps, loss.raw, loss.smoothed]);
  }, [loss]);

  const n = loss.steps.length;
  const summary =
    n === 0
      ? 'Loss chart: no steps yet.'
      : `Loss chart: ${n} steps; at step ${loss.steps[n - 1]} loss ${loss.raw[n - 1]!.toFixed(4)}, smoothed ${loss.smoothed[n - 1]!.toFixed(4)}.`;
  return (
    <figure className="loss-chart" data-testid="loss-chart" data-points={n}>
      <div ref={host} role="img" aria-label={summary} />
      <figcaption className="hint">
        {n === 0 ? 'The loss appears here from the first step.' : summary.replace('Loss chart: ', '')} Lower is better; the smoothed line shows the trend.
      </figcaption>
    </figure>
  );
}
