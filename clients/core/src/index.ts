export { ApiError, ChatApi, newClientMsgId, UnreachableError, type ApiOptions, type ChatMessage, type Endpoints, type Session, type User } from './api.ts';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.ts';
export { conversationsFrom, type ConversationSummary } from './conversations.ts';
export { describeError, type DescribedError, type ErrorKind } from './describe-error.ts';
export { LiveConnection, type LiveHandlers, type LiveOptions, type LiveState, type LiveStatus, type SocketFactory, type SocketLike } from './live.ts';
export { SeenIds } from './seen-ids.ts';
