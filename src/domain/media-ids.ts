import type { MediaIdStore } from '../core/outbound.ts';
import type { Tx } from '../db/client.ts';

// The media ids the AI bot's long connection got for its uploads (src/wecom/longconn-media.ts),
// kept in the database until they near their three days, so a restarted service sends a chart or
// workbook it already uploaded without uploading it again. The wire is handed this store by its
// channel (src/channels/longconn-bot.ts); expired rows go with `anze purge` (retention.ts).

/** The LongConnMedia table as the uploader's store: one row per key, an expired one never answered. */
export function longConnMediaIds(db: Tx): MediaIdStore {
  return {
    find: async (key, now) => {
      const row = await db.longConnMedia.findUnique({ where: { key } });
      return row && row.expiresAt.getTime() > now ? { mediaId: row.mediaId, expiresAt: row.expiresAt.getTime() } : null;
    },
    keep: async (keys, mediaId, expiresAt) => {
      const at = new Date(expiresAt);
      // An upsert on the unique key (ON CONFLICT): an expired row under the key is replaced.
      for (const key of keys)
        await db.longConnMedia.upsert({
          where: { key },
          create: { key, mediaId, expiresAt: at },
          update: { mediaId, expiresAt: at },
        });
    },
  };
}

/** Deletes the kept ids expired before `now`; how many. */
export async function purgeMediaIds(db: Tx, now: Date, opts: { dryRun?: boolean } = {}): Promise<number> {
  const where = { expiresAt: { lte: now } };
  return opts.dryRun ? db.longConnMedia.count({ where }) : (await db.longConnMedia.deleteMany({ where })).count;
}
