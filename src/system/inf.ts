/**
 * Just enough of a driver INF to name its package: the [Version] section's Provider,
 * DriverVer and Class, with %strings% resolved from [Strings] (localised [Strings.*]
 * sections are used when [Strings] lacks the token). INFs come as UTF-16LE with a BOM
 * (common), UTF-8 with or without a BOM, or an ANSI code page (read as Latin-1).
 */
export interface InfFacts {
  provider: string | null;
  /** The version part of DriverVer ("date,version"). */
  driverVersion: string | null;
  /** The date part of DriverVer. */
  driverDate: string | null;
  class: string | null;
}

export function decodeInf(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return new TextDecoder('utf-8').decode(bytes.subarray(3));
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('latin1').decode(bytes);
  }
}

/** Section name (lower case) → key (lower case) → raw value, first occurrence wins. */
function sections(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = stripComment(raw).trim();
    if (!line) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      const name = (header[1] as string).trim().toLowerCase();
      current = out.get(name) ?? new Map<string, string>();
      out.set(name, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq <= 0) continue;
    const key = unquote(line.slice(0, eq).trim()).toLowerCase();
    if (!current.has(key)) current.set(key, line.slice(eq + 1).trim());
  }
  return out;
}

/** ';' starts a comment unless it is inside double quotes. */
function stripComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"') quoted = !quoted;
    else if (line[i] === ';' && !quoted) return line.slice(0, i);
  }
  return line;
}

function unquote(value: string): string {
  const v = value.trim();
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/""/g, '"') : v;
}

export function parseInf(text: string): InfFacts {
  const s = sections(text);
  const version = s.get('version') ?? new Map<string, string>();
  const stringSections = [s.get('strings'), ...[...s.entries()].filter(([n]) => n.startsWith('strings.')).map(([, v]) => v)].filter(
    (m): m is Map<string, string> => m !== undefined,
  );
  const resolve = (raw: string | undefined): string | null => {
    if (raw === undefined) return null;
    const value = unquote(raw).replace(/%([^%]+)%/g, (whole, token: string) => {
      for (const strings of stringSections) {
        const hit = strings.get(token.toLowerCase());
        if (hit !== undefined) return unquote(hit);
      }
      return whole;
    });
    return value.trim() || null;
  };
  const driverVer = resolve(version.get('driverver'));
  const [date, ver] = driverVer ? driverVer.split(',').map((x) => x.trim()) : [];
  return {
    provider: resolve(version.get('provider')),
    driverVersion: ver || null,
    driverDate: date || null,
    class: resolve(version.get('class')),
  };
}
