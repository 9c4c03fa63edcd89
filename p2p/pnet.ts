// The private-network connection protector: libp2p's pnet protocol (exchange 24-byte nonces, then
// XOR every byte each way with an XSalsa20 keystream of the pre-shared key), wire-compatible with
// @libp2p/pnet and go-libp2p's pnet.
//
// Why not @libp2p/pnet itself: its cipher (the `xsalsa20` package) keeps one WebAssembly memory for
// every connection of the process, capped at 64 MiB, and each cipher caches a view of it. When one
// connection's large message grows the memory, every other cipher's view goes stale and its next
// update grows the memory again by the whole buffer instead of re-reading it. With a few
// connections and a few hundred KB messages the cap is hit within dozens of messages, and the
// RangeError, thrown from a socket's data event, kills the process. Here the keystream comes from
// @noble/ciphers (plain JavaScript, no shared memory), and a fault on one connection aborts that
// connection and is counted; it never reaches the process.

import { InvalidParametersError, type AbortOptions, type ConnectionProtector, type MultiaddrConnection } from '@libp2p/interface'
import { AbstractMultiaddrConnection, byteStream, type SendResult } from '@libp2p/utils'
import { xsalsa20 } from '@noble/ciphers/salsa.js'

export const PNET_NONCE_BYTES = 24
export const PNET_KEY_BYTES = 32
const BLOCK_BYTES = 64
/** Sends gathered into one socket write up to this many bytes; more is written at once. */
const GATHER_MAX_BYTES = 16 * 1024

/** The byte list libp2p hands to sendData (the version @libp2p/utils was built against). */
type OutgoingBytes = Parameters<AbstractMultiaddrConnection['sendData']>[0]

export interface PnetInit {
  /** The 32 secret bytes of the swarm key. */
  readonly key: Uint8Array
  /** How long the nonce exchange may take. */
  readonly timeoutMs: number
  /** Called when a connection is aborted because its cipher failed. */
  readonly onFault?: (error: Error) => void
  /**
   * Called when a connection starts its handshake (the TCP connection is up), with the remote address
   * and who dialled: a dial that then times out reached something that did not finish the handshake.
   */
  readonly onHandshake?: (remoteAddr: string, direction: 'inbound' | 'outbound') => void
}

/** XSalsa20 as a stream: each update continues the keystream where the last one stopped. */
export class XSalsa20Stream {
  private position = 0

  constructor(
    private readonly key: Uint8Array,
    private readonly nonce: Uint8Array,
  ) {
    if (key.length !== PNET_KEY_BYTES) throw new InvalidParametersError(`a pnet key is ${PNET_KEY_BYTES} bytes, not ${key.length}`)
    if (nonce.length !== PNET_NONCE_BYTES) throw new InvalidParametersError(`a pnet nonce is ${PNET_NONCE_BYTES} bytes, not ${nonce.length}`)
  }

  update(data: Uint8Array): Uint8Array {
    if (data.length === 0) return new Uint8Array(0)
    // The keystream is addressed by 64-byte block: start at the block holding `position` and skip
    // the part of it already used.
    const block = Math.floor(this.position / BLOCK_BYTES)
    const offset = this.position % BLOCK_BYTES
    const input = new Uint8Array(offset + data.length)
    input.set(data, offset)
    const output = xsalsa20(this.key, this.nonce, input, undefined, block)
    this.position += data.length
    return offset === 0 ? output : output.subarray(offset)
  }
}

/**
 * Sealed bytes are written to the socket once per microtask, not once per send. Above pnet, Yamux
 * sends a frame's 12-byte header and its body as two sends, and Noise seals each as its own message,
 * so one small protocol message cost two or three write() calls; on loopback each write also runs
 * the receiver's TCP input path. Gathering the sends of one synchronous burst into one write cut an
 * idle agent's writes by half or more. Ordering is unchanged: the keystream advances in send order.
 */
class PnetConnection extends AbstractMultiaddrConnection {
  private readonly inbound: XSalsa20Stream
  private readonly outbound: XSalsa20Stream
  /** Sealed, not yet handed to the socket. */
  private unsent: Uint8Array[] = []
  private unsentBytes = 0
  /** The socket's last answer was "full": senders above wait for its drain. */
  private innerFull = false

