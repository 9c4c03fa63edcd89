// Per-link timing (core/protocol/link-timing.ts): the round-trip estimate, the timers each kind of
// link derives from it, a round's windows, and their bounds as properties. The cluster-wide proof is
// the simulator's (test/sim/link-timing.test.ts).

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import {
  bidWindowMs, defaultConfig, LinkTiming, MAX_LINKS_ESTIMATED, nextEstimate, SAMPLES_TO_SHORTEN, peerId, suspicionTimeoutMs, upperRoundTripMs, withProcessingSkew,
  type MachineConfig, type PeerId, type RoundTripEstimate,
} from '../../../core/index.js'

const estimate = suite('link timing: the round-trip estimate')

const estimateOf = (samples: readonly number[]): RoundTripEstimate | undefined =>
  samples.reduce<RoundTripEstimate | undefined>((e, sample) => nextEstimate(e, sample), undefined)

estimate('the first sample starts it as RFC 6298 does: the sample, half of it as deviation', () => {
  const first = nextEstimate(undefined, 40)
  assert.equal(first, { smoothedMs: 40, deviationMs: 20 })
  assert.is(upperRoundTripMs(first), 120)
})

estimate('steady samples settle on the round trip itself', () => {
  const settled = estimateOf(Array.from({ length: 100 }, () => 10))!
  assert.ok(Math.abs(settled.smoothedMs - 10) < 0.01)
  assert.ok(upperRoundTripMs(settled) < 10.1, `upper ${upperRoundTripMs(settled)}`)
})

estimate('one slow answer raises the bound at once, through the deviation', () => {
  const settled = estimateOf(Array.from({ length: 50 }, () => 10))!
  const after = nextEstimate(settled, 410)
  // The deviation takes a quarter of the 400 ms surprise, and the bound four deviations.
  assert.ok(upperRoundTripMs(after) >= 10 + 400 / 8 + 4 * (400 / 4) - 1, `upper ${upperRoundTripMs(after)}`)
})

estimate('a negative sample (a clock step) counts as zero', () => {
  assert.equal(nextEstimate(undefined, -5), { smoothedMs: 0, deviationMs: 0 })
})

const timers = suite('link timing: the timers of each kind of link')

const self = peerId('self')
const mate = peerId('mate')
const far = peerId('far')
const plain = peerId('plain')
const SITES: Record<string, string | undefined> = { self: 'a', mate: 'a', far: 'b', plain: undefined }

/** This host's timing; `null` for a host without a site label. */
function timing(config: MachineConfig, selfSite: string | null = 'a'): LinkTiming {
  return new LinkTiming({ self, config, selfSite: selfSite ?? undefined, siteOf: (peer: PeerId) => SITES[peer] })
}

const LAN = defaultConfig(10, 'lan')
const WAN = defaultConfig(10, 'wan')
const lanSuspicion = suspicionTimeoutMs(LAN)
/** The wan budget less the lan profile's detection: what a far member's suspicion lasts on a lan host. */
const wanSuspicionOnLan = suspicionTimeoutMs({ probeIntervalMs: LAN.probeIntervalMs, replaceAfterMs: WAN.replaceAfterMs })

timers('until measured: a site-mate gets the lan timers, a host of another site the wan ones', () => {
  const links = timing(LAN)
  assert.is(links.probeTimeoutMs(mate), LAN.probeTimeoutMs)
  assert.is(links.suspicionMs(mate), lanSuspicion)
  assert.is(links.bidWindowMs(mate), LAN.bidWindowMs)
  assert.is(links.probeTimeoutMs(far), WAN.probeTimeoutMs)
  assert.is(links.suspicionMs(far), wanSuspicionOnLan)
  assert.is(links.bidWindowMs(far), WAN.bidWindowMs)
})

timers('a site-mate keeps lan timers on a wan-profile host', () => {
  const links = timing(WAN)
  assert.is(links.probeTimeoutMs(mate), LAN.probeTimeoutMs)
  assert.is(links.bidWindowMs(mate), LAN.bidWindowMs)
  // The wan profile probes once a second, so the lan budget leaves one interval of suspicion.
  assert.is(links.suspicionMs(mate), suspicionTimeoutMs({ probeIntervalMs: WAN.probeIntervalMs, replaceAfterMs: LAN.replaceAfterMs }))
})

timers('a link with no site keeps the config\'s own timers, measured or not', () => {
  for (const config of [LAN, WAN, withProcessingSkew(LAN, 300), { ...LAN, probeTimeoutMs: 321 }]) {
    for (const links of [timing(config), timing(config, null)]) {
      for (const peer of [plain, mate, far]) {
        if (links.kind(peer) !== 'no-site') continue
        for (let i = 0; i < 20; i++) links.sample(peer, 2_000)
        assert.is(links.probeTimeoutMs(peer), config.probeTimeoutMs)
        assert.is(links.suspicionMs(peer), suspicionTimeoutMs(config))
        assert.is(links.bidWindowMs(peer), config.bidWindowMs)
        assert.equal(links.roundTiming([self, peer]), { bidWindowMs: config.bidWindowMs, roundTimeoutMs: config.roundTimeoutMs })
      }
    }
  }
  assert.is(timing(LAN, null).kind(mate), 'no-site', 'a host without a site sees no site-mates')
})

