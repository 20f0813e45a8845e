/* audit.h -- the append-only, hash-chained audit log (docs/audit.md).
 *
 * Every login, upload, view or export of case-level data and every admin
 * action appends one entry: who (actor), when (at, UTC), which
 * organisation, what (action, target, detail as JSON) and from where
 * (remote). Each entry's hash is BLAKE2b-256 keyed with the hub's secret
 * (meta "secret") over the previous entry's hash and a length-prefixed
 * encoding of the entry's fields, so a changed, removed or inserted entry
 * breaks the chain. SQLite triggers refuse UPDATE and DELETE on the table.
 * SQL stays in store.c; this module hashes, checks and formats. */
#ifndef SP_AUDIT_H
#define SP_AUDIT_H

#include "store.h"

#define AUDIT_HASH_LEN STORE_HASH_LEN
#define AUDIT_ACTOR_MAX 256     /* bytes kept of actor */
#define AUDIT_TEXT_MAX 1024     /* of target and remote */
#define AUDIT_DETAIL_MAX 4096   /* of detail: a longer one is replaced by a note */

/* The actor and remote address of what this thread is doing, used by
 * audit_append when it is given NULL for them: the CLI sets
 * "cli:<unix user>", a server thread the signed-in user and the peer
 * address per request, so that modules below (import) need not pass them.
 * Strings are copied (capped); NULL clears. Thread-local. */
void audit_context_set(const char *actor, const char *remote);
/* Sets the context to "cli:<unix user>" and no remote. */
void audit_context_cli(void);
const char *audit_context_actor(void);   /* "anonymous" when unset */

/* Appends one entry. actor/remote NULL: the thread's context. org_id 0:
 * none. target, remote and detail may be NULL; detail must be a JSON text
 * (SP_EUSAGE otherwise). Inside a transaction open on s (store_begin) the
 * entry commits or rolls back with it; otherwise the entry is its own
 * transaction. Creates the hub's secret if the hub has none yet. Caps long
 * texts and replaces invalid UTF-8 with '?'. */
int audit_append(sp_store *s, const char *actor, long long org_id, const char *action,
                 const char *target, const char *remote, const char *detail_json);

/* A detail object built key by key in b (sp_buf_init'd by the caller,
 * cap >= 64): values are cleaned like every text (invalid UTF-8 and control
 * characters become '?') and escaped; audit_detail_end closes the object
 * and returns b->data ("{}" when nothing was added). */
void audit_detail_str(sp_buf *b, const char *key, const char *val);
void audit_detail_int(sp_buf *b, const char *key, long long val);
const char *audit_detail_end(sp_buf *b);

/* What audit_verify found. */
typedef struct audit_report {
    long long count;           /* entries read */
    long long first_bad;       /* seq of the first bad entry; 0: none */
    long long head_seq;        /* last entry (0: empty log) */
    unsigned char head[AUDIT_HASH_LEN];
    long long noted_seq;       /* with a noted head: the entry that has it (0: not found) */
} audit_report;

/* Walks the whole chain in constant memory. SP_OK: intact (and, when
 * `noted` is not NULL, that hash is in it); SP_EINPUT: broken, with
 * first_bad and a sentence in err naming the entry and why; other codes:
 * the hub could not be read. A log cut short at its end cannot be told
 * from a shorter log unless a head noted earlier is given. */
int audit_verify(sp_store *s, const unsigned char *noted, audit_report *out, sp_err *err);

/* Lists entries (store_audit_scan) for the CLI and the admin page. */
int audit_scan(sp_store *s, const sp_audit_query *q, store_audit_cb cb, void *ud);

/* Hex of a hash into out[2*AUDIT_HASH_LEN+1]; parse returns 0 on success. */
void audit_hex(const unsigned char h[AUDIT_HASH_LEN], char out[2 * AUDIT_HASH_LEN + 1]);
int audit_parse_hex(const char *hex, unsigned char h[AUDIT_HASH_LEN]);

#endif
