// What /metrics costs a real agent: one agent (its own process, the process driver) runs 100 and then
// 1,000 real tasks (`sleep`); for each size, the time to scrape /metrics (client-side, HTTP included;
// target ≤ 50 ms), the body's size, how long one measurement of every task's usage takes, and the
// agent's CPU over a window with a scrape every second against a window without scrapes (the
// difference is what collection adds; goal < 0.5 % of a core), and over a window of back-to-back
// scrapes, which gives the CPU of one scrape with less noise. Prints one JSON line per size.
//
//   npm run bench -- metrics [--tasks 100,1000] [--window 30] [--scrapes 50]
//
// The machine is shared: CPU windows are noisy, so each is long and the load average is printed.

import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ask } from '../cli/agent-client.js'
import { LocalCluster } from '../cli/local-cluster.js'
import { parseStat } from '../node/metrics/index.js'
import { runCli } from '../test/cli/run-cli.js'
import { get, parseFamilies } from '../test/node/metrics/prometheus-text.js'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const option = (name: string, fallback: string): string => {
  const at = args.indexOf(name)
  return at < 0 ? fallback : (args[at + 1] ?? fallback)
}
const sizes = option('--tasks', '100,1000').split(',').map(Number)
const windowSeconds = Number(option('--window', '30'))
const scrapes = Number(option('--scrapes', '50'))
if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1) || !(windowSeconds >= 5) || !(scrapes >= 5)) {
  console.error('usage: npm run bench -- metrics [--tasks 100,1000] [--window seconds ≥ 5] [--scrapes N ≥ 5]')
  process.exit(2)
}
const log = (line: string): void => void process.stderr.write(`[metrics ${new Date().toISOString().slice(11, 23)}] ${line}\n`)
const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms))

/** The agent process's CPU time so far, in seconds (user + system, clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  return parseStat(readFileSync(`/proc/${pid}/stat`, 'latin1'))!.cpuTicks / 100
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
const round = (value: number, digits = 2): number => Number(value.toFixed(digits))

const base = await mkdtemp(join(tmpdir(), 'peer-metrics-bench-'))
const local = await LocalCluster.create({ base, count: 1, addresses: 'range', agentArgs: ['--cpu', '16', '--memory', '64Gi', '--docker', 'off'], command: [process.execPath, '--import', 'tsx', join(REPO, 'cli', 'main.ts')] })
const agent = local.agent(1)
try {
  await local.start(1)
  const pid = agent.child!.pid!
  for (const tasks of sizes) {
    const spec = join(base, 'load.yaml')
    await writeFile(spec, ['services:', '  load:', '    command: ["sleep", "3600"]', `    replicas: ${tasks}`, '    resources: { cpu: 1m, memory: 1Mi }', ''].join('\n'))
    const applied = await runCli(['apply', '-f', spec, '--data', agent.dir], 60_000)
    if (applied.code !== 0) throw new Error(`apply failed: ${applied.stderr}`)
    const startedAt = Date.now()
    for (;;) {
      const running = (await ask({ peer: agent.socket, timeoutMs: 30_000 }, 'GET /v1/tasks')).tasks.filter((task) => task.state === 'running').length
      if (running === tasks) break
      if (Date.now() - startedAt > 600_000) throw new Error(`only ${running} of ${tasks} tasks running after 10 min`)
      await sleep(1000)
    }
    log(`${tasks} tasks running after ${Date.now() - startedAt} ms; waiting for a usage measurement of all of them`)
    for (;;) {
      const families = parseFamilies((await get(agent.metrics)).body)
      if ((families.get('peer_task_memory_bytes')?.metrics.length ?? 0) === tasks && (families.get('peer_task_cpu_cores')?.metrics.length ?? 0) === tasks) break
      await sleep(1000)
    }

    // Scrape time, back to back.
    const times: number[] = []
    let bodyBytes = 0
    for (let i = 0; i < scrapes; i++) {
      const began = performance.now()
      const answer = await get(agent.metrics)
      times.push(performance.now() - began)
      bodyBytes = Buffer.byteLength(answer.body)
    }
    times.sort((a, b) => a - b)

    // Agent CPU: a window without scrapes, then one with a scrape every second.
    await sleep(2000)
    const quietFrom = cpuSeconds(pid)
    await sleep(windowSeconds * 1000)
    const quiet = cpuSeconds(pid) - quietFrom
    const scrapedFrom = cpuSeconds(pid)
    const windowEnd = Date.now() + windowSeconds * 1000
    let scraped = 0
    while (Date.now() < windowEnd) {
      const tick = Date.now()
      await get(agent.metrics)
      scraped++
      await sleep(Math.max(0, 1000 - (Date.now() - tick)))
    }
    const busy = cpuSeconds(pid) - scrapedFrom
    // The same with scrapes back to back: many more scrapes in the window, so the CPU one scrape
    // costs the agent stands out of the noise of a shared machine.
    const denseFrom = cpuSeconds(pid)
    const denseEnd = Date.now() + windowSeconds * 1000
    let dense = 0
    while (Date.now() < denseEnd) {
      await get(agent.metrics)
      dense++
    }
    const denseBusy = cpuSeconds(pid) - denseFrom
    const perScrapeMs = ((denseBusy - quiet) / dense) * 1000
    const families = parseFamilies((await get(agent.metrics)).body)
    const sample = families.get('peer_task_usage_sample_duration_seconds')!.metrics[0]!
    console.log(JSON.stringify({
      bench: 'metrics',
      tasks,
      scrapeMs: { p50: round(percentile(times, 0.5)), p95: round(percentile(times, 0.95)), max: round(times[times.length - 1]!) },
      bodyBytes,
      usageSampleMsMean: round((Number(sample.sum) / Number(sample.count)) * 1000),
      agentCpuPercentQuiet: round((100 * quiet) / windowSeconds),
      agentCpuPercentScraped1s: round((100 * busy) / windowSeconds),
      addedCpuPercent: round((100 * (busy - quiet)) / windowSeconds),
      scrapesInWindow: scraped,
      agentCpuMsPerScrape: round(perScrapeMs),
      addedCpuPercentAt1sFromPerScrape: round(perScrapeMs / 10),
      denseScrapes: dense,
      windowSeconds,
      loadAverage1m: round(loadavg()[0]!),
    }))
  }
} finally {
  await local.stopAll(120_000)
  await rm(base, { recursive: true, force: true })
}
