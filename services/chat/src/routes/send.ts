import type { RouterMiddleware } from '@koa/router';
import { authUser, jsonBody } from '@chat/common/koa';
import type { SendMessage } from '../send-message.js';
import { parseSendRequest } from '../validation.js';

/** POST /chat/send → 201 {message}, or 200 {message} for an idempotent repeat. The sender is the token's user. */
export function sendRoute(deps: { send: SendMessage }): RouterMiddleware {
  return async (ctx) => {
    const sender = authUser(ctx);
    const request = parseSendRequest(jsonBody(ctx));
    const result = await deps.send(sender, request);
    ctx.status = result.status;
    ctx.body = { message: result.message };
  };
}
