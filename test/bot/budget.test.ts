import { MemoryEditBudget } from '../../src/bot/index.ts'
import { budgetContract } from './budget.contract.ts'

budgetContract('MemoryEditBudget', { create: () => new MemoryEditBudget(), async destroy() {} })
