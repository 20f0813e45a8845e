# The command line: help, exit codes, init, organisations.
. "$(dirname "$0")/lib.sh"
set -e
expect_exit 0 sp help;                     contains "$T/out" "exit codes: 0 done, 1 input refused"
expect_exit 0 sp help import;              contains "$T/out" "--dry-run"
expect_exit 0 sp import --help;            contains "$T/out" "--replace"
expect_exit 0 sp version;                  contains "$T/out" "spotlight "
expect_exit 2 sp;                          contains "$T/err" "usage: spotlight"
expect_exit 2 sp frobnicate;               contains "$T/err" "no command 'frobnicate'"
expect_exit 2 sp help frobnicate
expect_exit 2 sp --db "$T/none.db" stats gender;   contains "$T/err" "no hub at"
expect_exit 0 sp --db "$T/hub.db" init;    contains "$T/out" "created hub"
expect_exit 0 sp --db "$T/hub.db" init;    contains "$T/out" "hub is ready"
# --db after the command and $SPOTLIGHT_DB work too
expect_exit 0 sp init --db "$T/hub2.db"
SPOTLIGHT_DB="$T/hub2.db" expect_exit 0 sp org list
expect_exit 0 sp --db "$T/hub.db" org add "Mekong Aid" --country Thailand
contains "$T/out" "Thailand"
expect_exit 1 sp --db "$T/hub.db" org add "mekong aid";  contains "$T/err" "already exists"
expect_exit 2 sp --db "$T/hub.db" org add "X" --country Atlantis; contains "$T/err" "not a country"
expect_exit 0 sp --db "$T/hub.db" org add "Nairobi Helpers"
expect_exit 0 sp --db "$T/hub.db" org set-country "Nairobi Helpers" KE
expect_exit 0 sp --db "$T/hub.db" org list
contains "$T/out" "Mekong Aid"; contains "$T/out" "KE"; contains "$T/out" "Africa"
expect_exit 2 sp --db "$T/hub.db" import --org X;      contains "$T/err" "at least one file"
expect_exit 2 sp --db "$T/hub.db" import a.csv;        contains "$T/err" "--org"
expect_exit 2 sp --db "$T/hub.db" import --org X --bogus a.csv; contains "$T/err" "unknown option '--bogus'"
expect_exit 2 sp --db "$T/hub.db" stats;               contains "$T/err" "industries-by-year"
expect_exit 2 sp --db "$T/hub.db" stats nonsense
expect_exit 2 sp --db "$T/hub.db" stats --where nofield=1 gender
expect_exit 2 sp --db "$T/hub.db" demo --records -5;   contains "$T/err" "--records"
expect_exit 0 sp codebook;                             contains "$T/out" "case_ref"
expect_exit 0 sp codebook --json;                      contains "$T/out" '"fields"'
# a hub file that is not a database is an error, not a crash
printf 'this is not sqlite' > "$T/junk.db"
expect_exit 3 sp --db "$T/junk.db" stats gender

# the suppression threshold is a hub setting
expect_exit 0 sp --db "$T/hub.db" config get k;        contains "$T/out" "10"
expect_exit 0 sp --db "$T/hub.db" config set k 5;      contains "$T/out" '"<5"'
expect_exit 0 sp --db "$T/hub.db" config get k;        contains "$T/out" "5"
expect_exit 2 sp --db "$T/hub.db" config set k 1
expect_exit 2 sp --db "$T/hub.db" config set colour blue
# more positional arguments than a command takes: a usage error, never an
# overflow of its argument array (ASan build)
expect_exit 2 sp demo a b c d e f g;                    contains "$T/err" "too many arguments"
expect_exit 2 sp --db "$T/hub.db" audit list a b c d e f g h i j
expect_exit 2 sp --db "$T/hub.db" backup a b c d
# a submission keeps the file's own name, not the importing machine's path
mkdir -p "$T/home/ana.surname"
printf 'case_ref,year_identified,gender\nP-1,2024,female\n' > "$T/home/ana.surname/cases.csv"
expect_exit 0 sp --db "$T/hub.db" import --org PathOrg "$T/home/ana.surname/cases.csv"
expect_exit 0 sp --db "$T/hub.db" submissions --org PathOrg; contains "$T/out" "cases.csv"
if grep -q "ana.surname" "$T/out"; then fail "the submission keeps the importer's path"; fi
echo "cli basics ok"