  constructor(
    private readonly inner: MultiaddrConnection,
    localNonce: Uint8Array,
    remoteNonce: Uint8Array,
    key: Uint8Array,
    private readonly onFault: (error: Error) => void,
    log: MultiaddrConnection['log'],
  ) {
    super({ remoteAddr: inner.remoteAddr, direction: inner.direction, log })
    this.inbound = new XSalsa20Stream(key, remoteNonce)
    this.outbound = new XSalsa20Stream(key, localNonce)
    inner.addEventListener('message', (event) => {
      try {
        const data = event.data
        if (data instanceof Uint8Array) this.onData(this.inbound.update(data))
        else for (const chunk of data) this.onData(this.inbound.update(chunk))
      } catch (error) {
        this.fault(error)
      }
    })
    inner.addEventListener('drain', () => {
      this.innerFull = false
      this.onMuxerDrain()
    })
    inner.addEventListener('close', (event) => {
      if (event.error != null) {
        if (event.local) this.abort(event.error)
        else this.onRemoteReset()
      } else {
        this.onTransportClosed()
      }
    })
  }

  async sendClose(options?: AbortOptions): Promise<void> {
    this.flush()
    await this.inner.close(options)
  }

  sendData(data: OutgoingBytes): SendResult {
    let sealed: Uint8Array
    try {
      sealed = this.outbound.update(data.subarray())
    } catch (error) {
      this.fault(error)
      return { sentBytes: data.byteLength, canSendMore: false }
    }
    this.unsent.push(sealed)
    this.unsentBytes += sealed.byteLength
    // Bulk data (a state transfer) goes out at once, as before: it gains nothing from gathering, and
    // the socket's "full" must reach the sender while it is still sending.
    if (this.unsentBytes >= GATHER_MAX_BYTES) this.flush()
    else if (this.unsent.length === 1) queueMicrotask(() => this.flush())
    return { sentBytes: data.byteLength, canSendMore: !this.innerFull }
  }

  /** Hands everything sealed so far to the socket in one write. */
  private flush(): void {
    if (this.unsent.length === 0) return
    const chunks = this.unsent
    this.unsent = []
    this.unsentBytes = 0
    // A connection closed or aborted meanwhile has nowhere to send; its senders were told already.
    if (this.inner.status !== 'open') return
    try {
      this.innerFull = !this.inner.send(chunks.length === 1 ? chunks[0]! : concatBytes(chunks))
    } catch (error) {
      this.fault(error)
    }
  }

  sendReset(error: Error): void {
    this.unsent = []
    this.unsentBytes = 0
    this.inner.abort(error)
  }

  sendPause(): void {
    this.inner.pause()
  }

  sendResume(): void {
    this.inner.resume()
  }

  private fault(error: unknown): void {
    const failure = error instanceof Error ? error : new Error(String(error))
    this.onFault(failure)
    this.inner.abort(failure)
    this.abort(failure)
  }
}

function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  let length = 0
  for (const chunk of chunks) length += chunk.length
  const joined = new Uint8Array(length)
  let at = 0
  for (const chunk of chunks) {
    joined.set(chunk, at)
    at += chunk.length
  }
  return joined
}

class PnetProtector implements ConnectionProtector {
  readonly [Symbol.toStringTag] = 'peer/pnet'

  constructor(private readonly init: PnetInit) {
    if (init.key.length !== PNET_KEY_BYTES) throw new InvalidParametersError(`a pnet key is ${PNET_KEY_BYTES} bytes, not ${init.key.length}`)
  }

  async protect(connection: MultiaddrConnection, options?: AbortOptions): Promise<MultiaddrConnection> {
    const log = connection.log.newScope('pnet')
    this.init.onHandshake?.(connection.remoteAddr.toString(), connection.direction)
    const localNonce = crypto.getRandomValues(new Uint8Array(PNET_NONCE_BYTES))
    const signal = options?.signal ?? AbortSignal.timeout(this.init.timeoutMs)
    const bytes = byteStream(connection)
    const [remote] = await Promise.all([
      bytes.read({ bytes: PNET_NONCE_BYTES, signal }),
      bytes.write(localNonce, { signal }),
    ])
    log('exchanged nonces')
    return new PnetConnection(bytes.unwrap(), localNonce, remote.subarray(), this.init.key, this.init.onFault ?? (() => {}), log)
  }
}

/** The protector factory libp2p's `connectionProtector` option takes. */
export function privateNetwork(init: PnetInit): () => ConnectionProtector {
  return () => new PnetProtector(init)
}
