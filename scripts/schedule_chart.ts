/**
 * Draws docs/images/schedules.svg: the target sparsity of ConstantSparsity and PolynomialDecay
 * over 1,200 steps, with the steps where masks are recomputed.
 *
 * Run: npx tsx scripts/schedule_chart.ts
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {fileURLToPath} from 'node:url';

import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

import {ConstantSparsity, PolynomialDecay, PruningSchedule} from '../src';

const schedules: [string, PruningSchedule][] = [
  ['ConstantSparsity(0.7, begin 200, frequency 100)',
    new ConstantSparsity({targetSparsity: 0.7, beginStep: 200, frequency: 100})],
  ['PolynomialDecay(0.4 -> 0.7, 0 -> 1000, power 3, frequency 100)',
    new PolynomialDecay({initialSparsity: 0.4, finalSparsity: 0.7, beginStep: 0, endStep: 1000})],
  ['PolynomialDecay(0 -> 0.8, 0 -> 1000, power 1, frequency 100)',
    new PolynomialDecay({initialSparsity: 0, finalSparsity: 0.8, beginStep: 0, endStep: 1000, power: 1})],
];

const rows = schedules.flatMap(([name, schedule]) => Array.from({length: 1201}, (_, step) => {
  const {shouldPrune, sparsity} = schedule.call(step);
  return {schedule: name, step, sparsity, update: shouldPrune ? sparsity : null};
}));

const spec: vegaLite.TopLevelSpec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  width: 640,
  height: 280,
  data: {values: rows},
  encoding: {
    x: {field: 'step', type: 'quantitative', title: 'training step'},
    color: {field: 'schedule', type: 'nominal', legend: {orient: 'bottom', columns: 1, title: null, labelLimit: 0}},
  },
  layer: [
    {mark: {type: 'line', strokeWidth: 2},
      encoding: {y: {field: 'sparsity', type: 'quantitative', title: 'target sparsity', scale: {domain: [0, 1]}}}},
    {mark: {type: 'point', filled: true, size: 30},
      transform: [{filter: 'datum.update !== null'}],
      encoding: {y: {field: 'update', type: 'quantitative'}}},
  ],
  title: 'Target sparsity per step (dots: masks recomputed)',
};

async function main(): Promise<void> {
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), {renderer: 'none'});
  const svg = await view.toSVG();
  const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docs/images/schedules.svg');
  fs.writeFileSync(out, svg);
  console.log(`wrote ${out} (${svg.length} bytes)`);
}

main();
