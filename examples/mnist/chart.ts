/**
 * schedule.svg: the schedule's target sparsity and the measured sparsity at
 * each pruning step, above the validation accuracy per epoch. A vega-lite
 * spec compiled to vega and rendered to SVG without a browser.
 */
import * as vega from 'vega';
import {compile} from 'vega-lite';
import type {TopLevelSpec} from 'vega-lite';

/** One point of a sparsity curve. */
export interface SparsityPoint {
  step: number;
  sparsity: number;
}

/** Validation accuracy at the end of one epoch, numbered across the phases. */
export interface EpochAccuracy {
  epoch: number;
  phase: 'baseline' | 'pruning' | 'clustering';
  valAccuracy: number;
}

/** What the chart shows. */
export interface ChartData {
  /** The schedule's target at every step of the pruning phase. */
  target: SparsityPoint[];
  /** The measured sparsity of the pruned kernels (all of them together) at the recorded steps. */
  measured: SparsityPoint[];
  validation: EpochAccuracy[];
  /** A subtitle, e.g. the schedule's parameters. */
  subtitle: string;
}

const WIDTH = 640;
const TARGET = 'schedule target';
const MEASURED = 'measured, at mask updates';

/** The vega-lite spec of the chart. */
export function buildChartSpec(data: ChartData): TopLevelSpec {
  const sparsityRows = [
    ...data.target.map((p) => ({...p, series: TARGET})),
    ...data.measured.map((p) => ({...p, series: MEASURED})),
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {text: 'MNIST CNN: PolynomialDecay pruning', subtitle: data.subtitle},
    background: 'white',
    resolve: {scale: {color: 'independent'}, legend: {color: 'independent'}},
    vconcat: [
      {
        width: WIDTH,
        height: 260,
        data: {values: sparsityRows},
        encoding: {
          x: {field: 'step', type: 'quantitative', title: 'training step of the pruning phase'},
          y: {field: 'sparsity', type: 'quantitative', title: 'sparsity', scale: {domain: [0, 1]},
            axis: {format: '.0%'}},
          color: {field: 'series', type: 'nominal', title: null, legend: {orient: 'bottom-right', labelLimit: 0}},
        },
        layer: [
          {transform: [{filter: `datum.series === '${TARGET}'`}], mark: {type: 'line'}},
          {
            transform: [{filter: `datum.series === '${MEASURED}'`}],
            mark: {type: 'line', interpolate: 'step-after', point: true},
          },
        ],
      },
      {
        width: WIDTH,
        height: 180,
        data: {values: data.validation},
        mark: {type: 'line', point: true},
        encoding: {
          x: {field: 'epoch', type: 'quantitative', title: 'epoch (baseline, then pruning)', axis: {tickMinStep: 1}},
          y: {field: 'valAccuracy', type: 'quantitative', title: 'validation accuracy', scale: {zero: false},
            axis: {format: '.1%'}},
          color: {field: 'phase', type: 'nominal', title: null, legend: {orient: 'bottom-right', labelLimit: 0}},
        },
      },
    ],
  };
}

/** Renders a vega-lite spec to an SVG string, headless. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), {renderer: 'none'});
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
