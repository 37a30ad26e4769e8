export { answer, closeAtDeadline, lookup, withdraw } from './answer.ts'
export { questionKey, specOf, viewOf } from './spec.ts'
export { closesText, notAllowedText, ruleText, tallyLines, whoText } from './text.ts'
export {
  type AnswerOutcome,
  type AnswerRequest,
  CannotAskError,
  type FormField,
  type QuestionLookup,
  type QuestionSpec,
  type QuestionView,
  type WhoSpec,
} from './types.ts'
export { voteOn } from './vote-on.ts'
export { wakeRun } from './wake.ts'
