export {
  type EditBudget,
  type EditPriority,
  PlatformRateLimited,
  type Route,
  spend,
  type Turn,
  TurnCancelledError,
} from './budget.ts'
export { MemoryEditBudget } from './memory.ts'
export {
  BudgetClosedError,
  BudgetUnavailableError,
  RedisEditBudget,
  type RedisEditBudgetOptions,
} from './redis.ts'
