/**
 * How the decoder obtains iced-x86: the one import of the library, so a bundler can swap it.
 *
 * This file is the Node loader: iced-x86's npm build, which reads its WebAssembly with `fs`
 * when it is imported. The page (web/) replaces this module with web/src/iced-web.ts, which
 * exports the same API from the same WebAssembly, fetched from the page's own origin;
 * web/iced-plugin.ts does the swap, and test/web/core-bundle.test.ts proves the core then
 * bundles for a browser with no Node built-in.
 */
export * from 'iced-x86';

/** Resolves when the decoder can be used; in Node it is ready as soon as it is imported. */
export function decoderReady(): Promise<void> {
  return Promise.resolve();
}
