// Dependency-free liveness probes: a real AMQP protocol handshake and a real
// MongoDB OP_MSG `ping`. Both resolve (never reject) with a readable reason.
import { Socket } from 'node:net';

export type Probe = { ok: true } | { ok: false; reason: string };

function describe(err: NodeJS.ErrnoException, what: string, host: string, port: number): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `nothing accepts connections on ${host}:${port} (${what} is not running or not listening there)`;
    case 'ECONNRESET':
      return `${host}:${port} closed the connection (${what} is starting, stopping, or not ${what})`;
    case 'ETIMEDOUT':
      return `timed out talking to ${host}:${port}`;
    default:
      return `${host}:${port}: ${err.message}`;
  }
}

function exchange(
  host: string,
  port: number,
  payload: Buffer,
  timeoutMs: number,
  what: string,
  check: (data: Buffer) => 'more' | Probe,
): Promise<Probe> {
  return new Promise((resolve) => {
    const sock = new Socket();
    let data = Buffer.alloc(0);
    let done = false;
    const finish = (r: Probe) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => finish({ ok: false, reason: `no ${what} answer from ${host}:${port} within ${timeoutMs} ms` }),
      timeoutMs,
    );
    sock.once('error', (e) => finish({ ok: false, reason: describe(e, what, host, port) }));
    sock.once('close', () => finish({ ok: false, reason: `${host}:${port} closed the connection before answering (${what} not ready)` }));
    sock.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const r = check(data);
      if (r !== 'more') finish(r);
    });
    sock.connect(port, host, () => sock.write(payload));
  });
}

/** Sends the AMQP 0-9-1 protocol header and expects a connection.start method frame. */
export function amqpProbe(host: string, port: number, timeoutMs = 3000): Promise<Probe> {
  const header = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]); // "AMQP" 0 0 9 1
  return exchange(host, port, header, timeoutMs, 'RabbitMQ', (d) => {
    if (d.length < 11) return 'more';
    // frame: type(1) channel(2) size(4) | class-id(2)=10 method-id(2)=10 (connection.start)
    if (d[0] === 1 && d.readUInt16BE(1) === 0 && d.readUInt16BE(7) === 10 && d.readUInt16BE(9) === 10) return { ok: true };
    if (d.subarray(0, 4).toString('latin1') === 'AMQP')
      return { ok: false, reason: `${host}:${port} speaks another AMQP version` };
    return { ok: false, reason: `${host}:${port} answered, but not with AMQP 0-9-1 (is something else using that port?)` };
  });
}

function bsonPing(): Buffer {
  // { ping: 1, $db: "admin" }
  const parts = [
    Buffer.from([0x10]), Buffer.from('ping\0', 'latin1'), Buffer.from([1, 0, 0, 0]),
    Buffer.from([0x02]), Buffer.from('$db\0', 'latin1'), Buffer.from([6, 0, 0, 0]), Buffer.from('admin\0', 'latin1'),
    Buffer.from([0]),
  ];
  const body = Buffer.concat(parts);
  const len = Buffer.alloc(4);
  len.writeInt32LE(body.length + 4);
  return Buffer.concat([len, body]);
}

let requestId = 1;

/** Sends an OP_MSG { ping: 1 } and expects { ok: 1 }. */
export function mongoPing(host: string, port: number, timeoutMs = 3000): Promise<Probe> {
  const doc = bsonPing();
  const msg = Buffer.alloc(16 + 4 + 1 + doc.length);
  msg.writeInt32LE(msg.length, 0);
  msg.writeInt32LE(requestId++, 4);
  msg.writeInt32LE(0, 8);
  msg.writeInt32LE(2013, 12); // OP_MSG
  msg.writeUInt32LE(0, 16); // flags
  msg.writeUInt8(0, 20); // section kind 0
  doc.copy(msg, 21);
  return exchange(host, port, msg, timeoutMs, 'MongoDB', (d) => {
    if (d.length < 4) return 'more';
    const total = d.readInt32LE(0);
    if (total < 21 || total > 48 * 1024 * 1024)
      return { ok: false, reason: `${host}:${port} answered, but not with the MongoDB wire protocol (is something else using that port?)` };
    if (d.length < total) return 'more';
    if (d.readInt32LE(12) !== 2013) return { ok: false, reason: `${host}:${port} answered ping with an unexpected opcode` };
    const body = d.subarray(21, total);
    const dbl = body.indexOf(Buffer.from([0x01, 0x6f, 0x6b, 0x00])); // double "ok"
    if (dbl >= 0 && body.readDoubleLE(dbl + 4) === 1) return { ok: true };
    const i32 = body.indexOf(Buffer.from([0x10, 0x6f, 0x6b, 0x00])); // int32 "ok"
    if (i32 >= 0 && body.readInt32LE(i32 + 4) === 1) return { ok: true };
    return { ok: false, reason: `${host}:${port} answered ping without ok: 1 (${body.toString('latin1').replace(/[^\x20-\x7e]+/g, ' ').trim()})` };
  });
}
