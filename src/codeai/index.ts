/** The `.cai` loader: CodeAI specs to cache plans. */
export { cacheConfigForPlan, DEFAULT_REDIS_URL } from './cache-config.js';
export {
  CodeAIDiagnosticCode,
  type Diagnostic,
  formatDiagnostic,
} from './diagnostics.js';
export {
  IntegrationClient,
  type IntegrationClientOptions,
  type IntegrationRequest,
  type IntegrationResponse,
  type IntegrationSource,
  integrationClient,
} from './integration-client.js';
export { type LoadCodeAIOptions, type LoadCodeAIResult, loadCodeAI } from './load.js';
export type {
  CodeAIPlan,
  InvalidationLink,
  InvalidationReason,
  PlanBackend,
  PlanEndpoint,
  PlanIntegration,
  PlanOperation,
  PolicySource,
} from './plan.js';
