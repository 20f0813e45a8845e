# Accounts and API tokens from the command line: user add with
# --password-stdin / --password-file, list, disable; token create, list,
# revoke; the exit codes for a bad role (2), an unknown organisation (1) and
# a weak password (1); the token and the password never in the hub file.
. "$(dirname "$0")/lib.sh"
set -e
H="$T/hub.db"
PW='a long enough passphrase 42'
expect_exit 0 sp --db "$H" init
expect_exit 0 sp --db "$H" org add "Mekong Aid" --country Thailand
printf '%s\n' "$PW" | expect_exit 0 sp --db "$H" user add ana@mekong.example --org "mekong aid" --role contributor --password-stdin
contains "$T/out" "added user 1: ana@mekong.example (Mekong Aid, contributor)"
printf '%s\n' "$PW" >"$T/pw"
expect_exit 0 sp --db "$H" user add boss@mekong.example --org "Mekong Aid" --role admin --password-file "$T/pw"
# refusals
printf '%s\n' "$PW" | expect_exit 2 sp --db "$H" user add x@mekong.example --org "Mekong Aid" --role superuser --password-stdin
contains "$T/err" "--role is contributor, analyst or admin"
printf '%s\n' "$PW" | expect_exit 1 sp --db "$H" user add x@mekong.example --org "Nowhere Org" --role analyst --password-stdin
contains "$T/err" "no organisation has this name"
printf 'short\n' | expect_exit 1 sp --db "$H" user add x@mekong.example --org "Mekong Aid" --role analyst --password-stdin
contains "$T/err" "at least 12 characters"
printf 'Mekong-Aid-2024!\n' | expect_exit 1 sp --db "$H" user add x@mekong.example --org "Mekong Aid" --role analyst --password-stdin
contains "$T/err" "organisation's name"
printf '%s\n' "$PW" | expect_exit 1 sp --db "$H" user add ANA@mekong.example --org "Mekong Aid" --role analyst --password-stdin
contains "$T/err" "exists"
expect_exit 1 sp --db "$H" user add x@mekong.example --org "Mekong Aid" --role analyst --password-stdin </dev/null
expect_exit 2 sp --db "$H" user add x@mekong.example --org "Mekong Aid" --role analyst --password "$PW"
contains "$T/err" "unknown option '--password'"
expect_exit 2 sp --db "$H" user add x@mekong.example --role analyst --password-stdin
# without a terminal and without a password option: a clear usage error
if ! [ -t 0 ] && ! (: </dev/tty) 2>/dev/null; then
  expect_exit 2 sp --db "$H" user add x@mekong.example --org "Mekong Aid" --role analyst </dev/null
  contains "$T/err" "--password-stdin"
fi
expect_exit 0 sp --db "$H" user list
contains "$T/out" "ana@mekong.example"
contains "$T/out" "boss@mekong.example"
contains "$T/out" "admin"
[ "$(grep -c '@mekong.example' "$T/out")" -eq 2 ] || fail "user list shows refused accounts"

# tokens
expect_exit 0 sp --db "$H" token create --user ana@mekong.example --name "nightly upload"
TOK=$(cat "$T/out")
case "$TOK" in sp_???????????????????????????????????????????) ;; *) fail "token looks wrong: $TOK" ;; esac
contains "$T/err" "shown only this once"
expect_exit 0 sp --db "$H" token create --user boss@mekong.example
expect_exit 1 sp --db "$H" token create --user nobody@mekong.example
expect_exit 2 sp --db "$H" token create
expect_exit 0 sp --db "$H" token list
contains "$T/out" "nightly upload"
grep -q "^1 .*ana@mekong.example.*active" "$T/out" || { cat "$T/out"; fail "token 1 not listed as active"; }
if grep -qF "$TOK" "$T/out"; then fail "token list shows the token"; fi
expect_exit 0 sp --db "$H" token revoke 1;   contains "$T/out" "revoked token 1"
expect_exit 1 sp --db "$H" token revoke 1;   contains "$T/err" "no live token 1"
expect_exit 1 sp --db "$H" token revoke 99
expect_exit 2 sp --db "$H" token revoke abc
expect_exit 0 sp --db "$H" token list
grep -q "^1 .*revoked" "$T/out" || { cat "$T/out"; fail "token 1 not listed as revoked"; }
grep -q "^2 .*active" "$T/out" || { cat "$T/out"; fail "token 2 not listed as active"; }

# disable
expect_exit 0 sp --db "$H" user disable ana@mekong.example
expect_exit 0 sp --db "$H" user list
grep -q "ana@mekong.example.*disabled" "$T/out" || { cat "$T/out"; fail "ana not disabled"; }
expect_exit 1 sp --db "$H" token create --user ana@mekong.example;  contains "$T/err" "disabled"
expect_exit 1 sp --db "$H" user disable nobody@mekong.example
expect_exit 0 sp --db "$H" user enable ana@mekong.example

# the audit log has the admin actions; the hub file has neither secret
expect_exit 0 sp --db "$H" audit verify
expect_exit 0 sp --db "$H" audit list
contains "$T/out" "user_add"
contains "$T/out" "token_revoke"
for f in "$H" "$H-wal"; do
  [ -f "$f" ] || continue
  if grep -qaF "$TOK" "$f"; then fail "the token is stored in clear in $f"; fi
  if grep -qaF "${TOK#sp_}" "$f"; then fail "the token is stored in clear in $f"; fi
  if grep -qaF "$PW" "$f"; then fail "the password is stored in clear in $f"; fi
done
echo "users: ok"
