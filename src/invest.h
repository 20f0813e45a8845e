/* invest.h -- the investigation views over what store_inv_* returns
 * (docs/investigations.md): the case-indicator network and its clusters,
 * its SVG drawing, and the investigators' exports (CSV, FollowTheMoney
 * entities as JSON lines).
 *
 * Nothing here reads the hub: the callers (cli.c, analyst.c) fetch the
 * links with store_inv_links, audit, and hand them over. A case appears
 * only as an opaque token ("case-" + 12 hex: keyed BLAKE2b of its record
 * id under a key derived from the hub's secret, stable across exports of
 * one hub, meaningless outside it) with its organisation and year; its
 * case reference only when the store gave one (the viewer's own
 * organisation). Indicators appear as type and keyed hash, never in the
 * clear. */
#ifndef SP_INVEST_H
#define SP_INVEST_H

#include <stdint.h>

#include "store.h"

#define INV_TOKEN_LEN 17           /* "case-" + 12 hex */
#define INV_MAX_NODES 20000        /* graph nodes kept (more: truncated) */
#define INV_MAX_EDGES 50000        /* links read and edges kept */
#define INV_SVG_CLUSTERS 24        /* clusters drawn at most */
#define INV_SVG_NODES 60           /* nodes drawn of one cluster at most */

/* The key of the case tokens: BLAKE2b of the hub's secret (meta "secret",
 * which audit_append creates when missing) under a context of its own.
 * SP_EUSAGE when the hub has no secret. */
int invest_case_key(sp_store *s, uint8_t key[32]);
/* The token of a record into out (INV_TOKEN_LEN + 1 bytes). */
void invest_case_token(const uint8_t key[32], long long record_id, char out[INV_TOKEN_LEN + 1]);

/* The options of a listing, from the CLI or a query string. */
typedef struct inv_params {
    int min_orgs;              /* 1..100; default 2 */
    int min_cases;             /* 1..100000; default 1 */
    char type[SP_INV_TYPE_MAX + 1];   /* "" : every type */
} inv_params;
typedef struct inv_node {
    int is_case;               /* 1: a case (record), 0: an indicator */
    long long record_id;       /* cases */
    size_t org;                /* cases: index into inv_graph.orgs */
    char token[INV_TOKEN_LEN + 1];   /* cases */
    const char *case_ref;      /* cases of the viewer's organisation, else NULL (borrowed) */
    int year;
    char type[SP_INV_TYPE_MAX + 1], hash[SP_INV_HASH_MAX + 1];   /* indicators */
    size_t cluster;            /* index into inv_graph.clusters */
    size_t degree;
} inv_node;

typedef struct inv_cluster {
    size_t *nodes;             /* node indices, indicators first, then cases */
    size_t nnodes, ncases, nindicators, norgs;
    size_t rank_orgs;          /* 1-based rank by organisations, then by size */
} inv_cluster;

typedef struct inv_org {
    long long id;
    const char *name;          /* borrowed from the links */
} inv_org;

typedef struct inv_graph {
    inv_node *nodes;
    size_t nnodes;
    size_t (*edges)[2];        /* [indicator node, case node] */
    size_t nedges;
    inv_cluster *clusters;     /* ranked by size: cases, then orgs, then indicators */
    size_t nclusters;
    inv_org *orgs;             /* by name */
    size_t norgs;
    int truncated;             /* the links or the caps cut the graph */
} inv_graph;

/* Builds the graph of the links (borrowed: keep them alive while g is
 * used); `truncated` says the store already cut them. Nodes beyond
 * INV_MAX_NODES or edges beyond INV_MAX_EDGES are left out (truncated
 * set). Clusters are connected components. */
int invest_graph_build(const sp_inv_link *links, size_t n, int truncated, const uint8_t key[32],
                       inv_graph *g);
void invest_graph_free(inv_graph *g);

/* What the views and exports start from: the links of the indicators
 * matching p (at most INV_MAX_EDGES, truncated said), the case key, the
 * graph. viewer_org: whose case references may appear (0: none). */
typedef struct inv_view {
    sp_inv_link *links;
    size_t nlinks;
    inv_graph g;
} inv_view;
int invest_view_load(sp_store *s, const inv_params *p, long long viewer_org, inv_view *v);
void invest_view_free(inv_view *v);

/* The network as one standalone SVG document into b: the first
 * `max_clusters` clusters (0: INV_SVG_CLUSTERS) in a grid, each a circle
 * of its indicators (squares, labelled with type and 8 hex of the hash)
 * inside a ring of its cases (circles coloured by organisation, legend on
 * top). The layout is a function of the graph only. Returns the svg_end
 * result (SP_ELIMIT when b's cap was hit). */
int invest_svg(const inv_graph *g, size_t max_clusters, sp_buf *b);

/* CSV, one row per link: type,hash,role,org,year,case,cluster,case_ref
 * (case_ref empty unless the store gave one). RFC 4180 quoting. */
int invest_csv(const inv_graph *g, const sp_inv_link *links, size_t n, sp_buf *b);

/* FollowTheMoney entities, one JSON object per line (the `ftm` tools'
 * format): an Organization per reporting organisation, a CryptoWallet,
 * BankAccount, UserAccount or Organization per indicator (by type), an
 * Event per case, and UnknownLink entities case -> indicator (role, year)
 * and organisation -> case ("reported"). Ids are "sp-" + hex of BLAKE2b
 * over a context and the hash (indicators) or token (cases). */
int invest_ftm(const inv_graph *g, const sp_inv_link *links, size_t n, sp_buf *b);

/* Is s a well-formed indicator type ([a-z_], 1..SP_INV_TYPE_MAX) / match
 * key ("h1:" + 64 lowercase hex)? For path segments and options. */
int invest_type_ok(const char *s);
int invest_hash_ok(const char *s);

void invest_params_init(inv_params *p);
/* Sets one parameter by name ("min_orgs", "min_cases", "type"); SP_EUSAGE
 * with *why (static text) for an unknown name or a bad value. */
int invest_param(inv_params *p, const char *key, const char *val, const char **why);
/* Splits "TYPE/HASH" (the rest of /analyst/indicators/) into type and
 * hash, both checked; SP_EUSAGE with *why otherwise. */
int invest_path_indicator(const char *rest, char type[SP_INV_TYPE_MAX + 1],
                          char hash[SP_INV_HASH_MAX + 1], const char **why);

#endif
