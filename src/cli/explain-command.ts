import { readFile } from 'node:fs/promises';
import { analyze } from '../analyze.js';
import { explain, type ExplainResult, locateInDriver, renderExplainJson, renderExplainText } from '../explain/index.js';
import { parsePe } from '../pe/index.js';
import './node-digests.js'; // native digests for the core (src/digest)

export interface ExplainFlags {
  input?: string;
  driver?: string;
  base?: bigint;
  format: 'text' | 'json';
}

/** Reads what Windows said (words on the command line, a file, or stdin) and explains it. */
export async function runExplain(words: readonly string[], flags: ExplainFlags): Promise<{ text: string; recognised: boolean }> {
  const text = await inputText(words, flags.input);
  const result: ExplainResult = { explanations: explain(text) };
  if (flags.driver !== undefined) {
    const bytes = new Uint8Array(await readFile(flags.driver));
    const report = analyze(bytes, { path: flags.driver });
    const parsed = parsePe(bytes);
    const image = parsed.ok ? parsed.image : undefined;
    result.driver = result.explanations.map((e) =>
      e.ruleIds.length > 0 || e.callerAddress !== undefined ? locateInDriver(e, report, image, flags.base) : undefined,
    );
  }
  return { text: flags.format === 'json' ? renderExplainJson(result) : renderExplainText(result), recognised: result.explanations.length > 0 };
}

async function inputText(words: readonly string[], input: string | undefined): Promise<string> {
  const parts: string[] = [];
  if (words.length > 0) parts.push(words.join(' '));
  if (input !== undefined) parts.push(input === '-' ? await readStdin() : await readFile(input, 'utf8'));
  if (parts.length === 0) {
    if (process.stdin.isTTY) throw new UsageError('nothing to explain: paste the text after "hvci explain", pipe it in, or use --input FILE');
    parts.push(await readStdin());
  }
  return parts.join('\n');
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export class UsageError extends Error {}
