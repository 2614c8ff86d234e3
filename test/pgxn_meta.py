#!/usr/bin/env python3
"""test/pgxn_meta.py: check a META.json against the PGXN Meta Spec 1.0.0.

    pgxn_meta.py META.json [--root DIR]

Checks what the spec (https://pgxn.org/spec/) requires of a distribution's
metadata: the required keys (name, version, abstract, maintainer, license,
provides, meta-spec) and the optional ones (description, generated_by,
tags, no_index, prereqs, release_status, resources), each of the type and
format the spec gives: Terms, Tags, SemVer 1.0.0 versions, version ranges,
license strings, URLs; unknown keys only as custom x_/X_ keys.  With
--root, the files that "provides" names must exist under DIR.  Prints
"META.json is OK" or one line per error, and exits 0 or 1.  Python 3
standard library only.
"""
import json
import os
import re
import sys
import urllib.parse

LICENSES = {
    "agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd",
    "freebsd", "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1",
    "lgpl_3_0", "mit", "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5",
    "postgresql", "qpl_1_0", "ssleay", "sun", "zlib", "open_source",
    "restricted", "unrestricted", "unknown",
}
PHASES = {"configure", "build", "runtime", "test", "develop"}
RELATIONS = {"requires", "recommends", "suggests", "conflicts"}
RELEASE_STATUS = {"stable", "testing", "unstable"}
REQUIRED = ("name", "version", "abstract", "maintainer", "license", "provides", "meta-spec")
OPTIONAL = ("description", "generated_by", "tags", "no_index", "prereqs",
            "release_status", "resources")

# SemVer 1.0.0: X.Y.Z, optionally followed by a pre-release string of
# alphanumerics and dashes that begins with a letter (PGXN also accepts
# the dash SemVer 2 puts before it)
SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-?[A-Za-z][0-9A-Za-z-]*)?$")
RANGE_ITEM = re.compile(r"^\s*(==|!=|<=|>=|<|>)?\s*(\S+)\s*$")


