import { errorBody, RequestError } from '@chat/common/contracts';
import { clientAddress, type Logger } from '@chat/common/config';
import { bearerToken, type TokenUser, type VerifyUserToken } from '@chat/common/jwt';
import uWS, { type HttpRequest, type HttpResponse, type us_socket_context_t, type WebSocketBehavior } from 'uWebSockets.js';
import type { ConnectionLimits } from './connection-limits.js';
import { errorFrame, parseClientFrame, PONG_FRAME, readyFrame, type ParsedClientFrame } from './frames.js';
import { endJson } from './http-response.js';
import type { GatewayMetrics } from './metrics.js';
import { createOriginPolicy } from './origin-policy.js';
import type { SocketRegistry } from './socket-registry.js';
import type { SocketSender } from './socket-sender.js';
import { closeSocket, newSocketState, type GatewaySocket, type SocketState } from './socket-state.js';
import type { TokenExpiry } from './token-expiry.js';
import { UPGRADE_REJECTIONS, type UpgradeRejection } from './upgrade-rejections.js';

/** Extension points for the per-socket streams (see socket-streams.ts). */
export interface SocketHooks {
  /** After `ready` was sent. */
  onOpen?(ws: GatewaySocket): void;
  /** Sees every well-sized, rate-allowed frame first; returns true when it handled it. */
  onFrame?(ws: GatewaySocket, frame: ParsedClientFrame): boolean;
  onClose?(ws: GatewaySocket): void;
}

export interface WsHandlerDeps {
  allowedOrigins: readonly string[];
  maxFramesPerSecond: number;
  maxFrameBytes: number;
  maxBackpressureBytes: number;
  idleTimeoutSeconds: number;
  /** The async verifier, used when the in-memory one does not know the key (it fetches the key set). */
  verifyUser: VerifyUserToken;
  /** Verification on the spot with keys held in memory; undefined result means "key unknown here". */
  verifyUserInMemory?: (token: string) => TokenUser | undefined;
  registry: SocketRegistry;
  expiry: TokenExpiry;
  sender: SocketSender;
  metrics: GatewayMetrics;
  logger: Logger;
  isDraining: () => boolean;
  /** MAX_SOCKETS_PER_USER and MAX_SOCKETS_PER_ADDRESS. */
  limits: ConnectionLimits;
  /** TRUST_PROXY_HOPS: how many proxies of ours append to X-Forwarded-For (0: the header is ignored). */
  trustProxyHops: number;
  hooks?: SocketHooks;
}

/** Room above the slow-consumer bound for the frame that crossed it and the close frame. */
const BACKPRESSURE_MARGIN_BYTES = 256 * 1024;

/** Tokens are a few hundred bytes; anything far larger is not one of ours (and not worth parsing). */
const MAX_TOKEN_LENGTH = 8192;

/**
 * What uWS passes the close handler when it cut a text frame that is not valid UTF-8 itself,
 * without a close frame (the client sees 1006; RFC 6455 asks for 1007, which uWS gives the
 * application no chance to send): the only way to count those closes apart.
 */
const INVALID_UTF8_CLOSE = 'Received invalid UTF-8';

/**
 * The WebSocket route: token, Origin and socket-cap checks before the upgrade (a refused client
 * gets a plain HTTP 401/403/429 and never a socket), then per-socket frame handling.
 */
