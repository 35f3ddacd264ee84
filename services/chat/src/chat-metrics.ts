import { Counter, Gauge, type Registry } from 'prom-client';

/** Chat's own series (names are a contract: the Grafana dashboard reads them). */
export interface ChatMetrics {
  messagesStored: Counter;
  eventsPublished: Counter;
  outboxBacklog: Gauge;
}

export function createChatMetrics(registry: Registry): ChatMetrics {
  return {
    messagesStored: new Counter({ name: 'chat_messages_stored_total', help: 'Messages stored (idempotent repeats not counted)', registers: [registry] }),
    eventsPublished: new Counter({ name: 'chat_events_published_total', help: 'new_message events confirmed by the broker', registers: [registry] }),
    outboxBacklog: new Gauge({ name: 'chat_outbox_backlog', help: 'Stored messages whose event is not confirmed yet (refreshed by the relay)', registers: [registry] }),
  };
}
