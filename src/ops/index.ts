export type { Check } from '../bot/index.ts'
export { redisCheck, storeCheck } from './checks.ts'
export { ChorusMetrics, type MetricSources } from './metrics.ts'
export { type OpsServer, type OpsServerOptions, startOpsServer } from './server.ts'
