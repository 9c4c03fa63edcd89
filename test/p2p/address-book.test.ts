import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { identityFromSeed, parseAnnouncement } from '../../p2p/index.js'

const announcements = suite('address announcements')

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value))

announcements('an announcement of the author\'s own addresses is accepted, with or without /p2p/', async () => {
  const author = (await identityFromSeed('announcer')).peerId
  const addresses = parseAnnouncement(encode({ addresses: ['/ip4/10.0.0.2/tcp/4001', `/ip4/10.0.0.2/tcp/4001/p2p/${author}`] }), author)
  assert.equal(addresses?.map(String), ['/ip4/10.0.0.2/tcp/4001', `/ip4/10.0.0.2/tcp/4001/p2p/${author}`])
})

announcements('malformed announcements, and ones naming another peer, are refused', async () => {
  const author = (await identityFromSeed('announcer')).peerId
  const other = (await identityFromSeed('someone-else')).peerId
  const cases: Array<[string, Uint8Array]> = [
    ['not JSON', encode('{{')],
    ['not UTF-8', new Uint8Array([0xff, 0xfe])],
    ['no addresses field', encode({ address: ['/ip4/10.0.0.2/tcp/1'] })],
    ['an empty list', encode({ addresses: [] })],
    ['a non-string entry', encode({ addresses: [42] })],
    ['not a multiaddr', encode({ addresses: ['10.0.0.2:4001'] })],
    ['another peer\'s id', encode({ addresses: [`/ip4/10.0.0.2/tcp/4001/p2p/${other}`] })],
    ['too many addresses', encode({ addresses: Array.from({ length: 33 }, (_, i) => `/ip4/10.0.0.${i}/tcp/1`) })],
    ['an overlong address', encode({ addresses: [`/dns4/${'a'.repeat(300)}.example/tcp/1`] })],
  ]
  for (const [name, bytes] of cases) assert.is(parseAnnouncement(bytes, author), undefined, name)
})

announcements.run()
