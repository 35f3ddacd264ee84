/**
 * Request bodies that are not what a route reads: not an object, not JSON, too large, in the
 * wrong content type or encoding, or JSON that breaks the body rules (json-body-rules.ts). The
 * "not an object" rows run on every JSON route of every service: the one body parser
 * (koa-json-body.ts) must answer each the same.
 */
import { gzipSync } from 'node:zlib';
import { BODY_ROUTES } from './attack-cases-fields.ts';
import { rawRequest } from './attack-http.ts';
import type { AttackCase, Fixtures } from './attack-suite.ts';

const JSON_TYPE = { 'content-type': 'application/json' };

function urlOf(f: Fixtures, service: 'auth' | 'chat', path: string): string {
  return (service === 'auth' ? f.stack.auth.url : f.stack.chat.url) + path;
}

/** A raw body to Chat's POST /chat/send as Alice (a body that got through would store a message). */
function toSend(name: string, expect: AttackCase['expect'], body: (f: Fixtures) => { body?: string | Buffer; chunks?: string[]; headers?: Record<string, string> }): AttackCase {
  return {
    area: 'bodies',
    name: `POST /chat/send: ${name}`,
    service: 'chat',
    expect,
    async send(f) {
      const b = body(f);
      return rawRequest(urlOf(f, 'chat', '/chat/send'), { token: f.alice.token, headers: b.headers ?? JSON_TYPE, body: b.body, chunks: b.chunks });
    },
  };
}

/** The same to Auth's POST /register (a body that got through would store a user). */
function toRegister(name: string, expect: AttackCase['expect'], body: (f: Fixtures) => { body?: string | Buffer; headers?: Record<string, string> }): AttackCase {
  return {
    area: 'bodies',
    name: `POST /register: ${name}`,
    service: 'auth',
    expect,
    async send(f) {
      const b = body(f);
      return rawRequest(urlOf(f, 'auth', '/register'), { headers: b.headers ?? JSON_TYPE, body: b.body });
    },
  };
}

const invalidJson = { status: 400, code: 'invalid_json' };
const invalidRequest = { status: 400, code: 'invalid_request' };
const tooLarge = { status: 413, code: 'payload_too_large' };
const unsupported = { status: 415, code: 'unsupported_media_type' };
const send = (f: Fixtures, extra = '') => `{"to":${JSON.stringify(f.bob.username)},"text":"hello"${extra}}`;
const register = (f: Fixtures, extra = '') => `{"username":"body_case_user","password":${JSON.stringify(f.secret('a-password-never-logged-2'))}${extra}}`;

