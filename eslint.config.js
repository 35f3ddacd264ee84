import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'tools/bin/**', '.infra/**', '.cache/**', '.schemathesis/**', 'schemathesis-report/**', '.k8s-render/**', 'charts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', fetch: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', setImmediate: 'readonly', queueMicrotask: 'readonly', performance: 'readonly', NodeJS: 'readonly', Response: 'readonly', Headers: 'readonly', RequestInit: 'readonly', AbortController: 'readonly', structuredClone: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // The gateway's image installs neither Koa nor the MongoDB driver (tools/k8s/image-dependencies.test.ts).
    files: ['services/gateway/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: ['@chat/common/koa', '@chat/common/mongo', 'koa', '@koa/router', 'koa-bodyparser', 'mongodb'].map((name) => ({ name, message: 'the gateway has neither Koa nor MongoDB' })),
      }],
    },
  },
  {
    // The clients run in the browser too: of @chat/common only the contracts, which import nothing.
    files: ['clients/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@chat/common/*', '!@chat/common/contracts'], message: 'a client imports only @chat/common/contracts' }] }],
    },
  },
);
