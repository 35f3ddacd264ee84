/**
 * Helpers for the gateway's integration tests (the processes come from @chat/testkit's
 * startStack; the WebSocket TestClient from @chat/testkit too): a refused upgrade's status, user
 * tokens signed the way Auth signs them, and a raw client for frames a WebSocket library will not send.
 */
import { connect } from 'node:net';
import { TestClient, type Stack } from '@chat/testkit';

/** The HTTP status of a refused upgrade (fails the test when the upgrade succeeds). */
export async function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  try {
    const c = await TestClient.open(url, { headers });
    c.close();
    throw new Error('upgrade unexpectedly succeeded');
  } catch (err) {
    const e = err as { status?: number; body?: string };
    if (e.status === undefined) throw err;
    return { status: e.status, body: e.body ? JSON.parse(e.body) : undefined };
  }
}

/** Signs a user token the way Auth does (same key and kid), with claims a test chooses. */
export async function signUserToken(
  stack: Stack,
  claims: { sub: string; username: string; exp: number; aud?: string; iss?: string },
): Promise<string> {
  const { SignJWT } = await import('jose');
  const { createPrivateKey } = await import('node:crypto');
  const jwks = (await (await fetch(`${stack.auth.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
  const kid = jwks.keys[0]!.kid;
  return new SignJWT({ username: claims.username })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setIssuer(claims.iss ?? 'chat-auth')
    .setAudience(claims.aud ?? 'chat')
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(claims.exp)
    .sign(createPrivateKey(stack.env.JWT_PRIVATE_KEY!));
}

/**
 * Opens a WebSocket over a bare TCP socket, sends `payload` as one masked text frame whatever its
 * bytes are (a WebSocket library would refuse invalid UTF-8), and resolves when the server ends the
 * connection, with the opcodes of every frame the server sent (0x1 text, 0x8 close) and the close
 * code if a close frame came.
 */
export function rawTextFrame(port: number, path: string, payload: Buffer, timeoutMs = 10_000): Promise<{ opcodes: number[]; closeCode?: number }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => {
      sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    const timer = setTimeout(() => (sock.destroy(), reject(new Error('the server kept the connection open'))), timeoutMs);
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const opcodes: number[] = [];
    let closeCode: number | undefined;
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!buf.subarray(0, end).toString().startsWith('HTTP/1.1 101')) return reject(new Error(`upgrade refused: ${buf.toString()}`));
        upgraded = true;
        buf = buf.subarray(end + 4);
        const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
        const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
        sock.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
      }
      // Server frames are unmasked; these are small (ready, close): 7-bit or 16-bit lengths.
      while (buf.length >= 2) {
        let len = buf[1]! & 0x7f;
        let head = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          head = 4;
        }
        if (buf.length < head + len) return;
        const opcode = buf[0]! & 0x0f;
        opcodes.push(opcode);
        if (opcode === 0x8 && len >= 2) closeCode = buf.readUInt16BE(head);
        buf = buf.subarray(head + len);
      }
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ opcodes, closeCode });
    });
    sock.on('error', () => undefined);
  });
}
