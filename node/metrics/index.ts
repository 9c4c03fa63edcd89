// The agent's metrics: Prometheus text at /metrics (docs/monitoring.md lists every metric), and the
// measurement of what each task really uses, which also goes into the advert for `peer top`.
export { AgentMetrics, METRICS_DEFAULTS, type AgentMetricsInit, type MetricsSource } from './agent-metrics.js'
export { definePeerMetrics, type PeerMetrics } from './definitions.js'
export { openMetricsEndpoint } from './endpoint.js'
export { DEFAULT_METRICS_LISTEN, listenHttp, parseMetricsListen, serveMetrics, type MetricsListen, type MetricsServer } from './http.js'
export { FailoverTracker } from './failover-tracker.js'
export { CumulativeCounts, type AddUp } from './cumulative-counts.js'
export { showDiscovery, type DiscoveryMetricsSource } from './discovery-metrics.js'
export { TaskUsageSampler, type MeasuredTask } from './task-usage.js'
export { processGroupUsage, parseStat, type GroupUsage } from './process-usage.js'
export { ContainerUsage, containerUsageOf, type EngineStats } from './container-usage.js'
