// Reading Prometheus' text format in tests with a real parser (parse-prometheus-text-format, a port of
// the Python client's parser), so what the agent serves is checked as Prometheus would read it.

import { request } from 'node:http'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'

export interface Family {
  readonly name: string
  readonly help: string
  /** COUNTER, GAUGE, HISTOGRAM, SUMMARY, UNTYPED. */
  readonly type: string
  readonly metrics: ReadonlyArray<{
    readonly labels?: Readonly<Record<string, string>>
    readonly value?: string
    readonly count?: string
    readonly sum?: string
    readonly buckets?: Readonly<Record<string, string>>
  }>
}

export function parseFamilies(text: string): Map<string, Family> {
  const families = (parsePrometheusTextFormat as unknown as (text: string) => Family[])(text)
  return new Map(families.map((family) => [family.name, family]))
}

/** GET http://address/metrics: the status, content type and body. */
export function get(address: string, path = '/metrics'): Promise<{ status: number; contentType: string; body: string }> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))]
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, timeout: 10_000 }, (response) => {
      let body = ''
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), body }))
    })
    req.on('timeout', () => req.destroy(new Error(`no answer from ${address} within 10 s`)))
    req.on('error', reject)
    req.end()
  })
}

export async function scrape(address: string): Promise<Map<string, Family>> {
  const answer = await get(address)
  if (answer.status !== 200) throw new Error(`GET ${address}/metrics answered ${answer.status}: ${answer.body.slice(0, 200)}`)
  return parseFamilies(answer.body)
}

/** The value of the sample of `name` whose labels include `labels` (a gauge or counter); undefined when none. */
export function valueOf(families: ReadonlyMap<string, Family>, name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  const sample = families.get(name)?.metrics.find((metric) => Object.entries(labels).every(([key, value]) => metric.labels?.[key] === value))
  return sample?.value === undefined ? undefined : Number(sample.value)
}

/** The observation count of a histogram without labels; 0 when it has none. */
export function countOf(families: ReadonlyMap<string, Family>, name: string): number {
  return Number(families.get(name)?.metrics[0]?.count ?? 0)
}
