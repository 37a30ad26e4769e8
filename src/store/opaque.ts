/**
 * Values the store keeps without reading them (step values, question specs, answers, messages), as
 * text. Wrapped in `{ v }` so `undefined` and bare strings or numbers come back as they went in.
 */
export function toText(value: unknown): string {
  return JSON.stringify({ v: value })
}

export function fromText(text: string): unknown {
  return (JSON.parse(text) as { v: unknown }).v
}