export const BODY_CASES: AttackCase[] = [
  // Not an object: the same answer on every JSON route (black-box finding 1).
  ...BODY_ROUTES.filter((r, i, all) => all.findIndex((o) => o.route.replace(/ \(.*\)$/, '') === r.route.replace(/ \(.*\)$/, '')) === i).map(
    (r): AttackCase => ({
      area: 'bodies',
      name: `${r.route.replace(/ \(.*\)$/, '')}: a JSON array body`,
      service: r.service,
      expect: invalidJson,
      async send(f) {
        return rawRequest(urlOf(f, r.service, r.path(f)), { method: r.method, token: r.token(f), headers: JSON_TYPE, body: JSON.stringify([r.body(f)]) });
      },
    }),
  ),
  toSend('an empty body', invalidJson, () => ({ body: '' })),
  toSend('a body of whitespace', invalidJson, () => ({ body: ' \r\n\t' })),
  toSend('malformed JSON', invalidJson, (f) => ({ body: send(f).slice(0, -1) })),
  toSend('a JSON string', invalidJson, () => ({ body: '"hello"' })),
  toSend('a JSON number', invalidJson, () => ({ body: '12' })),
  toSend('JSON null', invalidJson, () => ({ body: 'null' })),
  toSend('two JSON objects', invalidJson, (f) => ({ body: send(f) + send(f) })),
  toSend('a 1 MB body', tooLarge, (f) => ({ body: send(f, `,"pad":"${'x'.repeat(1024 * 1024)}"`) })),
  toSend('a 1 MB body, chunked without a length', tooLarge, (f) => ({ chunks: [send(f).slice(0, -1), ...Array.from({ length: 64 }, () => `,"p${Math.random()}":"${'x'.repeat(16 * 1024)}"`), '}'] })),
  toSend('malformed JSON, chunked without a length', invalidJson, (f) => ({ chunks: [send(f).slice(0, 10), send(f).slice(10, -1)] })),
  toSend('gzip that inflates to 1 MB', tooLarge, (f) => ({ headers: { ...JSON_TYPE, 'content-encoding': 'gzip' }, body: gzipSync(send(f, `,"pad":"${'x'.repeat(1024 * 1024)}"`)) })),
  toSend('a body that is not the gzip it claims', { status: 400, code: 'invalid_body' }, (f) => ({ headers: { ...JSON_TYPE, 'content-encoding': 'gzip' }, body: send(f) })),
  toSend('an unknown content-encoding', unsupported, (f) => ({ headers: { ...JSON_TYPE, 'content-encoding': 'x-custom' }, body: send(f) })),
  toSend('text/plain', unsupported, (f) => ({ headers: { 'content-type': 'text/plain' }, body: send(f) })),
  toSend('a form body', unsupported, (f) => ({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `to=${f.bob.username}&text=hello` })),
  toSend('multipart/form-data', unsupported, (f) => ({
    headers: { 'content-type': 'multipart/form-data; boundary=b' },
    body: `--b\r\nContent-Disposition: form-data; name="to"\r\n\r\n${f.bob.username}\r\n--b\r\nContent-Disposition: form-data; name="text"\r\n\r\nhello\r\n--b--\r\n`,
  })),
  toSend('no content-type', unsupported, (f) => ({ headers: {}, body: send(f) })),
  toSend('application/json-patch+json', unsupported, (f) => ({ headers: { 'content-type': 'application/json-patch+json' }, body: send(f) })),
  toSend('a duplicate key', invalidRequest, (f) => ({ body: send(f, `,"to":${JSON.stringify(f.carol.username)}`) })),
  toSend('a duplicate key spelled with an escape', invalidRequest, (f) => ({ body: send(f, ',"te\\u0078t":"other"') })),
  toSend('JSON nested 9 levels', invalidRequest, (f) => ({ body: send(f, `,"deep":${'['.repeat(8)}${']'.repeat(8)}`) })),
  toSend('JSON nested 5,000 levels', invalidRequest, (f) => ({ body: send(f, `,"deep":${'['.repeat(5000)}${']'.repeat(5000)}`) })),
  toSend('a huge number as text', invalidRequest, (f) => ({ body: `{"to":${JSON.stringify(f.bob.username)},"text":1e400}` })),
  toSend('a huge integer as clientMsgId', invalidRequest, (f) => ({ body: send(f, ',"clientMsgId":123456789012345678901234567890') })),
  toSend('a __proto__ key', invalidRequest, (f) => ({ body: send(f, ',"__proto__":{"from":"carol","isAdmin":true}') })),
  toSend('a constructor.prototype body', invalidRequest, (f) => ({ body: send(f, ',"constructor":{"prototype":{"isAdmin":true}}') })),
  toSend('a nested __proto__ key', invalidRequest, (f) => ({ body: send(f, ',"meta":{"__proto__":{"isAdmin":true}}') })),
  toSend('a $ key beside valid fields', invalidRequest, (f) => ({ body: send(f, ',"$where":"sleep(5000)"') })),
  toSend('a dotted key beside valid fields', invalidRequest, (f) => ({ body: send(f, ',"message.from":"carol"') })),
  toRegister('an empty body', invalidJson, () => ({ body: '' })),
  toRegister('malformed JSON', invalidJson, (f) => ({ body: register(f).slice(0, -2) })),
  toRegister('a 1 MB body', tooLarge, (f) => ({ body: register(f, `,"pad":"${'x'.repeat(1024 * 1024)}"`) })),
  toRegister('text/plain', unsupported, (f) => ({ headers: { 'content-type': 'text/plain' }, body: register(f) })),
  toRegister('a duplicate key', invalidRequest, (f) => ({ body: register(f, ',"username":"body_case_other"') })),
  toRegister('a $set key', invalidRequest, (f) => ({ body: register(f, ',"$set":{"role":"admin"}') })),
  toRegister('a __proto__ key', invalidRequest, (f) => ({ body: register(f, ',"__proto__":{"role":"admin"}') })),
];
