// What a chat message says once the @-mentions it starts with are taken off: WeCom puts the bot's
// name first (@安责险助手 /覆盖率), members sometimes glue it (@安责险助手/覆盖率) or mention others
// too (@安责险助手 @张三 /交办 …). One stripper for every way in: the wire, the sandbox, the parser.

const LEADING_MENTIONS = /^(?:[@＠][^\s\u3000/／]*[\s\u3000]*)+/;

/** Removes the leading "@Name" mentions (each up to whitespace or a slash) and trims. */
export function stripMentions(text: string): string {
  return text.trim().replace(LEADING_MENTIONS, '').trim();
}
