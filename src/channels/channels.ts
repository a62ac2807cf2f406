// The channels a deployment can have, in the order their routes are served and their senders
// merged. A new channel is a module beside these (src/channels/channel.ts) and a line here.
import type { Channel, ChannelDeps, OpenChannel } from './channel.ts';
import { selfBuiltApp } from './app.ts';
import { botCallback } from './bot-callback.ts';
import { botLongConn } from './longconn-bot.ts';
import { sandbox } from './sandbox.ts';
import { webhookRobots } from './webhook.ts';

const CHANNELS: readonly OpenChannel[] = [sandbox, webhookRobots, botCallback, botLongConn, selfBuiltApp];

/** The channels the configuration asks for. */
export const openChannels = (deps: ChannelDeps): Channel[] => CHANNELS.flatMap((open) => open(deps) ?? []);
