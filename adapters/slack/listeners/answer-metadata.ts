import { z } from 'zod'
import { readMetadata } from './metadata.ts'

/** Where a form question's modal came from, carried through Slack in its private_metadata. */
const answerMetadata = z.object({
  runId: z.string().min(1),
  key: z.string().min(1),
  channel: z.string().min(1),
  ts: z.string().min(1),
  /** The thread the question is in, for notes beside it. */
  threadTs: z.string().optional(),
})
export type AnswerMetadata = z.infer<typeof answerMetadata>

/** The metadata an answer modal comes back with, or undefined when it is not Chorus' own. */
export function readAnswerMetadata(text: string): AnswerMetadata | undefined {
  return readMetadata(answerMetadata, text)
}
