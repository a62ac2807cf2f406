// Temporary media over the AI bot's long connection, as the official @wecom/aibot-node-sdk 1.0.7
// uploads it: `aibot_upload_media_init` { type, filename, total_size, total_chunks, md5 } answers an
// upload_id; `aibot_upload_media_chunk` { upload_id, chunk_index, base64_data } carries each piece
// of at most 512 KB before base64 (at most 100 pieces); `aibot_upload_media_finish` { upload_id }
// answers the media_id, valid three days. Each frame is acknowledged under its req_id like any other.
// chunk_index counts from 0, as the SDK's code sends it (its type comment says from 1).
// test/wecom/sdk-frames.test.ts holds these frames to the SDK's own.
import { createHash, randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { PermanentError } from './api.ts';
import { CMD, type Frame } from './longconn.ts';
import type { KeptMediaId, MediaIdStore } from '../core/outbound.ts';

/** A piece of the file, before base64: the SDK's CHUNK_SIZE. */
export const MEDIA_CHUNK_BYTES = 512 * 1024;
/** The most pieces one upload takes. */
const MEDIA_MAX_CHUNKS = 100;
/** How long WeCom keeps a temporary media id. */
const MEDIA_LIFE_MS = 3 * 24 * 3600_000;
/** A kept id is not used in its last hour: a message sent with it must still find it. */
const MEDIA_MARGIN_MS = 3600_000;

export type LongConnMediaType = 'image' | 'file';

/** Media ids in this process only (tests, tools): gone with it. */
export function memoryMediaIds(): MediaIdStore {
  const kept = new Map<string, KeptMediaId>();
  return {
    find: async (key, now) => {
      for (const [k, v] of kept) if (v.expiresAt <= now) kept.delete(k);
      return kept.get(key) ?? null;
    },
    keep: async (keys, mediaId, expiresAt) => {
      for (const k of keys) kept.set(k, { mediaId, expiresAt });
    },
  };
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The key of content: its type, name and MD5 (a hash of the name, so a long name makes no long key). */
const contentKey = (type: LongConnMediaType, name: string, md5: string) =>
  `${type}:content:${md5}:${sha256(name).slice(0, 32)}`;

/** The key of a file on disk as it stands: its type, name, path, size and modification time. */
const fileKey = (type: LongConnMediaType, name: string, path: string, size: number, mtimeMs: number) =>
  `${type}:file:${sha256(JSON.stringify([name, path, size, mtimeMs]))}`;

export interface MediaUploaderOptions {
  /** The connection's request: a frame out, its ack back (a non-zero errcode thrown). */
  request: (cmd: string, body: unknown, reqId: string) => Promise<Frame>;
  /** The service's clock, for how long an id is kept. */
  now: () => number;
  /** Where ids are kept (the database in the service); in this process's memory by default. */
  store?: MediaIdStore;
  /** Tries of a piece after its first (the SDK's MAX_CHUNK_RETRIES). */
  chunkRetries?: number;
  /** The wait before a piece's n-th retry is n times this (the SDK waits 500 ms, 1 s). */
  retryDelayMs?: number;
  log?: (m: string) => void;
}

/**
 * Uploads files over the long connection and keeps each media id by the file's type, name and
 * content (MD5) until it nears its three days, so a chart sent to several groups is uploaded once,
 * also after a restart when the store is the database. A file on disk is also found by its path,
 * size and modification time, so a kept id is used without reading the file again.
 * Pieces go one after another, in order; each is tried again on a failed or missing ack.
 */
export class MediaUploader {
  private readonly store: MediaIdStore;

  constructor(private readonly o: MediaUploaderOptions) {
    this.store = o.store ?? memoryMediaIds();
  }

  /** The media id of these bytes, uploaded unless one is kept. */
  async mediaId(
    type: LongConnMediaType,
    data: Buffer,
    filename: string,
    alsoKeys: readonly string[] = [],
  ): Promise<string> {
    const md5 = createHash('md5').update(data).digest('hex');
    const key = contentKey(type, filename, md5);
    const now = this.o.now();
    const kept = await this.store.find(key, now);
    if (kept) {
      // The same content in another file (or the same file touched): found by that file next time.
      if (alsoKeys.length) await this.store.keep(alsoKeys, kept.mediaId, kept.expiresAt);
      return kept.mediaId;
    }
    const mediaId = await this.upload(type, data, filename, md5);
    await this.store.keep([key, ...alsoKeys], mediaId, now + MEDIA_LIFE_MS - MEDIA_MARGIN_MS);
    return mediaId;
  }

  /**
   * The media id of a file on disk, shown as `name`: a kept one found by the file's path, size and
   * modification time without reading it; else read, found by content or uploaded. A file that
   * cannot be read is a PermanentError (no retry brings it back).
   */
  async fileMediaId(type: LongConnMediaType, path: string, name: string): Promise<string> {
    const gone = (e: Error) => {
      throw new PermanentError(`file ${name}: ${e.message}`);
    };
    const st = await stat(path).catch(gone);
    const byFile = fileKey(type, name, path, st.size, st.mtimeMs);
    const kept = await this.store.find(byFile, this.o.now());
    if (kept) return kept.mediaId;
    return this.mediaId(type, await readFile(path).catch(gone), name, [byFile]);
  }

  private async upload(type: LongConnMediaType, data: Buffer, filename: string, md5: string): Promise<string> {
    const totalChunks = Math.ceil(data.length / MEDIA_CHUNK_BYTES);
    if (totalChunks > MEDIA_MAX_CHUNKS || data.length === 0)
      throw new PermanentError(
        `${filename}: ${data.length} bytes; the long connection uploads 1 B to ${MEDIA_MAX_CHUNKS} pieces of 512 KB`,
      );
    const init = await this.o.request(
      CMD.uploadInit,
      { type, filename, total_size: data.length, total_chunks: totalChunks, md5 },
      reqId(CMD.uploadInit),
    );
    const uploadId = (init.body as { upload_id?: string } | undefined)?.upload_id;
    if (!uploadId) throw new Error(`${CMD.uploadInit}: no upload_id in the ack`);
    for (let index = 0; index < totalChunks; index++) {
      const piece = data.subarray(index * MEDIA_CHUNK_BYTES, (index + 1) * MEDIA_CHUNK_BYTES);
      await this.chunk(uploadId, index, piece.toString('base64'));
    }
    const finish = await this.o.request(CMD.uploadFinish, { upload_id: uploadId }, reqId(CMD.uploadFinish));
    const mediaId = (finish.body as { media_id?: string } | undefined)?.media_id;
    if (!mediaId) throw new Error(`${CMD.uploadFinish}: no media_id in the ack`);
    this.o.log?.(`long connection: uploaded ${type} ${filename} (${data.length} bytes, ${totalChunks} pieces)`);
    return mediaId;
  }

  private async chunk(uploadId: string, index: number, base64: string): Promise<void> {
    const retries = this.o.chunkRetries ?? 2;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.o.request(
          CMD.uploadChunk,
          { upload_id: uploadId, chunk_index: index, base64_data: base64 },
          reqId(CMD.uploadChunk),
        );
        return;
      } catch (e) {
        if (attempt >= retries)
          throw new Error(`piece ${index} not taken after ${attempt + 1} tries: ${(e as Error).message}`);
        this.o.log?.(`long connection: piece ${index} failed (${(e as Error).message}); trying again`);
        await new Promise((r) => setTimeout(r, (this.o.retryDelayMs ?? 500) * (attempt + 1)));
      }
    }
  }
}

const reqId = (cmd: string): string => `${cmd}_${randomUUID()}`;