class Checker:
    def __init__(self, root):
        self.root = root
        self.errors = []

    def err(self, path, msg):
        self.errors.append(f"{path}: {msg}")

    # --- the spec's data types ---------------------------------------
    def string(self, path, v, nonempty=True):
        if not isinstance(v, str):
            self.err(path, f"must be a string, not {type(v).__name__}")
            return False
        if nonempty and not v.strip():
            self.err(path, "must not be empty")
            return False
        return True

    def term(self, path, v):
        """A Term: two characters or more, no slash, backslash, control or space."""
        if self.string(path, v) and (len(v) < 2 or re.search(r"[/\\\s\x00-\x1f\x7f]", v)):
            self.err(path, f"\"{v}\" is not a Term (2 or more characters, no slash, backslash, control or space)")

    def tag(self, path, v):
        """A Tag: 1 to 255 characters, no slash, backslash or control."""
        if self.string(path, v) and (len(v) > 255 or re.search(r"[/\\\x00-\x1f\x7f]", v)):
            self.err(path, f"\"{v}\" is not a Tag (under 256 characters, no slash, backslash or control)")

    def version(self, path, v):
        if self.string(path, v) and not SEMVER.match(v):
            self.err(path, f"\"{v}\" is not a SemVer 1.0.0 version")

    def version_range(self, path, v):
        """0 (any version), a version (that or newer), or comma-separated
        comparisons such as ">= 1.2.0, != 1.5.0, < 2.0.0"."""
        if v == 0 or v == "0":
            return
        if not isinstance(v, str):
            self.err(path, f"a version range must be 0 or a string, not {type(v).__name__}")
            return
        for item in v.split(","):
            m = RANGE_ITEM.match(item)
            if not m or not SEMVER.match(m.group(2)):
                self.err(path, f"\"{item.strip()}\" in \"{v}\" is not a version comparison")

    def url(self, path, v):
        if self.string(path, v):
            u = urllib.parse.urlparse(v)
            if not u.scheme or not (u.netloc or u.scheme in ("mailto", "urn")):
                self.err(path, f"\"{v}\" is not a URL")

    def string_or_list(self, path, v, item):
        if isinstance(v, list):
            if not v:
                self.err(path, "must not be an empty list")
            for i, x in enumerate(v):
                item(f"{path}[{i}]", x)
        else:
            item(path, v)

    def mapping(self, path, v, known, required=()):
        """True when v is an object; reports missing and unknown keys."""
        if not isinstance(v, dict):
            self.err(path, f"must be an object, not {type(v).__name__}")
            return False
        for k in required:
            if k not in v:
                self.err(path, f"missing required key \"{k}\"")
        for k in v:
            if k not in known and not k.startswith(("x_", "X_")):
                self.err(path, f"unknown key \"{k}\" (custom keys begin with x_ or X_)")
        return True

    def path_exists(self, path, v):
        if self.root is not None and isinstance(v, str) and not os.path.isfile(os.path.join(self.root, v)):
            self.err(path, f"\"{v}\" is not a file of the distribution")

    # --- the fields --------------------------------------------------
    def license(self, path, v):
        if isinstance(v, dict):
            if not v:
                self.err(path, "must name at least one license")
            for k, u in v.items():
                self.string(f"{path}.{k}", k)
                self.url(f"{path}.{k}", u)
        else:
            def one(p, x):
                if self.string(p, x) and x not in LICENSES:
                    self.err(p, f"\"{x}\" is not a license string of the spec")
            self.string_or_list(path, v, one)

    def provides(self, path, v):
        if not self.mapping(path, v, known=v.keys() if isinstance(v, dict) else ()):
            return
        if not v:
            self.err(path, "must name at least one extension")
        for name, ext in v.items():
            p = f"{path}.{name}"
            self.term(p, name)
            if self.mapping(p, ext, ("file", "version", "abstract", "docfile"), ("file", "version")):
                if "file" in ext and self.string(f"{p}.file", ext["file"]):
                    self.path_exists(f"{p}.file", ext["file"])
                if "version" in ext:
                    self.version(f"{p}.version", ext["version"])
                if "abstract" in ext:
                    self.string(f"{p}.abstract", ext["abstract"])
                if "docfile" in ext and self.string(f"{p}.docfile", ext["docfile"]):
                    self.path_exists(f"{p}.docfile", ext["docfile"])

    def meta_spec(self, path, v):
        if self.mapping(path, v, ("version", "url"), ("version",)):
            if "version" in v and v["version"] != "1.0.0":
                self.err(f"{path}.version", f"\"{v['version']}\" is not 1.0.0, the version checked here")
            if "url" in v:
                self.url(f"{path}.url", v["url"])

    def prereqs(self, path, v):
        if not self.mapping(path, v, PHASES):
            return
        for phase, rels in v.items():
            p = f"{path}.{phase}"
            if phase not in PHASES or not self.mapping(p, rels, RELATIONS):
                continue
            for rel, exts in rels.items():
                q = f"{p}.{rel}"
                if rel not in RELATIONS or not self.mapping(q, exts, exts.keys() if isinstance(exts, dict) else ()):
                    continue
                for ext, rng in exts.items():
                    self.term(f"{q}.{ext}", ext)
                    self.version_range(f"{q}.{ext}", rng)

    def no_index(self, path, v):
        if self.mapping(path, v, ("file", "directory")):
            for k in ("file", "directory"):
                if k in v:
                    self.string_or_list(f"{path}.{k}", v[k], self.string)

    def resources(self, path, v):
        if not self.mapping(path, v, ("homepage", "bugtracker", "repository")):
            return
        if "homepage" in v:
            self.url(f"{path}.homepage", v["homepage"])
        if "bugtracker" in v and self.mapping(f"{path}.bugtracker", v["bugtracker"], ("web", "mailto")):
            if "web" in v["bugtracker"]:
                self.url(f"{path}.bugtracker.web", v["bugtracker"]["web"])
            if "mailto" in v["bugtracker"]:
                m = v["bugtracker"]["mailto"]
                if self.string(f"{path}.bugtracker.mailto", m) and not re.match(r"^[^@\s]+@[^@\s]+$", m):
                    self.err(f"{path}.bugtracker.mailto", f"\"{m}\" is not an email address")
        if "repository" in v and self.mapping(f"{path}.repository", v["repository"], ("url", "web", "type")):
            for k in ("url", "web"):
                if k in v["repository"]:
                    self.url(f"{path}.repository.{k}", v["repository"][k])
            if "type" in v["repository"]:
                t = v["repository"]["type"]
                if self.string(f"{path}.repository.type", t) and not re.match(r"^[a-z]+$", t):
                    self.err(f"{path}.repository.type", f"\"{t}\" is not a lower-case word")

    def check(self, meta):
        if not self.mapping("META.json", meta, REQUIRED + OPTIONAL, REQUIRED):
            return
        if "name" in meta:
            self.term("name", meta["name"])
        if "version" in meta:
            self.version("version", meta["version"])
        if "abstract" in meta:
            self.string("abstract", meta["abstract"])
        if "maintainer" in meta:
            self.string_or_list("maintainer", meta["maintainer"], self.string)
        if "license" in meta:
            self.license("license", meta["license"])
        if "provides" in meta:
            self.provides("provides", meta["provides"])
        if "meta-spec" in meta:
            self.meta_spec("meta-spec", meta["meta-spec"])
        for k in ("description", "generated_by"):
            if k in meta:
                self.string(k, meta[k])
        if "tags" in meta:
            if isinstance(meta["tags"], list):
                for i, t in enumerate(meta["tags"]):
                    self.tag(f"tags[{i}]", t)
            else:
                self.err("tags", "must be a list")
        if "no_index" in meta:
            self.no_index("no_index", meta["no_index"])
        if "prereqs" in meta:
            self.prereqs("prereqs", meta["prereqs"])
        if "release_status" in meta and meta["release_status"] not in RELEASE_STATUS:
            self.err("release_status", f"\"{meta['release_status']}\" is not stable, testing or unstable")
        if "resources" in meta:
            self.resources("resources", meta["resources"])


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--root"):
        print("usage: pgxn_meta.py META.json [--root DIR]", file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        print(f"{argv[1]}: not readable JSON: {e}")
        return 1
    c = Checker(argv[3] if len(argv) == 4 else None)
    c.check(meta)
    if c.errors:
        print(f"{argv[1]} is invalid:")
        for e in c.errors:
            print(f"  {e}")
        return 1
    print(f"{argv[1]} is OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
