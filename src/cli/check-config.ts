// npm run check-config [-- <env file>]   (anze check-config [/etc/anze-bot/anze-bot.env] in a bundle)
// Reads the configuration as the service would — from the file alone when one is given (what
// systemd's EnvironmentFile= hands the service), else from the environment and ./.env — and says
// what the service would run with, or which variable is wrong. Never prints a secret.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { providerOf, sqlitePath } from '../db/client.ts';
import { translator } from '../i18n.ts';

const file = process.argv[2];
if (process.argv.length > 3) {
  console.error('usage: npm run check-config -- [<env file>]');
  process.exit(2);
}
let env: NodeJS.ProcessEnv;
let t = translator('zh-CN');
const source = file ? resolve(file) : 'environment';
if (file) {
  try {
    env = parseEnv(readFileSync(file, 'utf8'));
  } catch (e) {
    console.error(t('check_config.unreadable', { path: source, reason: (e as Error).message }));
    process.exit(1);
  }
} else {
  if (existsSync('.env')) process.loadEnvFile('.env');
  env = process.env;
}

try {
  const config = loadConfig(env);
  t = translator(config.locale);
  const channels = [
    config.bot && t('check_config.channel_bot'),
    config.botLongConn && t('check_config.channel_bot_ws'),
    config.app && t('check_config.channel_app'),
  ].filter(Boolean);
  console.log(t('check_config.ok', { source }));
  console.log(
    config.sandbox ? t('check_config.sandbox') : t('check_config.channels', { channels: channels.join('、') }),
  );
  if (providerOf(config.databaseUrl) === 'sqlite')
    console.log(t('check_config.sqlite', { path: sqlitePath(config.databaseUrl) }));
  else {
    const url = new URL(config.databaseUrl);
    console.log(t('check_config.postgres', { host: url.host, name: url.pathname.slice(1) }));
  }
  console.log(
    t('check_config.basics', {
      port: config.port,
      timezone: config.timezone,
      locale: config.locale,
      admins: config.admins.length,
    }),
  );
  if (!existsSync(config.calendarFile))
    console.log(t('check_config.no_calendar', { path: resolve(config.calendarFile) }));
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  console.error(t('check_config.bad', { source, message: e.message }));
  process.exit(1);
}
