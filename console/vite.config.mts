/// <reference types="vitest/config" />
import { defineConfig } from 'vite';

// The console is served by the hub at /console (src/console/console-static.ts), so every asset URL starts there.
// JSX goes through Vite's own transform (no React plugin: the build needs no Babel and no fast refresh).
export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Never inline assets as data: URLs: the CSP allows img-src data:, but fonts/scripts must come from 'self'.
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: true,
    rolldownOptions: {
      // TanStack Query marks its modules "use client" for React Server Components; meaningless in a SPA bundle.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  test: {
    root: import.meta.dirname,
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
