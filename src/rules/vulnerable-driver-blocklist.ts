import { bundledBlocklist, type BlocklistMatch, matchBlocklist } from '../blocklist/index.js';
import { digestHex } from '../digest/index.js';
import { readSignature } from '../signature/index.js';
import { defineRule } from './types.js';

/** Said in every message: a blocklist hit is about a known vulnerability, not about how the code uses memory. */
const NOT_COMPATIBILITY =
  'This is a different question from code compatibility: rebuilding for HVCI does not help, the block applies whenever the blocklist is enforced.';

export default defineRule({
  meta: {
    id: 'vulnerable-driver-blocklist',
    defaultSeverity: 'error',
    docs: {
      title: 'Driver is on Microsoft\'s vulnerable driver blocklist',
      description:
        'Matches the driver against Microsoft\'s recommended driver block rules (the "Microsoft Windows Driver Policy"; ' +
        'a copy is bundled, `--blocklist FILE` takes a newer XML): the deny rules of the kernel-mode scenario by Authenticode ' +
        'hash (SHA-1, SHA-256 and the two first-page hashes; the flat file hash too when the image is malformed for Authenticode, as Windows falls back to it), by OriginalFilename and version range, and denied signers by ' +
        'a certificate TBS hash in the signature chain, narrowed by publisher (leaf CN), OEM name and FileAttrib (name + ' +
        'version range). The finding names the rule, its FriendlyName and the policy version. It says nothing about how the ' +
        'driver uses memory: Windows refuses these drivers because they are known to be exploitable.',
      resolution:
        'Remove the driver (pnputil /delete-driver oemNN.inf /uninstall) or install a fixed version from the vendor that the blocklist does not name; changing how it is built does not help.',
      ruleBook: '§7 "Vulnerable driver blocklist" (the rule id is issue 9\'s)',
      why:
        'Attackers who are already administrators load old, signed drivers with known flaws ("bring your own vulnerable driver") to ' +
        'reach the kernel. Microsoft keeps a list of such drivers and Windows refuses to load them whenever the list is enforced: on ' +
        'by default since Windows 11 22H2, and always while memory integrity, Smart App Control or S mode is on (rule book §7). So a ' +
        'listed driver stops working the moment Memory Integrity is turned on, even when its code is fully compatible.',
      unconfirmed:
        'How Windows matches a signer rule\'s CertOemID is not documented; hvci compares it with the Microsoft hardware signature\'s ' +
        'program name (SpcSpOpusInfo), which carries the submitting company.',
      related: 'Windows Security "Microsoft Vulnerable Driver Blocklist"; App Control (WDAC) policy deny rules',
    },
    messages: {
      hash:
        'Windows blocks this driver because it is known to be exploitable: its Authenticode {variant} hash {hash} is on Microsoft\'s ' +
        'vulnerable driver blocklist (rule {ruleId}, "{friendlyName}"; policy {policyVersion}). ' +
        NOT_COMPATIBILITY,
      fileName:
        'Windows blocks this driver because it is known to be exploitable: Microsoft\'s vulnerable driver blocklist denies ' +
        '{fileName} version {version} (rule {ruleId}, "{friendlyName}", versions {range}; policy {policyVersion}). ' +
        NOT_COMPATIBILITY,
      signer:
        'Windows blocks this driver because it is known to be exploitable: Microsoft\'s vulnerable driver blocklist denies drivers ' +
        'signed through "{certificate}"{narrowing} (signer {ruleId}, "{friendlyName}"; policy {policyVersion}). ' +
        NOT_COMPATIBILITY,
    },
  },
  // The rules checked are those of the policy's kernel-mode signing scenario: drivers only.
  appliesTo: (_image, { classification: c }) =>
    c.kernelMode ? true : `not kernel-mode code (${c.kind}): the block rules checked are the kernel-mode scenario's, which covers drivers only`,
  check(image, ctx) {
    const index = ctx.options.blocklist ?? bundledBlocklist();
    const { signature } = readSignature(image);
    // Only for images Authenticode cannot hash as specified: Windows then hashes the flat file.
    const flat = signature.hashes.irregularities.length > 0 ? image.view.bytes : undefined;
    const matches = matchBlocklist(index, {
      hashes: signature.hashes,
      ...(flat ? { flatHashes: { sha1: digestHex('SHA-1', flat), sha256: digestHex('SHA-256', flat) } } : {}),
      version: image.versionInfo,
      signatures: signature.signatures,
    });
    const policyVersion = `${index.policy.name} ${index.policy.version}`;
    for (const m of matches) {
      const evidence = { blocklist: blocklistEvidence(m, index.policy) };
      if (m.kind === 'hash') {
        ctx.report(
          'hash',
          { variant: m.variant, hash: m.rule.hash.toUpperCase(), ruleId: m.rule.id, friendlyName: m.rule.friendlyName, policyVersion },
          { evidence },
        );
      } else if (m.kind === 'file-name') {
        ctx.report(
          'fileName',
          {
            fileName: m.fileName,
            version: m.version,
            ruleId: m.rule.id,
            friendlyName: m.rule.friendlyName,
            range: rangeText(m.rule.min, m.rule.max),
            policyVersion,
          },
          { evidence },
        );
      } else {
        const narrowing = [
          m.rule.publisher ? ` with publisher "${m.rule.publisher}"` : '',
          m.rule.oemId ? ` for OEM "${m.rule.oemId}"` : '',
          m.fileAttrib ? ` for ${m.fileAttrib.fileName ?? m.fileAttrib.productName ?? m.fileAttrib.internalName} versions ${rangeText(m.fileAttrib.min, m.fileAttrib.max)} (${m.fileAttrib.id})` : '',
        ].join('');
        ctx.report(
          'signer',
          { certificate: m.certificate, narrowing, ruleId: m.rule.id, friendlyName: m.rule.name, policyVersion },
          // The OEM-name match rests on an undocumented reading of CertOemID: one severity lower.
          { evidence, ...(m.rule.oemId ? { severity: 'warning' as const } : {}) },
        );
      }
    }
  },
});

function rangeText(min: string | undefined, max: string | undefined): string {
  if (min && max) return `${min}–${max}`;
  if (min) return `up to ${min}`;
  if (max) return `${max} and later`;
  return 'all';
}

function blocklistEvidence(m: BlocklistMatch, policy: { name: string; version: string; source?: string }): Record<string, unknown> {
  const base = { policy: policy.name, policyVersion: policy.version, ...(policy.source ? { source: policy.source } : {}), ruleId: m.rule.id, kind: m.kind };
  if (m.kind === 'hash') return { ...base, friendlyName: m.rule.friendlyName, variant: m.variant, hash: m.rule.hash };
  if (m.kind === 'file-name') return { ...base, friendlyName: m.rule.friendlyName, fileName: m.fileName, version: m.version, min: m.rule.min, max: m.rule.max };
  return {
    ...base,
    friendlyName: m.rule.name,
    certificate: m.certificate,
    certRoot: m.rule.certRoot,
    ...(m.rule.publisher ? { publisher: m.rule.publisher } : {}),
    ...(m.rule.oemId ? { oemId: m.rule.oemId } : {}),
    ...(m.fileAttrib ? { fileAttrib: m.fileAttrib } : {}),
  };
}
