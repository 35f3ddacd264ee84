/**
 * The routes a Koa app serves, read from its routers' own layers: what the app really matches,
 * never a list kept by hand. tests/system/api-openapi-routes.test.ts compares this with
 * api/openapi.yaml, so a route added to a router fails that test until it is documented.
 */
import type Koa from 'koa';
import type Router from '@koa/router';

export interface ServedRoute {
  /** Upper case, e.g. `GET`. */
  method: string;
  /** The router's pattern with its prefix, e.g. `/users/:username`. */
  path: string;
}

/**
 * Every (method, path) of every router mounted on `app` with `router.routes()`, sorted. HEAD is
 * left out: the router adds it to every GET route by itself. Layers without methods (`router.use`
 * middleware) are not routes.
 */
export function koaRoutes(app: Koa): ServedRoute[] {
  const routes = new Map<string, ServedRoute>();
  for (const middleware of app.middleware) {
    const router = (middleware as { router?: Router }).router;
    if (!router) continue;
    for (const layer of router.stack) {
      if (typeof layer.path !== 'string') throw new Error(`a route matched by a RegExp (${String(layer.path)}) cannot be documented by path`);
      for (const method of layer.methods) {
        if (method === 'HEAD') continue;
        routes.set(`${method} ${layer.path}`, { method, path: layer.path });
      }
    }
  }
  return [...routes.values()].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}

/** `/users/:username` → `/users/{username}`: a Koa pattern as an OpenAPI path. */
export function openApiPath(koaPath: string): string {
  return koaPath.replace(/:(\w+)/g, '{$1}');
}