timers('a fast far link gets the lan probe timeout and window, but keeps the wan suspicion', () => {
  const links = timing(LAN)
  for (let i = 0; i < 20; i++) links.sample(far, 2)
  assert.is(links.probeTimeoutMs(far), LAN.probeTimeoutMs)
  assert.is(links.bidWindowMs(far), LAN.bidWindowMs)
  assert.is(links.suspicionMs(far), wanSuspicionOnLan)
})

timers('a slow site-mate moves toward wan timers: probe timeout, window and suspicion', () => {
  const links = timing(LAN)
  for (let i = 0; i < 20; i++) links.sample(mate, 400)
  const upper = upperRoundTripMs(links.estimate(mate)!)
  assert.is(links.probeTimeoutMs(mate), WAN.probeTimeoutMs, '3 × 400 ms is past the wan timeout')
  assert.is(links.bidWindowMs(mate), upper / 2)
  assert.is(links.suspicionMs(mate), Math.max(lanSuspicion, 2 * upper))
})

timers('the processing skew is added to a measured window, and to both ends', () => {
  const config = withProcessingSkew(LAN, 300)
  const links = timing(config)
  for (let i = 0; i < 50; i++) links.sample(mate, 200)
  assert.ok(Math.abs(links.bidWindowMs(mate) - (100 + 300)) < 1, `${links.bidWindowMs(mate)}`)
  assert.is(links.bidWindowMs(far), WAN.bidWindowMs + 300)
})

timers('a forgotten link starts again from its kind\'s timers', () => {
  const links = timing(LAN)
  links.sample(far, 1)
  links.forget(far)
  assert.is(links.estimate(far), undefined)
  assert.is(links.probeTimeoutMs(far), WAN.probeTimeoutMs)
})

timers('a link with no site keeps no estimate, and a peer keeps at most MAX_LINKS_ESTIMATED', () => {
  const links = timing(LAN)
  links.sample(plain, 10)
  assert.is(links.estimate(plain), undefined)
  const many = new LinkTiming({ self, config: LAN, selfSite: 'a', siteOf: () => 'a' })
  for (let i = 0; i <= MAX_LINKS_ESTIMATED; i++) many.sample(peerId(`m${i}`), 5)
  many.sample(peerId('m1'), 5)
  many.sample(peerId('late'), 5)
  assert.is(many.estimate(peerId('m0')), undefined, 'the least recently timed link was dropped')
  assert.is(many.estimate(peerId('m2')), undefined, 'and then the next least recent')
  assert.ok(many.estimate(peerId('m1')) !== undefined, 'a link timed again moved to the back')
  assert.ok(many.estimate(peerId('late')) !== undefined)
})

timers('without link profiles in the config every link keeps the config\'s timers', () => {
  const { links: _, ...flat } = LAN
  const links = timing(flat)
  links.sample(mate, 900)
  assert.is(links.probeTimeoutMs(far), flat.probeTimeoutMs)
  assert.is(links.suspicionMs(mate), suspicionTimeoutMs(flat))
  assert.is(links.roundTiming([far, mate]), flat)
})

const rounds = suite('link timing: a round\'s windows')

rounds('a round of fast links keeps the config\'s windows exactly', () => {
  const config = withProcessingSkew(LAN, 300)
  const links = timing(config)
  for (let i = 0; i < SAMPLES_TO_SHORTEN; i++) {
    links.sample(mate, 1)
    links.sample(far, 1)
  }
  assert.equal(links.roundTiming([self, mate, far, plain]), { bidWindowMs: config.bidWindowMs, roundTimeoutMs: config.roundTimeoutMs })
  assert.equal(links.roundTiming([self]), { bidWindowMs: config.bidWindowMs, roundTimeoutMs: config.roundTimeoutMs })
})

rounds('a link\'s first samples may lengthen its timers but shorten them only from the SAMPLES_TO_SHORTEN-th on', () => {
  const config = withProcessingSkew(LAN, 300)
  const links = timing(config)
  const wanWindow = config.links!.wan.bidWindowMs
  for (let i = 1; i < SAMPLES_TO_SHORTEN; i++) {
    links.sample(far, 1)
    assert.is(links.bidWindowMs(far), wanWindow, `${i} quick answers leave the far link at the wan window`)
    assert.is(links.probeTimeoutMs(far), config.links!.wan.probeTimeoutMs)
  }
  links.sample(far, 1)
  assert.ok(links.bidWindowMs(far) < wanWindow, 'shortened once enough samples agree')
  const slow = timing(config)
  slow.sample(mate, 2_000)
  assert.ok(slow.probeTimeoutMs(mate) > config.links!.lan.probeTimeoutMs, 'one slow answer lengthens a site-mate\'s timeout at once')
})

