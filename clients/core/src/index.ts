export { ApiError, ChatApi, newClientMsgId, UnreachableError, type ApiOptions, type ChatMessage, type Endpoints, type Session, type User } from './api.ts';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.ts';
export {
  isConversationId,
  isGroupMessage,
  isSystemMessage,
  type ConversationListEntry,
  type ConversationPage,
  type GroupConversation,
  type GroupMember,
  type GroupRole,
  type SendTarget,
  type SystemEvent,
  type UserRef,
} from './conversation-types.ts';
export { conversationKey, conversationsFrom, membershipFrom, mergeConversations, summaryKey, summaryOf, summaryTitle, type ConversationSummary, type GroupSummary, type MergeOptions, type StreamSummary } from './conversations.ts';
export { describeError, type DescribedError, type ErrorKind } from './describe-error.ts';
export { LiveConnection, type LiveHandlers, type LiveOptions, type LiveState, type LiveStatus, type SocketFactory, type SocketLike } from './live.ts';
export { SeenIds } from './seen-ids.ts';
