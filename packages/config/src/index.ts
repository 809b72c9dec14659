export { loadConfig, loadConfigOrExit, ConfigError, type Config } from './config.ts';
export { createLogger, redact, type Logger } from './logger.ts';
