export { explain, type DecodedValue, type ExplainKind, type Explanation } from './explain.js';
export { locateInDriver, type DriverContext } from './locate.js';
export { renderExplainJson, renderExplainText, type ExplainResult } from './render.js';
