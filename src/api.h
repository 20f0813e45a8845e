/* api.h -- the JSON API under /api/v1 (docs/api.md, docs/openapi.yaml).
 *
 *   GET /api/v1/meta                 hub summary
 *   GET /api/v1/stats/TABLE          a stats table as JSON (docs/stats-json.md)
 *   GET /api/v1/stats/TABLE.csv      the same table flattened to CSV
 *
 * Query parameters of stats: year_from, year_to, org_region, where
 * (repeatable; FIELD:VALUE or FIELD=VALUE), bands (default|ctdc). A bad
 * parameter is a 400 with {"error": "...", "parameter": "..."}; an unknown
 * table a 404 with {"error": "...", "tables": [...]}. Handlers follow
 * serve.h's serve_handler contract. */
#ifndef SP_API_H
#define SP_API_H

#include "serve.h"

int api_meta(serve_ctx *ctx, const http_request *req, serve_reply *out);
int api_stats(serve_ctx *ctx, const http_request *req, serve_reply *out);

#endif
