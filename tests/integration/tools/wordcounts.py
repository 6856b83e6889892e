#!/usr/bin/env python3
"""wordcounts.py: the word-count tests' input and their reference count, made without Spark.
  wordcounts.py make FILE --seed S [--lines N] [--vocabulary V] [--max-words M]
      a deterministic text: N lines of 1..M words drawn from w000..w(V-1)
  wordcounts.py check INPUT COUNTS
      COUNTS (a "word<TAB>count" file, or a directory of part-* files with _SUCCESS, as Spark
      writes them) must hold exactly the count of INPUT's words; exits non-zero saying how not"""
import argparse
import collections
import glob
import os
import random
import sys


def make(args):
    rng = random.Random(args.seed)
    vocabulary = [f"w{i:03d}" for i in range(args.vocabulary)]
    with open(args.file, "w") as out:
        for _ in range(args.lines):
            out.write(" ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, args.max_words))) + "\n")


def check(args):
    expected = collections.Counter(open(args.input).read().split())
    if os.path.isdir(args.counts):
        if not os.path.exists(os.path.join(args.counts, "_SUCCESS")):
            sys.exit("no _SUCCESS in the output")
        parts = sorted(glob.glob(os.path.join(args.counts, "part-*")))
    else:
        parts = [args.counts]
    actual = {}
    for part in parts:
        for line in open(part):
            word, count = line.rstrip("\n").split("\t")
            if word in actual:
                sys.exit(f"{word} counted twice")
            actual[word] = int(count)
    if actual != dict(expected):
        wrong = [w for w in expected if actual.get(w) != expected[w]][:5]
        sys.exit(f"{len(set(expected) ^ set(actual))} words only on one side, wrong counts e.g. {wrong}")
    print(f"word counts match: {len(actual)} words, {sum(actual.values())} occurrences")


parser = argparse.ArgumentParser()
commands = parser.add_subparsers(dest="command", required=True)
p = commands.add_parser("make")
p.add_argument("file")
p.add_argument("--seed", type=int, required=True)
p.add_argument("--lines", type=int, default=20000)
p.add_argument("--vocabulary", type=int, default=500)
p.add_argument("--max-words", type=int, default=12)
p.set_defaults(run=make)
p = commands.add_parser("check")
p.add_argument("input")
p.add_argument("counts")
p.set_defaults(run=check)
args = parser.parse_args()
args.run(args)
