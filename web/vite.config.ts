/**
 * The page: `npm run web` serves it for development, `npm run build:web` writes dist-web/,
 * static files that can be hosted anywhere (relative URLs, no server code).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { REPORT_CSS } from '../src/report/html.js';
import { icedWeb } from './iced-plugin.js';

/**
 * What the built page may do: its own scripts, worker, stylesheet and WebAssembly, nothing
 * from anywhere else, and no inline script or style. (The dev server injects inline styles
 * and a client script, so it runs without it.)
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

function contentSecurityPolicy(): Plugin {
  return {
    name: 'hvci-csp',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY }, injectTo: 'head-prepend' }],
  };
}

/** The HTML report's stylesheet as a CSS file of the page (one stylesheet for both). */
function reportCss(): Plugin {
  const id = 'virtual:report.css';
  return {
    name: 'hvci-report-css',
    resolveId: (source) => (source === id ? `\0${id}` : null),
    load: (resolved) => (resolved === `\0${id}` ? REPORT_CSS : null),
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [icedWeb(), reportCss(), contentSecurityPolicy()],
  worker: { format: 'es', plugins: () => [icedWeb()] },
  build: {
    outDir: fileURLToPath(new URL('../dist-web', import.meta.url)),
    emptyOutDir: true,
    // The decoder's WebAssembly is a file of its own, fetched from the page's origin.
    assetsInlineLimit: 0,
    target: 'es2022',
  },
});
