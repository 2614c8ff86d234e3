#!/usr/bin/env bash
# test/integration/pgxn_dist.sh: the PGXN distribution.
#
#  - test/pgxn_meta.py finds META.json valid against the PGXN Meta Spec
#    1.0.0, and rejects a META.json broken in each way the spec forbids
#    (so the checker is not vacuous);
#  - META.json's versions are zvt.control's default_version;
#  - `make dist` writes zvt-<version>.zip, every path under zvt-<version>/,
#    holding every committed file (META.json, zvt.control, Makefile, sql/,
#    src/ among them) and no build product, and its META.json is valid
#    with the files it names inside the archive.
#
# lane: side (scripts/test runs it beside the others: no cluster, the
# simulator or the tree only)
set -u
. "$(dirname "$0")/common.bash"

top=$(cd "$(dirname "$0")/../.." && pwd)
work=$ZVT_TEST_DIR/pgxn_dist
rm -rf "$work"
mkdir -p "$work"
check="python3 $top/test/pgxn_meta.py"

$check "$top/META.json" --root "$top" || fail "META.json is not valid"
ver=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$top/zvt.control")
got=$(python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); print(m["name"], m["version"], m["provides"]["zvt"]["version"])' "$top/META.json")
[ "$got" = "zvt $ver $ver" ] || fail "META.json's name and versions ($got) are not zvt.control's ($ver)"
echo "ok META.json is valid PGXN metadata for zvt $ver"

# each mutation breaks one rule of the spec; the checker must reject it
n=0
while IFS='|' read -r what code; do
	n=$((n + 1))
	python3 - "$top/META.json" "$work/bad$n.json" "$code" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(m, open(sys.argv[2], "w"))
PY
	if $check "$work/bad$n.json" >"$work/bad$n.out" 2>&1; then
		fail "the checker accepted a META.json with $what"
	fi
done <<'CASES'
no license|del m["license"]
no meta-spec|del m["meta-spec"]
no provides|del m["provides"]
a version that is not SemVer|m["version"] = "0.1"
a leading zero in the version|m["version"] = "01.0.0"
an unknown license string|m["license"] = "postgres"
a license list with an unknown entry|m["license"] = ["mit", "wtfpl"]
a license map with a non-URL|m["license"] = {"PostgreSQL": "the usual"}
a name with a slash|m["name"] = "zvt/x"
a one-character name|m["name"] = "z"
an empty abstract|m["abstract"] = ""
a maintainer that is a number|m["maintainer"] = 42
a provided extension without file|del m["provides"]["zvt"]["file"]
a provided extension without version|del m["provides"]["zvt"]["version"]
a provided version that is not SemVer|m["provides"]["zvt"]["version"] = "v1"
a meta-spec version other than 1.0.0|m["meta-spec"]["version"] = "2.0.0"
a meta-spec without version|del m["meta-spec"]["version"]
an unknown top-level key|m["homepage"] = "https://example.org"
an unknown prereq phase|m["prereqs"]["install"] = {"requires": {"PostgreSQL": "15.0.0"}}
an unknown prereq relationship|m["prereqs"]["runtime"]["needs"] = {"PostgreSQL": "15.0.0"}
a bad version range|m["prereqs"]["runtime"]["requires"]["PostgreSQL"] = "~> 15"
a tag with a slash|m["tags"] = ["a/b"]
tags that are not a list|m["tags"] = "crypto"
an unknown release status|m["release_status"] = "beta"
a resources homepage that is not a URL|m["resources"] = {"homepage": "zvt"}
CASES
$check "$top/META.json" --root "$work/empty" >/dev/null 2>&1 && fail "the checker accepted provides files that do not exist"
# custom keys are allowed
python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); m["x_zvt"] = 1; json.dump(m, open(sys.argv[2], "w"))' \
	"$top/META.json" "$work/custom.json"
$check "$work/custom.json" >/dev/null || fail "the checker rejected an x_ custom key"
echo "ok the checker rejects $n META.json files that break the spec, and missing files"

# --- make dist -------------------------------------------------------------
if ! git -C "$top" rev-parse --verify -q HEAD >/dev/null 2>&1; then
	echo "ok make dist skipped: $top is not a git checkout"
	exit 0
fi
make -s -C "$top" dist DIST_ZIP="$work/zvt-$ver.zip" >/dev/null || fail "make dist"
zip=$work/zvt-$ver.zip
[ -s "$zip" ] || fail "make dist wrote no $zip"
python3 - "$zip" "$ver" "$work/unzipped" <<'PY' || fail "the archive is not the distribution"
import sys, zipfile
zip, ver, out = sys.argv[1:]
names = zipfile.ZipFile(zip).namelist()
prefix = f"zvt-{ver}/"
outside = [n for n in names if not n.startswith(prefix)]
assert not outside, f"paths outside {prefix}: {outside[:5]}"
files = {n[len(prefix):] for n in names if not n.endswith("/")}
for need in ("META.json", "zvt.control", "Makefile", "README.md"):
    assert need in files, f"{need} is not in the archive"
for d in ("sql/", "src/", "docs/", "test/"):
    assert any(f.startswith(d) for f in files), f"nothing under {d}"
built = [f for f in files if f.endswith((".o", ".so", ".bc", ".bin", ".zip"))
         or f in ("zvt-exsim", "zvt-exsim-client", "zvt-feed-parse", f"sql/zvt--{ver}.sql")
         or f.startswith(("results/", "output_iso/", "test/fuzz/work/"))]
assert not built, f"build products in the archive: {built[:5]}"
zipfile.ZipFile(zip).extractall(out)
print(f"ok {zip.rsplit('/', 1)[-1]}: {len(files)} files under {prefix}, no build product")
PY
committed=$(git -C "$top" ls-tree -r --name-only HEAD | wc -l)
inzip=$(cd "$work/unzipped/zvt-$ver" && find . -type f -o -type l | wc -l)
[ "$committed" = "$inzip" ] || fail "the archive has $inzip files, HEAD's tree has $committed"
$check "$work/unzipped/zvt-$ver/META.json" --root "$work/unzipped/zvt-$ver" || fail "META.json inside the archive"
echo "ok the archive holds every committed file and its META.json names files inside it"
