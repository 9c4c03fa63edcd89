// Docker's multiplexed output: without a TTY, the engine frames stdout and stderr of `logs`,
// `attach` and `exec` as [stream type (1 byte), 0, 0, 0, payload size (4 bytes, big-endian)] then the
// payload. Frames split anywhere across network chunks, and a line may span frames; this turns the
// byte stream back into the lines a person would have seen on a terminal, stdout and stderr
// interleaved in the order the engine recorded them.

import { StringDecoder } from 'node:string_decoder'

const HEADER_BYTES = 8
/** A line longer than this is cut (and the rest becomes the next line), so one runaway write cannot hold memory. */
export const MAX_LINE_CHARS = 64 * 1024

export class DockerLineDecoder {
  private pending = Buffer.alloc(0)
  /** Partial line per stream (1 stdout, 2 stderr): each stream's lines are whole on their own. */
  private readonly partial = new Map<number, { decoder: StringDecoder; text: string }>()

  /** Feeds raw bytes; returns the lines completed by them. */
  push(chunk: Uint8Array): string[] {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk])
    const lines: string[] = []
    while (this.pending.length >= HEADER_BYTES) {
      const stream = this.pending[0]!
      const size = this.pending.readUInt32BE(4)
      if (this.pending.length < HEADER_BYTES + size) break
      const payload = this.pending.subarray(HEADER_BYTES, HEADER_BYTES + size)
      this.pending = this.pending.subarray(HEADER_BYTES + size)
      this.take(stream, payload, lines)
    }
    return lines
  }

  /** The partial lines left at the end of the stream (output not ended by a newline). */
  end(): string[] {
    const lines: string[] = []
    for (const part of this.partial.values()) {
      const text = part.text + part.decoder.end()
      if (text !== '') lines.push(text)
    }
    this.partial.clear()
    return lines
  }

  private take(stream: number, payload: Buffer, lines: string[]): void {
    let part = this.partial.get(stream)
    if (part === undefined) {
      part = { decoder: new StringDecoder('utf8'), text: '' }
      this.partial.set(stream, part)
    }
    const pieces = (part.text + part.decoder.write(payload)).split('\n')
    part.text = pieces.pop()!
    for (const piece of pieces) lines.push(piece)
    while (part.text.length > MAX_LINE_CHARS) {
      lines.push(part.text.slice(0, MAX_LINE_CHARS))
      part.text = part.text.slice(MAX_LINE_CHARS)
    }
  }
}

/** Demultiplexes a whole buffer (a non-following `logs` answer) into lines. */
export function dockerLines(data: Uint8Array): string[] {
  const decoder = new DockerLineDecoder()
  return [...decoder.push(data), ...decoder.end()]
}
