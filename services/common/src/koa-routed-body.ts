import type { Middleware } from 'koa';
import type Router from '@koa/router';

/**
 * A request's body is judged only when some route takes the request. The JSON body parser runs
 * before the routers (one parser for every route of a service), so without this a PUT to a path
 * that only serves GET got the parser's 415 or 400, where the API promises 405 with `Allow` (and
 * a request to a path no route has got a 415 instead of its 404): the router's answer is the
 * true one, and the body of a request no route takes does not matter. Found by schemathesis
 * (tests/system/schemathesis.test.ts), which sends every method to every path.
 *
 * The routers are the app's own middleware (`router.routes()` carries its router), asked at
 * request time, so routers added after this middleware count too.
 */
export function onlyForRoutedRequests(middleware: Middleware): Middleware {
  return (ctx, next) => {
    for (const fn of ctx.app.middleware) {
      const router = (fn as { router?: Router }).router;
      if (router?.match(ctx.path, ctx.method).route) return middleware(ctx, next);
    }
    return next();
  };
}
