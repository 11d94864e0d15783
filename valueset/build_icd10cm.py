"""ICD-10-CM helpers for the value sets, backed by simple-icd-10-cm (the authority).

simple-icd-10-cm 1.5.0 bundles the April 2026 ICD-10-CM release
(``code-list-April-2026.txt`` and ``icd10c-tabular-April-1-2026.xml``).
``valueset/build_valuesets.py`` uses these functions to expand the ICD-10-CM
"header" families the clinical knowledge base names (e.g. ``I82.4-``) into the
billable leaf codes of that release.

Run it on its own to inspect a family, for example::

    python valueset/build_icd10cm.py I82.4 S83:A C00-C96

``FAMILY:X`` keeps only leaves whose 7th character is ``X`` (for example the
"initial encounter" ``A`` codes of an injury category).  ``C00-C96`` lists the
malignant-neoplasm leaves of chapter 2.
"""

from __future__ import annotations

import sys
from importlib import metadata

import simple_icd_10_cm as icd

PACKAGE_VERSION = metadata.version("simple-icd-10-cm")
RELEASE = "ICD-10-CM April 2026 (simple-icd-10-cm %s)" % PACKAGE_VERSION


def check_release() -> None:
    """Fail loudly if the installed package is not the release the sets were built from."""
    if PACKAGE_VERSION != "1.5.0":
        raise RuntimeError(
            "value sets were built with simple-icd-10-cm 1.5.0 (ICD-10-CM April 2026); "
            "found %s - re-check every family before regenerating" % PACKAGE_VERSION
        )


def is_billable(code: str) -> bool:
    """True for a valid leaf code (not a chapter, block or non-leaf category)."""
    return icd.is_valid_item(code) and not icd.is_chapter_or_block(code) and icd.is_leaf(code)


def description(code: str) -> str:
    return icd.get_description(code)


def family_leaves(family: str, seventh: str | None = None) -> list[str]:
    """All billable leaves at or below ``family`` (a category or subcategory).

    ``seventh`` keeps only codes whose 7th character equals it (codes that have one).
    """
    # Some single-category blocks share their name with the category (e.g. "O09"), so
    # accept any valid item that is a category/subcategory, whatever else it names.
    if not icd.is_valid_item(family) or not icd.is_category_or_subcategory(family):
        raise ValueError("not an ICD-10-CM category/subcategory: %s" % family)
    codes = [family] if icd.is_leaf(family) else icd.get_descendants(family)
    leaves = [c for c in codes if is_billable(c)]
    if seventh is not None:
        leaves = [c for c in leaves if len(icd.remove_dot(c)) == 7 and c[-1] == seventh]
    if not leaves:
        raise ValueError("family %s%s has no leaves" % (family, ":" + seventh if seventh else ""))
    return leaves


def complete_headers(codes: set[str]) -> list[str]:
    """Non-billable category/subcategory codes all of whose billable leaves are in ``codes``.

    Records are often coded at a header level (e.g. I80.20 instead of I80.201-I80.209); a header whose
    every leaf is in the set means nothing outside it, so it belongs in the set too.
    """
    candidates = set()
    for code in codes:
        for ancestor in icd.get_ancestors(code):
            if icd.is_category_or_subcategory(ancestor) and not icd.is_leaf(ancestor):
                candidates.add(ancestor)
    headers = []
    for header in candidates:
        leaves = [c for c in icd.get_descendants(header) if is_billable(c)]
        if leaves and all(c in codes for c in leaves):
            headers.append(header)
    return sorted(headers)


def malignant_neoplasm_leaves() -> list[str]:
    """Billable leaves of ICD-10-CM C00-C96 (malignant neoplasms, incl. C4A, C7A, C7B).

    In the package the block "C00-C96" is an empty header beside the real blocks
    (C00-C14 ... C81-C96), so the leaves are taken from chapter 2 and filtered on "C".
    """
    return [
        c
        for c in icd.get_descendants("2")
        if c.startswith("C") and is_billable(c)
    ]


def main(argv: list[str]) -> int:
    check_release()
    print(RELEASE)
    for arg in argv or ["I82.4"]:
        if arg == "C00-C96":
            leaves = malignant_neoplasm_leaves()
        else:
            fam, _, seventh = arg.partition(":")
            leaves = family_leaves(fam, seventh or None)
        print("%s: %d leaves" % (arg, len(leaves)))
        for c in leaves:
            print("  %-9s %s" % (c, description(c)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
