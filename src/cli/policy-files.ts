import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import { type Baseline, type Config, ConfigError, matchesAny, parseBaseline, parseConfig } from '../config/index.js';
import { BlocklistError, type BlocklistIndex } from '../blocklist/index.js';
import { rules } from '../rules/index.js';

export const DEFAULT_CONFIG = 'hvci.config.json';

/** The config named by --config, else ./hvci.config.json when it exists, else none. */
export async function loadConfig(path: string | undefined): Promise<{ config?: Config; path?: string }> {
  const file = path ?? (existsSync(DEFAULT_CONFIG) ? DEFAULT_CONFIG : undefined);
  if (file === undefined) return {};
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read the config: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { config: parseConfig(text, file, rules.map((r) => r.meta.id)), path: file };
}

export async function loadBaseline(path: string): Promise<Baseline> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${path}: cannot read the baseline: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    return parseBaseline(text, path);
  } catch (e) {
    throw new ConfigError(e instanceof Error ? e.message : String(e));
  }
}

/** --blocklist FILE: a SiPolicy XML; unreadable or not a policy is a usage error (exit 2). */
export async function loadBlocklist(path: string): Promise<BlocklistIndex> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${path}: cannot read the blocklist: ${e instanceof Error ? e.message : String(e)}`);
  }
  // The XML parser is loaded only for --blocklist: every other scan uses the bundled index.
  const { parseBlocklistXml } = await import('../blocklist/policy-xml.js');
  try {
    return parseBlocklistXml(text, path);
  } catch (e) {
    if (e instanceof BlocklistError) throw new ConfigError(`${path}: not a usable driver block policy: ${e.message}`);
    throw e;
  }
}

/** Paths as globs see them: relative to the current directory, with "/". */
export function relativePath(path: string): string {
  return relative(process.cwd(), resolve(path)).split(sep).join('/');
}

export function ignoreFilter(config: Config | undefined): ((path: string) => boolean) | undefined {
  const globs = config?.ignore;
  if (!globs || globs.length === 0) return undefined;
  return (path) => matchesAny(relativePath(path), globs);
}
