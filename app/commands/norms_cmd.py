"""``genulab norms list | show NAME | import FILE [...] | set-default NAME | set-default --clear``.

The lab's normative sets and the lab default (core.analysis.norm_choice). ``list`` shows every
usable set with its population, age range and n, and which one is the lab default; ``import``
keeps a lab CSV/JSON set (its population metadata from the file or from ``--population``,
``--age-min``, ``--age-max``, ``--n``, ``--citation``, ``--licence``); ``set-default`` chooses
the set used when an analysis names none (precedence: the analysis' own choice > lab default
> automatic by age; docs/normative.md).
"""
from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("norms", help="normative sets: list, import a lab set, choose the lab default",
                              description="Normative data (normal bands): the shipped and lab sets, and the lab default.")
    sub = p.add_subparsers(dest="norms_command", metavar="ACTION")
    sub.add_parser("list", help="every usable set with its population and the lab default").set_defaults(func=run_list)
    sh = sub.add_parser("show", help="one set's metadata and variables")
    sh.add_argument("name", metavar="NAME")
    sh.set_defaults(func=run_show)
    im = sub.add_parser("import", help="keep a lab CSV/JSON set (docs/normative.md formats)")
    im.add_argument("file", type=Path, metavar="FILE")
    im.add_argument("--name", help="set name (letters, digits, - _ .); default: the file's name metadata")
    im.add_argument("--population", help='population wording, e.g. "healthy adults"')
    im.add_argument("--age-min", type=float, metavar="YEARS", help="youngest age of the population (years)")
    im.add_argument("--age-max", type=float, metavar="YEARS", help="oldest age of the population (years)")
    im.add_argument("--n", type=int, dest="n_subjects", metavar="N", help="number of subjects")
    im.add_argument("--citation", help="reference of the data")
    im.add_argument("--licence", help="terms of use of the data")
    im.add_argument("--set-default", action="store_true", help="also make it the lab default")
    im.set_defaults(func=run_import)
    sd = sub.add_parser("set-default", help="choose the lab default set (or --clear: automatic by age)")
    sd.add_argument("name", nargs="?", metavar="NAME")
    sd.add_argument("--clear", action="store_true", help="no lab default: choose automatically by the patient's age")
    sd.set_defaults(func=run_set_default)
    p.set_defaults(func=lambda args: (p.print_help(), 1)[1])


def describe(ns) -> str:
    """One line: name, title, population, age range, n."""
    n = f", n = {ns.n_subjects}" if ns.n_subjects else ""
    return f"{ns.name}: {ns.title or ns.name} - {ns.population} ({ns.age_text()}{n})"


def list_lines() -> list[str]:
    """The ``norms list`` output as lines."""
    from core.analysis.norm_choice import known_sets, lab_default, lab_sets, load_any, settings_path
    default, lab = lab_default(), lab_sets()
    out = []
    for name in known_sets():
        mark = "*" if name == default else " "
        where = "lab" if name in lab else "shipped"
        out.append(f"{mark} [{where}] {describe(load_any(name))}")
    out.append(f"lab default: {default}" if default else
               "lab default: none chosen (automatic by the patient's age: an adult set when one is installed "
               "and chosen, else schwartz2008 with a caution for adults)")
    out.append(f"lab settings: {settings_path()}")
    return out


def run_list(args: argparse.Namespace) -> int:
    print("\n".join(list_lines()))
    return 0


def run_show(args: argparse.Namespace) -> int:
    from core.analysis.norm_choice import load_any
    ns = load_any(args.name)
    print(describe(ns))
    print(f"citation: {ns.citation}")
    print(f"licence: {ns.licence or 'not stated'}")
    print(f"source: {ns.source or '-'}")
    print(f"variables ({len(ns.keys)}): {', '.join(ns.keys)}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from core.analysis.norm_choice import import_lab_set, set_lab_default
    ns, path = import_lab_set(args.file, name=args.name, population=args.population, age_min=args.age_min,
                              age_max=args.age_max, n_subjects=args.n_subjects, citation=args.citation,
                              licence=args.licence)
    print(f"imported {describe(ns)}")
    print(f"kept as {path}")
    if args.set_default:
        set_lab_default(ns.name)
        print(f"lab default: {ns.name}")
    return 0


def run_set_default(args: argparse.Namespace) -> int:
    from core.analysis.norm_choice import set_lab_default
    from core.errors import NormativeDataError
    if args.clear == bool(args.name):
        raise NormativeDataError("give a set name or --clear (see genulab norms list)")
    path = set_lab_default(None if args.clear else args.name)
    print(f"lab default: {args.name or 'none (automatic by age)'} (written to {path})")
    return 0
