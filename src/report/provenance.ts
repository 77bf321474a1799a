import type { VersionInfo } from '../pe/index.js';
import type { SignatureInfo, SignatureReport } from '../signature/index.js';

/**
 * One line on who signed a file: "signed by <CN>, issued by <CN> (timestamp …)", then any
 * further signatures, or "unsigned". Used by the text and HTML reports alike. It describes
 * the signature; it does not say the signature is valid or trusted (nothing checks that).
 */
export function signatureLine(signature: SignatureReport | undefined): string | undefined {
  if (!signature) return undefined;
  if (!signature.present) return 'unsigned';
  const [first, ...rest] = signature.signatures;
  if (!first) return 'has a certificate table, but no signature could be read (see problems)';
  const more = rest.map((s) => `; also signed by ${nameOf(s)}${timestampOf(s)}`).join('');
  return `signed by ${describe(first)}${more}`;
}

function describe(s: SignatureInfo): string {
  const issuer = s.chain[1]?.commonName ?? issuerCn(s);
  const changed = s.digestMatches === false ? ' — the file was changed after signing (its image hash differs from the signed one)' : '';
  return `${nameOf(s)}${issuer ? `, issued by ${issuer}` : ''}${timestampOf(s)}${changed}`;
}

const nameOf = (s: SignatureInfo) => s.signer?.commonName ?? s.signer?.subject ?? 'an unknown signer (certificate not in the signature)';

function issuerCn(s: SignatureInfo): string | undefined {
  const m = /(?:^|, )CN=([^,]+)/.exec(s.signer?.issuer ?? '');
  return m?.[1];
}

function timestampOf(s: SignatureInfo): string {
  if (!s.timestamp) return ' (no timestamp)';
  return ` (timestamp ${s.timestamp.time.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')})`;
}

/** "SystemInformer.sys 4.0.1.0 · System Informer · System Informer", or undefined without a version resource. */
export function versionLine(version: VersionInfo | null | undefined): string | undefined {
  if (!version) return undefined;
  const name = version.originalFilename ?? version.internalName;
  const ver = version.fixedFileVersion ?? version.fileVersion;
  const parts = [
    [name, ver].filter(Boolean).join(' '),
    version.companyName,
    version.productName && version.productName !== version.companyName ? version.productName : undefined,
  ].filter((p): p is string => !!p);
  return parts.length ? parts.join(' · ') : undefined;
}
