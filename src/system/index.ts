export { type DriverPackage, type SavedOutput, type SystemDriver, systemFromOutputs, type SystemInput, type SystemReport, type SystemState } from './from-outputs.js';
export { renderSystemJson, renderSystemText } from './render.js';
export { renderSystemHtml } from './html.js';
