import { z } from 'zod'

/** Where a Refine modal's answer goes, carried through Slack in the modal's private_metadata. */
const refineMetadata = z.object({
  runId: z.string().min(1),
  channel: z.string().min(1),
  threadTs: z.string().min(1),
  teamId: z.string().optional(),
})
export type RefineMetadata = z.infer<typeof refineMetadata>

/** The metadata a Refine modal comes back with, or undefined when it is not Chorus' own. */
export function readRefineMetadata(text: string): RefineMetadata | undefined {
  const parsed = refineMetadata.safeParse(safeJson(text))
  return parsed.success ? parsed.data : undefined
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
