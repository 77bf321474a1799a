/**
 * The globals the core may use: those that Node and every browser (and its workers) both
 * provide. tsconfig.core.json type-checks src/ (less src/cli) with these and no Node types,
 * so `process`, `Buffer` or `require` there is a type error.
 */
interface TextDecoderOptions {
  fatal?: boolean;
  ignoreBOM?: boolean;
}
declare class TextDecoder {
  constructor(label?: string, options?: TextDecoderOptions);
  decode(input?: ArrayBufferView | ArrayBuffer): string;
}
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
