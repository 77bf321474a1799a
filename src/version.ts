/** Kept equal to package.json's version by test/version.test.ts (the core cannot read files). */
export const TOOL_NAME = 'hvci';
export const TOOL_VERSION = '0.1.0';
export const INFORMATION_URI = 'https://www.npmjs.com/package/hvci';
