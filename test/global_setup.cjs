// Builds dist/ once before the test files that import the package as users do
// (test/package.test.ts, test/browser/, test/packaging/): they must not build it concurrently.
// Runs limited to other test files skip the build.
const {execFileSync} = require('node:child_process');
const path = require('node:path');

const NEEDS_DIST = /package|browser|packaging/;

function selectedPatterns(globalConfig) {
  const patterns = globalConfig.testPathPatterns;
  if (patterns == null) return [];
  if (Array.isArray(patterns)) return patterns;
  if (Array.isArray(patterns.patterns)) return patterns.patterns;
  return [];
}

module.exports = async function globalSetup(globalConfig) {
  const patterns = selectedPatterns(globalConfig);
  if (patterns.length > 0 && !patterns.some((p) => NEEDS_DIST.test(p))) return;
  const root = path.resolve(__dirname, '..');
  execFileSync(process.execPath, [require.resolve('tsup/dist/cli-default.js', {paths: [root]}), '--silent'], {
    cwd: root, stdio: 'inherit',
  });
};
