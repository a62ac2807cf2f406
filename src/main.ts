import { systemClock } from './clock.ts';
import { ConfigError, configFromEnvironment, type Config } from './config.ts';
import { serviceLogger, startService } from './service.ts';

let config: Config;
try {
  config = configFromEnvironment();
} catch (e) {
  // Before there is a logger: one line naming the setting, for the person starting the service.
  process.stderr.write(e instanceof ConfigError ? `configuration: ${e.message}\n` : `${(e as Error).stack ?? e}\n`);
  process.exit(1);
}
const logger = serviceLogger(config, systemClock);
try {
  const service = await startService(config, systemClock, logger);
  const channels = [
    config.bot && 'AI bot at /wecom/bot',
    config.botLongConn && 'AI bot over its long connection',
    config.app && 'self-built app at /wecom/app',
  ]
    .filter(Boolean)
    .join(', ');
  logger.info(
    {
      url: service.url,
      mode: config.sandbox ? 'sandbox' : 'wecom',
      role: service.lease.token() === null ? 'follower' : 'leader',
    },
    `anze-bot listening on ${service.url} (${config.sandbox ? 'sandbox mode: no WeCom settings, outbound messages are printed, not sent' : channels})`,
  );
  if (config.sandbox) logger.info('try: npm run chat -- --as demo-leader "/覆盖率"');
  logger.info(`dashboard: ${config.publicBaseUrl ?? service.url}/dashboard${config.sandbox ? ' (demo sign-in)' : ''}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      logger.info({ signal }, 'stopping');
      void service.close().then(() => process.exit(0));
    });
} catch (e) {
  logger.fatal({ err: e }, `start-up failed: ${(e as Error).message}`);
  process.exit(1);
}
