import { esc, htmlDocumentStart } from '../report/html.js';
import type { SystemDriver, SystemReport } from './from-outputs.js';

/**
 * `hvci system --format html`: one self-contained page an admin can send (no script, no
 * request; the same Content-Security-Policy as the scan report). Blocking drivers first,
 * grouped by package with the command to run, then the compatible ones and the inputs.
 */
export function renderSystemHtml(report: SystemReport): string {
  const blocking = report.drivers.filter((d) => d.blocksMemoryIntegrity);
  const others = report.drivers.filter((d) => !d.blocksMemoryIntegrity);
  const body = [
    '<h1>What blocks Memory Integrity</h1>',
    `<p>${esc(report.tool.name)} ${esc(report.tool.version)}${
      report.state ? ` · memory integrity: <b>${esc(report.state.memoryIntegrity)}</b> (${esc(report.state.source)})` : ''
    }</p>`,
    `<p><b>${report.summary.blocking}</b> of ${report.summary.drivers} driver${report.summary.drivers === 1 ? '' : 's'} block memory integrity; ${report.summary.blocklisted} on the vulnerable driver blocklist.</p>`,
    blocking.length ? `<h2>Blocking</h2>${table(blocking, true)}` : '<p>No driver blocks memory integrity.</p>',
    others.length ? `<details><summary>${others.length} driver${others.length === 1 ? '' : 's'} that load with memory integrity on</summary>${table(others, false)}</details>` : '',
    report.inputs.length
      ? `<h2>What each input says</h2><ul>${report.inputs.map((i) => `<li><b>${esc(i.source)}</b>: ${esc(i.title)}<br>${esc(i.meaning)}<br><i>fix:</i> ${esc(i.fix)}</li>`).join('')}</ul>`
      : '',
    report.problems?.length ? `<h2>Problems</h2><ul>${report.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>` : '',
  ];
  return [
    htmlDocumentStart(
      'hvci system report',
      'body{font:14px/1.45 system-ui,sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}code{font-size:90%}th{background:#f3f3f3}',
    ),
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function table(drivers: SystemDriver[], withAdvice: boolean): string {
  const rows = drivers.map((d) => {
    const p = d.package;
    const pkg = p ? `<code>${esc(p.publishedName)}</code>${[p.originalName, p.provider, p.driverVersion, p.class].filter(Boolean).map((x) => ` · ${esc(x as string)}`).join('')}` : '—';
    const rules = [...new Set(d.findings.filter((f) => f.severity === 'error').map((f) => f.ruleId))].join(', ');
    return `<tr><td>${pkg}</td><td><code>${esc(d.path)}</code></td><td>${esc(d.verdict)}${d.blocklisted ? ' · <b>blocklisted</b>' : ''}${rules ? `<br>${esc(rules)}` : ''}</td>${withAdvice ? `<td>${esc(d.advice)}</td>` : ''}</tr>`;
  });
  return `<table><tr><th>package</th><th>driver</th><th>verdict</th>${withAdvice ? '<th>what to do</th>' : ''}</tr>${rows.join('')}</table>`;
}
