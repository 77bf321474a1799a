/**
 * The web loader of iced-x86 (stands in for src/analysis/iced.ts in the page; see
 * web/iced-plugin.ts): the same API and the same WebAssembly as the npm build, the .wasm
 * fetched from the page's own origin once, before the first decode.
 */
import wasmUrl from 'iced-x86/iced_x86_bg.wasm?url';
import { instantiateIced } from 'virtual:iced-x86';

export * from 'virtual:iced-x86';

let ready: Promise<void> | undefined;

/** Fetches, compiles and instantiates the decoder's WebAssembly (once). */
export function decoderReady(): Promise<void> {
  ready ??= (async () => {
    const response = await fetch(wasmUrl);
    if (!response.ok) throw new Error(`the decoder (${wasmUrl}) could not be loaded: HTTP ${response.status}`);
    // compile() rather than compileStreaming(): static hosts do not all send application/wasm.
    instantiateIced(await WebAssembly.compile(await response.arrayBuffer()));
  })();
  return ready;
}
