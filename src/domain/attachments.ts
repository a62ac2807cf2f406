import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { CommandContext } from '../bot/spec.ts';
import type { Tx } from '../db/client.ts';
import { providerOfClient } from '../db/dialect.ts';
import { appMedia, WEBHOOK_IMAGE_BYTES, webhookFile, webhookImage } from '../delivery/outbox.ts';
import { chatWebhook } from './chats.ts';

// Files the bot hands out (workbooks, chart images): written to disk beside the database, then
// queued through the outbox to the robot of the chat that asked, or to the asking member through
// the app where the chat has no robot.

/**
 * `exports/` beside the SQLite file (data/exports with the default DATABASE_URL); on PostgreSQL,
 * which has no file here and refuses the PRAGMA, data/exports under the working directory.
 */
export async function outputDir(db: Tx): Promise<string> {
  // Asked only of SQLite: a failed statement inside a PostgreSQL transaction would abort it.
  const [main] = providerOfClient(db) === 'sqlite' ? await db.$queryRaw<{ file: string }[]>`PRAGMA database_list` : [];
  const dir = main?.file ? join(dirname(main.file), 'exports') : resolve('data/exports');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A file name for this minute: 安责险台账-2026-11-29-0800. */
export const stamped = (prefix: string, minute: string): string =>
  `${prefix}-${minute.replace(' ', '-').replace(':', '')}`;

export type Attachment =
  { type: 'file'; path: string; name: string } | { type: 'image'; path: string; name: string; png: Buffer };

/** Queues the attachment to the chat's robot, else to the member; says which. */
export async function sendToAsker(ctx: CommandContext, a: Attachment): Promise<'chat' | 'member'> {
  const key = await chatWebhook(ctx.db, ctx.chatId);
  if (!key) {
    await ctx.send(appMedia(ctx.userId, a.type, a.path, a.name));
    return 'member';
  }
  // A robot takes an image inline up to 2 MB; a larger one goes as a file.
  await ctx.send(
    a.type === 'image' && a.png.length <= WEBHOOK_IMAGE_BYTES
      ? webhookImage(key, a.png)
      : webhookFile(key, a.path, a.name),
  );
  return 'chat';
}

/** The reply's lines on where the attachment went; in the sandbox chat also where it was written. */
export function deliveryNote(ctx: CommandContext, to: 'chat' | 'member', path: string): string[] {
  return [
    ctx.t(to === 'chat' ? 'export.sent_chat' : 'export.sent_member'),
    ...(ctx.channel === 'sandbox' ? [ctx.t('export.written', { path })] : []),
  ];
}
