// Ports, as Swarm publishes them (docs/networking.md):
//   - "8080:80", "127.0.0.1:8080:80/udp", "8000-8002:80-82" and the long form without `mode` are in
//     ingress mode, the default: every peer accepts on the published port (the routing mesh);
//   - `mode: host` publishes on the hosts that run a replica only (the task binds the host port);
//   - a port with no published port ("80", or the long form without `published`) and every `expose`
//     entry are reachable by name only (`<service>:80`); peer publishes no random host port;
//   - a published range for one container port ("8000-8010:80") takes its first port, with a warning;
//   - a host IP is ignored with a warning: peer binds on every interface;
//   - sctp is refused; tcp and udp are what peer publishes.
// Short forms are read as Docker's nat.ParsePortSpec reads them.

import { quoted } from '../error-message.js'
import { PORT_FIELDS } from './fields.js'
import { item, join } from './field-path.js'
import type { ServiceContext } from './project.js'
import type { Report } from './report.js'
import { checkKeys, isMap, readString } from './values.js'

export interface WrittenPort {
  readonly host: number
  readonly container: number
  readonly protocol: 'tcp' | 'udp'
  readonly mode?: 'ingress'
}

interface PortRange {
  readonly start: number
  readonly end: number
}

export function readPorts(value: unknown, context: ServiceContext): WrittenPort[] {
  const path = join(context.path, 'ports')
  const { report } = context
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) {
    report.error(path, 'expected a list such as ["8080:80", "53:53/udp"]')
    return []
  }
  const ports: WrittenPort[] = []
  value.forEach((entry, i) => {
    const entryPath = item(path, i)
    if (typeof entry === 'number' || typeof entry === 'string') {
      ports.push(...shortPort(String(entry), entryPath, report))
    } else if (isMap(entry)) {
      const port = longPort(entry, entryPath, report)
      if (port !== undefined) ports.push(port)
    } else {
      report.error(entryPath, 'expected "host:container[/protocol]" or { target, published, protocol, mode }')
    }
  })
  // `"80"` beside `"8080:80"` asks Compose for a second, random host port; peer publishes no random
  // port, and the published one already makes 80 reachable by name, so the bare entry adds nothing.
  const published = new Set(ports.filter((port) => port.host > 0).map((port) => `${port.container}/${port.protocol}`))
  return ports.filter((port) => port.host > 0 || !published.has(`${port.container}/${port.protocol}`))
}

/**
 * `expose`: container ports reachable by name only, added to `ports` unless a port already names
 * them. Entries are "3000", "8000-8010", "53/udp" or numbers.
 */
export function readExpose(value: unknown, ports: readonly WrittenPort[], context: ServiceContext): WrittenPort[] {
  const path = join(context.path, 'expose')
  const { report } = context
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) {
    report.error(path, 'expected a list such as ["3000", "53/udp"]')
    return []
  }
  const listed = new Set(ports.map((port) => `${port.container}/${port.protocol}`))
  const exposed: WrittenPort[] = []
  value.forEach((entry, i) => {
    const entryPath = item(path, i)
    const text = typeof entry === 'number' ? String(entry) : typeof entry === 'string' ? entry.trim() : undefined
    const slash = text === undefined ? -1 : text.indexOf('/')
    const range = text === undefined ? undefined : portRange(slash < 0 ? text : text.slice(0, slash))
    if (text === undefined || range === undefined) {
      report.error(entryPath, `expected a container port such as "3000", "8000-8010" or "53/udp", not ${quoted(String(entry))}`)
      return
    }
    const protocol = protocolOf(slash < 0 ? 'tcp' : text.slice(slash + 1), entryPath, report)
    if (protocol === undefined) return
    for (let container = range.start; container <= range.end; container++) {
      if (listed.has(`${container}/${protocol}`)) continue
      listed.add(`${container}/${protocol}`)
      exposed.push({ host: 0, container, protocol, mode: 'ingress' })
    }
  })
  return exposed
}

function shortPort(text: string, path: string, report: Report): WrittenPort[] {
  const parts = text.split(':')
  const containerPart = parts[parts.length - 1]!
  const hostPart = parts.length >= 2 ? parts[parts.length - 2]! : ''
  const ip = parts.length >= 3 ? parts.slice(0, -2).join(':') : ''
  const slash = containerPart.indexOf('/')
  const containerText = slash < 0 ? containerPart : containerPart.slice(0, slash)
  const protocol = protocolOf(slash < 0 ? 'tcp' : containerPart.slice(slash + 1), path, report)
  const container = portRange(containerText)
  if (protocol === undefined) return []
  if (container === undefined) {
    report.error(path, `expected "[host_ip:]host:container[/tcp|udp]" with ports 1-65535 (ranges as 8000-8002), not ${quoted(text)}`)
    return []
  }
  if (ip !== '') report.warn(path, `ignored host IP ${ip}: peer binds host ports on every interface`)
  if (hostPart === '') return unpublished(container, protocol, path, report)
  const host = portRange(hostPart)
  if (host === undefined) {
    report.error(path, `invalid host port ${quoted(hostPart)}: expected a port 1-65535 or a range such as 8000-8002`)
    return []
  }
  return mapping(host, container, protocol, path, report).map((port) => ({ ...port, mode: 'ingress' as const }))
}

