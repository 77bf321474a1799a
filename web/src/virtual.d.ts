/** iced-x86's glue as an ES module (web/iced-plugin.ts): its API plus the late instantiation. */
declare module 'virtual:iced-x86' {
  export * from 'iced-x86';
  export function instantiateIced(wasmModule: WebAssembly.Module): void;
}

/** The HTML report's stylesheet (src/report/html.ts), as a CSS file of the page. */
declare module 'virtual:report.css';
