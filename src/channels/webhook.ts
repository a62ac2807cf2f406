// The groups' webhook robots (群机器人): send only, each keyed by its robot's key.
import { sendWebhook } from '../wecom/api.ts';
import { RATE_LIMITS } from '../wecom/messages.ts';
import type { OpenChannel } from './channel.ts';

export const webhookRobots: OpenChannel = ({ config }) =>
  config.sandbox
    ? null
    : {
        name: 'webhook',
        senders: {
          webhook: async (row) => (await sendWebhook(config.wecomApiBase, row.target, JSON.parse(row.payload)), 'sent'),
        },
        perMinute: { webhook: RATE_LIMITS.webhook },
      };