/** Container ports written without a published port: reachable by name, published nowhere. */
function unpublished(container: PortRange, protocol: WrittenPort['protocol'], path: string, report: Report): WrittenPort[] {
  report.warn(path, `no published port: peer picks no random host port, so ${container.start}${container.end > container.start ? `-${container.end}` : ''}/${protocol} is reachable by name only (<service>:${container.start}); publish one to reach it from outside`)
  return Array.from({ length: container.end - container.start + 1 }, (_, i) => ({ host: 0, container: container.start + i, protocol, mode: 'ingress' as const }))
}

/** Host ports for container ports: ranges of one length pair up; a host range for one port takes its first. */
function mapping(host: PortRange, container: PortRange, protocol: WrittenPort['protocol'], path: string, report: Report): WrittenPort[] {
  const count = container.end - container.start + 1
  if (host.end - host.start + 1 !== count) {
    if (count !== 1) {
      report.error(path, `the host range ${host.start}-${host.end} and the container range ${container.start}-${container.end} differ in length`)
      return []
    }
    report.warn(path, `published range ${host.start}-${host.end}: peer publishes fixed host ports, so it uses ${host.start}`)
    return [{ host: host.start, container: container.start, protocol }]
  }
  return Array.from({ length: count }, (_, i) => ({ host: host.start + i, container: container.start + i, protocol }))
}

function longPort(entry: Record<string, unknown>, path: string, report: Report): WrittenPort | undefined {
  checkKeys(entry, PORT_FIELDS, path, report)
  const targetText = typeof entry.target === 'number' ? String(entry.target) : readString(entry.target, join(path, 'target'), report)
  const target = targetText === undefined || !/^\d+$/.test(targetText.trim()) ? undefined : portRange(targetText.trim())
  if (target === undefined) {
    report.error(join(path, 'target'), 'expected the container port, 1-65535')
    return undefined
  }
  const protocol = protocolOf(readString(entry.protocol, join(path, 'protocol'), report) ?? 'tcp', join(path, 'protocol'), report)
  const mode = readString(entry.mode, join(path, 'mode'), report) ?? 'ingress'
  if (mode !== 'ingress' && mode !== 'host') {
    report.error(join(path, 'mode'), 'expected host or ingress')
    return undefined
  }
  if (entry.host_ip !== undefined) report.warn(join(path, 'host_ip'), 'ignored: peer binds host ports on every interface')
  for (const field of ['name', 'app_protocol'] as const) {
    if (entry[field] !== undefined) report.warn(join(path, field), 'ignored: peer keeps no port metadata')
  }
  if (protocol === undefined) return undefined
  const ingress = mode === 'ingress'
  if (entry.published === undefined || entry.published === null || entry.published === '') {
    if (!ingress) {
      report.warn(path, `ignored: mode host needs a published port (peer picks no random host port), so add published: ${target.start}`)
      return undefined
    }
    return unpublished(target, protocol, path, report)[0]
  }
  const host = portRange(String(entry.published).trim())
  if (host === undefined) {
    report.error(join(path, 'published'), 'expected the host port, 1-65535, or a range such as 8000-8010')
    return undefined
  }
  const [port] = mapping(host, target, protocol, join(path, 'published'), report)
  return port === undefined ? undefined : ingress ? { ...port, mode: 'ingress' } : port
}

function protocolOf(text: string, path: string, report: Report): WrittenPort['protocol'] | undefined {
  const protocol = text.toLowerCase()
  if (protocol === 'tcp' || protocol === 'udp') return protocol
  report.error(path, protocol === 'sctp' ? 'peer publishes tcp and udp ports, not sctp' : `unknown protocol ${quoted(text)}: expected tcp or udp`)
  return undefined
}

/** `80` or `8000-8002`, ports 1-65535. */
function portRange(text: string): PortRange | undefined {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text)
  if (match === null) return undefined
  const start = Number(match[1])
  const end = match[2] === undefined ? start : Number(match[2])
  if (start < 1 || end > 65_535 || end < start) return undefined
  return { start, end }
}
