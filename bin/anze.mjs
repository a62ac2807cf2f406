#!/usr/bin/env node
// anze <command> [arguments…]: the operations of a release bundle (npm run bundle).
//
// `serve` starts the service (dist/src/main.js); any other command runs dist/src/cli/<command>.js
// with the arguments after it, so a new CLI under src/cli/ is a command here without editing this
// file. The configuration is the environment, with ANZE_ENV_FILE (/etc/anze-bot/anze-bot.env
// unless set; empty for none) read beneath it when the file exists: an operator's
// `sudo -u anze-bot anze backup …` then sees what the service sees.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const cli = new URL('dist/src/cli/', root);
const entry = (command) => new URL(command === 'serve' ? 'dist/src/main.js' : `dist/src/cli/${command}.js`, root);
const commands = [
  'serve',
  ...readdirSync(cli)
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.slice(0, -3)),
].sort();

const envFile = process.env.ANZE_ENV_FILE ?? '/etc/anze-bot/anze-bot.env';
let unreadable = null;
if (envFile && existsSync(envFile)) {
  try {
    process.loadEnvFile(envFile); // never overrides what the environment already has
  } catch (e) {
    unreadable = e.code ?? e.message;
  }
}

// Messages in BOT_LOCALE, as the configuration sets it.
const locale = process.env.BOT_LOCALE === 'en' ? 'en' : 'zh-CN';
const messages = JSON.parse(readFileSync(new URL(`dist/locales/${locale}.json`, root), 'utf8'));
const t = (key, params = {}) => messages[key].replace(/\{(\w+)\}/g, (m, name) => params[name] ?? m);

const [command, ...rest] = process.argv.slice(2);
if (!command || command === 'help' || command === '--help' || command === '-h') {
  console.log(t('anze.usage', { commands: commands.join(', ') }));
  process.exit(0);
}
if (!commands.includes(command)) {
  console.error(t('anze.unknown', { command, commands: commands.join(', ') }));
  process.exit(2);
}
if (unreadable) {
  console.error(t('anze.env_unreadable', { path: envFile, reason: unreadable }));
  process.exit(1);
}

// The command's module sees itself as the script run, with its own arguments.
const target = entry(command);
process.argv = [process.argv[0], fileURLToPath(target), ...rest];
await import(target.href);
