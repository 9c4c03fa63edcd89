// Gossip traffic per topic, as this host sees it: messages and bytes it published, and messages and
// bytes delivered to it (accepted by the topic's validator). Counted at the host's gossipsub, so
// every topic is covered — protocol messages, desired-state changes, address announcements — without
// each user of a topic counting its own.

import type { Host } from './host.js'

export interface TopicTraffic {
  messagesOut: number
  bytesOut: number
  messagesIn: number
  bytesIn: number
}

export interface GossipTraffic {
  /** Counters per topic, by topic name. Topics are the few this code subscribes to, so the set is bounded. */
  byTopic(): ReadonlyMap<string, Readonly<TopicTraffic>>
  /** Stops counting (restores the host's publish). */
  detach(): void
}

interface DeliveredMessage {
  readonly topic: string
  readonly data: Uint8Array
}

/** Starts counting the host's gossip per topic. Publishes that gossipsub refuses are not counted. */
export function countGossipTraffic(host: Pick<Host, 'pubsub'>): GossipTraffic {
  const topics = new Map<string, TopicTraffic>()
  const of = (topic: string): TopicTraffic => {
    let entry = topics.get(topic)
    if (entry === undefined) topics.set(topic, (entry = { messagesOut: 0, bytesOut: 0, messagesIn: 0, bytesIn: 0 }))
    return entry
  }
  const pubsub = host.pubsub
  const onMessage = (event: CustomEvent<DeliveredMessage>): void => {
    const entry = of(event.detail.topic)
    entry.messagesIn++
    entry.bytesIn += event.detail.data.length
  }
  // gossipsub has no event for our own publishes: wrap the method on this instance only.
  const publish = pubsub.publish
  pubsub.publish = async (topic: string, data?: Uint8Array) => {
    const result = await publish.call(pubsub, topic, data)
    const entry = of(topic)
    entry.messagesOut++
    entry.bytesOut += data?.length ?? 0
    return result
  }
  pubsub.addEventListener('message', onMessage as unknown as Parameters<typeof pubsub.addEventListener>[1])
  return {
    byTopic: () => topics,
    detach: () => {
      pubsub.publish = publish
      pubsub.removeEventListener('message', onMessage as unknown as Parameters<typeof pubsub.removeEventListener>[1])
    },
  }
}
