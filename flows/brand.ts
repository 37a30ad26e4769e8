import { z } from 'zod'
import { all, any, defineFlow } from '../src/engine/index.ts'

export default defineFlow({
  name: 'brand',
  description: 'A slogan and a tagline for a brand, written in parallel',
  input: z.object({ brand: z.string().trim().min(1).max(300).describe('The brand or product to write for') }),
  example: { brand: 'Chorus, a bot that thinks in parallel' },
  meta: { noun: 'lines', firstLabel: 'First line' },
  build(f, { brand }) {
    const system = 'You are a senior copywriter. Reply with one line only, no quotes, no preamble.'
    const slogan = f.start('slogan', ({ llm, signal }) =>
      llm.text(`Write a punchy slogan (at most 8 words) for: ${brand}`, { system, temperature: 0.9, signal }),
    )
    const tagline = f.start('tagline', ({ llm, signal }) =>
      llm.text(`Write a descriptive tagline (one sentence) for: ${brand}`, {
        system,
        temperature: 0.7,
        signal,
      }),
    )
    const first = f.listen(
      any(slogan, tagline),
      'first',
      ({ step, value }) => `*${label(step)}:* ${value.trim()}`,
    )
    const final = f.listen(
      all(slogan, tagline),
      'combine',
      ([s, t]) => `*Slogan:* ${s.trim()}\n*Tagline:* ${t.trim()}`,
    )
    return { first, final }
  },
})

function label(step: string): string {
  return step === 'slogan' ? 'Slogan' : 'Tagline'
}