export function createWsBehavior(deps: WsHandlerDeps): WebSocketBehavior<SocketState> {
  const { metrics, registry, expiry, sender, hooks = {} } = deps;
  const originAllowed = createOriginPolicy(deps.allowedOrigins);
  const observe = (status: number, startedAt: number) =>
    metrics.httpDuration.observe({ route: '/', method: 'GET', status: String(status) }, (performance.now() - startedAt) / 1000);

  const reject = (res: HttpResponse, reason: UpgradeRejection, message: string, startedAt: number) => {
    const { status, code } = UPGRADE_REJECTIONS[reason];
    metrics.connectionsRejected.inc({ reason });
    endJson(res, status, errorBody(code, message));
    observe(status, startedAt);
  };

  return {
    compression: uWS.DISABLED,
    // uWS drops a frame over maxPayloadLength with an abnormal close (the client sees 1006), so
    // the limit sits well above MAX_FRAME_BYTES and the message handler answers 1009 itself.
    maxPayloadLength: Math.max(64 * 1024, deps.maxFrameBytes * 4),
    // uWS drops a send past maxBackpressure, and would drop the 1013 close frame too (the
    // client would then see 1006). SocketSender closes at maxBackpressureBytes, so uWS's own
    // limit sits one generous frame margin above it and the close frame still gets queued.
    maxBackpressure: deps.maxBackpressureBytes + BACKPRESSURE_MARGIN_BYTES,
    idleTimeout: deps.idleTimeoutSeconds,
    sendPingsAutomatically: true,

    upgrade: (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => {
      const startedAt = performance.now();
      // HttpRequest lives on the stack of this call: copy everything before any await.
      const secKey = req.getHeader('sec-websocket-key');
      const secProtocol = req.getHeader('sec-websocket-protocol');
      const secExtensions = req.getHeader('sec-websocket-extensions');
      const origin = req.getHeader('origin');
      const authorization = req.getHeader('authorization');
      const query = new URLSearchParams(req.getQuery() ?? '');
      const address = deps.limits.countsAddresses
        ? clientAddress(Buffer.from(res.getRemoteAddressAsText()).toString(), deps.trustProxyHops > 0 ? req.getHeader('x-forwarded-for') : '', deps.trustProxyHops)
        : '';

      if (deps.isDraining()) return reject(res, 'draining', 'the gateway is restarting; reconnect', startedAt);
      if (!originAllowed(origin)) return reject(res, 'origin', 'this origin may not connect', startedAt);
      const token = bearerToken(authorization || undefined) ?? (query.get('token') || undefined);
      if (!token) return reject(res, 'missing_token', 'missing token: pass ?token=<JWT> or Authorization: Bearer <JWT>', startedAt);
      if (token.length > MAX_TOKEN_LENGTH) return reject(res, 'invalid_token', 'invalid token', startedAt);
      const since = query.get('since') || undefined;

      const rejectError = (err: unknown) => {
        const status = err instanceof RequestError ? err.status : 401;
        const message = err instanceof RequestError ? err.message : 'invalid token';
        if (status === 503) return reject(res, 'auth_unavailable', message, startedAt);
        return reject(res, message === 'token expired' ? 'expired_token' : 'invalid_token', message, startedAt);
      };
      const complete = (user: TokenUser) => {
        // The verifiers allow 30 s of clock skew; such a socket would be closed at once, so refuse now.
        if (user.exp <= Date.now() / 1000) return reject(res, 'expired_token', 'token expired', startedAt);
        if (deps.isDraining()) return reject(res, 'draining', 'the gateway is restarting; reconnect', startedAt);
        // Checked and counted here, next to the upgrade (which runs `open` synchronously), so
        // concurrent upgrades cannot all pass the check before any of them is counted.
        const limited = deps.limits.refusal(registry.socketsOf(user.id)?.size ?? 0, address);
        if (limited === 'user_limit') return reject(res, limited, 'too many open sockets for this user: close one before opening another', startedAt);
        if (limited === 'address_limit') return reject(res, limited, 'too many open sockets from this address', startedAt);
        const state = newSocketState({ id: user.id, username: user.username }, user.exp, token, since, deps.limits.acquire(address));
        res.upgrade(state, secKey, secProtocol, secExtensions, context);
        observe(101, startedAt);
      };

      // The usual path: the key is known, so verify and upgrade right here, without awaiting.
      let user: TokenUser | undefined;
      try {
        user = deps.verifyUserInMemory?.(token);
      } catch (err) {
        return rejectError(err);
      }
      if (user) return complete(user);

      // The key is not known locally yet: the async verifier fetches the JWKS.
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      deps.verifyUser(token).then(
        (verified) => {
          if (aborted) return;
          // Refusals are corked as usual. The upgrade deliberately is not: uWS closes some
          // sockets upgraded asynchronously inside cork (see in-memory-token-verifier.ts). Uncorked,
          // uWS prints a warning on stderr; this path only runs until the key set is loaded.
          if (verified.exp <= Date.now() / 1000 || deps.isDraining()) res.cork(() => complete(verified));
          else complete(verified);
        },
        (err: unknown) => {
          if (!aborted) res.cork(() => rejectError(err));
        },
      );
    },

    open: (ws: GatewaySocket) => {
      const state = ws.getUserData();
      // The registry keeps the user's token from here on (one per user, not one per socket).
      registry.add(ws, state.token!);
      state.token = undefined;
      metrics.openSockets.inc();
      metrics.connectionsOpened.inc();
      expiry.add(ws, state.exp);
      if (state.closedBy !== undefined) return;
      sender.send(ws, readyFrame(state.user));
      hooks.onOpen?.(ws);
    },

    message: (ws: GatewaySocket, data: ArrayBuffer, isBinary: boolean) => {
      metrics.framesIn.inc();
      const state = ws.getUserData();
      if (state.closedBy !== undefined) return;
      if (data.byteLength > deps.maxFrameBytes) return closeSocket(ws, 'frame_too_large');
      const now = Date.now();
      if (now - state.rateWindowStart >= 1000) {
        state.rateWindowStart = now;
        state.framesInWindow = 0;
      }
      if (++state.framesInWindow > deps.maxFramesPerSecond) return closeSocket(ws, 'rate_limited');

      const parsed = parseClientFrame(data, isBinary);
      if (hooks.onFrame?.(ws, parsed)) return;
      if (!parsed.ok) {
        sender.send(ws, errorFrame('bad_frame', parsed.message));
        return;
      }
      if (parsed.frame.type === 'ping') {
        sender.send(ws, PONG_FRAME);
        return;
      }
      sender.send(ws, errorFrame('bad_frame', `unsupported frame type "${parsed.frame.type}"`));
    },

    close: (ws: GatewaySocket, code: number, message: ArrayBuffer) => {
      const state = ws.getUserData();
      // closeSocket set it when the server closed the socket; otherwise the client went away (or
      // uWS cut it for invalid UTF-8).
      state.closedBy ??= code === 1006 && Buffer.from(message).toString() === INVALID_UTF8_CLOSE ? 'invalid_utf8' : 'client';
      const reason = state.closedBy;
      deps.logger.debug({ userId: state.user.id, code, reason }, 'socket closed');
      registry.remove(ws);
      expiry.remove(ws, state.exp);
      deps.limits.release(state.address);
      state.address = undefined;
      metrics.openSockets.dec();
      metrics.socketsClosed.inc({ reason });
      hooks.onClose?.(ws);
    },
  };
}
