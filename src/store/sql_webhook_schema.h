/* sql_webhook_schema.h — the webhook tables, written once for both databases: the migration
 * of each driver expands WEBHOOK_TABLES with its own serial key, integer and blob types. */
#ifndef APIKEYD_SQL_WEBHOOK_SCHEMA_H
#define APIKEYD_SQL_WEBHOOK_SCHEMA_H

/* Endpoints, the outbox (one message per audit record and endpoint; times in ms; claim and
 * claimed_until: the node delivering it and its lease), and the attempts. */
#define WEBHOOK_TABLES(SERIAL, INT, BLOB)                                                        \
    "CREATE TABLE webhooks (id TEXT PRIMARY KEY, url TEXT NOT NULL, actions TEXT NOT NULL,"    \
    "  description TEXT NOT NULL DEFAULT '', enabled " INT " NOT NULL DEFAULT 1,"             \
    "  created_by TEXT NOT NULL, created_at " INT " NOT NULL, secret " BLOB " NOT NULL);"      \
    "CREATE TABLE webhook_messages (id " SERIAL ", webhook_id TEXT NOT NULL,"                 \
    "  at " INT " NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,"                       \
    "  target_type TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL,"                 \
    "  subject_name TEXT NOT NULL, owner_type TEXT NOT NULL, owner_id TEXT NOT NULL,"          \
    "  state TEXT NOT NULL, attempts " INT " NOT NULL DEFAULT 0, next_at " INT " NOT NULL,"   \
    "  claim TEXT NOT NULL DEFAULT '', claimed_until " INT " NOT NULL DEFAULT 0,"             \
    "  created_ms " INT " NOT NULL);"                                                           \
    "CREATE INDEX webhook_messages_due ON webhook_messages(state, next_at);"                   \
    "CREATE INDEX webhook_messages_endpoint ON webhook_messages(webhook_id);"                  \
    "CREATE TABLE webhook_attempts (id " SERIAL ", message_id " INT " NOT NULL,"              \
    "  webhook_id TEXT NOT NULL, action TEXT NOT NULL, at_ms " INT " NOT NULL,"               \
    "  status " INT " NOT NULL, error TEXT NOT NULL, duration_ms " INT " NOT NULL,"           \
    "  next_at_ms " INT " NOT NULL, state TEXT NOT NULL);"                                     \
    "CREATE INDEX webhook_attempts_endpoint ON webhook_attempts(webhook_id, id);"

#endif
