import { MemoryCache } from '../../src/index.js';
import { describeConformance } from './suite.js';

describeConformance('memory', async (options) => {
  const cache = new MemoryCache(options);
  await cache.start();
  return cache;
});
