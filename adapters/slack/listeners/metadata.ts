import type { z } from 'zod'

/** A modal's private_metadata read with `schema`, or undefined when it is not Chorus' own. */
export function readMetadata<T>(schema: z.ZodType<T>, text: string): T | undefined {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return undefined
  }
  const parsed = schema.safeParse(json)
  return parsed.success ? parsed.data : undefined
}
