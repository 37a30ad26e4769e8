import { afterEach, beforeEach } from 'vitest'

/**
 * Collects every unhandled rejection and uncaught exception during each test of the calling file,
 * so a test can assert that nothing escaped (vitest alone reports those apart from the test).
 */
export function watchEscapes(): unknown[] {
  const escaped: unknown[] = []
  const record = (error: unknown) => escaped.push(error)
  beforeEach(() => {
    escaped.length = 0
    process.on('unhandledRejection', record)
    process.on('uncaughtException', record)
  })
  afterEach(() => {
    process.off('unhandledRejection', record)
    process.off('uncaughtException', record)
  })
  return escaped
}
