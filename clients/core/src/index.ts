export { ApiError, ChatApi, newClientMsgId, PRESENCE_BATCH, UnreachableError, type ApiOptions, type ChatMessage, type Endpoints, type Session, type User } from './api.ts';
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
  type PresenceEntry,
  type PresenceStatus,
  type ReadFields,
  type ReadResult,
  type Receipt,
  type Receipts,
  type SendTarget,
  type SystemEvent,
  type UserRef,
} from './conversation-types.ts';
export { conversationKey, conversationsFrom, membershipFrom, mergeConversations, summaryKey, summaryOf, summaryTitle, type ConversationSummary, type GroupSummary, type MergeOptions, type StreamSummary } from './conversations.ts';
export { describeError, type DescribedError, type ErrorKind } from './describe-error.ts';
export { retryAfterMs, retryDelay, RetryAfterGate } from './retry-after.ts';
export { LiveConnection, type LiveClose, type LiveHandlers, type LiveOptions, type LiveState, type LiveStatus, type PresenceFrame, type ReadFrame, type SocketFactory, type SocketLike, type TypingFrame } from './live.ts';
export { PresenceBook, presenceText, type Presence } from './presence.ts';
export { isAtOrAfter, laterMark, ReadMarks, ReadReporter, seenByPeer, type PositionOf, type ReadFrameKind, type ReadReporterOptions } from './receipts.ts';
export { SeenIds } from './seen-ids.ts';
export { TYPING_SEND_INTERVAL_MS, TYPING_SHOW_MS, TypingSender, typingText, TypingTracker } from './typing.ts';
