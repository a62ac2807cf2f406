import type { CommandContext } from './spec.ts';

// Handing a file the bot made to the member who asked: in the chat they asked in where its robot
// takes files, else to them through the app (the audience router decides).

export type Attachment =
  { type: 'file'; path: string; name: string } | { type: 'image'; path: string; name: string; png: Buffer };

/** Queues the attachment to the asker; the reply's lines on where it went (in the sandbox also where it was written). */
export async function sendToAsker(
  ctx: Pick<CommandContext, 'tell' | 't' | 'channel'>,
  a: Attachment,
): Promise<string[]> {
  const told = await ctx.tell(
    'asker',
    a.type === 'image' ? { image: a.png, path: a.path, name: a.name } : { file: a.path, name: a.name },
  );
  const inChat = told.reached.some((r) => r.via === 'group');
  return [
    ctx.t(inChat ? 'export.sent_chat' : 'export.sent_member'),
    ...(ctx.channel === 'sandbox' ? [ctx.t('export.written', { path: a.path })] : []),
  ];
}
