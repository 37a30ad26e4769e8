export { type Config, ConfigError, loadConfig, type RateLimit } from './config.ts'
