# The authorisation matrix against a real server: every route (the routes[]
# table of src/serve.c and every portal, admin and analyst path named in
# src/) for anonymous, a contributor of A, a contributor of B, an analyst
# and an administrator, with GET, HEAD and POST with and without the CSRF
# token: the expected status, nothing of A's in B's answers (nor the
# reverse, nor anything in the anonymous's), no-store on every signed-in
# answer, the security headers on all. The work is in authz_matrix.py.
. "$(dirname "$0")/lib.sh"
set -e
command -v python3 >/dev/null || { echo "SKIP: authz_matrix.sh needs python3"; exit 0; }
SPOTLIGHT="$SPOTLIGHT" python3 "$(dirname "$0")/authz_matrix.py" "$T"
