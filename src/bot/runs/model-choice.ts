import type { LanguageModel } from '../../llm/index.ts'

/** The step a flow names for its judge or synthesis (`meta.judgeStep`), which may get its own model. */
export function judgeStepOf(meta: Record<string, unknown> | undefined): string | undefined {
  const step = meta?.judgeStep
  return typeof step === 'string' ? step : undefined
}

/** The model a flow names for one of its steps (`meta.models`: a flow file's `model:`), if any. */
export function stepModelOf(meta: Record<string, unknown> | undefined, step: string): string | undefined {
  const models = meta?.models
  if (models === null || typeof models !== 'object') return undefined
  const name = (models as Record<string, unknown>)[step]
  return typeof name === 'string' && name !== '' ? name : undefined
}

/**
 * The model each step calls: the one the flow names for the step (`meta.models`), else
 * `CHORUS_MODEL_<FLOW>_JUDGE` for a flow's judge step, else `CHORUS_MODEL_<FLOW>`, else the default
 * (`CHORUS_MODEL`). One instance per model name.
 */
export class ModelChoice {
  readonly #base: LanguageModel
  readonly #names: Record<string, string>
  readonly #made = new Map<string, LanguageModel>()

  constructor(base: LanguageModel, names: Record<string, string>) {
    this.#base = base
    this.#names = names
  }

  /** The model for `step` of `flow` (its `meta` names its judge step and its steps' own models). */
  of(flow: { name: string; meta?: Record<string, unknown> | undefined }, step: string): LanguageModel {
    const key = flow.name.toLowerCase().replace(/[^a-z0-9]/g, '_')
    const judge = step === judgeStepOf(flow.meta) ? this.#names[`${key}.judge`] : undefined
    const name = stepModelOf(flow.meta, step) ?? judge ?? this.#names[key]
    if (name === undefined || this.#base.withModel === undefined) return this.#base
    let model = this.#made.get(name)
    if (model === undefined) {
      model = this.#base.withModel(name)
      this.#made.set(name, model)
    }
    return model
  }
}

/** `openai:gpt-4o-mini` → `gpt-4o-mini`: the name people know. */
export function modelName(model: LanguageModel): string {
  return model.id.replace(/^openai:/, '')
}