rounds('a round with an unmeasured far candidate waits the wan window, and what it adds to the lan one twice in its timeout', () => {
  const round = timing(LAN).roundTiming([self, mate, far])
  const addedMs = WAN.bidWindowMs - LAN.bidWindowMs
  assert.equal(round, { bidWindowMs: WAN.bidWindowMs, roundTimeoutMs: LAN.roundTimeoutMs + 2 * addedMs })
  assert.is(bidWindowMs(round, 0), bidWindowMs(LAN, 0) + addedMs, 'round 0 waits the added one-way time once more')
  assert.is(bidWindowMs(round, 1), WAN.bidWindowMs)
})

rounds('a measured window between the profiles\' gets a timeout between theirs', () => {
  const config = withProcessingSkew(LAN, 300)
  const links = timing(config)
  for (let i = 0; i < 50; i++) links.sample(far, 600)
  const round = links.roundTiming([self, far])
  const wan = config.links!.wan
  assert.ok(round.bidWindowMs > config.bidWindowMs && round.bidWindowMs < wan.bidWindowMs, `${round.bidWindowMs}`)
  assert.is(round.roundTimeoutMs, Math.min(wan.roundTimeoutMs, config.roundTimeoutMs + 2 * (round.bidWindowMs - config.bidWindowMs)))
  assert.ok(round.roundTimeoutMs > config.roundTimeoutMs && round.roundTimeoutMs <= wan.roundTimeoutMs)
})

const properties = suite('link timing: bounds (properties)')

const samples = fc.array(fc.double({ min: 0, max: 20_000, noNaN: true }), { minLength: 1, maxLength: 40 })
const configs = fc.constantFrom(LAN, WAN, withProcessingSkew(LAN, 300), withProcessingSkew(WAN, 300))

function measured(config: MachineConfig, peer: PeerId, sampled: readonly number[]): LinkTiming {
  const links = timing(config)
  for (const sample of sampled) links.sample(peer, sample)
  return links
}

properties('every timer stays between the lan and the wan profile\'s, whatever was measured', () => {
  fc.assert(fc.property(configs, samples, fc.constantFrom(mate, far, plain), (config, sampled, peer) => {
    const lan = config.links!.lan
    const wan = config.links!.wan
    const links = measured(config, peer, sampled)
    const probe = links.probeTimeoutMs(peer)
    const window = links.bidWindowMs(peer)
    const suspicion = links.suspicionMs(peer)
    const round = links.roundTiming([self, peer])
    const lanSuspicionHere = suspicionTimeoutMs({ probeIntervalMs: config.probeIntervalMs, replaceAfterMs: lan.replaceAfterMs })
    const wanSuspicionHere = suspicionTimeoutMs({ probeIntervalMs: config.probeIntervalMs, replaceAfterMs: wan.replaceAfterMs })
    return probe >= lan.probeTimeoutMs && probe <= wan.probeTimeoutMs
      && window >= lan.bidWindowMs && window <= wan.bidWindowMs
      && suspicion >= lanSuspicionHere && suspicion <= wanSuspicionHere
      && round.bidWindowMs >= lan.bidWindowMs && round.bidWindowMs <= wan.bidWindowMs
      && round.roundTimeoutMs >= lan.roundTimeoutMs && round.roundTimeoutMs <= wan.roundTimeoutMs
  }), { numRuns: 1_000 })
})

properties('slower samples never shorten a timer: every timer is monotone in the samples\' scale', () => {
  fc.assert(fc.property(configs, samples, fc.double({ min: 1, max: 50, noNaN: true }), fc.constantFrom(mate, far, plain), (config, sampled, factor, peer) => {
    const fast = measured(config, peer, sampled)
    const slow = measured(config, peer, sampled.map((s) => s * factor))
    return slow.probeTimeoutMs(peer) >= fast.probeTimeoutMs(peer)
      && slow.bidWindowMs(peer) >= fast.bidWindowMs(peer)
      && slow.suspicionMs(peer) >= fast.suspicionMs(peer)
      && slow.roundTiming([self, peer]).roundTimeoutMs >= fast.roundTiming([self, peer]).roundTimeoutMs
  }), { numRuns: 1_000 })
})

properties('the estimate scales with its samples: k times slower links, k times the bound', () => {
  fc.assert(fc.property(samples, fc.double({ min: 0.5, max: 50, noNaN: true }), (sampled, factor) => {
    const base = upperRoundTripMs(estimateOf(sampled)!)
    const scaled = upperRoundTripMs(estimateOf(sampled.map((s) => s * factor))!)
    return Math.abs(scaled - factor * base) <= 1e-6 * Math.max(1, scaled)
  }), { numRuns: 1_000 })
})

estimate.run()
timers.run()
rounds.run()
properties.run()
