import { isAbsolute, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SCAN_ROOT_ID, type SarifLocation, type SarifOptions } from '../report/sarif.js';

/**
 * SARIF locations: a file under the scan root (default: the current directory, where CI
 * runs from the checkout) gets a relative URI against SCANROOT, which is what GitHub code
 * scanning needs to place the alert; anything else gets an absolute file: URI.
 */
export function sarifPaths(root: string): Required<Pick<SarifOptions, 'locate' | 'rootUri'>> {
  const absRoot = resolve(root);
  const rootUri = pathToFileURL(absRoot).href.replace(/\/?$/, '/');
  const locate = (path: string): SarifLocation => {
    const abs = resolve(path);
    const rel = relative(absRoot, abs);
    if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) {
      return { uri: rel.split(sep).map(encodeURIComponent).join('/'), uriBaseId: SCAN_ROOT_ID };
    }
    return { uri: pathToFileURL(abs).href };
  };
  return { locate, rootUri };
}
