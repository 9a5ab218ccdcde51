// A child process for the save tests (test/io/atomic_save.test.ts): saves models of
// test/io/save_models.ts into a folder with fileSystem, so that the test can kill it mid-save, limit
// its file size, or run two of them at once. Run it with `node --import tsx` (not the tsx binary,
// which runs the script in a second process that a SIGKILL of the first would not reach):
//
//   node --import tsx test/io/save_worker.ts <dir> <count> <model> [<model> ...]
//
// Saves the models in turn, `count` saves in all (0: until killed). Prints "ready" once the models
// are built and "saved <model>" after each save; on an error, prints its message to stderr and
// exits with code 2.
import {fileSystem} from '../../src/io/file_system';
import {MODELS} from './save_models';

// A write beyond `ulimit -f` raises SIGXFSZ, which would kill the process; ignored, the write fails
// with EFBIG instead (Node ignores it already; this keeps it so).
process.on('SIGXFSZ', () => undefined);

async function main(): Promise<void> {
  const [dir, countText, ...names] = process.argv.slice(2);
  const models = names.map((name) => {
    const build = MODELS[name];
    if (build === undefined) throw new Error(`save_worker: unknown model "${name}"`);
    return {name, artifacts: build()};
  });
  const count = Number(countText);
  const handler = fileSystem(dir);
  process.stdout.write('ready\n');
  for (let i = 0; count === 0 || i < count; i++) {
    const {name, artifacts} = models[i % models.length];
    await handler.save(artifacts);
    process.stdout.write(`saved ${name}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
