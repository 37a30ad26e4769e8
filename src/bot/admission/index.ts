export { type Admission, admit, type Requester } from './admit.ts'
export { dailyKey, dailyTtlMs, workspaceOf } from './daily.ts'
