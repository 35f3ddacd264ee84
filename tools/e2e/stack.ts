import { startService, stackEnv, type RunningService } from '@chat/testkit';

export interface Stack {
  auth: RunningService;
  chat: RunningService;
  gateway: RunningService;
  stop(): Promise<void>;
}

/** Auth, Chat and Gateway as real processes on free ports, sharing one test environment. */
export async function startStack(): Promise<Stack> {
  const { env } = await stackEnv();
  const auth = await startService('auth', env);
  const chat = await startService('chat', { ...env, AUTH_URL: auth.url }, { readyPath: '/readyz' });
  const gateway = await startService('gateway', { ...env, AUTH_URL: auth.url, CHAT_URL: chat.url }, { readyPath: '/readyz' });
  return {
    auth,
    chat,
    gateway,
    async stop() {
      await Promise.all([gateway.stop(), chat.stop(), auth.stop()]);
    },
  };
}
