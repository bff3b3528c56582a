import { describeConformance } from '../conformance/suite.js';
import { namespacedTiered } from './util.js';

describeConformance('tiered cluster', namespacedTiered('cluster'));
