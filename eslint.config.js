// Lint: typescript-eslint's recommended rules plus the dependency direction of ARCHITECTURE.md:
// cli -> runtime -> capabilities -> ports <- adapters. Only src/runtime/registry.ts imports adapters.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const capabilities = ['gateway', 'crud', 'saga', 'projections', 'eventsourcing'];
const layer = (name) => [`**/${name}/**`, `**/${name}/*`, `../${name}`, `../../${name}`];
const forbid = (names, message) => ({ group: names.flatMap(layer), message });

const capabilityRules = capabilities.map((cap) => ({
  files: [`src/${cap}/**/*.ts`],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [
        forbid(capabilities.filter((c) => c !== cap), 'A capability never imports another capability (STYLE §1); share through ports.'),
        forbid(['adapters'], 'Capabilities depend on ports, never on adapters (STYLE §1).'),
        forbid(['runtime', 'cli'], 'Dependencies flow cli -> runtime -> capabilities (STYLE §1).'),
        { group: ['mongodb', 'kafkajs', 'lmdb'], message: 'Drivers are used only by adapters.' },
      ],
    }],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', '.bench-dist/**', 'node_modules/**', 'coverage/**', 'examples/**/*.js', '**/.data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly', fetch: 'readonly', performance: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-console': 'off',
      eqeqeq: ['error', 'smart'],
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'Only src/cli/main.ts decides the exit code.' }],
    },
  },
  {
    files: ['src/cli/main.ts', 'src/runtime/signals.ts', 'scripts/**', 'bench/**', 'test/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  ...capabilityRules,
  {
    files: ['src/ports/**/*.ts', 'src/outbox/**/*.ts', 'src/resilience/**/*.ts', 'src/http/**/*.ts', 'src/config/**/*.ts', 'src/expressions/**/*.ts', 'src/bus/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          forbid([...capabilities, 'adapters', 'runtime', 'cli'], 'Ports and shared libraries sit below capabilities, runtime and adapters (STYLE §1).'),
          { group: ['mongodb', 'kafkajs', 'lmdb'], message: 'Drivers are used only by adapters.' },
        ],
      }],
    },
  },
  {
    files: ['src/adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [forbid([...capabilities, 'runtime', 'cli'], 'Adapters implement ports; they never import capabilities, the runtime or the CLI (STYLE §1).')],
      }],
    },
  },
  {
    files: ['src/runtime/**/*.ts'],
    ignores: ['src/runtime/registry.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [forbid(['adapters'], 'Only src/runtime/registry.ts imports adapters (STYLE §3).'), forbid(['cli'], 'The runtime never imports the CLI.')],
      }],
    },
  },
);
