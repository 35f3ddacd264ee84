/**
 * Raw HTTP for the attack suite: bodies fetch() will not send as they are (a chosen
 * Content-Length or none, chunks, any method), and an answer read even when the server answers
 * before the whole body was sent (a 413 on a 1 MB body), which makes fetch() fail instead.
 */
import { request as httpRequest } from 'node:http';
import type { Outcome } from './attack-suite.ts';

export interface RawRequest {
  method?: string;
  headers?: Record<string, string>;
  /** Sent with its Content-Length, unless `chunked`. */
  body?: string | Buffer;
  /** Sends the body as these chunks with Transfer-Encoding: chunked and no Content-Length. */
  chunks?: (string | Buffer)[];
  token?: string;
}

export function rawRequest(url: string, opts: RawRequest): Promise<Outcome & { headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
    // A connection of its own: one the server cut after an early answer must not be reused.
    const req = httpRequest(url, { method: opts.method ?? 'POST', headers, timeout: 15_000, agent: false });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let body: any;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        resolve({ status: res.statusCode ?? 0, code: body?.error?.code, body, headers: res.headers });
      });
      res.on('error', reject);
    });
    // The server may answer (413) and close before it read everything we send: not our failure.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 15 s (a hang is a bug)')));
    if (opts.chunks) {
      for (const chunk of opts.chunks) req.write(chunk);
      req.end();
    } else {
      req.end(opts.body);
    }
  });
}
