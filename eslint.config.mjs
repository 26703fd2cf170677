// ESLint (flat config): typescript-eslint's recommended rules, and the layering rule that keeps
// phases/ pure (docs/architecture.md): no engine, database, file system or process imports there.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const impureModules = [
  '@pulumi/*',
  'pg',
  'pg-*',
  'fs',
  'fs/*',
  'node:fs',
  'node:fs/*',
  'child_process',
  'node:child_process',
  'net',
  'node:net',
  'http',
  'node:http',
  '@kubernetes/*',
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'examples/*/node_modules/**',
      'examples/*/bin/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // Tests and the e2e suite read untyped engine output (Pulumi state and events, Kubernetes
    // objects, JSON from the CLI) and poke at what they assert on; `any` there is a reading aid,
    // not a contract. Product code may not use it.
    files: ['test/**/*.ts', 'e2e/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      // Assertions on fixed-column CLI output spell its runs of spaces out.
      'no-regex-spaces': 'off',
      // Tests load modules afresh (jest.isolateModules) and programs by path.
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['phases/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: impureModules,
              message:
                'phases/ is pure (docs/architecture.md): plans as data, no engine, database, file system or process access.',
            },
          ],
        },
      ],
    },
  },
);
