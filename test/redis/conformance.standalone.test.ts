import { describeConformance } from '../conformance/suite.js';
import { namespacedCaches } from './util.js';

describeConformance('redis standalone', namespacedCaches('standalone'));
