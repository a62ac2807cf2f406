import { statSync } from 'node:fs';
import type { Translate } from '../i18n.ts';
import { FILE_BYTES } from '../wecom/api.ts';
import type { CommandContext } from './spec.ts';

// Handing a file the bot made to the member who asked: in the chat they asked in where its robot
// takes files, else to them through the app (the audience router decides).

export type Attachment =
  { type: 'file'; path: string; name: string } | { type: 'image'; path: string; name: string; png: Buffer };

const MB = 1024 * 1024;

/** The line saying a file is over WeCom's file limit (no channel delivers it); null when it fits. */
export function tooLargeToSend(t: Translate, path: string): string | null {
  const size = statSync(path).size;
  return size > FILE_BYTES ? t('attachment.too_large', { size: (size / MB).toFixed(1), limit: FILE_BYTES / MB }) : null;
}

/**
 * Queues the attachment to the asker; the reply's lines on where it went (in the sandbox also where
 * it was written). A file over WeCom's limit is not queued: the line says so.
 */
export async function sendToAsker(
  ctx: Pick<CommandContext, 'tell' | 't' | 'channel' | 'chatId'>,
  a: Attachment,
): Promise<string[]> {
  const large = a.type === 'file' ? tooLargeToSend(ctx.t, a.path) : null;
  if (large) return [large];
  const told = await ctx.tell(
    'asker',
    a.type === 'image' ? { image: a.png, path: a.path, name: a.name } : { file: a.path, name: a.name },
  );
  const inChat = told.reached.some((r) => r.via === 'group');
  return [
    ctx.t(inChat ? (ctx.chatId ? 'export.sent_chat' : 'export.sent_single') : 'export.sent_member'),
    ...(ctx.channel === 'sandbox' ? [ctx.t('export.written', { path: a.path })] : []),
  ];
}
