import { systemClock } from './clock.ts';
import { ConfigError, configErrorLine, configFromEnvironment, operatorLocale, type Config } from './config.ts';
import { translator } from './i18n.ts';
import { serviceLogger, startService } from './service.ts';

let config: Config;
try {
  config = configFromEnvironment();
} catch (e) {
  // Before there is a logger: one line naming the setting, in the operator's language; nothing else is written.
  process.stderr.write(
    e instanceof ConfigError ? `${configErrorLine(e, operatorLocale())}\n` : `${(e as Error).stack ?? e}\n`,
  );
  process.exit(1);
}
const t = translator(config.locale);
const logger = serviceLogger(config, systemClock);
try {
  const service = await startService(config, systemClock, logger);
  const channels = [
    config.bot && t('service.channel_bot'),
    config.botLongConn && t('service.channel_longconn'),
    config.app && t('service.channel_app'),
  ]
    .filter(Boolean)
    .join(t('service.list_separator'));
  logger.info(
    {
      url: service.url,
      mode: config.sandbox ? 'sandbox' : 'wecom',
      role: service.lease.token() === null ? 'follower' : 'leader',
    },
    t('service.listening', { url: service.url, how: config.sandbox ? t('service.sandbox_mode') : channels }),
  );
  if (config.sandbox) logger.info(t('service.try_chat'));
  const dashboard = `${config.publicBaseUrl ?? service.url}/dashboard`;
  logger.info(t(config.sandbox ? 'service.dashboard_demo' : 'service.dashboard', { url: dashboard }));
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      logger.info({ signal }, t('service.stopping', { signal }));
      void service.close().then(() => process.exit(0));
    });
} catch (e) {
  logger.fatal({ err: e }, t('service.start_failed', { error: (e as Error).message }));
  process.exit(1);
}
