// The parser ships no types; this is the part the tests use (its README describes the output).
declare module 'parse-prometheus-text-format' {
  const parsePrometheusTextFormat: (text: string) => unknown[]
  export default parsePrometheusTextFormat
}
