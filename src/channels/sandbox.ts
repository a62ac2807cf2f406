// Sandbox mode (no WeCom channel configured): nothing is sent, every message is printed, and
// every channel counts as reaching its group, so a county can try the bot on a laptop.
import type { Sender } from '../delivery/dispatcher.ts';
import { RATE_LIMITS } from '../wecom/messages.ts';
import type { OpenChannel } from './channel.ts';

export const sandbox: OpenChannel = ({ config, log }) => {
  if (!config.sandbox) return null;
  const print = log('sandbox');
  const printer: Sender = async (row) => {
    // An image's base64 is shortened: the console is for people.
    const payload = row.payload.replace(/("base64":")([^"]{40})[^"]*"/g, '$1$2…"');
    // A robot's key is a secret even in the sandbox: only its first characters are shown.
    const target = row.channel === 'webhook' ? `${row.target.slice(0, 4)}…` : row.target;
    print(`[sandbox → ${row.channel} ${target}] ${payload}`);
    return 'printed';
  };
  return {
    name: 'sandbox',
    senders: { webhook: printer, app: printer, response_url: printer, longconn: printer },
    // Printed at the pace WeCom would take them.
    perMinute: RATE_LIMITS,
    health: () => ({ state: { status: 'up', state: 'printing' } }),
  };
};
