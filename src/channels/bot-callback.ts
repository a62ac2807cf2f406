// The AI bot (智能机器人) in callback mode: WeCom calls /wecom/bot, the reply goes back in the HTTP
// answer, and a button's answer to the event's response_url.
import { sendResponseUrl } from '../wecom/api.ts';
import { callbackRoutes } from './callbacks.ts';
import type { Sender } from '../delivery/dispatcher.ts';
import type { OpenChannel } from './channel.ts';

/** An answer to a button pressed in an AI bot's card, in either mode: usable once, within an hour. */
export const responseUrlSender: Sender = async (row) => (
  await sendResponseUrl(row.target, JSON.parse(row.payload)),
  'sent'
);

export const botCallback: OpenChannel = (deps) =>
  deps.config.bot
    ? {
        name: 'bot',
        ...callbackRoutes(deps, { bot: deps.config.bot }),
        senders: { response_url: responseUrlSender },
        perMinute: {},
        health: () => ({ state: { status: 'up', state: 'callback' } }),
      }
    : null;
