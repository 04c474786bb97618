#!/usr/bin/env python3
"""Lists the public items of a workspace crate whose rustdoc has no example, and exits 1 if
there is any (issue 15: every public item of the facade shows its use in a doc test).

    scripts/doc_examples.py [crate]          # default: observe

Walks the same items as `scripts/public_api.py` (rustdoc's JSON, re-exports followed into
the workspace crate that defines them): modules, types, traits and their methods,
functions, methods, constants and macros. An example is a fenced code block in the item's
own docs, or in the docs of the `pub use` that re-exports it. Enum variants and fields
are covered by their type's example, trait impls by the trait's, and constants without
one of their own by their module's (`observe::names`' example uses its vocabulary).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from public_api import Api, KINDS  # noqa: E402


class Examples(Api):
    def __init__(self, package):
        super().__init__(package)
        self.missing = set()
        self.covered = set()

    def note(self, kind, path, *docs):
        if not any("```" in (d or "") for d in docs):
            self.missing.add(f"{kind} {path}")

    def walk_module_items(self, d, module, path):
        """A module's constants are covered by the module's example."""
        if not any(line.startswith(f"module {path}") and line == f"module {path}"
                   for line in self.missing):
            for i in module["inner"]["module"]["items"]:
                child = d["index"].get(str(i))
                if child is None:
                    continue
                if "use" in child["inner"]:
                    name = child["inner"]["use"]["name"]
                    if child["inner"]["use"].get("is_glob"):
                        continue
                else:
                    name = child.get("name")
                self.covered.add(f"constant {path}::{name}")

    def walk(self, d, item, parent):
        if "use" in item["inner"]:
            use = item["inner"]["use"]
            target_doc, target = self.resolve(d, use["id"])
            if target is not None and not isinstance(target, tuple):
                self.use_docs = item.get("docs")
                self.walk_named(target_doc, target, f"{parent}::{use['name']}")
        elif item.get("visibility") == "public":
            self.use_docs = None
            self.walk_named(d, item, f"{parent}::{item['name']}")

    def walk_named(self, d, item, path):
        kind = next(iter(item["inner"]))
        if kind in KINDS:
            self.note(kind, path, item.get("docs"), getattr(self, "use_docs", None))
        self.use_docs = None
        if kind == "module":
            self.walk_module_items(d, item, path)
        if kind == "trait":
            for i in item["inner"]["trait"]["items"]:
                method = d["index"][str(i)]
                self.note("trait-item", f"{path}::{method['name']}", method.get("docs"))
        super().walk_named(d, item, path)

    def impls(self, d, impl_ids, path):
        for i in impl_ids:
            imp = d["index"][str(i)]["inner"]["impl"]
            if imp.get("trait") is not None or imp.get("is_synthetic"):
                continue
            for a in imp["items"]:
                assoc = d["index"][str(a)]
                if assoc.get("visibility") == "public":
                    kind = next(iter(assoc["inner"]))
                    self.note(kind, f"{path}::{assoc['name']}", assoc.get("docs"))
        super().impls(d, impl_ids, path)


def main():
    package = sys.argv[1] if len(sys.argv) > 1 else "observe"
    api = Examples(package)
    d = api.docs[package.replace("-", "_")]
    root = d["index"][str(d["root"])]
    api.walk_named(d, root, root["name"])
    api.missing -= api.covered
    for line in sorted(api.missing):
        print(line)
    print(f"{len(api.missing)} public items without an example", file=sys.stderr)
    sys.exit(1 if api.missing else 0)


if __name__ == "__main__":
    main()
