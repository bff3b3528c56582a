/**
 * Preloaded into each soak `serve` process (`--import`): prints its memory every
 * `SOAK_PROBE_MS` on stderr as one `@soak-mem {json}` line, so the soak reads the heap of a
 * process it only knows from outside. The timer never keeps the process alive.
 */
const every = Number(process.env.SOAK_PROBE_MS ?? 1000);
setInterval(() => {
  const m = process.memoryUsage();
  process.stderr.write(
    `@soak-mem ${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal })}\n`,
  );
}, every).unref();
