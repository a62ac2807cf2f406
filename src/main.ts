import { systemClock } from './clock.ts';
import { ConfigError, configFromEnvironment } from './config.ts';
import { startService } from './service.ts';

try {
  const config = configFromEnvironment();
  const service = await startService(config, systemClock);
  const channels = [config.bot && 'AI bot at /wecom/bot', config.app && 'self-built app at /wecom/app']
    .filter(Boolean)
    .join(', ');
  console.log(
    `anze-bot listening on ${service.url} (${config.sandbox ? 'sandbox mode: no WeCom settings, outbound messages are printed, not sent' : channels})`,
  );
  if (config.sandbox) console.log('try: npm run chat -- --as demo-leader "/覆盖率"');
  console.log(`dashboard: ${config.publicBaseUrl ?? service.url}/dashboard${config.sandbox ? ' (demo sign-in)' : ''}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void service.close().then(() => process.exit(0)));
} catch (e) {
  console.error(e instanceof ConfigError ? `configuration: ${e.message}` : e);
  process.exit(1);
}
