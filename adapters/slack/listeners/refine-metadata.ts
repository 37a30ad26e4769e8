import { z } from 'zod'
import { readMetadata } from './metadata.ts'

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
  return readMetadata(refineMetadata, text)
}
