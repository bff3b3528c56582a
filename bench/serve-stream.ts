/**
 * The streaming bar of `serve`: a 100 MB download and a 100 MB upload through it keep its
 * RSS growth under 64 MB. Run: `npx tsx bench/serve-stream.ts [MB]` (Linux: reads /proc).
 */
import { measureStreaming } from '../test/serve/streaming.js';

const MB = 1024 * 1024;
const size = Number(process.argv[2] ?? 100);
const r = await measureStreaming(size * MB);
const line = (what: string, x: { bytes: number; growth: number }) =>
  `${what}: ${(x.bytes / MB).toFixed(0)} MB passed, proxy RSS grew ${(x.growth / MB).toFixed(1)} MB (bar < 64 MB: ${x.growth < 64 * MB ? 'met' : 'MISSED'})`;
console.log(line('download', r.download));
console.log(line('upload  ', r.upload));
