import {defineConfig} from 'tsup';

export default defineConfig({
  entry: {index: 'src/index.ts', node: 'src/node.ts', cli: 'src/cli/bin.ts'},
  format: ['esm', 'cjs'],
  dts: {compilerOptions: {types: []}},
  tsconfig: 'tsconfig.build.json',
  sourcemap: false,
  clean: true,
  splitting: true,
  target: 'es2020',
  external: [/^@tensorflow\//, /^node:/],
});
