import { ObjectId } from 'mongodb';

/** The id forms live in @chat/common (the gateway reads them too); minting a group's is Chat's. */
export { directConversationId, parseConversationId, peerIn, type ConversationRef } from '@chat/common/contracts';

export function newGroupConversationId(): string {
  return `g:${new ObjectId().toHexString()}`;
}
