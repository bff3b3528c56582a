import { describeConformance } from '../conformance/suite.js';
import { namespacedTiered } from './util.js';

// The default (byte) L1 only: the object L1 departs from one contract on purpose (every
// caller of getOrSet shares one frozen object); object-l1.test.ts covers it.
describeConformance('tiered standalone', namespacedTiered('standalone'));
