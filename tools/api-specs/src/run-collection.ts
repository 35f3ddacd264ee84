/**
 * Runs a Postman collection with newman as a library, with the collection's variables given
 * (base URLs, tokens), and reports every failed assertion and request error. Zero failures is
 * the gate the tests hold it to.
 */
import newman from 'newman';

export interface CollectionRun {
  requests: number;
  assertions: number;
  /** One line per failed assertion or request error: `<item>: <message>`. */
  failures: string[];
  /** Each request's item name and status, in the order they ran. */
  statuses: Array<{ item: string; status: number | undefined }>;
}

export function runCollection(collection: object, variables: Record<string, string>): Promise<CollectionRun> {
  return new Promise((resolve, reject) => {
    newman.run(
      {
        collection,
        // Collection variables win over environment ones in Postman, so set them on the collection's own scope.
        envVar: Object.entries(variables).map(([key, value]) => ({ key, value })),
        reporters: [],
        timeoutRequest: 15_000,
      },
      (err, summary) => {
        if (err) return reject(err);
        const run = summary.run;
        resolve({
          requests: run.stats.requests.total ?? 0,
          assertions: run.stats.assertions.total ?? 0,
          failures: run.failures.map((f) => `${(f.source as { name?: string } | undefined)?.name ?? '?'}: ${f.error.message}`),
          statuses: run.executions.map((e) => ({ item: e.item.name, status: (e.response as { code?: number } | undefined)?.code })),
        });
      },
    );
  });
}
