// The page's state, kept live: the agent's answers re-read every 2 s and soon after each event (a
// task starting, a peer declared dead), and the event stream followed over Server-Sent Events. All
// requests go to the agent that served the page; the token cookie (when one is needed) goes along.
import { useEffect, useRef, useState } from 'preact/hooks'

const API = '/ui/api/v1'
const REFRESH_MS = 2000
/** After an event, wait this long for its siblings (a failover brings several) before re-reading. */
const SETTLE_MS = 250
const MAX_EVENTS = 300

async function read(path) {
  const response = await fetch(`${API}${path}`, { headers: { accept: 'application/json' } })
  const body = await response.json().catch(() => null)
  if (!response.ok) throw new Error(body?.error?.message ?? `${path}: HTTP ${response.status}`)
  return body
}

export function useCluster() {
  const [state, setState] = useState({ status: null, nodes: null, tasks: [], endpoints: null, why: {}, error: null, updatedAt: null })
  const [events, setEvents] = useState([])
  const [streaming, setStreaming] = useState(false)
  const timer = useRef(undefined)

  useEffect(() => {
    let stopped = false
    // One read at a time: an event during a read asks for one more right after it.
    let reading = false
    let again = false
    const refresh = async () => {
      if (reading) {
        again = true
        return
      }
      reading = true
      clearTimeout(timer.current)
      try {
        // No endpoints (null) when this agent runs no service discovery: the rest of the page still shows.
        const [status, nodes, tasks, endpoints] = await Promise.all([read('/status'), read('/nodes'), read('/tasks'), read('/endpoints').catch(() => null)])
        const pending = status.services.filter((service) => service.pending > 0)
        const whys = await Promise.all(pending.map((service) => read(`/why/${encodeURIComponent(service.name)}`).catch(() => null)))
        if (stopped) return
        const why = Object.fromEntries(pending.map((service, i) => [service.name, whys[i]]).filter(([, answer]) => answer !== null))
        setState({ status, nodes: nodes.nodes, tasks: tasks.tasks, endpoints, why, error: null, updatedAt: Date.now() })
      } catch (error) {
        if (!stopped) setState((previous) => ({ ...previous, error: String(error.message ?? error) }))
      }
      reading = false
      if (stopped) return
      if (again) {
        again = false
        return refresh()
      }
      timer.current = setTimeout(refresh, REFRESH_MS)
    }
    void refresh()

    // The stream starts with the events the agent kept, then each new one; a reconnect starts over.
    const source = new EventSource(`${API}/events?follow=1`)
    let settle
    source.onopen = () => {
      setStreaming(true)
      setEvents([])
    }
    source.onerror = () => setStreaming(false)
    source.onmessage = (message) => {
      const event = JSON.parse(message.data)
      setEvents((previous) => [event, ...previous].slice(0, MAX_EVENTS))
      clearTimeout(settle)
      settle = setTimeout(refresh, SETTLE_MS)
    }
    return () => {
      stopped = true
      clearTimeout(timer.current)
      clearTimeout(settle)
      source.close()
    }
  }, [])

  return { ...state, events, streaming }
}

/** One service's answer and versions, or one slot's why, read when the page shows it. */
export function useDetail(path, refreshKey) {
  const [answer, setAnswer] = useState(null)
  useEffect(() => {
    if (path === null) return setAnswer(null)
    let stopped = false
    read(path).then((body) => !stopped && setAnswer(body), (error) => !stopped && setAnswer({ error: String(error.message ?? error) }))
    return () => {
      stopped = true
    }
  }, [path, refreshKey])
  return answer
}
