/**
 * SiPolicy XML to a BlocklistIndex: only for --blocklist and `npm run blocklist` (the CLI imports
 * it when it needs it), so scans with the bundled index never load the XML parser.
 */
import { XMLParser } from 'fast-xml-parser';
import { BlocklistError, type BlocklistIndex, type FileAttrib, type PolicyInfo, type SignerRule, type VersionRange } from './policy.js';

/** The kernel-mode signing scenario. */
const KERNEL_SCENARIO = '131';

type Node = Record<string, unknown>;
const ARRAYS = new Set([
  'Deny',
  'Allow',
  'FileAttrib',
  'Signer',
  'CertRoot',
  'FileAttribRef',
  'SigningScenario',
  'FileRuleRef',
  'DeniedSigner',
  'Setting',
]);

/** Parses SiPolicy XML. Throws BlocklistError with a one-line reason when it is not one. */
export function parseBlocklistXml(xml: string, source?: string): BlocklistIndex {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseTagValue: false,
    parseAttributeValue: false,
    removeNSPrefix: true,
    isArray: (name) => ARRAYS.has(name),
  });
  let doc: Node;
  try {
    doc = parser.parse(xml.replace(/^\uFEFF/, ''), true) as Node;
  } catch (e) {
    throw new BlocklistError(`not well-formed XML: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  const policy = doc.SiPolicy as Node | undefined;
  if (!policy || typeof policy !== 'object') throw new BlocklistError('no <SiPolicy> root element: not a code-integrity policy');
  const fileRules = (policy.FileRules as Node | undefined) ?? {};
  const denies = list(fileRules.Deny);
  const attribs = new Map(list(fileRules.FileAttrib).map((a) => [text(a.ID), a]));
  const signersById = new Map(list((policy.Signers as Node | undefined)?.Signer).map((s) => [text(s.ID), s]));
  const scenarios = list((policy.SigningScenarios as Node | undefined)?.SigningScenario);
  const kernel = scenarios.find((s) => text(s.Value) === KERNEL_SCENARIO);
  if (!kernel) throw new BlocklistError('the policy has no kernel-mode signing scenario (Value="131")');
  const productSigners = (kernel.ProductSigners as Node | undefined) ?? {};
  const deniedSignerIds = new Set(list((productSigners.DeniedSigners as Node | undefined)?.DeniedSigner).map((d) => text(d.SignerId)));
  const fileRuleIds = new Set(list((productSigners.FileRulesRef as Node | undefined)?.FileRuleRef).map((r) => text(r.RuleID)));

  const index: BlocklistIndex = { policy: policyInfo(policy, source), hashRules: [], fileRules: [], signers: [] };
  for (const d of denies) {
    const id = text(d.ID);
    if (!fileRuleIds.has(id)) continue;
    const friendlyName = text(d.FriendlyName);
    if (d.Hash !== undefined) {
      index.hashRules.push({ id, friendlyName, hash: text(d.Hash).toLowerCase() });
    } else if (d.FileName !== undefined) {
      index.fileRules.push({ id, friendlyName, fileName: text(d.FileName), ...range(d) });
    }
  }
  for (const id of deniedSignerIds) {
    const s = signersById.get(id);
    if (!s) continue;
    const fileAttribs: FileAttrib[] = [];
    for (const ref of list(s.FileAttribRef)) {
      const a = attribs.get(text(ref.RuleID));
      if (!a) continue;
      const attrib: FileAttrib = { id: text(a.ID), friendlyName: text(a.FriendlyName), ...range(a) };
      if (a.FileName !== undefined) attrib.fileName = text(a.FileName);
      if (a.ProductName !== undefined) attrib.productName = text(a.ProductName);
      if (a.InternalName !== undefined) attrib.internalName = text(a.InternalName);
      fileAttribs.push(attrib);
    }
    for (const root of list(s.CertRoot)) {
      if (text(root.Type) !== 'TBS') continue;
      const rule: SignerRule = { id, name: text(s.Name), certRoot: text(root.Value).toLowerCase(), fileAttribs };
      const publisher = (s.CertPublisher as Node | undefined)?.Value;
      const oem = (s.CertOemID as Node | undefined)?.Value;
      if (publisher !== undefined) rule.publisher = text(publisher);
      if (oem !== undefined) rule.oemId = text(oem);
      index.signers.push(rule);
    }
  }
  if (index.hashRules.length + index.fileRules.length + index.signers.length === 0) {
    throw new BlocklistError('the kernel-mode scenario denies nothing: no Deny rule or denied signer is referenced');
  }
  return index;
}

function policyInfo(policy: Node, source: string | undefined): PolicyInfo {
  const settings = list((policy.Settings as Node | undefined)?.Setting);
  const setting = (name: string) => {
    const s = settings.find((x) => text(x.ValueName) === name);
    const value = (s?.Value as Node | undefined)?.String;
    return value === undefined ? undefined : text(value);
  };
  const info: PolicyInfo = {
    name: setting('Name') ?? 'unnamed policy',
    version: text(policy.VersionEx) || setting('Id') || 'unknown',
  };
  if (policy.PolicyTypeID !== undefined) info.policyTypeId = text(policy.PolicyTypeID);
  if (source) info.source = source;
  return info;
}

function range(node: Node): VersionRange {
  const r: VersionRange = {};
  if (node.MinimumFileVersion !== undefined) r.min = text(node.MinimumFileVersion);
  if (node.MaximumFileVersion !== undefined) r.max = text(node.MaximumFileVersion);
  return r;
}

function list(value: unknown): Node[] {
  return Array.isArray(value) ? (value.filter((v) => v && typeof v === 'object') as Node[]) : [];
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
}
