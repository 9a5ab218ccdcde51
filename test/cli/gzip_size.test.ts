// The command line measures sizes with Node's zlib: the same figure as getGzippedModelSize (pako).
import {gzippedModelSize} from '../../src/cli/gzip_size';
import {getGzippedModelSize} from '../../src/io/gzipped_size';
import {loadHumanModel} from '../artifacts/fixtures';

it('measures the same gzipped size as getGzippedModelSize', async () => {
  const artifacts = loadHumanModel('liveness');
  expect(await gzippedModelSize(artifacts)).toBe(548573);
  expect(await getGzippedModelSize(artifacts)).toBe(548573);
});
