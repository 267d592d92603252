#!/usr/bin/env python3
"""Prints the include graph of src/ between modules and checks the layering rules.

A module is a folder: src/core, src/http, src/sdk, src/services, src/tools, and for the
sidecar each direct subfolder of src/sidecar (files directly in src/sidecar/ form the
module "sidecar", the runtime that wires everything). An edge A -> B means some file of A
includes a header of B with a quoted "src-relative" path.

Rules (exit 1 and one line per broken rule):
  - no cycle between modules (strongly connected components of size > 1);
  - core includes only core; http only core and http;
  - the sdk, services and tools include nothing under sidecar/;
  - no file under src/sidecar/components/ includes the runtime object (sidecar/runtime/sidecar.h);
  - only main.c includes the boot sequence (sidecar/boot/).

Usage: scripts/include-graph.py [--root DIR] [--quiet]   (DIR holds src/; default .)
Run by ctest as unit/layering.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def module_of(rel):
    """Module name of a path relative to src/ ("sidecar/api/state.c" -> "sidecar/api")."""
    parts = rel.split("/")
    if parts[0] == "sidecar":
        return "sidecar" if len(parts) == 2 else "sidecar/" + parts[1]
    return parts[0]


def scan(src):
    """Returns ({module: set(modules)}, [(file, header)])."""
    edges, includes = {}, []
    for dirpath, _, files in os.walk(src):
        for f in files:
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, src)
            mod = module_of(rel)
            edges.setdefault(mod, set())
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
            for inc in INCLUDE.findall(text):
                if not os.path.exists(os.path.join(src, inc)):
                    continue  # same-folder or generated header
                includes.append((rel, inc))
                target = module_of(inc)
                if target != mod:
                    edges[mod].add(target)
    return edges, includes


def cycles(edges):
    """Tarjan's strongly connected components of size > 1."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main(argv):
    root = "."
    quiet = "--quiet" in argv
    if "--root" in argv:
        root = argv[argv.index("--root") + 1]
    src = os.path.join(root, "src")
    edges, includes = scan(src)
    if not quiet:
        for m in sorted(edges):
            print(f"{m} -> {', '.join(sorted(edges[m])) or '(nothing)'}")
    broken = []
    for comp in cycles(edges):
        broken.append("cycle between modules: " + " <-> ".join(comp))
    allowed = {"core": {"core"}, "http": {"core", "http"}}
    for m, targets in edges.items():
        if m in allowed and not targets <= allowed[m]:
            broken.append(f"{m} includes {', '.join(sorted(targets - allowed[m]))}")
        if m.split("/")[0] in ("sdk", "services", "tools"):
            bad = sorted(t for t in targets if t.startswith("sidecar"))
            if bad:
                broken.append(f"{m} includes sidecar modules: {', '.join(bad)}")
    for f, inc in includes:
        if f.startswith("sidecar/components/") and inc in ("sidecar/sidecar.h", "sidecar/runtime/sidecar.h"):
            broken.append(f"src/{f} includes {inc} (components see only their host)")
        if inc.startswith("sidecar/boot/") and module_of(f) not in ("sidecar", "sidecar/boot"):
            broken.append(f"src/{f} includes {inc} (only main.c starts the runtime)")
    for b in broken:
        print("BROKEN:", b)
    if not quiet:
        print(f"{len(edges)} modules, {sum(len(t) for t in edges.values())} edges, {len(broken)} broken rules")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
