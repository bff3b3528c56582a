/**
 * `npm run soak [-- --minutes N] [--rate R] [--report FILE]`: the long soak (about ten
 * minutes by default; `SOAK_MINUTES` works too). Prints the per-window table and the bars,
 * writes the JSON report, exits 1 when a bar fails.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatReport } from './report.js';
import { runSoak } from './soak.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    rate: { type: 'string' },
    report: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(
    'Usage: npm run soak -- [--minutes 10] [--rate 150] [--report soak-report.json]\n',
  );
  process.exit(0);
}
const minutes = Number(values.minutes ?? process.env.SOAK_MINUTES ?? 10);
const rate = Number(values.rate ?? process.env.SOAK_RATE ?? 150);
if (!(minutes > 0) || !(rate > 0)) {
  process.stderr.write('soak: --minutes and --rate must be positive numbers\n');
  process.exit(2);
}
const reportFile = values.report ?? 'soak-report.json';

const report = await runSoak({
  durationMs: minutes * 60_000,
  rate,
  log: (line) => process.stderr.write(`soak: ${line}\n`),
});
process.stdout.write(`${formatReport(report)}\n`);
writeFileSync(reportFile, `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`report: ${reportFile}\n`);
process.exit(report.passed ? 0 : 1);
