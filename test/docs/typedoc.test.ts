// The API reference builds with no warning: every exported name is documented (typedoc.json treats
// missing documentation, broken links and unexported references as errors).
import {execFileSync} from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');

it('builds the typedoc API reference without warnings', () => {
  const typedoc = path.join(root, 'node_modules/typedoc/bin/typedoc');
  expect(() => execFileSync(process.execPath, [typedoc, '--emit', 'none'], {cwd: root, stdio: 'pipe'})).not.toThrow();
}, 120000);
