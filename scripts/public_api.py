#!/usr/bin/env python3
"""Lists the public API of a workspace crate, one item a line, from rustdoc's JSON.

    scripts/public_api.py [crate]            # default: observe; prints the list
    scripts/public_api.py observe > api/observe.txt

Builds the JSON of the crate and of the workspace crates it re-exports
(`RUSTC_BOOTSTRAP=1 cargo rustdoc -p <crate> -- -Z unstable-options --output-format json`,
stable toolchain), then walks the crate's root module: every public module, type, trait,
function, constant and macro under the path a user writes, with enum variants, public
fields, inherent methods and associated items, trait methods, and the trait impls a type
has beyond the auto and blanket ones. `#[doc(hidden)]` items (`__private`) are left out, as
rustdoc leaves them out. Re-exports are followed into the workspace crate that defines the
item, so `observe::Builder` is listed with its methods.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Traits every type gets from the compiler or a blanket impl: not part of what a crate offers.
SKIP_TRAITS = {
    "Send", "Sync", "Unpin", "UnwindSafe", "RefUnwindSafe", "Freeze", "Any", "Borrow",
    "BorrowMut", "From", "Into", "TryFrom", "TryInto", "ToOwned", "ToString", "CloneToUninit",
    "Instrument", "WithSubscriber", "FutureExt", "IntoRequest", "Same", "PolicyExt",
    "VZip", "Pointable", "Equivalent", "ErasedDestructor", "WithDispatch", "MaybeSendSync",
}
KINDS = ("module", "struct", "enum", "trait", "function", "constant", "static", "macro",
         "proc_macro", "type_alias", "union")


def rustdoc_json(package):
    crate = package.replace("-", "_")
    env = dict(os.environ, RUSTC_BOOTSTRAP="1")
    subprocess.run(
        ["cargo", "rustdoc", "-q", "-p", package, "--", "-Z", "unstable-options",
         "--output-format", "json"],
        cwd=ROOT, env=env, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    with open(os.path.join(target, "doc", crate + ".json")) as f:
        return json.load(f)


class Api:
    def __init__(self, package):
        self.docs = {package.replace("-", "_"): rustdoc_json(package)}
        self.lines = set()

    def doc(self, crate):
        if crate not in self.docs:
            self.docs[crate] = rustdoc_json(crate.replace("_", "-"))
        return self.docs[crate]

    def resolve(self, d, item_id):
        """The item `item_id` of `d` names: (doc, item), following it into its own crate;
        (None, (path, kind)) for an item of a crate outside the workspace."""
        item = d["index"].get(str(item_id))
        if item is not None:
            return d, item
        summary = d["paths"].get(str(item_id))
        if summary is None:
            return None, None
        if not summary["path"][0].startswith("observe"):
            return None, ("::".join(summary["path"]), summary["kind"])
        other = self.doc(summary["path"][0])
        for local_id, local in other["paths"].items():
            if local["crate_id"] == 0 and local["path"] == summary["path"] \
                    and local_id in other["index"]:
                return other, other["index"][local_id]
        # A derive's id in `paths` may differ from its id in `index`: look it up by name.
        if len(summary["path"]) == 2:
            root = other["index"][str(other["root"])]["inner"]["module"]["items"]
            for i in root:
                item = other["index"].get(str(i))
                if item is not None and item["name"] == summary["path"][1]:
                    return other, item
        return None, None

    def walk(self, d, item, parent):
        """Lists `item`, a child of the module at `parent`."""
        if "use" in item["inner"]:
            use = item["inner"]["use"]
            target_doc, target = self.resolve(d, use["id"])
            if isinstance(target, tuple):
                self.lines.add(f"pub use {parent}::{use['name']} = {target[0]} ({target[1]})")
            elif target is not None:
                self.walk_named(target_doc, target, f"{parent}::{use['name']}")
        elif item.get("visibility") == "public":
            self.walk_named(d, item, f"{parent}::{item['name']}")

    def walk_named(self, d, item, path):
        kind = next(iter(item["inner"]))
        inner = item["inner"][kind]
        if kind not in KINDS:
            return
        self.lines.add(f"{kind} {path}")
        if kind == "module":
            for i in inner["items"]:
                child = d["index"].get(str(i))
                if child is not None:
                    self.walk(d, child, path)
        elif kind == "struct":
            fields = inner["kind"].get("plain", {}).get("fields", []) or \
                inner["kind"].get("tuple", []) or []
            for f in fields:
                field = d["index"].get(str(f)) if f is not None else None
                if field is not None and field.get("visibility") == "public":
                    self.lines.add(f"field {path}::{field['name']}")
            self.impls(d, inner["impls"], path)
        elif kind == "enum":
            for v in inner["variants"]:
                variant = d["index"][str(v)]
                self.lines.add(f"variant {path}::{variant['name']}")
                vk = variant["inner"]["variant"]["kind"]
                for f in (vk.get("struct", {}) or {}).get("fields", []) if isinstance(vk, dict) else []:
                    self.lines.add(f"field {path}::{variant['name']}::{d['index'][str(f)]['name']}")
            self.impls(d, inner["impls"], path)
        elif kind == "trait":
            for i in inner["items"]:
                self.lines.add(f"trait-item {path}::{d['index'][str(i)]['name']}")

    def impls(self, d, impl_ids, path):
        for i in impl_ids:
            imp = d["index"][str(i)]["inner"]["impl"]
            if imp.get("blanket_impl") is not None or imp.get("is_synthetic"):
                continue
            trait = imp.get("trait")
            if trait is None:
                for a in imp["items"]:
                    assoc = d["index"][str(a)]
                    if assoc.get("visibility") == "public":
                        self.lines.add(f"{next(iter(assoc['inner']))} {path}::{assoc['name']}")
            else:
                name = trait["path"].split("::")[-1]
                if name not in SKIP_TRAITS:
                    self.lines.add(f"impl {name} for {path}")


def main():
    package = sys.argv[1] if len(sys.argv) > 1 else "observe"
    api = Api(package)
    d = api.docs[package.replace("-", "_")]
    root = d["index"][str(d["root"])]
    api.walk_named(d, root, root["name"])
    print("\n".join(sorted(api.lines)))


if __name__ == "__main__":
    main()
