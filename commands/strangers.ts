import { z } from 'zod';
import { minuteIn } from '../src/clock.ts';
import { defineCommand, type ReplyButton } from '../src/bot/spec.ts';
import { MAX_BUTTONS } from '../src/core/notice.ts';
import { adminCounty, roleFitsUnit } from '../src/domain/members.ts';
import { unregistered } from '../src/domain/strangers.ts';

/**
 * /待登记: the people who wrote to the bot but are not registered, latest first — their userid
 * (WeCom's callbacks give no name), how often and where they wrote and what they tried. One who wrote
 * in a unit's group gets a button that binds them as that unit's liaison (/绑定, as if typed).
 */
export default defineCommand({
  name: 'strangers',
  aliases: ['待登记', '未登记'],
  summary: 'strangers.summary',
  examples: ['/待登记'],
  params: [],
  args: z.object({}),
  roles: ['admin'],
  writes: false,
  async run(ctx) {
    const { db, t, timeZone } = ctx;
    const rows = await unregistered(db, adminCounty(ctx.member));
    if (!rows.length) return { text: t('strangers.none') };
    const lines = [t('strangers.title', { count: rows.length })];
    const buttons: ReplyButton[] = [];
    for (const s of rows) {
      lines.push(
        t('strangers.line', {
          userId: s.userId,
          attempts: s.attempts,
          at: minuteIn(s.lastAt, timeZone).slice(5),
          where: s.chat?.name ?? t('strangers.app'),
          text: s.lastText,
        }),
      );
      const unit = s.chat?.unit;
      if (unit && roleFitsUnit('liaison', unit))
        buttons.push({
          label: t('strangers.bind_button', { userId: s.userId }),
          command: `/绑定 ${s.userId} 联络员 ${unit.code}`,
          style: 'primary',
        });
    }
    lines.push(t('strangers.hint'));
    return { text: lines.join('\n'), buttons: buttons.slice(0, MAX_BUTTONS) };
  },
});
