// Every metric an agent exports, in one place: names with their base units (Prometheus' naming
// guidance: `_seconds`, `_bytes`, `_total`), help text, and label names. docs/monitoring.md lists the
// same set, and a test reads both so they cannot drift apart.
//
// Labels are bounded: states, reasons, topics, routes, modes and outcomes are closed sets; `service`
// and `slot` are bounded by the tasks this peer runs (an advert carries at most 2,048), or, for the
// discovery metrics, by the services desired since the agent started. Nothing is labelled by request,
// endpoint, peer id of another peer, or time.

import { Counter, Gauge, Histogram, Registry } from 'prom-client'

const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
/** Failover is seconds by design (dead after 2 s on `lan`, 10 s on `wan`), so the buckets sit there. */
const FAILOVER_BUCKETS_SECONDS = [0.5, 1, 2, 2.5, 3, 4, 5, 7.5, 10, 15, 30, 60, 120]

export type PeerMetrics = ReturnType<typeof definePeerMetrics>
export type TaskUsageMetrics = ReturnType<typeof defineTaskUsageMetrics>

/**
 * The per-task gauges, on a registry of their own: they change once per measurement, and with a
 * thousand tasks their text is most of a scrape, so it is rendered once per measurement, not per scrape.
 */
export function defineTaskUsageMetrics(registry: Registry) {
  const registers = [registry]
  const labelNames = ['service', 'slot'] as const
  const gauge = (name: string, help: string) => new Gauge<(typeof labelNames)[number]>({ name, help, labelNames, registers })
  return {
    taskCpu: gauge('peer_task_cpu_cores', 'CPU a task used over the last measurement interval, in cores (1 = one core busy).'),
    taskMemory: gauge('peer_task_memory_bytes', 'Resident memory of a task (a process group, or a container without its page cache).'),
    taskCpuRequested: gauge('peer_task_cpu_requested_cores', 'CPU a task reserved (its spec\'s resources.cpu), in cores.'),
    taskMemoryRequested: gauge('peer_task_memory_requested_bytes', 'Memory a task reserved (its spec\'s resources.memory).'),
  }
}

/** Registers the peer_ metrics on `registry` (one registry per agent: tests run several in one process). */
export function definePeerMetrics(registry: Registry) {
  const registers = [registry]
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers })
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge<L>({ name, help, labelNames, registers })
  const histogram = <L extends string>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []) =>
    new Histogram<L>({ name, help, buckets, labelNames, registers })

  return {
    info: gauge('peer_info', 'Always 1; labels name this peer and its version.', ['peer_id', 'version']),

    // --- membership
    members: gauge('peer_members', 'Members this peer knows of (itself included), by state.', ['state']),
    refutes: counter('peer_incarnation_refutes_total', 'Suspicions or verdicts about this peer it refuted by raising its incarnation.'),
    suspicions: counter('peer_member_suspicions_total', 'Times this peer saw another peer become suspect.'),
    deadVerdicts: counter('peer_member_dead_verdicts_total', 'Times this peer saw another peer declared dead.'),

    // --- placement
    rounds: counter('peer_placement_rounds_total', 'Bid rounds this peer took part in as a candidate.'),
    bidsSent: counter('peer_bids_sent_total', 'Bid messages this peer sent.'),
    bidsReceived: counter('peer_bids_received_total', 'Bid messages this peer received.'),
    auctionDuration: histogram('peer_auction_duration_seconds', 'From the start of a bid round to this peer running its auction.', LATENCY_BUCKETS_SECONDS),
    claims: counter('peer_claims_total', 'Slots this peer claimed (placed on itself).'),
    conflicts: counter('peer_conflicts_total', 'Slots found running twice with this peer holding one copy, by which side stopped its copy.', ['yielded']),
    slotsPending: gauge('peer_slots_pending', 'Slots no peer took, as this peer sees them, by the most common reason peers gave.', ['reason']),
    failoverDuration: histogram('peer_failover_duration_seconds', 'From this peer declaring a peer dead to every slot that peer ran running elsewhere, as this peer sees it.', FAILOVER_BUCKETS_SECONDS),

    // --- tasks
    tasks: gauge('peer_tasks', 'Tasks this peer holds, by state.', ['state']),
    restarts: counter('peer_task_restarts_total', 'Tasks this peer started again in the same slot at the same version (its restart policy).'),
    healthChecks: counter('peer_health_checks_total', 'Healthcheck probes run, by result.', ['result']),
    healthCheckDuration: histogram('peer_health_check_duration_seconds', 'How long a healthcheck probe ran.', LATENCY_BUCKETS_SECONDS),
    driverErrors: counter('peer_driver_errors_total', 'Task starts and stops a runtime driver failed, by driver and operation.', ['driver', 'operation']),
    usageSampleDuration: histogram('peer_task_usage_sample_duration_seconds', 'How long one measurement of every task\'s CPU and memory took.', LATENCY_BUCKETS_SECONDS),

    // --- gossip and direct messages
    gossipMessages: counter('peer_gossip_messages_total', 'Gossip messages published (out) and delivered (in), by topic.', ['topic', 'direction']),
    gossipBytes: counter('peer_gossip_bytes_total', 'Bytes of gossip messages published (out) and delivered (in), by topic.', ['topic', 'direction']),
    directMessages: counter('peer_direct_messages_total', 'Protocol messages sent to or received from one peer over a direct stream.', ['direction']),
    directBytes: counter('peer_direct_bytes_total', 'Bytes of direct protocol messages, as encoded.', ['direction']),
    messagesRejected: counter('peer_messages_rejected_total', 'Protocol messages rejected as invalid (gossip and direct).'),

    // --- desired state
    desiredSize: gauge('peer_desired_state_size_bytes', 'The desired-state document on disk: snapshot and log of changes since.'),
    desiredChanges: counter('peer_desired_state_changes_total', 'Changes of the desired state this peer took in (its own edits, gossip and sync).'),
    syncs: counter('peer_desired_state_syncs_total', 'Desired-state sync runs this peer started, by result.', ['result']),
    syncRounds: counter('peer_desired_state_sync_rounds_total', 'Round trips of the sync runs this peer started that succeeded.'),
    syncDuration: histogram('peer_desired_state_sync_duration_seconds', 'How long a sync run this peer started took.', LATENCY_BUCKETS_SECONDS),

    // --- control API
    controlRequests: counter('peer_control_requests_total', 'Requests to the control API, by route pattern, method and status.', ['route', 'method', 'status']),

    // --- service discovery and the routing mesh
    serviceEndpoints: gauge('peer_service_endpoints', 'Endpoints (a task on one of its service\'s ports) of each desired service, as this peer sees them, by readiness.', ['service', 'ready']),
    meshConnections: counter('peer_mesh_connections_total', 'Connections (TCP) and flows (UDP) this peer\'s forwarder opened to endpoints of a service.', ['service', 'protocol']),
    meshConnectFailures: counter('peer_mesh_connect_failures_total', 'Connection attempts to endpoints of a service that failed (refused, timed out); the userspace proxy only.', ['service']),
    meshOpenConnections: gauge('peer_mesh_open_connections', 'Connections and flows to endpoints of a service open now through this peer\'s forwarder.', ['service']),
    meshListeners: gauge('peer_mesh_listeners', 'Listeners of the routing mesh and service addresses, by whether they are bound.', ['state']),
    meshMode: gauge('peer_mesh_mode', 'Always 1 for the mode this peer forwards in (kernel, userspace, off), 0 for the others.', ['mode']),
    dnsQueries: counter('peer_dns_queries_total', 'Queries this peer\'s DNS server took, by what became of them.', ['outcome']),
  }
}
