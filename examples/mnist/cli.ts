/**
 * Command line of the MNIST example: `npm run example` (a short run) or
 * `npm run example:full` (the article's settings). See README.md.
 *
 * Exit codes: 0 done, 1 failed while running, 2 bad options or data.
 */
import {DataError} from './data';
import {OptionsError, parseCliArgs, USAGE} from './options';
import {runPipeline} from './pipeline';
import {formatReport} from './report';

async function main(argv: string[]): Promise<number> {
  const request = parseCliArgs(argv);
  if (request.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const results = await runPipeline(request.options);
  for (const line of formatReport(results)) console.log(line);
  return 0;
}

function exitCodeFor(error: unknown): number {
  return error instanceof OptionsError || error instanceof DataError ? 2 : 1;
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, (error: unknown) => {
  const code = exitCodeFor(error);
  const message = error instanceof Error ? error.message : String(error);
  console.error(`mnist example: ${message.split('\n')[0]}`);
  if (code === 1 && error instanceof Error && error.stack) console.error(error.stack);
  process.exitCode = code;
});
