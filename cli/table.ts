// Plain-text tables: columns padded to their widest cell, no borders, like `docker ps`.

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

export const percent = (part: number, whole: number): string => (whole <= 0 ? '-' : `${Math.round((100 * part) / whole)}%`)

export const formatScore = (score: readonly number[]): string => score.map((s) => s.toFixed(3)).join('/')
