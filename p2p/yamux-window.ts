// Yamux window updates sent the way the protocol's reference implementations send them: once the
// bytes received since the last update reach half the stream's receive window.
//
// @chainsafe/libp2p-yamux 8 answers every data frame with a window update (YamuxStream
// .sendWindowUpdate, called from handleData, sends whenever any of the window is used). Between
// agents nearly every frame is a small message on a long-lived stream — a SWIM probe, its ack, a
// digest — so each one cost a second frame the other way: one more Noise seal, socket write, read
// and decryption on each side, as many as the messages themselves. go-yamux and hashicorp/yamux
// hold the update until half the window is used, and so does this: a small message costs one frame,
// while a bulk transfer still gets an update every half window (the sender never runs dry) and the
// window still grows (the library doubles it when updates come fast, which it checks on each update).
//
// The change is the one condition, applied to the library's own method, so every other path — the
// SYN and ACK flags that open a stream, a paused stream, window growth — runs the library's code.

import './polyfill.js'

import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'

/** The receive-window fields the condition reads (private in the library's types). */
interface ReceiveWindow {
  recvWindow: number
  recvWindowCapacity: number
}

let installed = false

/** Makes every Yamux stream of this process hold window updates until half its window is used. Idempotent. */
export function holdYamuxWindowUpdates(): void {
  if (installed) return
  installed = true
  const send = YamuxStream.prototype.sendWindowUpdate
  YamuxStream.prototype.sendWindowUpdate = function (this: YamuxStream): void {
    // Only an established stream's plain update may wait: any other state has a flag to send
    // (SYN, ACK) or is the library's to handle (paused, finished).
    if (this.state === StreamState.Established) {
      const window = this as unknown as ReceiveWindow
      if (window.recvWindow - window.recvWindowCapacity < window.recvWindow / 2) return
    }
    send.call(this)
  }
}

/** Bytes `stream` has received that no window update has granted back yet (for tests). */
export function ungrantedBytes(stream: unknown): number | undefined {
  if (!(stream instanceof YamuxStream)) return undefined
  const window = stream as unknown as ReceiveWindow
  return window.recvWindow - window.recvWindowCapacity
}
