// The token activity chart: uPlot bars of tokens issued and refused per bucket, resized with its box.
import { type ReactNode, useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Buckets } from '../lib/buckets.js';

const HEIGHT = 240;

function options(width: number, bucketMs: number): uPlot.Options {
  // Side by side in each bucket: issued left of its middle, refused right of it.
  const series = (label: string, color: string, align: -1 | 1): uPlot.Series => {
    const bars = uPlot.paths.bars?.({ size: [0.45, 32], align });
    return {
      label,
      stroke: color,
      fill: `${color}99`,
      width: 1,
      ...(bars === undefined ? {} : { paths: bars }),
      points: { show: false },
    };
  };
  const half = bucketMs / 2000;
  return {
    width,
    height: HEIGHT,
    scales: {
      // x values are bucket middles: the axis runs from the first bucket's start to the last's end.
      x: { time: true, range: (_u, min, max) => [min - half, max + half] },
      y: { range: (_u, _min, max) => [0, Math.max(4, max)] },
    },
    axes: [
      {},
      {
        label: `tokens per ${String(bucketMs / 1000)} s`,
        size: 60,
        incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      },
    ],
    series: [{}, series('issued', '#2f7d4f', -1), series('refused', '#b3261e', 1)],
    cursor: { drag: { x: false, y: false } },
  };
}

/** Draws `buckets`; the figure around it carries the text alternative. */
export function Timeline(props: {
  readonly buckets: Buckets;
  readonly bucketMs: number;
}): ReactNode {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const { buckets, bucketMs } = props;
  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const chart = new uPlot(options(Math.max(280, el.clientWidth), bucketMs), [[], [], []], el);
    plot.current = chart;
    const observer = new ResizeObserver(() => {
      chart.setSize({ width: Math.max(280, el.clientWidth), height: HEIGHT });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [bucketMs]);
  useEffect(() => {
    const middles = buckets.starts.map((start) => start + bucketMs / 2000);
    plot.current?.setData([middles, buckets.issued, buckets.refused]);
  }, [buckets, bucketMs]);
  return <div ref={box} className="timeline" aria-hidden="true" />;
}
